// RUN: lmc-opt %s --lm-map-kernel-ops-to-gpu --canonicalize --cse --split-input-file | FileCheck %s
// RUN: lmc-opt %s --lm-map-kernel-ops-to-gpu --split-input-file | FileCheck %s --check-prefix=MMA

// lm.flash_decode with the goldens' shapes (4 query heads over 2 kv heads,
// head dims 16), a sliding window of 8 and sinks: two launches.
//
// Partials: a 256-thread block per (sequence, kv head, split), shared
// memory for each warp's max and sum per head (8 x 2) and value sums
// (8 x 2 x 32: one per lane); the split's keys [lo + split * per, ...) of
// the visible [max(pos - 7, 0), min(pos + 1, S)); each lane loads element
// `lane` of a row, zero past 16 (lanes 16..31); a warp per key, its two
// heads' scores summed by five xor shuffles each, scaled, folded into the
// online softmax; lane 0 publishes the warps' maxima, a barrier, each warp
// rescales to the block's maximum, a barrier, the block sums its warps and
// writes [acc, max, sum] per head.
// CHECK-LABEL: func.func @flash_decode(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<?x1x4x16xf32>, %[[K:[^:]*]]: memref<?x?x2x16xf32>, %[[V:[^:]*]]: memref<?x?x2x16xf32>, %[[POS:[^:]*]]: memref<?x1xi64>, %[[SINKS:[^:]*]]: memref<4xf32>, %[[P:[^:]*]]: memref<?x4x?x18xf32>, %[[O:[^:]*]]: memref<?x1x4x16xf32>)
// CHECK:   %[[B:.*]] = memref.dim %[[P]], %c0
// CHECK:   %[[SPLITS:.*]] = memref.dim %[[P]], %c2
// CHECK:   %[[BH:.*]] = arith.muli %[[B]], %c2
// CHECK:   %[[BLOCKS:.*]] = arith.muli %[[BH]], %[[SPLITS]]
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %c256, {{.*}}) workgroup(%[[SMAX:.*]] : memref<8x2xf32, #gpu.address_space<workgroup>>, %[[SSUM:.*]] : memref<8x2xf32, #gpu.address_space<workgroup>>, %[[SACC:.*]] : memref<8x2x32xf32, #gpu.address_space<workgroup>>)
// CHECK:     %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK:     %[[WARP:.*]] = arith.divui %[[TID]], %c32
// CHECK:     %[[PV:.*]] = memref.load %[[POS]]
// CHECK:     %[[NEXT:.*]] = arith.addi %[[PV]], %c1_i64
// CHECK:     %[[END:.*]] = arith.minsi %[[NEXT]],
// CHECK:     %[[W:.*]] = arith.addi %[[PV]], %c-7_i64
// CHECK:     %[[LO:.*]] = arith.maxsi %[[W]], %c0_i64
// CHECK:     %[[INLANE:.*]] = arith.cmpi ule, %[[LANE]], %c15
// CHECK:     %[[EL:.*]] = arith.minui %[[LANE]], %c15
// CHECK-COUNT-2: memref.load %[[Q]]
// CHECK:     scf.for %[[KEY:.*]] = %{{.*}} to %{{.*}} step %c8 iter_args({{.*}}) -> (f32, f32, vector<1xf32>, f32, f32, vector<1xf32>)
// CHECK:       memref.load %[[K]][%{{.*}}, %[[KEY]], %{{.*}}, %[[EL]]]
// CHECK:       memref.load %[[V]][%{{.*}}, %[[KEY]], %{{.*}}, %[[EL]]]
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       arith.mulf %{{.*}}, %cst
// CHECK:       math.exp
// CHECK:       math.exp
// CHECK:       vector.fma
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       scf.yield
// CHECK:     memref.store %{{.*}}, %[[SMAX]][%[[WARP]], %c0]
// CHECK:     gpu.barrier
// CHECK:     vector.store %{{.*}}, %[[SACC]][%[[WARP]], %c0, %[[LANE]]]
// CHECK:     memref.store %{{.*}}, %[[SSUM]][%[[WARP]], %c0]
// CHECK:     vector.store %{{.*}}, %[[SACC]][%[[WARP]], %c1, %[[LANE]]]
// CHECK:     memref.store %{{.*}}, %[[SSUM]][%[[WARP]], %c1]
// CHECK:     gpu.barrier
// CHECK:     scf.for %{{.*}} = %[[TID]] to %c32 step %c256
// CHECK-COUNT-8: memref.load %[[SACC]]
// CHECK:       memref.store %{{.*}}, %[[P]]
// CHECK:     scf.if
// CHECK:       memref.store %{{.*}}, %[[P]][%{{.*}}, %{{.*}}, %{{.*}}, %c16]
// CHECK:       memref.store %{{.*}}, %[[P]][%{{.*}}, %{{.*}}, %{{.*}}, %c17]
// CHECK:     gpu.terminator
//
// Combine: a block per (sequence, query head); each thread an element of
// the head's output: the splits' maximum with the sink's logit, then the
// rescaled sums, the sink joining the denominator.
// CHECK:   %[[BQ:.*]] = arith.muli %[[B]], %c4
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %[[BQ]], {{.*}}) threads(%[[T2:[^,]*]], {{.*}}) in ({{.*}} = %c256,
// CHECK:     %[[SINK:.*]] = memref.load %[[SINKS]]
// CHECK:     scf.for %[[E:.*]] = %[[T2]] to %c16 step %c256
// CHECK:       %[[MAX:.*]] = scf.for {{.*}} = %c0 to %[[SPLITS]] step %c1 iter_args
// CHECK:       %[[ALL:.*]] = arith.maximumf %[[MAX]], %[[SINK]]
// CHECK:       %[[SUMS:.*]]:2 = scf.for {{.*}} = %c0 to %[[SPLITS]] step %c1 iter_args
// CHECK:       %[[SD:.*]] = arith.subf %[[SINK]], %[[ALL]]
// CHECK:       %[[SE:.*]] = math.exp %[[SD]]
// CHECK:       %[[DEN:.*]] = arith.addf %[[SUMS]]#1, %[[SE]]
// CHECK:       %[[OUT:.*]] = arith.divf %[[SUMS]]#0, %[[DEN]]
// CHECK:       memref.store %[[OUT]], %[[O]][%{{.*}}, %c0, %{{.*}}, %[[E]]]
func.func @flash_decode(%q: memref<?x1x4x16xf32>, %k: memref<?x?x2x16xf32>,
                        %v: memref<?x?x2x16xf32>, %pos: memref<?x1xi64>,
                        %s: memref<4xf32>, %p: memref<?x4x?x18xf32>,
                        %o: memref<?x1x4x16xf32>) {
  lm.flash_decode %q, %k, %v, %pos sinks %s partials(%p) outs(%o)
      {scale = 0.25 : f64, sliding_window = 8 : i64, warps = 8 : i64}
      : (memref<?x1x4x16xf32>, memref<?x?x2x16xf32>, memref<?x?x2x16xf32>,
         memref<?x1xi64>, memref<4xf32>, memref<?x4x?x18xf32>,
         memref<?x1x4x16xf32>) -> ()
  return
}

// -----

// Head dims 128 (Qwen3-0.6B): each lane's 4 elements of a row in one
// 16-byte load; a chunked layer starts at the chunk of the position.
// CHECK-LABEL: func.func @vector_rows(
// CHECK:   gpu.launch
// CHECK:     %[[CHUNK:.*]] = arith.divsi %{{.*}}, %c8192_i64
// CHECK:     arith.muli %[[CHUNK]], %c8192_i64
// CHECK:     vector.load %{{.*}} {alignment = 16 : i64} : memref<?x1x16x128xf32>, vector<4xf32>
// CHECK:     scf.for
// CHECK:       vector.load %{{.*}} {alignment = 16 : i64} : memref<?x?x8x128xf32>, vector<4xf32>
// CHECK:       vector.load %{{.*}} {alignment = 16 : i64} : memref<?x?x8x128xf32>, vector<4xf32>
// CHECK:       vector.reduction <add>
func.func @vector_rows(%q: memref<?x1x16x128xf32>, %k: memref<?x?x8x128xf32>,
                       %v: memref<?x?x8x128xf32>, %pos: memref<?x1xi64>,
                       %p: memref<?x16x?x130xf32>, %o: memref<?x1x16x128xf32>) {
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o)
      {chunk_size = 8192 : i64, scale = 0.088 : f64, warps = 8 : i64}
      : (memref<?x1x16x128xf32>, memref<?x?x8x128xf32>, memref<?x?x8x128xf32>,
         memref<?x1xi64>, memref<?x16x?x130xf32>, memref<?x1x16x128xf32>) -> ()
  return
}

// -----

// Keys and values as the caches give them: the first S slots of a larger
// buffer, whose dynamic batch stride hides the rows' alignment. The rows
// are read from the buffer itself (same indices, same elements), aligned.
// CHECK-LABEL: func.func @cache_slots(
// CHECK-SAME:    %[[KC:[^:]*]]: memref<?x?x8x128xf32>, %[[VC:[^:]*]]: memref<?x?x8x128xf32>
// CHECK:   gpu.launch
// CHECK:     scf.for
// CHECK:       vector.load %[[KC]][{{.*}}] {alignment = 16 : i64} : memref<?x?x8x128xf32>, vector<4xf32>
// CHECK:       vector.load %[[VC]][{{.*}}] {alignment = 16 : i64} : memref<?x?x8x128xf32>, vector<4xf32>
func.func @cache_slots(%q: memref<?x1x16x128xf32>, %kc: memref<?x?x8x128xf32>,
                       %vc: memref<?x?x8x128xf32>, %pos: memref<?x1xi64>,
                       %p: memref<?x16x?x130xf32>, %o: memref<?x1x16x128xf32>,
                       %b: index, %s: index) {
  %k = memref.subview %kc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xf32> to memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>
  %v = memref.subview %vc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xf32> to memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o)
      {scale = 0.088 : f64, warps = 8 : i64}
      : (memref<?x1x16x128xf32>, memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>,
         memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>,
         memref<?x1xi64>, memref<?x16x?x130xf32>, memref<?x1x16x128xf32>) -> ()
  return
}

