// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Attention (lib/Codegen/LMToLinalg/Attention.cpp): scores [B, H, T, S] as a
// contraction over the head dim, a mask from the positions, a max and a sum
// reduction over the keys, and the normalised weighted sum of the values.
// Plain attention with a sliding window is in lower-to-linalg.mlir.

// Chunked attention with sinks. Query head h reads KV head h floordiv 2 (4
// query heads, 2 KV heads) for keys and values. Key j is visible iff j <= p
// and j / 16 == p / 16. The per-head sink logit joins the row maximum and
// adds exp(sink - max) to the denominator, without a value.
// CHECK-DAG: #[[Q:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>
// CHECK-DAG: #[[K:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1 floordiv 2, d4)>
// CHECK-DAG: #[[S5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[POS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[SINK:.+]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[P:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1)>
// CHECK-DAG: #[[V:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2 floordiv 2, d3)>
// CHECK-LABEL: func.func @attention_sinks_chunked
// CHECK-SAME: %[[QA:[a-z0-9]+]]: tensor<?x?x4x8xf32>, %[[KA:[a-z0-9]+]]: tensor<?x?x2x8xf32>, %[[VA:[a-z0-9]+]]: tensor<?x?x2x6xf32>, %[[PA:[a-z0-9]+]]: tensor<?x?xi64>, %[[SA:[a-z0-9]+]]: tensor<4xf32>
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[CHUNK:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 3.500000e-01 : f32
// CHECK: %[[SCORES:.*]] = linalg.generic {indexing_maps = [#[[Q]], #[[K]], #[[S5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[QA]], %[[KA]] : tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>) outs(%{{.*}} : tensor<?x4x?x?xf32>)
// CHECK: %[[MASKED:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[POS]], #[[ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[SCORES]], %[[PA]] :
// CHECK: ^bb0(%[[SC:.*]]: f32, %[[PV:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[SCALED:.*]] = arith.mulf %[[SC]], %[[SCALE]] : f32
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[KEY:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[KEY]], %[[PV]] : i64
// CHECK-DAG: %[[PCHUNK:.*]] = arith.divsi %[[PV]], %[[CHUNK]] : i64
// CHECK-DAG: %[[KCHUNK:.*]] = arith.divsi %[[KEY]], %[[CHUNK]] : i64
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[KCHUNK]], %[[PCHUNK]] : i64
// CHECK: %[[VIS:.*]] = arith.andi %[[CAUSAL]], %[[SAME]] : i1
// CHECK: arith.select %[[VIS]], %[[SCALED]], %[[NEG_INF]] : f32
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[MASKED]] :
// CHECK: arith.maximumf
// CHECK: %[[SMAX:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[SINK]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[MAX]], %[[SA]] : tensor<?x4x?xf32>, tensor<4xf32>)
// CHECK: arith.maximumf
// CHECK: %[[EXPS:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]], #[[ID4]]], {{.*}} ins(%[[MASKED]], %[[SMAX]] :
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID4]], #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EXPS]] :
// CHECK: %[[DEN:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]], #[[SINK]], #[[ID3]]], {{.*}} ins(%[[SUM]], %[[SMAX]], %[[SA]] :
// CHECK: ^bb0(%[[S0:.*]]: f32, %[[M0:.*]]: f32, %[[SK:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[D:.*]] = arith.subf %[[SK]], %[[M0]] : f32
// CHECK: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK: arith.addf %[[S0]], %[[E]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[Q]], #[[P]], #[[V]], #[[S5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[EXPS]], %[[DEN]], %[[VA]] : tensor<?x4x?x?xf32>, tensor<?x4x?xf32>, tensor<?x?x2x6xf32>) outs(%{{.*}} : tensor<?x?x4x6xf32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[N:.*]]: f32, %[[VV:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[W:.*]] = arith.divf %[[X]], %[[N]] : f32
// CHECK: %[[WV:.*]] = arith.mulf %[[W]], %[[VV]] : f32
// CHECK: arith.addf %[[ACC]], %[[WV]] : f32
// CHECK-NOT: lm.attention
func.func @attention_sinks_chunked(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x2x8xf32>, %v: tensor<?x?x2x6xf32>,
                                   %pos: tensor<?x?xi64>, %sinks: tensor<4xf32>) -> tensor<?x?x4x6xf32> {
  %0 = lm.attention %q, %k, %v, %pos sinks %sinks {scale = 0.35 : f64, chunk_size = 16 : i64}
     : (tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x6xf32>, tensor<?x?xi64>, tensor<4xf32>) -> tensor<?x?x4x6xf32>
  return %0 : tensor<?x?x4x6xf32>
}

