// RUN: lmc-opt %s --lm-lower-state --split-input-file --verify-diagnostics | FileCheck %s

// A KV cache becomes a keys and a values buffer [batch, context, heads, dim]
// owned by the runtime, and the call a ragged batch: `lengths` and `context`
// join the positions. Each held token (t < lengths[b]) is stored at its own
// position, slots 0 .. context-1 are read back, and the state is no longer
// returned.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: %[[POS:[a-z0-9]+]]: tensor<?x?xi64> {lm.name = "positions"}
// CHECK-SAME: %[[LENGTHS:[a-z0-9]+]]: tensor<?xi64> {lm.name = "lengths"}
// CHECK-SAME: %[[CONTEXT:[a-z0-9]+]]: index {lm.name = "context"}
// CHECK-SAME: %[[KEYS:[a-z0-9]+]]: memref<?x?x2x4xf32> {lm.state = "layer.kv_cache.keys"}
// CHECK-SAME: %[[VALUES:[a-z0-9]+]]: memref<?x?x2x4xf32> {lm.state = "layer.kv_cache.values"}) -> tensor<?x?x2x4xf32>
// CHECK-DAG: %[[POSBUF:.*]] = bufferization.to_buffer %[[POS]] read_only
// CHECK-DAG: %[[LENBUF:.*]] = bufferization.to_buffer %[[LENGTHS]] read_only
// CHECK: %[[NEW:.*]] = bufferization.to_buffer %{{.*}} read_only
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]], %[[H:.*]], %[[D:.*]]) =
// CHECK:   %[[LEN64:.*]] = memref.load %[[LENBUF]][%[[B]]]
// CHECK:   %[[LEN:.*]] = arith.index_cast %[[LEN64]]
// CHECK:   %[[HELD:.*]] = arith.cmpi ult, %[[T]], %[[LEN]]
// CHECK:   %[[P64:.*]] = memref.load %[[POSBUF]][%[[B]], %[[T]]]
// CHECK:   %[[P:.*]] = arith.index_cast %[[P64]]
// CHECK:   scf.if %[[HELD]] {
// CHECK:     %[[X:.*]] = memref.load %[[NEW]][%[[B]], %[[T]], %[[H]], %[[D]]]
// CHECK:     memref.store %[[X]], %[[KEYS]][%[[B]], %[[P]], %[[H]], %[[D]]]
// CHECK: %[[ALL:.*]] = memref.subview %[[KEYS]][0, 0, 0, 0] [%{{.*}}, %[[CONTEXT]], 2, 4]
// CHECK: bufferization.to_tensor %[[ALL]] restrict
// CHECK: memref.store %{{.*}}, %[[VALUES]]
// CHECK: memref.subview %[[VALUES]]
// CHECK-NOT: lm.kv_cache_update
// CHECK-NOT: tensor.extract
// CHECK: return %{{.*}} : tensor<?x?x2x4xf32>
func.func @forward(%ids: tensor<?x?xi64> {lm.name = "input_ids"}, %pos: tensor<?x?xi64> {lm.name = "positions"},
                   %c: !lm.kv_cache<2 x 4 x 4, f32> {lm.name = "layer.kv_cache"},
                   %k: tensor<?x?x2x4xf32>, %v: tensor<?x?x2x4xf32>)
    -> (tensor<?x?x2x4xf32>, !lm.kv_cache<2 x 4 x 4, f32>) {
  %c1, %ks, %vs = lm.kv_cache_update %c, %k, %v, %pos
      : (!lm.kv_cache<2 x 4 x 4, f32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 4 x 4, f32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>)
  return %ks, %c1 : tensor<?x?x2x4xf32>, !lm.kv_cache<2 x 4 x 4, f32>
}

// -----

// A cache's buffers have its element type: a bf16 cache rounds what it
// stores, and reads back bf16 where its update's result is bf16 (keys), or
// widened where it is f32 (values, unused here).
// CHECK-LABEL: func.func @forward
// CHECK-SAME: %[[KEYS:[a-z0-9]+]]: memref<?x?x2x4xbf16> {lm.state = "layer.kv_cache.keys"}
// CHECK-SAME: %[[VALUES:[a-z0-9]+]]: memref<?x?x2x4xbf16> {lm.state = "layer.kv_cache.values"}) -> tensor<?x?x2x4xbf16>
// CHECK: scf.if
// CHECK:   %[[X:.*]] = memref.load %{{.*}} : memref<?x?x2x4xf32>
// CHECK:   %[[R:.*]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:   memref.store %[[R]], %[[KEYS]]
// CHECK: %[[ALLK:.*]] = memref.subview %[[KEYS]]
// CHECK: %[[KS:.*]] = bufferization.to_tensor %[[ALLK]] restrict : memref<?x?x2x4xbf16, strided<{{.*}}>> to tensor<?x?x2x4xbf16>
// CHECK: arith.truncf
// CHECK: memref.store %{{.*}}, %[[VALUES]]
// CHECK: %[[ALLV:.*]] = memref.subview %[[VALUES]]
// CHECK: %[[STORED:.*]] = bufferization.to_tensor %[[ALLV]]
// CHECK: arith.extf %[[STORED]] : tensor<?x?x2x4xbf16> to tensor<?x?x2x4xf32>
// CHECK: return %[[KS]]
func.func @forward(%ids: tensor<?x?xi64> {lm.name = "input_ids"}, %pos: tensor<?x?xi64> {lm.name = "positions"},
                   %c: !lm.kv_cache<2 x 4 x 4, bf16> {lm.name = "layer.kv_cache"},
                   %k: tensor<?x?x2x4xf32>, %v: tensor<?x?x2x4xf32>)
    -> (tensor<?x?x2x4xbf16>, !lm.kv_cache<2 x 4 x 4, bf16>) {
  %c1, %ks, %vs = lm.kv_cache_update %c, %k, %v, %pos
      : (!lm.kv_cache<2 x 4 x 4, bf16>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 4 x 4, bf16>, tensor<?x?x2x4xbf16>, tensor<?x?x2x4xf32>)
  return %ks, %c1 : tensor<?x?x2x4xbf16>, !lm.kv_cache<2 x 4 x 4, bf16>
}