// -----

// A bf16 cache (--kv-dtype bf16): each lane's 4 elements of a key or value
// row in one 8-byte load of the cache itself, widened as read.
// CHECK-LABEL: func.func @bf16_cache_slots(
// CHECK-SAME:    %[[KC:[^:]*]]: memref<?x?x8x128xbf16>, %[[VC:[^:]*]]: memref<?x?x8x128xbf16>
// CHECK:   gpu.launch
// CHECK:     scf.for
// CHECK:       %[[KEY:.*]] = vector.load %[[KC]][{{.*}}] {alignment = 8 : i64} : memref<?x?x8x128xbf16>, vector<4xbf16>
// CHECK:       arith.extf %[[KEY]] : vector<4xbf16> to vector<4xf32>
// CHECK:       %[[VALUE:.*]] = vector.load %[[VC]][{{.*}}] {alignment = 8 : i64} : memref<?x?x8x128xbf16>, vector<4xbf16>
// CHECK:       arith.extf %[[VALUE]] : vector<4xbf16> to vector<4xf32>
func.func @bf16_cache_slots(%q: memref<?x1x16x128xf32>, %kc: memref<?x?x8x128xbf16>,
                            %vc: memref<?x?x8x128xbf16>, %pos: memref<?x1xi64>,
                            %p: memref<?x16x?x130xf32>, %o: memref<?x1x16x128xf32>,
                            %b: index, %s: index) {
  %k = memref.subview %kc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xbf16> to memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>
  %v = memref.subview %vc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xbf16> to memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o)
      {scale = 0.088 : f64, warps = 8 : i64, bf16_products}
      : (memref<?x1x16x128xf32>, memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>,
         memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>,
         memref<?x1xi64>, memref<?x16x?x130xf32>, memref<?x1x16x128xf32>) -> ()
  return
}

// -----