// -----

// MLA with 2 heads, nope dim 4, rope dim 2, value dim 3, latent dim 8:
// kv_b is [2 * (4 + 3), 8], head h's key rows at h * 7, its value rows at
// h * 7 + 4. One token takes the weight-absorbed form, more the expanded one.
// CHECK-DAG: #[[QMAP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[ABSORB:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2 * 7 + d4, d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[VROWS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d2 * 7 + d3 + 4, d4)>
// CHECK-DAG: #[[PIN:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-DAG: #[[PW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[POUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d0)>
// CHECK-DAG: #[[SHARED:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1 floordiv 2, d4)>
// CHECK-DAG: #[[ROPEB:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @mla_attention
// CHECK-SAME: %[[QN:[a-z0-9]+]]: tensor<?x?x2x4xf32>, %[[QR:[a-z0-9]+]]: tensor<?x?x2x2xf32>, %[[C:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[KR:[a-z0-9]+]]: tensor<?x?x2xf32>, %[[W:[a-z0-9]+]]: tensor<14x8xf32>
// CHECK: %[[T:.*]] = tensor.dim %[[QN]], %c1 : tensor<?x?x2x4xf32>
// CHECK: %[[ONE:.*]] = arith.cmpi eq, %[[T]], %c1 : index
// CHECK: %[[RES:.*]] = scf.if %[[ONE]] -> (tensor<?x?x2x3xf32>) {
// Absorbed: q_nope moves into latent space, attends over the latents (one
// head shared by all) plus the rotary keys, and the latent output is
// projected by the value rows.
// CHECK: %[[QL:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[ABSORB]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[QN]], %[[W]] : tensor<?x?x2x4xf32>, tensor<14x8xf32>) outs(%{{.*}} : tensor<?x?x2x8xf32>)
// CHECK: %[[L1:.*]] = tensor.expand_shape %[[C]] {{\[\[}}0], [1], [2, 3]] {{.*}} : tensor<?x?x8xf32> into tensor<?x?x1x8xf32>
// CHECK: %[[SL:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[SHARED]], #[[OUT]]], {{.*}} ins(%[[QL]], %[[L1]] : tensor<?x?x2x8xf32>, tensor<?x?x1x8xf32>)
// CHECK: %[[KR1:.*]] = tensor.expand_shape %[[KR]] {{.*}} into tensor<?x?x1x2xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SHARED]], #[[OUT]]], {{.*}} ins(%[[QR]], %[[KR1]] : tensor<?x?x2x2xf32>, tensor<?x?x1x2xf32>) outs(%[[SL]] : tensor<?x2x?x?xf32>)
// CHECK: arith.cmpi sle
// CHECK: math.exp
// CHECK: %[[OL:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[L1]] : tensor<?x2x?x?xf32>, tensor<?x2x?xf32>, tensor<?x?x1x8xf32>) outs(%{{.*}} : tensor<?x?x2x8xf32>)
// CHECK: %[[AO:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[VROWS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[OL]], %[[W]] : tensor<?x?x2x8xf32>, tensor<14x8xf32>) outs(%{{.*}} : tensor<?x?x2x3xf32>)
// CHECK: scf.yield %[[AO]] : tensor<?x?x2x3xf32>
// CHECK: } else {
// Expanded: the latents projected by all of kv_b in one projection over
// every key ([B, S, 2 * 7]: lm.linear), viewed per head: keys
// [k_nope slice || k_rope], values the other slice; then ordinary
// attention.
// CHECK: %[[KV:.*]] = linalg.generic {indexing_maps = [#[[PIN]], #[[PW]], #[[POUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[C]], %[[W]] : tensor<?x?x8xf32>, tensor<14x8xf32>) outs(%{{.*}} : tensor<?x?x14xf32>)
// CHECK: %[[KVH:.*]] = tensor.expand_shape %[[KV]] {{\[\[}}0], [1], [2, 3]] {{.*}} : tensor<?x?x14xf32> into tensor<?x?x2x7xf32>
// CHECK: %[[KN:.*]] = tensor.extract_slice %[[KVH]][0, 0, 0, 0] {{.*}} to tensor<?x?x2x4xf32>
// CHECK: %[[VS:.*]] = tensor.extract_slice %[[KVH]][0, 0, 0, 4] {{.*}} to tensor<?x?x2x3xf32>
// CHECK: %[[KRB:.*]] = linalg.generic {indexing_maps = [#[[ROPEB]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[KR]] : tensor<?x?x2xf32>) outs(%{{.*}} : tensor<?x?x2x2xf32>)
// CHECK: %[[KEYS:.*]] = tensor.concat dim(3) %[[KN]], %[[KRB]] : (tensor<?x?x2x4xf32>, tensor<?x?x2x2xf32>) -> tensor<?x?x2x6xf32>
// CHECK: %[[QS:.*]] = tensor.concat dim(3) %[[QN]], %[[QR]] : (tensor<?x?x2x4xf32>, tensor<?x?x2x2xf32>) -> tensor<?x?x2x6xf32>
// CHECK: linalg.generic {{.*}} ins(%[[QS]], %[[KEYS]] : tensor<?x?x2x6xf32>, tensor<?x?x2x6xf32>)
// CHECK: arith.cmpi sle
// CHECK: math.exp
// CHECK: %[[EO:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[VS]] : tensor<?x2x?x?xf32>, tensor<?x2x?xf32>, tensor<?x?x2x3xf32>) outs(%{{.*}} : tensor<?x?x2x3xf32>)
// CHECK: scf.yield %[[EO]] : tensor<?x?x2x3xf32>
// CHECK: return %[[RES]]
// CHECK-NOT: lm.mla_attention
func.func @mla_attention(%qn: tensor<?x?x2x4xf32>, %qr: tensor<?x?x2x2xf32>, %c: tensor<?x?x8xf32>, %kr: tensor<?x?x2xf32>,
                         %wkvb: tensor<14x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x3xf32> {
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos {scale = 0.2 : f64}
     : (tensor<?x?x2x4xf32>, tensor<?x?x2x2xf32>, tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<14x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x2x3xf32>
  return %0 : tensor<?x?x2x3xf32>
}

// -----

// A bf16 latent cache (--kv-dtype bf16): latents and rotary keys are read
// as stored and widened where a product reads them; the expanded form's
// per-head rotary keys are f32.
// CHECK-LABEL: func.func @mla_bf16_cache
// CHECK: scf.if
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x?x2x8xf32>, tensor<?x?x1x8xbf16>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: } else {
// CHECK: %[[KRB:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<?x?x2xbf16>) outs(%{{.*}} : tensor<?x?x2x2xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: bf16, %{{.*}}: f32):
// CHECK-NEXT: %[[WIDE:.*]] = arith.extf %[[IN]] : bf16 to f32
// CHECK-NEXT: linalg.yield %[[WIDE]] : f32
// CHECK: tensor.concat dim(3) %{{.*}}, %[[KRB]] : (tensor<?x?x2x4xf32>, tensor<?x?x2x2xf32>) -> tensor<?x?x2x6xf32>
func.func @mla_bf16_cache(%qn: tensor<?x?x2x4xf32>, %qr: tensor<?x?x2x2xf32>, %c: tensor<?x?x8xbf16>, %kr: tensor<?x?x2xbf16>,
                          %wkvb: tensor<14x8xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x3xf32> {
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos {scale = 0.2 : f64}
     : (tensor<?x?x2x4xf32>, tensor<?x?x2x2xf32>, tensor<?x?x8xbf16>, tensor<?x?x2xbf16>, tensor<14x8xf32>, tensor<?x?xi64>)
     -> tensor<?x?x2x3xf32>
  return %0 : tensor<?x?x2x3xf32>
}

// -----

// bf16_products (--dtype bf16): the expanded form rounds the latents to
// bf16 where kv_b projects them, and q, k (and v) where the products read
// them, as lm.attention's; the absorbed form keeps f32 products.
// CHECK-LABEL: func.func @mla_bf16_products
// CHECK-SAME: %[[QN:[a-z0-9]+]]: tensor<?x?x2x4xf32>, %[[QR:[a-z0-9]+]]: tensor<?x?x2x2xf32>, %[[C:[a-z0-9]+]]: tensor<?x?x8xf32>
// CHECK: scf.if
// CHECK-NOT: arith.truncf
// CHECK: } else {
// CHECK: %[[CB:.*]] = arith.truncf %[[C]] : tensor<?x?x8xf32> to tensor<?x?x8xbf16>
// CHECK: linalg.generic {{.*}} ins(%[[CB]], %{{.*}} : tensor<?x?x8xbf16>, tensor<14x8xbf16>) outs(%{{.*}} : tensor<?x?x14xf32>)
// CHECK: %[[KEYS:.*]] = tensor.concat dim(3)
// CHECK: %[[QS:.*]] = tensor.concat dim(3) %[[QN]], %[[QR]]
// CHECK: linalg.generic {{.*}} ins(%[[QS]] : tensor<?x?x2x6xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to bf16
// CHECK: linalg.generic {{.*}} ins(%[[KEYS]] : tensor<?x?x2x6xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to bf16
// CHECK: scf.yield
func.func @mla_bf16_products(%qn: tensor<?x?x2x4xf32>, %qr: tensor<?x?x2x2xf32>, %c: tensor<?x?x8xf32>, %kr: tensor<?x?x2xf32>,
                             %wkvb: tensor<14x8xbf16>, %pos: tensor<?x?xi64>) -> tensor<?x?x2x3xf32> {
  %0 = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos {bf16_products, scale = 0.2 : f64}
     : (tensor<?x?x2x4xf32>, tensor<?x?x2x2xf32>, tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<14x8xbf16>, tensor<?x?xi64>)
     -> tensor<?x?x2x3xf32>
  return %0 : tensor<?x?x2x3xf32>
}

// -----

// The indexer: dots [B, H, T, S] against the single key head, then
// score[b, t, s] = sum_h (w[b, t, h] * scale) * relu(dot); a top-k over the
// keys s <= p per query on buffers, -1 where the best left is -inf.
// CHECK-DAG: #[[SHARED:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1 floordiv 4, d4)>
// CHECK-DAG: #[[DOTS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// CHECK-DAG: #[[HW:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[SCORE:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @lightning_indexer
// CHECK-SAME: %[[QA:[a-z0-9]+]]: tensor<?x?x4x8xf32>, %[[KA:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[WA:[a-z0-9]+]]: tensor<?x?x4xf32>, %[[PA:[a-z0-9]+]]: tensor<?x?xi64>
// CHECK-DAG: %[[MINUS1:.*]] = arith.constant -1 : i64
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[K1:.*]] = tensor.expand_shape %[[KA]] {{.*}} into tensor<?x?x1x8xf32>
// CHECK: %[[DOT:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[SHARED]], #{{.*}}], {{.*}} ins(%[[QA]], %[[K1]] :
// CHECK: %[[SC:.*]] = linalg.generic {indexing_maps = [#[[DOTS]], #[[HW]], #[[SCORE]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[DOT]], %[[WA]] : tensor<?x4x?x?xf32>, tensor<?x?x4xf32>) outs(%{{.*}} : tensor<?x?x?xf32>)
// CHECK: ^bb0(%[[D:.*]]: f32, %[[HWV:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK: %[[RELU:.*]] = arith.maximumf %[[D]], %[[ZERO]] : f32
// CHECK: %[[WS:.*]] = arith.mulf %[[HWV]], %[[SCALE]] : f32
// CHECK: %[[T:.*]] = arith.mulf %[[WS]], %[[RELU]] : f32
// CHECK: arith.addf %[[ACC]], %[[T]] : f32
// CHECK: %[[SBUF:.*]] = bufferization.to_buffer %[[SC]] read_only
// CHECK: %[[PBUF:.*]] = bufferization.to_buffer %[[PA]] read_only
// CHECK: %[[PICKS:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x3xi64>
// CHECK: %[[ROWS:.*]] = memref.alloc(%{{.*}}, %{{.*}}, %{{.*}}) : memref<?x?x?xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[TT:.*]]) = (%c0, %c0) to
// CHECK: %[[ROW:.*]] = memref.subview %[[ROWS]][%[[B]], %[[TT]], 0] [1, 1, %{{.*}}] [1, 1, 1]
// CHECK: %[[P:.*]] = memref.load %[[PBUF]][%[[B]], %[[TT]]] : memref<?x?xi64>
// CHECK: scf.for %[[S:.*]] = %c0 to
// CHECK: %[[KEY:.*]] = arith.index_cast %[[S]] : index to i64
// CHECK: %[[VIS:.*]] = arith.cmpi sle, %[[KEY]], %[[P]] : i64
// CHECK: %[[V:.*]] = memref.load %[[SBUF]][%[[B]], %[[TT]], %[[S]]]
// CHECK: %[[M:.*]] = arith.select %[[VIS]], %[[V]], %[[NEG_INF]] : f32
// CHECK: memref.store %[[M]], %[[ROW]][%[[S]]]
// CHECK: scf.for %[[KK:.*]] = %c0 to %c3 step %c1 {
// CHECK: %[[BEST:.*]]:2 = scf.for {{.*}} -> (index, f32) {
// CHECK: arith.cmpf ogt
// CHECK: %[[BV:.*]] = memref.load %[[ROW]][%[[BEST]]#0]
// CHECK: %[[FOUND:.*]] = arith.cmpf ogt, %[[BV]], %[[NEG_INF]] : f32
// CHECK: %[[BI:.*]] = arith.index_cast %[[BEST]]#0 : index to i64
// CHECK: %[[PICK:.*]] = arith.select %[[FOUND]], %[[BI]], %[[MINUS1]] : i64
// CHECK: memref.store %[[PICK]], %[[PICKS]][%[[B]], %[[TT]], %[[KK]]]
// CHECK: memref.store %[[NEG_INF]], %[[ROW]][%[[BEST]]#0]
// CHECK: bufferization.to_tensor %[[PICKS]] restrict writable : memref<?x?x3xi64> to tensor<?x?x3xi64>
// CHECK-NOT: lm.lightning_indexer
func.func @lightning_indexer(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x8xf32>, %w: tensor<?x?x4xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x3xi64> {
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 3 : i64}
     : (tensor<?x?x4x8xf32>, tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?xi64>) -> tensor<?x?x3xi64>
  return %0 : tensor<?x?x3xi64>
}

// -----

// With ratio 4 the keys are compressed entries: entry s is visible iff
// s < (p + 1) / 4 (not s <= p).
// CHECK-LABEL: func.func @lightning_indexer_ratio
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[RATIO:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[P:.*]] = memref.load %{{.*}} : memref<?x?xi64>
// CHECK: scf.for %[[S:.*]] = %c0 to
// CHECK: %[[KEY:.*]] = arith.index_cast %[[S]] : index to i64
// CHECK: %[[P1:.*]] = arith.addi %[[P]], %[[ONE]] : i64
// CHECK: %[[DONE:.*]] = arith.divsi %[[P1]], %[[RATIO]] : i64
// CHECK: %[[VIS:.*]] = arith.cmpi slt, %[[KEY]], %[[DONE]] : i64
// CHECK: %[[V:.*]] = memref.load
// CHECK: arith.select %[[VIS]], %[[V]], %[[NEG_INF]] : f32
// CHECK-NOT: arith.cmpi sle
// CHECK: bufferization.to_tensor {{.*}} : memref<?x?x3xi64> to tensor<?x?x3xi64>
// CHECK-NOT: lm.lightning_indexer
func.func @lightning_indexer_ratio(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x8xf32>, %w: tensor<?x?x4xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x3xi64> {
  %0 = lm.lightning_indexer %q, %k, %w, %pos {scale = 0.25 : f64, top_k = 3 : i64, ratio = 4 : i64}
     : (tensor<?x?x4x8xf32>, tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?xi64>) -> tensor<?x?x3xi64>
  return %0 : tensor<?x?x3xi64>
}

// -----

// The window keys and the entries form one key sequence of a single head
// (keys are also values). Keys before dim(kv, 1) are tokens under the
// window mask p - 8 < j <= p; the rest are entries e = j - S, visible iff
// e < (p + 1) / 4 and e is among the selected indices of the query.
// CHECK-DAG: #[[SHARED:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1 floordiv 4, d4)>
// CHECK-DAG: #[[VALS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2 floordiv 4, d3)>
// CHECK-DAG: #[[SINK:.+]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @compressed_attention
// CHECK-SAME: %[[QA:[a-z0-9]+]]: tensor<?x?x4x8xf32>, %[[KV:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[EN:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[PA:[a-z0-9]+]]: tensor<?x?xi64>, %[[SA:[a-z0-9]+]]: tensor<4xf32>, %[[SEL:[a-z0-9]+]]: tensor<?x?x2xi64>
// CHECK-DAG: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[FALSE:.*]] = arith.constant false
// CHECK-DAG: %[[RATIO:.*]] = arith.constant 4 : i64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[WIN:.*]] = arith.constant 8 : i64
// CHECK: %[[NW:.*]] = tensor.dim %[[KV]], %c1 : tensor<?x?x8xf32>
// CHECK: %[[ALL:.*]] = tensor.concat dim(1) %[[KV]], %[[EN]] : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
// CHECK: %[[HEAD:.*]] = tensor.expand_shape %[[ALL]] {{.*}} into tensor<?x?x1x8xf32>
// CHECK: %[[SCORES:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[SHARED]], #{{.*}}], {{.*}} ins(%[[QA]], %[[HEAD]] :
// CHECK: linalg.generic {{.*}} ins(%[[SCORES]], %[[PA]] :
// CHECK: ^bb0(%{{.*}}: f32, %[[P:.*]]: i64, %{{.*}}: f32):
// CHECK: %[[KEY:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[CAUSAL:.*]] = arith.cmpi sle, %[[KEY]], %[[P]] : i64
// CHECK: %[[LOWEST:.*]] = arith.subi %[[P]], %[[WIN]] : i64
// CHECK: %[[INWIN:.*]] = arith.cmpi sgt, %[[KEY]], %[[LOWEST]] : i64
// CHECK: %[[TOKVIS:.*]] = arith.andi %[[CAUSAL]], %[[INWIN]] : i1
// CHECK: %[[BI:.*]] = linalg.index 0 : index
// CHECK: %[[TI:.*]] = linalg.index 2 : index
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: %[[ISENTRY:.*]] = arith.cmpi uge, %[[J]], %[[NW]] : index
// CHECK: %[[EIDX:.*]] = arith.subi %[[J]], %[[NW]] : index
// CHECK: %[[E:.*]] = arith.index_cast %[[EIDX]] : index to i64
// CHECK: %[[P1:.*]] = arith.addi %[[P]], %[[ONE]] : i64
// CHECK: %[[DONE:.*]] = arith.divsi %[[P1]], %[[RATIO]] : i64
// CHECK: %[[COMPLETE:.*]] = arith.cmpi slt, %[[E]], %[[DONE]] : i64
// CHECK: %[[PICKED:.*]] = scf.for %[[KK:.*]] = %c0 to %c2 step %c1 iter_args(%[[ACC:.*]] = %[[FALSE]]) -> (i1) {
// CHECK: %[[PICK:.*]] = tensor.extract %[[SEL]][%[[BI]], %[[TI]], %[[KK]]] : tensor<?x?x2xi64>
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[PICK]], %[[E]] : i64
// CHECK: %[[OR:.*]] = arith.ori %[[ACC]], %[[SAME]] : i1
// CHECK: scf.yield %[[OR]] : i1
// CHECK: %[[ENTVIS:.*]] = arith.andi %[[COMPLETE]], %[[PICKED]] : i1
// CHECK: %[[VIS:.*]] = arith.select %[[ISENTRY]], %[[ENTVIS]], %[[TOKVIS]] : i1
// CHECK: arith.select %[[VIS]], %{{.*}}, %[[NEG_INF]] : f32
// The sinks join the maximum and the denominator.
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[SINK]], #{{.*}}], {{.*}} ins(%{{.*}}, %[[SA]] : tensor<?x4x?xf32>, tensor<4xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[SA]] : tensor<?x4x?xf32>, tensor<?x4x?xf32>, tensor<4xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[VALS]], #{{.*}}], {{.*}} ins(%{{.*}}, %{{.*}}, %[[HEAD]] : tensor<?x4x?x?xf32>, tensor<?x4x?xf32>, tensor<?x?x1x8xf32>) outs(%{{.*}} : tensor<?x?x4x8xf32>)
// CHECK-NOT: lm.compressed_attention
func.func @compressed_attention(%q: tensor<?x?x4x8xf32>, %kv: tensor<?x?x8xf32>, %e: tensor<?x?x8xf32>, %pos: tensor<?x?xi64>,
                                %sinks: tensor<4xf32>, %sel: tensor<?x?x2xi64>) -> tensor<?x?x4x8xf32> {
  %0 = lm.compressed_attention %q, %kv entries %e, %pos, %sinks selected %sel {ratio = 4 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
     : (tensor<?x?x4x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<4xf32>, tensor<?x?x2xi64>) -> tensor<?x?x4x8xf32>
  return %0 : tensor<?x?x4x8xf32>
}

// -----

// bf16 products: q and k pass through bf16 on their way into the scores
// (one elementwise generic each); the weighted sum rounds each
// unnormalised weight and value before their product, after the sum of
// weights was taken from the unrounded ones.
// CHECK-LABEL: func.func @attention_bf16_products
// CHECK-SAME: %[[QB:[a-z0-9]+]]: tensor<?x?x4x8xf32>, %[[KB:[a-z0-9]+]]: tensor<?x?x2x8xf32>
// CHECK: %[[QR:.*]] = linalg.generic {{.*}} ins(%[[QB]] : tensor<?x?x4x8xf32>)
// CHECK:   %[[QT:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:   %[[QE:.*]] = arith.extf %[[QT]] : bf16 to f32
// CHECK:   linalg.yield %[[QE]]
// CHECK: %[[KR:.*]] = linalg.generic {{.*}} ins(%[[KB]] : tensor<?x?x2x8xf32>)
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: linalg.generic {{.*}} ins(%[[QR]], %[[KR]] :
// CHECK: arith.maximumf
// CHECK: %[[EXPS:.*]] = linalg.generic
// CHECK:   math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[EXPS]] :
// CHECK: linalg.generic {{.*}} ins(%[[EXPS]], %[[SUM]], %{{.*}} :
// CHECK: ^bb0(%[[W:.*]]: f32, %[[L:.*]]: f32, %[[V:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK:   %[[WT:.*]] = arith.truncf %[[W]] : f32 to bf16
// CHECK:   %[[WE:.*]] = arith.extf %[[WT]] : bf16 to f32
// CHECK:   %[[VT:.*]] = arith.truncf %[[V]] : f32 to bf16
// CHECK:   %[[VE:.*]] = arith.extf %[[VT]] : bf16 to f32
// CHECK:   %[[P:.*]] = arith.divf %[[WE]], %[[L]] : f32
// CHECK:   %[[PV:.*]] = arith.mulf %[[P]], %[[VE]] : f32
// CHECK:   arith.addf %[[ACC]], %[[PV]] : f32
func.func @attention_bf16_products(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x2x8xf32>,
                                   %v: tensor<?x?x2x6xf32>, %pos: tensor<?x?xi64>)
    -> tensor<?x?x4x6xf32> {
  %o = lm.attention %q, %k, %v, %pos {bf16_products, scale = 0.35 : f64}
     : (tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x6xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x6xf32>
  return %o : tensor<?x?x4x6xf32>
}