// -----

// A rounding only the write reads (lm-cast-to-bf16 rounds what a latent
// cache stores) is applied as the write stores, not as a kernel of its own:
// the loop reads the f32 latents, rounds each element to bf16 and widens it
// into the f32 buffer.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: %[[L:[a-z0-9]+]]: tensor<?x?x8xf32>
// CHECK-SAME: %[[LAT:[a-z0-9]+]]: memref<?x?x8xf32> {lm.state = "mla.latents"}
// CHECK-NOT: arith.truncf %{{.*}} : tensor
// CHECK: %[[SRC:.*]] = bufferization.to_buffer %[[L]] read_only
// CHECK: scf.if
// CHECK:   %[[X:.*]] = memref.load %[[SRC]]
// CHECK:   %[[R:.*]] = arith.truncf %[[X]] : f32 to bf16
// CHECK:   %[[W:.*]] = arith.extf %[[R]] : bf16 to f32
// CHECK:   memref.store %[[W]], %[[LAT]]
func.func @forward(%ids: tensor<?x?xi64> {lm.name = "input_ids"}, %pos: tensor<?x?xi64> {lm.name = "positions"},
                   %c: !lm.latent_cache<8 + 2, f32> {lm.name = "mla"},
                   %l: tensor<?x?x8xf32>, %r: tensor<?x?x2xf32>)
    -> (tensor<?x?x8xf32>, !lm.latent_cache<8 + 2, f32>) {
  %lb = arith.truncf %l : tensor<?x?x8xf32> to tensor<?x?x8xbf16>
  %c1, %lat, %kr = lm.latent_cache_update %c, %lb, %r, %pos
      : (!lm.latent_cache<8 + 2, f32>, tensor<?x?x8xbf16>, tensor<?x?x2xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<8 + 2, f32>, tensor<?x?x8xf32>, tensor<?x?x2xf32>)
  return %lat, %c1 : tensor<?x?x8xf32>, !lm.latent_cache<8 + 2, f32>
}

// -----

// Recurrent state is one [batch, ...] buffer updated in place by the op that
// carries it, seen through a cast; its updated value is no longer returned.
// The op steps each sequence over the tokens it holds.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: %[[LENGTHS:[a-z0-9]+]]: tensor<?xi64> {lm.name = "lengths"}
// CHECK-SAME: %[[STATE:[a-z0-9]+]]: memref<?x4x3xf32> {lm.per_sequence, lm.state = "conv.state"}
// CHECK: %[[VIEW:.*]] = builtin.unrealized_conversion_cast %[[STATE]] : memref<?x4x3xf32> to !lm.recurrent_state<[4, 3], f32>
// CHECK: lm.causal_conv1d %{{.*}}, %{{.*}}, %[[VIEW]] lengths %[[LENGTHS]]
// CHECK: return %{{.*}} : tensor<?x?x4xf32>
func.func @forward(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>, %x: tensor<?x?x4xf32>, %w: tensor<4x1x4xf32>,
                   %s: !lm.recurrent_state<[4, 3], f32> {lm.name = "conv"})
    -> (tensor<?x?x4xf32>, !lm.recurrent_state<[4, 3], f32>) {
  %y, %s1 = lm.causal_conv1d %x, %w, %s {activation = #lm.activation<silu>}
      : (tensor<?x?x4xf32>, tensor<4x1x4xf32>, !lm.recurrent_state<[4, 3], f32>)
      -> (tensor<?x?x4xf32>, !lm.recurrent_state<[4, 3], f32>)
  return %y, %s1 : tensor<?x?x4xf32>, !lm.recurrent_state<[4, 3], f32>
}

// -----

// A compressed cache keeps the projected kv and gate rows of every token;
// the entries are pooled from all rows so far.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: memref<?x?x8xf32> {lm.state = "c.kv_rows"}, %{{.*}}: memref<?x?x8xf32> {lm.state = "c.gate_rows"}
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: arith.divui %{{.*}}, %c4
// CHECK: math.exp
// CHECK-NOT: lm.kv_compress
func.func @forward(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>, %s: !lm.compressed_cache<8, f32, ratio = 4> {lm.name = "c"},
                   %kv: tensor<?x?x8xf32>, %g: tensor<?x?x8xf32>, %ape: tensor<4x8xf32>)
    -> (tensor<?x?x8xf32>, !lm.compressed_cache<8, f32, ratio = 4>) {
  %s1, %e, %ep = lm.kv_compress %s, %kv, %g, %ape, %pos
      : (!lm.compressed_cache<8, f32, ratio = 4>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<8, f32, ratio = 4>, tensor<?x?x8xf32>, tensor<?x?xi64>)
  return %e, %s1 : tensor<?x?x8xf32>, !lm.compressed_cache<8, f32, ratio = 4>
}