// lm.streamed_linear of 20 bf16 columns over 64 f32 features, with a bias
// and a zero-centred RMS norm: one launch of ceil(20 / 8) blocks of 8 warps
// (the last block's warps past 20 stream row 19 and write nothing), 4
// normalised bf16 rows of shared memory. Per group of 4 rows: warp j < 4
// sums the squares of row j (16-byte loads, five xor shuffles), scales it
// by rsqrt(mean + eps) and (1 + w), rounds it to bf16 into row j of the
// shared buffer; a barrier; each warp streams its weight row with 16-byte
// loads, multiplies it with the 4 staged rows (16-byte shared loads; rows
// past the batch are skipped), sums across the warp, and lane 0 writes
// bias + sum; a barrier before the next group's rows.
// CHECK-LABEL: func.func @streamed_linear(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x1x64xf32>, %[[W:[^:]*]]: memref<20x64xbf16>, %[[B:[^:]*]]: memref<20xbf16>, %[[NW:[^:]*]]: memref<64xbf16>, %[[O:[^:]*]]: memref<?x1x20xf32>)
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %c256, {{.*}}) function(@weight_streaming) workgroup(%[[ROWS:.*]] : memref<4x64xbf16, #gpu.address_space<workgroup>>)
// CHECK:     %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK:     %[[WARP:.*]] = arith.divui %[[TID]], %c32
// CHECK:     %[[COL:.*]] = arith.addi %{{.*}}, %[[WARP]]
// CHECK:     %[[WROW:.*]] = arith.minui %[[COL]], %c19
// CHECK:     scf.for
// CHECK:       %[[STAGER:.*]] = arith.cmpi ult, %[[WARP]], %c4
// CHECK:       scf.if
// CHECK:         vector.load %[[X]][{{.*}}] {alignment = 16 : i64} : memref<?x1x64xf32>, vector<4xf32>
// CHECK:         gpu.shuffle  xor
// CHECK:         %[[INV:.*]] = math.rsqrt
// CHECK:         scf.if
// CHECK:           %[[SCALE:.*]] = vector.load %[[NW]]
// CHECK:           %[[ONE:.*]] = arith.addf %{{.*}}, %cst
// CHECK:           %[[XI:.*]] = arith.mulf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK:           %[[Y:.*]] = arith.mulf %[[XI]], %[[ONE]] : vector<4xf32>
// CHECK:           %[[R:.*]] = arith.truncf %[[Y]] : vector<4xf32> to vector<4xbf16>
// CHECK:           vector.store %[[R]], %[[ROWS]][%[[WARP]], %{{.*}}] {alignment = 8 : i64}
// CHECK:       gpu.barrier
// CHECK:       vector.load %[[W]][%[[WROW]], %{{.*}}] {alignment = 16 : i64} : memref<20x64xbf16>, vector<8xbf16>
// CHECK:       vector.load %[[ROWS]][%c0, %{{.*}}] {alignment = 16 : i64}
// CHECK:       scf.if
// CHECK:         vector.load %[[ROWS]][%c1,
// CHECK:       %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %c0
// CHECK:       %[[INSIDE:.*]] = arith.cmpi ult, %[[COL]], %c20
// CHECK:       %[[WRITER:.*]] = arith.andi %[[FIRST]], %[[INSIDE]]
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       scf.if %[[WRITER]] {
// CHECK:         %[[BIAS:.*]] = memref.load %[[B]][%[[COL]]]
// CHECK:         %[[BIASF:.*]] = arith.extf %[[BIAS]]
// CHECK:         %[[SUM:.*]] = arith.addf %[[BIASF]],
// CHECK:         memref.store %[[SUM]], %[[O]][{{.*}}, %c0, %[[COL]]]
// CHECK:       gpu.barrier
// CHECK-NEXT:  }
func.func @streamed_linear(%x: memref<?x1x64xf32>, %w: memref<20x64xbf16>, %b: memref<20xbf16>,
                           %nw: memref<64xbf16>, %o: memref<?x1x20xf32>) {
  lm.streamed_linear %x, %w bias %b norm(%nw) outs(%o)
      {epsilon = 1.0e-06 : f64, weight_offset = 1.0 : f64, row_group = 4 : i64, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<20x64xbf16>, memref<20xbf16>, memref<64xbf16>, memref<?x1x20xf32>) -> ()
  return
}

// -----

// A GLU's gate and up projections in one lm.streamed_linear (16 bf16
// columns over 64 f32 features, normalised): each warp streams the gate's
// row and the up's row side by side (two 16-byte loads per step), applies
// both to every staged row, sums both across the warp, and lane 0 writes
// silu(gate) * up rounded to the bf16 output.
// CHECK-LABEL: func.func @streamed_glu(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x1x64xf32>, %[[WG:[^:]*]]: memref<16x64xbf16>, %[[WU:[^:]*]]: memref<16x64xbf16>, %[[NW:[^:]*]]: memref<64xbf16>, %[[O:[^:]*]]: memref<?x1x16xbf16>)
// CHECK:   gpu.launch {{.*}} function(@weight_streaming) workgroup(%[[ROWS:.*]] : memref<4x64xbf16, #gpu.address_space<workgroup>>)
// CHECK:     %[[COL:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK:     scf.for
// CHECK:       math.rsqrt
// CHECK:       gpu.barrier
// CHECK:       %[[G:.*]] = vector.load %[[WG]][%[[COL]], %{{.*}}] {alignment = 16 : i64} : memref<16x64xbf16>, vector<8xbf16>
// CHECK:       %[[U:.*]] = vector.load %[[WU]][%[[COL]], %{{.*}}] {alignment = 16 : i64} : memref<16x64xbf16>, vector<8xbf16>
// CHECK:       vector.load %[[ROWS]][%c0, %{{.*}}]
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK:       scf.if %{{.*}} {
// CHECK:         %[[NEG:.*]] = arith.negf %[[GATE:.*]] : f32
// CHECK:         math.exp %[[NEG]]
// CHECK:         %[[SIG:.*]] = arith.divf
// CHECK:         %[[SILU:.*]] = arith.mulf %[[GATE]], %[[SIG]]
// CHECK:         %[[H:.*]] = arith.mulf %[[SILU]], %[[UP:.*]] : f32
// CHECK:         %[[HB:.*]] = arith.truncf %[[H]] : f32 to bf16
// CHECK:         memref.store %[[HB]], %[[O]][%{{.*}}, %c0, %[[COL]]]
func.func @streamed_glu(%x: memref<?x1x64xf32>, %wg: memref<16x64xbf16>, %wu: memref<16x64xbf16>,
                        %nw: memref<64xbf16>, %o: memref<?x1x16xbf16>) {
  lm.streamed_linear %x, %wg up(%wu) norm(%nw) outs(%o)
      {epsilon = 1.0e-06 : f64, glu = #lm.glu<swiglu>, row_group = 4 : i64, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<16x64xbf16>, memref<16x64xbf16>, memref<64xbf16>, memref<?x1x16xbf16>) -> ()
  return
}

// -----

// An f32 input to bf16 weights, accumulated into the residual (o_proj,
// down under --dtype bf16), 2 rows at a time: warp j < 2 rounds row j into
// shared memory (no statistics); lane 0 adds its sum to the output's
// element and writes it back.
// CHECK-LABEL: func.func @streamed_residual(
// CHECK-SAME:    %[[A:[^:]*]]: memref<?x1x64xf32>, %[[W:[^:]*]]: memref<16x64xbf16>, %[[X:[^:]*]]: memref<?x1x16xf32>)
// CHECK:   gpu.launch {{.*}} function(@weight_streaming) workgroup(%[[ROWS:.*]] : memref<2x64xbf16, #gpu.address_space<workgroup>>)
// CHECK:     %[[WARP:.*]] = arith.divui
// CHECK:     %[[COL:.*]] = arith.addi %{{.*}}, %[[WARP]]
// CHECK:     scf.for
// CHECK:       arith.cmpi ult, %[[WARP]], %c2
// CHECK-NOT:   math.rsqrt
// CHECK:       %[[IN:.*]] = vector.load %[[A]][{{.*}}] {alignment = 16 : i64} : memref<?x1x64xf32>, vector<4xf32>
// CHECK:       %[[R:.*]] = arith.truncf %[[IN]] : vector<4xf32> to vector<4xbf16>
// CHECK:       vector.store %[[R]], %[[ROWS]][%[[WARP]], %{{.*}}]
// CHECK:       gpu.barrier
// CHECK:       vector.load %[[W]][%[[COL]], %{{.*}}]
// CHECK:       vector.load %[[ROWS]][%c0, %{{.*}}]
// CHECK:       scf.if %{{.*}} {
// CHECK:         %[[OLD:.*]] = memref.load %[[X]][%[[ROW:.*]], %c0, %[[COL]]]
// CHECK:         %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
// CHECK:         memref.store %[[NEW]], %[[X]][%[[ROW]], %c0, %[[COL]]]
func.func @streamed_residual(%a: memref<?x1x64xf32>, %w: memref<16x64xbf16>, %x: memref<?x1x16xf32>) {
  lm.streamed_linear %a, %w outs(%x) {accumulate, row_group = 2 : i64, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<16x64xbf16>, memref<?x1x16xf32>) -> ()
  return
}

// -----

// A bf16 input to bf16 weights (a rounded GLU feeding down): nothing to
// stage, the rows are read from global memory with 16-byte loads.
// CHECK-LABEL: func.func @streamed_unstaged(
// CHECK-SAME:    %[[A:[^:]*]]: memref<?x1x64xbf16>, %[[W:[^:]*]]: memref<16x64xbf16>, %[[O:[^:]*]]: memref<?x1x16xf32>)
// CHECK:   gpu.launch {{.*}} function(@weight_streaming) {
// CHECK-NOT: gpu.barrier
// CHECK:       vector.load %[[W]][{{.*}}] {alignment = 16 : i64} : memref<16x64xbf16>, vector<8xbf16>
// CHECK:       vector.load %[[A]][{{.*}}] {alignment = 16 : i64} : memref<?x1x64xbf16>, vector<8xbf16>
// CHECK-NOT: gpu.barrier
// CHECK:     gpu.terminator
func.func @streamed_unstaged(%a: memref<?x1x64xbf16>, %w: memref<16x64xbf16>, %o: memref<?x1x16xf32>) {
  lm.streamed_linear %a, %w outs(%o) {row_group = 4 : i64, warps = 8 : i64}
      : (memref<?x1x64xbf16>, memref<16x64xbf16>, memref<?x1x16xf32>) -> ()
  return
}

// -----

// A GLU's gate and up projections of many rows in one lm.tiled_linear (96
// bf16 columns over 64 features): x's [B x T, 64] tensor map and one per
// weight, boxes of 64 weight rows; a block per 128 rows and 64 columns
// (two column tiles); B's tile copied as the gate's 64 rows then the up's
// same 64; each consumer thread's accumulators i and i + 32 (tile columns
// c and c + 64) are one output's gate and up, silu(gate) * up, a pair of
// neighbouring columns rounded and stored as one 4-byte access.
// CHECK-LABEL: func.func @tiled_glu(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x?x64xbf16>, %[[WG:[^:]*]]: memref<96x64xbf16>, %[[WU:[^:]*]]: memref<96x64xbf16>, %[[O:[^:]*]]: memref<?x?x96xbf16>)
// CHECK:   %[[XM:.*]] = memref.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : memref<?x?x64xbf16> into memref<?x64xbf16>
// CHECK:   %[[XD:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c128, %c64]
// CHECK:   %[[GD:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c64, %c64]
// CHECK:   %[[UD:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c64, %c64]
// CHECK:   %[[TILES:.*]] = arith.muli %{{.*}}, %c2 : index
// CHECK:   gpu.launch blocks(%[[BLOCK:[^,]*]], {{.*}}) in ({{.*}} = %[[TILES]], {{.*}}) threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c132096_i32 function(@tiled_linear_glu) {
// CHECK:     %[[CT:.*]] = arith.remui %[[BLOCK]], %c2 : index
// CHECK:     %[[COL:.*]] = arith.muli %[[CT]], %c64 : index
// CHECK:     nvgpu.tma.async.load %[[XD]][%c0, %{{.*}}]
// CHECK:     nvgpu.tma.async.load %[[GD]][%c0, %[[COL]]]
// CHECK:     nvgpu.tma.async.load %[[UD]][%c0, %[[COL]]]
// CHECK:     nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>
// CHECK:     nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:     %[[G0:.*]] = llvm.extractvalue %[[ACC:[0-9]+]][0]
// CHECK:     %[[U0:.*]] = llvm.extractvalue %[[ACC]][32]
// CHECK:     %[[N0:.*]] = arith.negf %[[G0]] : f32
// CHECK:     math.exp %[[N0]]
// CHECK:     %[[S0:.*]] = arith.mulf %[[G0]], %{{.*}} : f32
// CHECK:     %[[H0:.*]] = arith.mulf %[[S0]], %[[U0]] : f32
// CHECK:     llvm.extractvalue %[[ACC]][1]
// CHECK:     llvm.extractvalue %[[ACC]][33]
// CHECK:     %[[PAIR:.*]] = vector.from_elements %[[H0]], %{{.*}} : vector<2xf32>
// CHECK:     %[[HB:.*]] = arith.truncf %[[PAIR]] : vector<2xf32> to vector<2xbf16>
// CHECK:     vector.store %[[HB]], %[[O]][%{{.*}}, %{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<?x?x96xbf16>, vector<2xbf16>
// CHECK-NOT: llvm.extractvalue %[[ACC]][32]
func.func @tiled_glu(%x: memref<?x?x64xbf16>, %wg: memref<96x64xbf16>, %wu: memref<96x64xbf16>, %o: memref<?x?x96xbf16>) {
  lm.tiled_linear %x, %wg up(%wu) outs(%o) {glu = #lm.glu<swiglu>}
      : (memref<?x?x64xbf16>, memref<96x64xbf16>, memref<96x64xbf16>, memref<?x?x96xbf16>) -> ()
  return
}

// -----

// A biased projection of many rows added into the residual: one box of
// 128 weight rows; each pair of neighbouring columns biased, added to the
// residual's pair (an 8-byte load) and stored back.
// CHECK-LABEL: func.func @tiled_residual(
// CHECK-SAME:    %[[A:[^:]*]]: memref<?x64xbf16>, %[[W:[^:]*]]: memref<32x64xbf16>, %[[B:[^:]*]]: memref<32xbf16>, %[[X:[^:]*]]: memref<?x32xf32>)
// CHECK:   nvgpu.tma.create.descriptor %{{.*}} box[%c128, %c64]
// CHECK:   nvgpu.tma.create.descriptor %{{.*}} box[%c128, %c64]
// CHECK:   gpu.launch {{.*}} function(@tiled_linear) {
// CHECK:     nvvm.wgmma.mma_async
// CHECK:     %[[BIAS:.*]] = memref.load %[[B]][%[[C:.*]]] : memref<32xbf16>
// CHECK:     %[[OLD:.*]] = vector.load %[[X]][%[[R:.*]], %[[C]]] {alignment = 8 : i64} : memref<?x32xf32>, vector<2xf32>
// CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : vector<2xf32>
// CHECK:     vector.store %[[NEW]], %[[X]][%[[R]], %[[C]]] {alignment = 8 : i64} : memref<?x32xf32>, vector<2xf32>
func.func @tiled_residual(%a: memref<?x64xbf16>, %w: memref<32x64xbf16>, %b: memref<32xbf16>, %x: memref<?x32xf32>) {
  lm.tiled_linear %a, %w bias %b outs(%x) {accumulate}
      : (memref<?x64xbf16>, memref<32x64xbf16>, memref<32xbf16>, memref<?x32xf32>) -> ()
  return
}

// -----

// lm.warp_router with DeepSeek's routing (64 experts in 8 groups, 3 kept,
// 6 chosen, sigmoid scores with a correction bias): a warp per token, 8
// per 256-thread block; each lane loads experts lane and lane + 32 and
// their biases; per group, the two best choices merged across the warp (two
// xor shuffles per step, 5 steps); per choice a warp-wide arg-max (value
// and expert, 5 steps) and the chosen score fetched from its lane; lane 0
// writes the 6 normalised, scaled weights and their experts.
// CHECK-LABEL: func.func @router(
// CHECK:   %[[TOKENS:.*]] = arith.muli
// CHECK:   %[[BLOCKS:.*]] = arith.ceildivui %[[TOKENS]], %c8
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) function(@warp_router)
// CHECK:     scf.if
// CHECK-COUNT-2: memref.load %arg0
// CHECK-COUNT-2: memref.load %arg1
// CHECK-COUNT-80: gpu.shuffle  xor
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK:     gpu.shuffle  idx
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK:     gpu.shuffle  idx
// CHECK:     scf.if
// CHECK-COUNT-6: memref.store {{.*}} : memref<?x?x6xf32>
func.func @router(%logits: memref<?x?x64xf32>, %bias: memref<64xf32>,
                  %w: memref<?x?x6xf32>, %i: memref<?x?x6xi64>) {
  lm.warp_router %logits bias %bias outs(%w, %i)
      {scoring = #lm.scoring<sigmoid>, top_k = 6 : i64, num_groups = 8 : i64,
       top_k_groups = 3 : i64, normalize, routed_scaling = 2.5 : f64}
      : (memref<?x?x64xf32>, memref<64xf32>, memref<?x?x6xf32>, memref<?x?x6xi64>) -> ()
  return
}

// -----

// Softmax scores over 8 experts (one per lane of the first 8; the others
// hold none): the warp's maximum and sum, then the top-2 without groups
// (the second arg-max's first shuffle of the lanes' own experts is the
// first's: CSE'd).
// CHECK-LABEL: func.func @softmax_router(
// CHECK:     memref.load %arg0
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:     math.exp
// CHECK-COUNT-15: gpu.shuffle  xor
// CHECK-NEXT: arith.index_castui
// CHECK:     gpu.shuffle  idx
// CHECK-COUNT-9: gpu.shuffle  xor
// CHECK:     gpu.shuffle  idx
// CHECK-NOT: gpu.shuffle
func.func @softmax_router(%logits: memref<?x1x8xf32>, %w: memref<?x1x2xf32>,
                          %i: memref<?x1x2xi64>) {
  lm.warp_router %logits outs(%w, %i) {scoring = #lm.scoring<softmax>, top_k = 2 : i64}
      : (memref<?x1x8xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>) -> ()
  return
}

// -----

// lm.flash_attention with the goldens' shapes (4 query heads over 2 kv
// heads, head dims 16), a sliding window and sinks: one launch of 128-thread
// blocks over (sequence, kv head, tile of 64 rows), the last row tile
// first; rows are (token, head of the group) pairs. Shared memory: a tile of
// 64 keys (Dk padded to 32: 16 words a row), the values transposed (rows of
// 80 keys) and each warp's key range. The lane's query fragments are read
// once, rounded to bf16; the block's keys are the union of its rows' ranges
// (five xor shuffles for the min, five for the max, then across warps). Per
// tile of 64 keys: keys staged along Dk, values along the keys, both rounded
// to bf16 and zero past the range; a barrier; 8 key fragment loads (16
// bytes) and 16 mma.sync for the scores (2 k16 steps of the padded chunk);
// the row max across the four lanes of a row (xor 1, 2) per row half; P V
// as 4 k16 steps over 2 value blocks, 8 fragment loads of 8 bytes; a
// barrier before the next tile overwrites. The sink joins each row's sum,
// and each existing row stores pairs of columns.
// CHECK-LABEL: func.func @flash_attention(
// CHECK-SAME:    %[[Q:[^:]*]]: memref<?x?x4x16xf32>, %[[K:[^:]*]]: memref<?x?x2x16xf32>, %[[V:[^:]*]]: memref<?x?x2x16xf32>, %[[POS:[^:]*]]: memref<?x?xi64>, %[[SINKS:[^:]*]]: memref<4xf32>, %[[O:[^:]*]]: memref<?x?x4x16xf32>)
// CHECK:   %[[B:.*]] = memref.dim %[[Q]], %c0
// CHECK:   %[[T:.*]] = memref.dim %[[Q]], %c1
// CHECK:   %[[ROWS:.*]] = arith.muli %[[T]], %c2
// CHECK:   %[[TILES:.*]] = arith.ceildivui %[[ROWS]], %c64
// CHECK:   %[[BH:.*]] = arith.muli %[[B]], %c2
// CHECK:   %[[BLOCKS:.*]] = arith.muli %[[BH]], %[[TILES]]
// The tiles in dynamic shared memory: keys at 0 (64 x 32), the transposed
// values at 4096 (16 x 80), the warps' ranges at 6656; 6688 bytes.
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c6688_i32 function(@flash_attention)
// CHECK:     %[[SHM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK:     %[[KT:.*]] = memref.view %[[SHM]][%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x32xbf16, #gpu.address_space<workgroup>>
// CHECK:     %[[VT:.*]] = memref.view %[[SHM]][%c4096][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<16x80xbf16, #gpu.address_space<workgroup>>
// CHECK:     %[[RANGES:.*]] = memref.view %[[SHM]][%c6656][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<2x4xi32, #gpu.address_space<workgroup>>
// CHECK:     %[[TILE:.*]] = arith.remui %{{.*}}, %[[TILES]]
// CHECK:     %[[FROMEND:.*]] = arith.subi %[[TILES]], %[[TILE]]
// CHECK:     arith.subi %[[FROMEND]], %c1
// CHECK-COUNT-8: memref.load %[[Q]]
// CHECK:     arith.truncf %{{.*}} : vector<8xf32> to vector<8xbf16>
// CHECK:     memref.load %[[POS]]
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK:     memref.store %{{.*}}, %[[RANGES]]
// CHECK:     gpu.barrier
// CHECK:     %{{.*}}:12 = scf.for %[[START:.*]] = %{{.*}} to %{{.*}} step %c64 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:       scf.for %{{.*}} = %[[TID]] to %c512 step %c128 {
// CHECK-COUNT-4: memref.load %[[K]]
// CHECK:         arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK:         vector.store %{{.*}}, %[[KT]][{{.*}}] {alignment = 8 : i64}
// CHECK:       scf.for %{{.*}} = %[[TID]] to %c256 step %c128 {
// CHECK:         vector.load %[[V]][{{.*}}] {alignment = 16 : i64} : memref<?x?x2x16xf32>, vector<4xf32>
// CHECK-COUNT-4: memref.store %{{.*}}, %[[VT]]
// CHECK:       gpu.barrier
// CHECK-COUNT-8: vector.load %[[KT]][{{.*}}] {alignment = 16 : i64} : memref<64x32xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK:       math.tanh
// CHECK:       gpu.shuffle  xor %{{.*}}, %c1_i32
// CHECK:       gpu.shuffle  xor %{{.*}}, %c2_i32
// CHECK:       math.exp
// CHECK:       vector.load %[[VT]][{{.*}}] {alignment = 8 : i64} : memref<16x80xbf16, #gpu.address_space<workgroup>>, vector<4xbf16>
// CHECK:       gpu.barrier
// CHECK-NEXT:  scf.yield
// CHECK:     memref.load %[[SINKS]]
// CHECK:     vector.store %{{.*}}, %[[O]][{{.*}}] {alignment = 8 : i64} : memref<?x?x4x16xf32>, vector<2xf32>
// The mma.sync count: 16 for the scores, 8 for P V.
// MMA-LABEL: func.func @flash_attention(
// MMA-COUNT-24: nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>
// MMA-NOT: nvvm.mma.sync
func.func @flash_attention(%q: memref<?x?x4x16xf32>, %k: memref<?x?x2x16xf32>,
                           %v: memref<?x?x2x16xf32>, %pos: memref<?x?xi64>,
                           %s: memref<4xf32>, %o: memref<?x?x4x16xf32>) {
  lm.flash_attention %q, %k, %v, %pos sinks %s outs(%o)
      {scale = 0.25 : f64, sliding_window = 8 : i64, softcap = 30.0 : f64, warps = 4 : i64}
      : (memref<?x?x4x16xf32>, memref<?x?x2x16xf32>, memref<?x?x2x16xf32>,
         memref<?x?xi64>, memref<4xf32>, memref<?x?x4x16xf32>) -> ()
  return
}

// -----

// Head dims 128 (Qwen3-0.6B) from the caches' first S slots: queries and
// keys staged with 16-byte loads from the caches themselves; key rows of
// 160 elements (128 + 32 padding, 80 words: the two rows of a quarter-warp
// on disjoint banks), value rows of 80.
// CHECK-LABEL: func.func @flash_attention_128(
// MMA-LABEL: func.func @flash_attention_128(
// CHECK-SAME:    %{{[^:]*}}: memref<?x?x16x128xf32>, %[[KC:[^:]*]]: memref<?x?x8x128xf32>, %[[VC:[^:]*]]: memref<?x?x8x128xf32>
// CHECK:   gpu.launch {{.*}} dynamic_shared_memory_size %c40992_i32 function(@flash_attention)
// CHECK:     memref.view %{{.*}}[%c0][] : {{.*}} to memref<64x160xbf16, #gpu.address_space<workgroup>>
// CHECK:     memref.view %{{.*}}[%c20480][] : {{.*}} to memref<128x80xbf16, #gpu.address_space<workgroup>>
// CHECK:     memref.view %{{.*}}[%c40960][] : {{.*}} to memref<2x4xi32, #gpu.address_space<workgroup>>
// CHECK:     scf.for
// CHECK:       vector.load %[[KC]][{{.*}}] {alignment = 16 : i64} : memref<?x?x8x128xf32>, vector<4xf32>
// CHECK:       vector.load %[[VC]][{{.*}}] {alignment = 16 : i64} : memref<?x?x8x128xf32>, vector<4xf32>
func.func @flash_attention_128(%q: memref<?x?x16x128xf32>, %kc: memref<?x?x8x128xf32>,
                               %vc: memref<?x?x8x128xf32>, %pos: memref<?x?xi64>,
                               %o: memref<?x?x16x128xf32>, %b: index, %s: index) {
  %k = memref.subview %kc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xf32> to memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>
  %v = memref.subview %vc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xf32> to memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>
  lm.flash_attention %q, %k, %v, %pos outs(%o)
      {scale = 0.088 : f64, warps = 4 : i64}
      : (memref<?x?x16x128xf32>, memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>,
         memref<?x?x8x128xf32, strided<[?, 1024, 128, 1]>>,
         memref<?x?xi64>, memref<?x?x16x128xf32>) -> ()
  return
}

// -----

// A bf16 cache: the staging loads take 16 bytes of it, 8 elements, as the
// f32 cache's take 4; keys go to shared memory as they are (16-byte
// stores), values transposed element by element.
// CHECK-LABEL: func.func @flash_attention_bf16_cache(
// CHECK-SAME:    %{{[^:]*}}: memref<?x?x16x128xf32>, %[[KC:[^:]*]]: memref<?x?x8x128xbf16>, %[[VC:[^:]*]]: memref<?x?x8x128xbf16>
// CHECK:   gpu.launch
// CHECK:     %[[KT:.*]] = memref.view %{{.*}}[%c0][] : {{.*}} to memref<64x160xbf16, #gpu.address_space<workgroup>>
// CHECK:     %[[VT:.*]] = memref.view %{{.*}}[%c20480][] : {{.*}} to memref<128x80xbf16, #gpu.address_space<workgroup>>
// CHECK:     scf.for
// CHECK:       vector.load %[[KC]][{{.*}}] {alignment = 16 : i64} : memref<?x?x8x128xbf16>, vector<8xbf16>
// CHECK:       vector.store %{{.*}}, %[[KT]][{{.*}}] {alignment = 16 : i64} : memref<64x160xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK:     scf.for
// CHECK:       vector.load %[[VC]][{{.*}}] {alignment = 16 : i64} : memref<?x?x8x128xbf16>, vector<8xbf16>
// CHECK-COUNT-8: memref.store %{{.*}}, %[[VT]]
func.func @flash_attention_bf16_cache(%q: memref<?x?x16x128xf32>, %kc: memref<?x?x8x128xbf16>,
                                      %vc: memref<?x?x8x128xbf16>, %pos: memref<?x?xi64>,
                                      %o: memref<?x?x16x128xf32>, %b: index, %s: index) {
  %k = memref.subview %kc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xbf16> to memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>
  %v = memref.subview %vc[0, 0, 0, 0] [%b, %s, 8, 128] [1, 1, 1, 1]
     : memref<?x?x8x128xbf16> to memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>
  lm.flash_attention %q, %k, %v, %pos outs(%o)
      {scale = 0.088 : f64, warps = 4 : i64}
      : (memref<?x?x16x128xf32>, memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>,
         memref<?x?x8x128xbf16, strided<[?, 1024, 128, 1]>>,
         memref<?x?xi64>, memref<?x?x16x128xf32>) -> ()
  return
}

// -----

// A bf16 init (the heads o_proj reads rounded): each pair of output columns
// rounded to bf16 and stored as 4 bytes; flash decoding's combine likewise
// stores bf16 elements.
// CHECK-LABEL: func.func @flash_attention_bf16_out(
// CHECK-SAME:    %[[OUT:[^:]*]]: memref<?x?x16x128xbf16>)
// CHECK:   gpu.launch
// CHECK:     arith.truncf %{{.*}} : f32 to bf16
// CHECK:     vector.store %{{.*}}, %[[OUT]][{{.*}}] {alignment = 4 : i64} : memref<?x?x16x128xbf16>, vector<2xbf16>
// CHECK-LABEL: func.func @flash_decode_bf16_out(
// CHECK-SAME:    %[[DOUT:[^:]*]]: memref<?x1x16x128xbf16>)
// CHECK:   gpu.launch
// CHECK:   gpu.launch
// CHECK:     %[[ROUNDED:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:     memref.store %[[ROUNDED]], %[[DOUT]]
func.func @flash_attention_bf16_out(%q: memref<?x?x16x128xf32>, %k: memref<?x?x8x128xf32>,
                                    %v: memref<?x?x8x128xf32>, %pos: memref<?x?xi64>,
                                    %o: memref<?x?x16x128xbf16>) {
  lm.flash_attention %q, %k, %v, %pos outs(%o)
      {scale = 0.088 : f64, warps = 4 : i64}
      : (memref<?x?x16x128xf32>, memref<?x?x8x128xf32>, memref<?x?x8x128xf32>,
         memref<?x?xi64>, memref<?x?x16x128xbf16>) -> ()
  return
}
func.func @flash_decode_bf16_out(%q: memref<?x1x16x128xf32>, %k: memref<?x?x8x128xf32>,
                                 %v: memref<?x?x8x128xf32>, %pos: memref<?x1xi64>,
                                 %p: memref<?x16x?x130xf32>, %o: memref<?x1x16x128xbf16>) {
  lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%o)
      {bf16_products, scale = 0.088 : f64, warps = 8 : i64}
      : (memref<?x1x16x128xf32>, memref<?x?x8x128xf32>, memref<?x?x8x128xf32>,
         memref<?x1xi64>, memref<?x16x?x130xf32>, memref<?x1x16x128xbf16>) -> ()
  return
}

// -----

// MLA's expanded prompt form (DeepSeek-V2-Lite: 16 heads, each its own kv
// head, Dk = 128 + 64, Dv = 128) from the per-head views of kv_b's
// projection: key rows of 224 elements (192 + 32: 112 words, odd in units
// of 16), six 32-wide Dk chunks per score block; 48 KB and 32 bytes of
// dynamic shared memory, over what a block may declare statically. The
// values are staged from the projection itself, its window at offset 128
// (throughWindow), with aligned 16-byte loads the strided view would hide.
// CHECK-LABEL: func.func @flash_attention_mla(
// CHECK-SAME:    %{{[^:]*}}: memref<?x?x16x192xf32>, %[[KV:[^:]*]]: memref<?x?x16x256xf32>, %[[KEYS:[^:]*]]: memref<?x?x16x192xf32>
// CHECK:   gpu.launch {{.*}} dynamic_shared_memory_size %c49184_i32 function(@flash_attention)
// CHECK:     memref.view %{{.*}}[%c0][] : {{.*}} to memref<64x224xbf16, #gpu.address_space<workgroup>>
// CHECK:     memref.view %{{.*}}[%c28672][] : {{.*}} to memref<128x80xbf16, #gpu.address_space<workgroup>>
// CHECK:     memref.view %{{.*}}[%c49152][] : {{.*}} to memref<2x4xi32, #gpu.address_space<workgroup>>
// CHECK:     scf.for
// CHECK:       vector.load %[[KEYS]][{{.*}}] {alignment = 16 : i64} : memref<?x?x16x192xf32>, vector<4xf32>
// CHECK:     scf.for
// CHECK:       %[[D:.*]] = arith.addi %{{.*}}, %c128
// CHECK:       vector.load %[[KV]][%{{.*}}, %{{.*}}, %{{.*}}, %[[D]]] {alignment = 16 : i64} : memref<?x?x16x256xf32>, vector<4xf32>
// MMA-LABEL: func.func @flash_attention_mla(
// The mma.sync count: 8 score blocks x 6 chunks x 2 k16 steps, then 4
// value steps x 16 value blocks.
// MMA-COUNT-160: nvvm.mma.sync
// MMA-NOT: nvvm.mma.sync
func.func @flash_attention_mla(%q: memref<?x?x16x192xf32>, %kv: memref<?x?x16x256xf32>,
                               %k: memref<?x?x16x192xf32>, %pos: memref<?x?xi64>,
                               %o: memref<?x?x16x128xf32>, %b: index, %s: index) {
  %v = memref.subview %kv[0, 0, 0, 128] [%b, %s, 16, 128] [1, 1, 1, 1]
     : memref<?x?x16x256xf32> to memref<?x?x16x128xf32, strided<[?, 4096, 256, 1], offset: 128>>
  lm.flash_attention %q, %k, %v, %pos outs(%o)
      {scale = 0.0721 : f64, warps = 4 : i64}
      : (memref<?x?x16x192xf32>, memref<?x?x16x192xf32>,
         memref<?x?x16x128xf32, strided<[?, 4096, 256, 1], offset: 128>>,
         memref<?x?xi64>, memref<?x?x16x128xf32>) -> ()
  return
}

// -----

// lm.flash_mla_decode with DeepSeek-V2-Lite's shapes (16 heads on the one
// latent head, Dn = Dv = 128, R = 512, Dr = 64, bf16 kv_b and latent
// cache) in tiles of 2 heads: three launches. The absorption: a block per
// (sequence, head, half of R); each lane's 8 latent elements, its warp's
// rows j of W_uk (head h's rows h * 256 + j) in 16-byte loads, fma'd with
// q_nope[j]; the 8 warps' sums through shared memory after a barrier, each
// thread summing its element over them into the latent queries. The
// partials: a 256-thread block per (sequence, tile, split); each lane
// holds 16 consecutive elements of a head's latent query and value sum
// and 2 of its rotary query; per key one latent row (32 bytes of bf16 a
// lane, widened) and one rotary row serve both products of both heads:
// each head's score is its two dot products summed over the warp by five
// xor shuffles, and the latent row is the value the weight scales. The
// combine: flash decoding's, into 2 KB of shared memory; a barrier; a warp
// per output column e streams W_uv's row h * 256 + 128 + e (two 16-byte
// loads a lane) against the shared row, five shuffles, lane 0 stores.
// CHECK-LABEL: func.func @flash_mla_decode(
// CHECK-SAME:    %[[QN:[^:]*]]: memref<?x1x16x128xf32>, %[[QR:[^:]*]]: memref<?x1x16x64xf32>, %[[LAT:[^:]*]]: memref<?x?x512xbf16>, %[[KR:[^:]*]]: memref<?x?x64xbf16>, %[[KVB:[^:]*]]: memref<4096x512xbf16>, %[[POS:[^:]*]]: memref<?x1xi64>, %[[QL:[^:]*]]: memref<?x1x16x512xf32>, %[[P:[^:]*]]: memref<?x16x?x514xf32>, %[[O:[^:]*]]: memref<?x1x16x128xf32>)
// CHECK:   %[[B0:.*]] = memref.dim %[[QN]], %c0
// CHECK:   %[[ABSORB:.*]] = arith.muli %[[B0]], %c32
// CHECK:   gpu.launch blocks(%[[ABID:[^,]*]], {{.*}}) in ({{.*}} = %[[ABSORB]], {{.*}}) threads(%[[ATID:[^,]*]], {{.*}}) in ({{.*}} = %c256, {{.*}}) function(@flash_mla_decode_absorb) workgroup(%[[SUMS:.*]] : memref<8x256xf32, #gpu.address_space<workgroup>>)
// CHECK:     %[[CHUNK:.*]] = arith.remui %[[ABID]], %c2
// CHECK:     %[[SH:.*]] = arith.divui %[[ABID]], %c2
// CHECK:     %[[AHEAD:.*]] = arith.remui %[[SH]], %c16
// CHECK:     %[[ASEQ:.*]] = arith.divui %[[SH]], %c16
// CHECK:     %[[AWARP:.*]] = arith.divui %[[ATID]], %c32
// CHECK:     %[[ASLOT:.*]] = arith.muli %{{.*}}, %c8
// CHECK:     %[[FIRSTROW:.*]] = arith.muli %[[AHEAD]], %c256
// CHECK:     scf.for %[[J:.*]] = %[[AWARP]] to %c128 step %c8 iter_args({{.*}}) -> (vector<8xf32>)
// CHECK:       %[[Q:.*]] = memref.load %[[QN]][%[[ASEQ]], %c0, %[[AHEAD]], %[[J]]]
// CHECK:       %[[WROW:.*]] = arith.addi %[[FIRSTROW]], %[[J]]
// CHECK:       vector.load %[[KVB]][%[[WROW]], %{{.*}}] {alignment = 16 : i64} : memref<4096x512xbf16>, vector<8xbf16>
// CHECK:       vector.fma
// CHECK:     vector.store %{{.*}}, %[[SUMS]][%[[AWARP]], %[[ASLOT]]]
// CHECK:     gpu.barrier
// CHECK-COUNT-8: memref.load %[[SUMS]]
// CHECK:       memref.store %{{.*}}, %[[QL]][%[[ASEQ]], %c0, %[[AHEAD]], %{{.*}}]
// CHECK:   %[[B:.*]] = memref.dim %[[P]], %c0
// CHECK:   %[[SPLITS:.*]] = memref.dim %[[P]], %c2
// CHECK:   %[[BT:.*]] = arith.muli %[[B]], %c8
// CHECK:   %[[BLOCKS:.*]] = arith.muli %[[BT]], %[[SPLITS]]
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS]], {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %c256, {{.*}}) function(@flash_mla_decode_partials) workgroup(%{{.*}} : memref<8x2xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8x2xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8x2x512xf32, #gpu.address_space<workgroup>>)
// CHECK:     %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK:     %[[LATOFF:.*]] = arith.muli %[[LANE]], %c16
// CHECK:     %[[HEAD:.*]] = arith.muli %{{.*}}, %c2
// CHECK:     %[[ROPEOFF:.*]] = arith.muli %[[LANE]], %c2
// CHECK:     vector.load %[[QL]][%{{.*}}, %c0, %[[HEAD]], %[[LATOFF]]] {alignment = 16 : i64} : memref<?x1x16x512xf32>, vector<16xf32>
// CHECK:     vector.load %[[QR]][%{{.*}}, %c0, %[[HEAD]], %[[ROPEOFF]]] {alignment = 8 : i64} : memref<?x1x16x64xf32>, vector<2xf32>
// CHECK:     vector.load %[[QL]]
// CHECK:     vector.load %[[QR]]
// CHECK:     scf.for %[[KEY:.*]] = %{{.*}} to %{{.*}} step %c8 iter_args({{.*}}) -> (f32, f32, vector<16xf32>, f32, f32, vector<16xf32>)
// CHECK:       %[[ROW:.*]] = vector.load %[[LAT]][%{{.*}}, %[[KEY]], %[[LATOFF]]] {alignment = 16 : i64} : memref<?x?x512xbf16>, vector<16xbf16>
// CHECK:       %[[VALUE:.*]] = arith.extf %[[ROW]] : vector<16xbf16> to vector<16xf32>
// CHECK:       vector.load %[[KR]][%{{.*}}, %[[KEY]], %[[ROPEOFF]]] {alignment = 4 : i64} : memref<?x?x64xbf16>, vector<2xbf16>
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       math.exp
// CHECK:       math.exp
// CHECK:       vector.fma %{{.*}}, %[[VALUE]], %{{.*}} : vector<16xf32>
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       vector.fma %{{.*}}, %[[VALUE]], %{{.*}} : vector<16xf32>
// CHECK:       scf.yield
// CHECK:     gpu.barrier
// CHECK:     gpu.barrier
// CHECK:   gpu.launch blocks(%[[CBID:[^,]*]], {{.*}}) function(@flash_mla_decode_combine) workgroup(%[[LROW:.*]] : memref<512xf32, #gpu.address_space<workgroup>>)
// CHECK:     %[[CHEAD:.*]] = arith.remui %[[CBID]], %c16
// CHECK:     %[[CSEQ:.*]] = arith.divui %[[CBID]], %c16
// CHECK:     arith.divf
// CHECK:     memref.store %{{.*}}, %[[LROW]][%{{.*}}] : memref<512xf32, #gpu.address_space<workgroup>>
// CHECK:     gpu.barrier
// CHECK:     %[[VROWS:.*]] = arith.muli %[[CHEAD]], %c256
// CHECK:     %[[FIRSTV:.*]] = arith.addi %[[VROWS]], %c128
// CHECK:     scf.for %[[E:.*]] = %{{.*}} to %c128 step %c8 {
// CHECK:       %[[VROW:.*]] = arith.addi %[[FIRSTV]], %[[E]]
// CHECK:       vector.load %[[KVB]][%[[VROW]], %{{.*}}] {alignment = 16 : i64} : memref<4096x512xbf16>, vector<8xbf16>
// CHECK:       vector.load %[[LROW]][%{{.*}}] {alignment = 16 : i64} : memref<512xf32, #gpu.address_space<workgroup>>, vector<8xf32>
// CHECK:       vector.load %[[KVB]][%[[VROW]], %{{.*}}] {alignment = 16 : i64} : memref<4096x512xbf16>, vector<8xbf16>
// CHECK:       vector.load %[[LROW]]
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       scf.if
// CHECK:         memref.store %{{.*}}, %[[O]][%[[CSEQ]], %c0, %[[CHEAD]], %[[E]]]
func.func @flash_mla_decode(%qn: memref<?x1x16x128xf32>, %qr: memref<?x1x16x64xf32>,
                            %lat: memref<?x?x512xbf16>, %kr: memref<?x?x64xbf16>,
                            %kvb: memref<4096x512xbf16>, %pos: memref<?x1xi64>,
                            %ql: memref<?x1x16x512xf32>, %p: memref<?x16x?x514xf32>,
                            %o: memref<?x1x16x128xf32>) {
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql)
      partials(%p) outs(%o)
      {scale = 0.072 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x16x128xf32>, memref<?x1x16x64xf32>, memref<?x?x512xbf16>,
         memref<?x?x64xbf16>, memref<4096x512xbf16>, memref<?x1xi64>,
         memref<?x1x16x512xf32>, memref<?x16x?x514xf32>,
         memref<?x1x16x128xf32>) -> ()
  return
}

// -----

// The same with a bf16 output (o_proj's rounded input): the value
// projection's sum is rounded as it is stored.
// CHECK-LABEL: func.func @flash_mla_decode_bf16_out(
// CHECK-SAME:    %[[BOUT:[^:]*]]: memref<?x1x16x128xbf16>)
// CHECK:   gpu.launch {{.*}} function(@flash_mla_decode_absorb)
// CHECK:   gpu.launch {{.*}} function(@flash_mla_decode_partials)
// CHECK:   gpu.launch {{.*}} function(@flash_mla_decode_combine)
// CHECK:         %[[ROUNDED:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:         memref.store %[[ROUNDED]], %[[BOUT]]
func.func @flash_mla_decode_bf16_out(%qn: memref<?x1x16x128xf32>, %qr: memref<?x1x16x64xf32>,
                                     %lat: memref<?x?x512xbf16>, %kr: memref<?x?x64xbf16>,
                                     %kvb: memref<4096x512xbf16>, %pos: memref<?x1xi64>,
                                     %ql: memref<?x1x16x512xf32>, %p: memref<?x16x?x514xf32>,
                                     %o: memref<?x1x16x128xbf16>) {
  lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos query_latent(%ql)
      partials(%p) outs(%o)
      {scale = 0.072 : f64, warps = 8 : i64, head_tile = 2 : i64}
      : (memref<?x1x16x128xf32>, memref<?x1x16x64xf32>, memref<?x?x512xbf16>,
         memref<?x?x64xbf16>, memref<4096x512xbf16>, memref<?x1xi64>,
         memref<?x1x16x512xf32>, memref<?x16x?x514xf32>,
         memref<?x1x16x128xbf16>) -> ()
  return
}

// -----

// lm.streamed_experts with bf16 experts (8 of width 32 over 64 features, 2
// chosen), a norm and a residual: two launches. The first takes a block
// per (token, choice) and 8 columns (B x 2 x 4 blocks): the choice's
// expert read once from the indices, warp 0 stages the token's row
// normalised and rounded to bf16 (one row of shared memory), a barrier,
// each warp streams its column's gate row and up row (row 32 + i) of the
// chosen expert with 16-byte loads against the staged row, ten shuffles,
// and lane 0 writes silu(gate) * up rounded to bf16 into the choice's
// hidden row. The second takes a block per token and 8 columns: both
// choices' experts and routing weights read once, the two experts' down
// rows streamed side by side, each against its own choice's hidden row,
// and lane 0 adds w0 * sum0 + w1 * sum1 to the residual. (Both grids are
// B x 8 blocks here.)
// CHECK-LABEL: func.func @streamed_experts(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x1x64xf32>, %[[W:[^:]*]]: memref<?x1x2xf32>, %[[I:[^:]*]]: memref<?x1x2xi64>, %[[GU:[^:]*]]: memref<8x64x64xbf16>, %[[DN:[^:]*]]: memref<8x64x32xbf16>, %[[NW:[^:]*]]: memref<64xbf16>, %[[H:[^:]*]]: memref<?x1x2x32xbf16>, %[[O:[^:]*]]: memref<?x1x64xf32>)
// CHECK:   %[[B:.*]] = memref.dim %[[X]], %c0
// CHECK:   %[[GRID1:.*]] = arith.muli %[[B]], %c8
// CHECK:   gpu.launch blocks(%[[BID:[^,]*]], {{.*}}) in ({{.*}} = %[[GRID1]], {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %c256, {{.*}}) function(@experts_gate_up) workgroup(%[[ROW:.*]] : memref<1x64xbf16, #gpu.address_space<workgroup>>)
// CHECK:     %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK:     %[[WARP:.*]] = arith.divui %[[TID]], %c32
// CHECK:     %[[SLICE:.*]] = arith.divui %[[BID]], %c4
// CHECK:     %[[CB:.*]] = arith.remui %[[BID]], %c4
// CHECK:     %[[TOK:.*]] = arith.divui %[[SLICE]], %c2
// CHECK:     %[[CHOICE:.*]] = arith.remui %[[SLICE]], %c2
// CHECK:     %[[E64:.*]] = memref.load %[[I]][%[[TOK]], %c0, %[[CHOICE]]]
// CHECK:     %[[E:.*]] = arith.index_cast %[[E64]] : i64 to index
// CHECK:     %[[COLBASE:.*]] = arith.muli %[[CB]], %c8
// CHECK:     %[[COL:.*]] = arith.addi %[[COLBASE]], %[[WARP]]
// CHECK:     scf.if
// CHECK:       vector.load %[[X]][%[[TOK]], %c0, %{{.*}}] {alignment = 16 : i64} : memref<?x1x64xf32>, vector<4xf32>
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK:       math.rsqrt
// CHECK:       scf.if
// CHECK:         vector.load %[[NW]]
// CHECK:         %[[STAGED:.*]] = arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK:         vector.store %[[STAGED]], %[[ROW]][%[[WARP]], %{{.*}}] {alignment = 8 : i64}
// CHECK:     gpu.barrier
// CHECK:     vector.load %[[GU]][%[[E]], %[[COL]], %{{.*}}] {alignment = 16 : i64} : memref<8x64x64xbf16>, vector<8xbf16>
// CHECK:     %[[UPROW:.*]] = arith.addi %[[COL]], %c32
// CHECK:     vector.load %[[GU]][%[[E]], %[[UPROW]], %{{.*}}] {alignment = 16 : i64} : memref<8x64x64xbf16>, vector<8xbf16>
// CHECK:     vector.load %[[ROW]][%c0, %{{.*}}] {alignment = 16 : i64}
// CHECK:     %[[FIRST:.*]] = arith.cmpi eq, %[[LANE]], %c0
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK:     scf.if %[[FIRST]] {
// CHECK:       math.exp
// CHECK:       %[[SILU:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:       %[[ACT:.*]] = arith.mulf %[[SILU]], %{{.*}} : f32
// CHECK:       %[[ACTR:.*]] = arith.truncf %[[ACT]] : f32 to bf16
// CHECK:       memref.store %[[ACTR]], %[[H]][%[[TOK]], %c0, %[[CHOICE]], %[[COL]]]
// CHECK:   gpu.launch blocks(%[[BID2:[^,]*]], {{.*}}) in ({{.*}} = %[[GRID1]], {{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) function(@experts_down) {
// CHECK:     %[[TOK2:.*]] = arith.divui %[[BID2]], %c8
// CHECK:     %[[E0:.*]] = memref.load %[[I]][%[[TOK2]], %c0, %c0]
// CHECK:     %[[W0:.*]] = memref.load %[[W]][%[[TOK2]], %c0, %c0]
// CHECK:     %[[E1:.*]] = memref.load %[[I]][%[[TOK2]], %c0, %c1]
// CHECK:     %[[W1:.*]] = memref.load %[[W]][%[[TOK2]], %c0, %c1]
// CHECK:     vector.load %[[DN]][%{{.*}}, %[[COL2:.*]], %{{.*}}] {alignment = 16 : i64} : memref<8x64x32xbf16>, vector<8xbf16>
// CHECK:     vector.load %[[DN]][%{{.*}}, %[[COL2]], %{{.*}}] {alignment = 16 : i64} : memref<8x64x32xbf16>, vector<8xbf16>
// CHECK:     vector.load %[[H]][%[[TOK2]], %c0, %c0, %{{.*}}] {alignment = 16 : i64} : memref<?x1x2x32xbf16>, vector<8xbf16>
// CHECK:     vector.load %[[H]][%[[TOK2]], %c0, %c1, %{{.*}}] {alignment = 16 : i64} : memref<?x1x2x32xbf16>, vector<8xbf16>
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK:     scf.if
// CHECK:       %[[P0:.*]] = arith.mulf %[[W0]], %{{.*}} : f32
// CHECK:       %[[P1:.*]] = arith.mulf %[[W1]], %{{.*}} : f32
// CHECK:       %[[SUM:.*]] = arith.addf %[[P0]], %[[P1]] : f32
// CHECK:       %[[OLD:.*]] = memref.load %[[O]][%[[TOK2]], %c0, %[[COL2]]]
// CHECK:       %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUM]] : f32
// CHECK:       memref.store %[[NEW]], %[[O]][%[[TOK2]], %c0, %[[COL2]]]
func.func @streamed_experts(%x: memref<?x1x64xf32>, %w: memref<?x1x2xf32>, %i: memref<?x1x2xi64>,
                            %gu: memref<8x64x64xbf16>, %dn: memref<8x64x32xbf16>, %nw: memref<64xbf16>,
                            %h: memref<?x1x2x32xbf16>, %o: memref<?x1x64xf32>) {
  lm.streamed_experts %x, %w, %i, %gu, %dn norm(%nw) hidden(%h) outs(%o)
      {activation = #lm.expert<swiglu>, epsilon = 1.0e-06 : f64, accumulate, warps = 8 : i64}
      : (memref<?x1x64xf32>, memref<?x1x2xf32>, memref<?x1x2xi64>, memref<8x64x64xbf16>,
         memref<8x64x32xbf16>, memref<64xbf16>, memref<?x1x2x32xbf16>, memref<?x1x64xf32>) -> ()
  return
}

// -----

// Llama 4-style routing (scale_input) with GPT-OSS's biases and
// interleaved clamped GLU, in f32: the staged row is the token's row
// times its routing weight (staged though f32: the scaling is per choice);
// gate and up are rows 2i and 2i + 1, each with its bias; the down sums
// are added to their biases unweighted, and written (no residual).
// CHECK-LABEL: func.func @streamed_experts_scaled(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x?x64xf32>, %[[W:[^:]*]]: memref<?x?x1xf32>, %[[I:[^:]*]]: memref<?x?x1xi64>, %[[GU:[^:]*]]: memref<4x96x64xf32>, %[[DN:[^:]*]]: memref<4x64x48xf32>, %[[GB:[^:]*]]: memref<4x96xf32>, %[[DB:[^:]*]]: memref<4x64xf32>, %[[H:[^:]*]]: memref<?x?x1x48xf32>, %[[O:[^:]*]]: memref<?x?x64xf32>)
// CHECK:   function(@experts_gate_up) workgroup(%[[ROW:.*]] : memref<1x64xf32, #gpu.address_space<workgroup>>)
// CHECK:     %[[RW:.*]] = memref.load %[[W]][%[[B:.*]], %[[T:.*]], %c0]
// CHECK:     scf.if
// CHECK:       scf.if
// CHECK:         %[[XV:.*]] = vector.load %[[X]][%[[B]], %[[T]], %{{.*}}] {alignment = 16 : i64} : memref<?x?x64xf32>, vector<4xf32>
// CHECK:         %[[RWV:.*]] = vector.broadcast %[[RW]] : f32 to vector<4xf32>
// CHECK:         %[[SCALED:.*]] = arith.mulf %[[XV]], %[[RWV]] : vector<4xf32>
// CHECK:         vector.store %[[SCALED]], %[[ROW]]
// CHECK:     gpu.barrier
// CHECK:     %[[GATEROW:.*]] = arith.muli %[[COL:.*]], %c2
// CHECK:     vector.load %[[GU]][%{{.*}}, %[[GATEROW]], %{{.*}}]
// CHECK:     %[[UPROW:.*]] = arith.addi %[[GATEROW]], %c1
// CHECK:     vector.load %[[GU]][%{{.*}}, %[[UPROW]], %{{.*}}]
// CHECK:     scf.if
// CHECK-DAG:   memref.load %[[GB]][%{{.*}}, %[[UPROW]]]
// CHECK-DAG:   memref.load %[[GB]][%{{.*}}, %[[GATEROW]]]
// CHECK:       memref.store %{{.*}}, %[[H]]
// CHECK:   function(@experts_down)
// CHECK:     scf.if
// CHECK:       %[[BIAS:.*]] = memref.load %[[DB]]
// CHECK:       %[[Y:.*]] = arith.addf %{{.*}}, %[[BIAS]] : f32
// CHECK-NEXT:  memref.store %[[Y]], %[[O]]
func.func @streamed_experts_scaled(%x: memref<?x?x64xf32>, %w: memref<?x?x1xf32>, %i: memref<?x?x1xi64>,
                                   %gu: memref<4x96x64xf32>, %dn: memref<4x64x48xf32>,
                                   %gb: memref<4x96xf32>, %db: memref<4x64xf32>,
                                   %h: memref<?x?x1x48xf32>, %o: memref<?x?x64xf32>) {
  lm.streamed_experts %x, %w, %i, %gu, %dn biases %gb, %db hidden(%h) outs(%o)
      {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702 : f64, limit = 7.0 : f64,
       interleaved_gate_up, scale_input, warps = 8 : i64}
      : (memref<?x?x64xf32>, memref<?x?x1xf32>, memref<?x?x1xi64>, memref<4x96x64xf32>,
         memref<4x64x48xf32>, memref<4x96xf32>, memref<4x64xf32>, memref<?x?x1x48xf32>,
         memref<?x?x64xf32>) -> ()
  return
}

// -----

// lm.grouped_experts with the goldens' shapes (8 experts of width 32 over
// 64 features, 2 chosen), SwiGLU, accumulating into the residual: five
// launches. The sort, one block of 1024 threads: the pairs counted per
// expert with shared-memory atomics, thread 0's prefix over the experts
// (segment starts and first tiles), each expert's tiles [expert, first
// row, end] written, the table's rest -1, and each pair placed at its
// segment's next row (an atomic cursor), in `order` and `slots`. The
// gather: a block per sorted row, its pair's token row rounded to bf16, 8
// elements a thread. The gate/up GEMM: a block per tile (one block of 64
// columns covers the width 32); x's tensor map in boxes of 128 rows, the
// stacked gate_up's in boxes of 64 rows (gate rows from e * 64, up rows
// from e * 64 + 32), the copies of A at the tile's first row; the
// epilogue takes gate and up from accumulators i and i + 32 (tile columns
// c and c + 64), stores silu(gate) * up rounded to bf16 for rows below the
// tile's end. The down GEMM: boxes of 128 rows of the activations and of
// the stacked down weights (rows from e * 64), pairs of f32 columns. The
// combine: a block per token, each choice's sorted row and routing weight,
// w0 * y0 + w1 * y1 (from 0, in choice order) added to the residual, 4
// elements a thread.
// CHECK-LABEL: func.func @grouped_experts(
// CHECK-SAME:    %[[X:[^:]*]]: memref<?x?x64xf32>, %[[W:[^:]*]]: memref<?x?x2xf32>, %[[I:[^:]*]]: memref<?x?x2xi64>, %[[GU:[^:]*]]: memref<8x64x64xbf16>, %[[DN:[^:]*]]: memref<8x64x32xbf16>, %[[ORDER:[^:]*]]: memref<?xi32>, %[[TILES:[^:]*]]: memref<?x3xi32>, %[[SLOTS:[^:]*]]: memref<?x?x2xi32>, %[[ROWS:[^:]*]]: memref<?x64xbf16>, %[[H:[^:]*]]: memref<?x32xbf16>, %[[Y:[^:]*]]: memref<?x64xf32>, %[[O:[^:]*]]: memref<?x?x64xf32>)
// CHECK:   %[[BT:.*]] = arith.muli %{{.*}}, %{{.*}} : index
// CHECK:   %[[PAIRS:.*]] = arith.muli %[[BT]], %c2 : index
// CHECK:   %[[NTILES:.*]] = memref.dim %[[TILES]], %c0
// CHECK:   gpu.launch blocks({{.*}}) in ({{.*}} = %c1, {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %c1024, {{.*}}) function(@grouped_experts_sort) workgroup(%[[COUNTS:.*]] : memref<8xi32, #gpu.address_space<workgroup>>, %[[STARTS:.*]] : memref<8xi32, #gpu.address_space<workgroup>>, %[[FIRSTS:.*]] : memref<8xi32, #gpu.address_space<workgroup>>, %[[CURSORS:.*]] : memref<8xi32, #gpu.address_space<workgroup>>, %[[USED:.*]] : memref<1xi32, #gpu.address_space<workgroup>>)
// CHECK:     gpu.barrier
// CHECK:     scf.for %{{.*}} = %[[TID]] to %[[PAIRS]] step %c1024 {
// CHECK:       %[[E64:.*]] = memref.load %[[I]]
// CHECK:       %[[EI:.*]] = arith.index_cast %[[E64]] : i64 to index
// CHECK:       %[[E:.*]] = arith.minui %[[EI]], %c7
// CHECK:       memref.atomic_rmw addi %c1_i32, %[[COUNTS]][%[[E]]]
// CHECK:     gpu.barrier
// CHECK:     scf.if
// CHECK:       scf.for {{.*}} = %c0 to %c8 step %c1 iter_args
// CHECK:         memref.store %{{.*}}, %[[STARTS]]
// CHECK:         memref.store %{{.*}}, %[[FIRSTS]]
// CHECK:       memref.store %{{.*}}, %[[USED]][%c0]
// CHECK:     gpu.barrier
// CHECK:         memref.store %{{.*}}, %[[TILES]][%{{.*}}, %c0] : memref<?x3xi32>
// CHECK:         memref.store %{{.*}}, %[[TILES]][%{{.*}}, %c1] : memref<?x3xi32>
// CHECK:         memref.store %{{.*}}, %[[TILES]][%{{.*}}, %c2] : memref<?x3xi32>
// CHECK:     scf.for %{{.*}} = %{{.*}} to %[[NTILES]] step %c1024 {
// CHECK:       memref.store %c-1_i32, %[[TILES]][%{{.*}}, %c0]
// CHECK:     scf.for %[[PAIR:.*]] = %[[TID]] to %[[PAIRS]] step %c1024 {
// CHECK:       %[[TAKEN:.*]] = memref.atomic_rmw addi %c1_i32, %[[CURSORS]]
// CHECK:       %[[START:.*]] = memref.load %[[STARTS]]
// CHECK:       %[[ROW:.*]] = arith.addi %[[START]], %[[TAKEN]] : i32
// CHECK:       memref.store %{{.*}}, %[[ORDER]]
// CHECK:       memref.store %[[ROW]], %[[SLOTS]]
// CHECK:   gpu.launch blocks(%[[GROW:[^,]*]], {{.*}}) in ({{.*}} = %[[PAIRS]], {{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) function(@grouped_experts_gather) {
// CHECK:     memref.load %[[ORDER]][%[[GROW]]]
// CHECK:       %[[XV:.*]] = vector.load %[[X]]{{.*}} {alignment = 16 : i64} : memref<?x?x64xf32>, vector<8xf32>
// CHECK:       %[[XB:.*]] = arith.truncf %[[XV]] : vector<8xf32> to vector<8xbf16>
// CHECK:       vector.store %[[XB]], %[[ROWS]][%[[GROW]], %{{.*}}] {alignment = 16 : i64}
// CHECK:   %[[AMAP:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c128, %c64] {{.*}} -> <tensor = memref<128x64xbf16
// CHECK:   %[[STACKED:.*]] = memref.collapse_shape %[[GU]] {{\[\[}}0, 1], [2]] : memref<8x64x64xbf16> into memref<512x64xbf16>
// CHECK:   %[[BMAP:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c64, %c64] {{.*}} -> <tensor = memref<64x64xbf16
// CHECK:   gpu.launch blocks(%[[TILE:[^,]*]], {{.*}}) in ({{.*}} = %[[NTILES]], {{.*}}) threads({{.*}}) in ({{.*}} = %c384, {{.*}}) dynamic_shared_memory_size %c132096_i32 function(@grouped_experts_gate_up) {
// CHECK:     %[[TE:.*]] = memref.load %[[TILES]][%[[TILE]], %c0]
// CHECK:     %[[HAS:.*]] = arith.cmpi sge, %[[TE]], %c0_i32
// CHECK:     %[[TFIRST:.*]] = memref.load %[[TILES]][%[[TILE]], %c1]
// CHECK:     %[[AROW:.*]] = arith.index_cast %[[TFIRST]]
// CHECK:     %[[EXPERT:.*]] = arith.index_cast %[[TE]]
// CHECK:     %[[TEND:.*]] = memref.load %[[TILES]][%[[TILE]], %c2]
// CHECK:     %[[END:.*]] = arith.index_cast %[[TEND]]
// CHECK:     %[[GATEROW:.*]] = arith.muli %[[EXPERT]], %c64
// CHECK:     %[[UPROW:.*]] = arith.addi %[[GATEROW]], %c32
// CHECK:     scf.if %[[HAS]] {
// CHECK:         nvgpu.tma.async.load %[[AMAP]][%c0, %[[AROW]]]
// CHECK:         nvgpu.tma.async.load %[[BMAP]][%c0, %[[GATEROW]]]
// CHECK:         nvgpu.tma.async.load %[[BMAP]][%c0, %[[UPROW]]]
// CHECK:         nvvm.wgmma.mma_async
// CHECK:         nvvm.wgmma.wait.group.sync.aligned 0
// CHECK:         %[[MINE:.*]] = arith.cmpi ult, %[[FROW:.*]], %[[END]]
// CHECK:         %[[INW:.*]] = arith.cmpi ult, %[[FCOL:.*]], %c32
// CHECK:         %[[STORE:.*]] = arith.andi %[[MINE]], %[[INW]]
// CHECK:         scf.if %[[STORE]] {
// CHECK:           %[[GATE:.*]] = llvm.extractvalue %{{.*}}[0]
// CHECK:           %[[UP:.*]] = llvm.extractvalue %{{.*}}[32]
// CHECK:           math.exp
// CHECK:           %[[SILU:.*]] = arith.mulf %[[GATE]], %{{.*}} : f32
// CHECK:           %[[ACT:.*]] = arith.mulf %[[SILU]], %[[UP]] : f32
// CHECK:           %[[ACTB:.*]] = arith.truncf %[[ACT]] : f32 to bf16
// CHECK:           memref.store %[[ACTB]], %[[H]][%[[FROW]], %[[FCOL]]]
// CHECK:   %[[HMAP:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c128, %c64] {{.*}} -> <tensor = memref<128x64xbf16
// CHECK:   memref.collapse_shape %[[DN]] {{\[\[}}0, 1], [2]] : memref<8x64x32xbf16> into memref<512x32xbf16>
// CHECK:   %[[DMAP:.*]] = nvgpu.tma.create.descriptor %{{.*}} box[%c128, %c64]
// CHECK:   gpu.launch {{.*}} function(@grouped_experts_down) {
// CHECK:         nvgpu.tma.async.load %[[HMAP]]
// CHECK:         nvgpu.tma.async.load %[[DMAP]]
// CHECK:         vector.store %{{.*}}, %[[Y]][%{{.*}}, %{{.*}}] {alignment = 8 : i64} : memref<?x64xf32>, vector<2xf32>
// CHECK:   gpu.launch {{.*}} in ({{.*}} = %[[BT]], {{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) function(@grouped_experts_combine) {
// CHECK:     %[[S0:.*]] = memref.load %[[SLOTS]]{{.*}}, %c0]
// CHECK:     %[[R0:.*]] = arith.index_cast %[[S0]]
// CHECK:     %[[W0:.*]] = memref.load %[[W]]{{.*}}, %c0]
// CHECK:     %[[W0V:.*]] = vector.broadcast %[[W0]] : f32 to vector<4xf32>
// CHECK:     %[[S1:.*]] = memref.load %[[SLOTS]]{{.*}}, %c1]
// CHECK:       %[[Y0:.*]] = vector.load %[[Y]][%[[R0]], %{{.*}}] {alignment = 16 : i64} : memref<?x64xf32>, vector<4xf32>
// CHECK:       %[[T0:.*]] = arith.mulf %[[W0V]], %[[Y0]]
// CHECK:       %[[SUM0:.*]] = arith.addf %[[T0]], %cst
// CHECK:       %[[SUM1:.*]] = arith.addf %[[SUM0]], %{{.*}} : vector<4xf32>
// CHECK:       %[[RES:.*]] = vector.load %[[O]]
// CHECK:       %[[NEW:.*]] = arith.addf %[[RES]], %[[SUM1]]
// CHECK:       vector.store %[[NEW]], %[[O]]
func.func @grouped_experts(%x: memref<?x?x64xf32>, %w: memref<?x?x2xf32>, %i: memref<?x?x2xi64>,
                           %gu: memref<8x64x64xbf16>, %dn: memref<8x64x32xbf16>,
                           %order: memref<?xi32>, %tiles: memref<?x3xi32>, %slots: memref<?x?x2xi32>,
                           %rows: memref<?x64xbf16>, %h: memref<?x32xbf16>, %y: memref<?x64xf32>,
                           %o: memref<?x?x64xf32>) {
  lm.grouped_experts %x, %w, %i, %gu, %dn schedule(%order, %tiles, %slots) rows(%rows)
      hidden(%h) expert_out(%y) outs(%o) {activation = #lm.expert<swiglu>, accumulate}
      : (memref<?x?x64xf32>, memref<?x?x2xf32>, memref<?x?x2xi64>, memref<8x64x64xbf16>,
         memref<8x64x32xbf16>, memref<?xi32>, memref<?x3xi32>, memref<?x?x2xi32>,
         memref<?x64xbf16>, memref<?x32xbf16>, memref<?x64xf32>, memref<?x?x64xf32>) -> ()
  return
}
