// RUN: lmc-opt %s --lm-lower-to-linalg --split-input-file | FileCheck %s

// Expert dispatch (lib/Codegen/LMToLinalg/MoE.cpp): generics over
// [batch, tokens, top_k, ...] that gather the chosen expert's weights in
// their bodies. Hash routing (its pattern lives in HyperConnections.cpp):
// loops over buffers. lm.router is covered in lower-to-linalg.mlir.

// SwiGLU experts: per token and route k, h = gate_up[e] x (12 rows: gate
// rows 0..5, up rows 6..11), a = silu(h[i]) * h[i + 6], and
// out = sum_k w * (down[e] a), weights widened from bf16; their other
// operands, x and a, rounded to bf16 (as --dtype bf16 rounds a
// projection's input).
// CHECK-LABEL: func.func @moe_experts_swiglu
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x8xf32>, %[[W:[a-z0-9]+]]: tensor<?x?x2xf32>, %[[I:[a-z0-9]+]]: tensor<?x?x2xi64>, %[[GU:[a-z0-9]+]]: tensor<4x12x8xbf16>, %[[DN:[a-z0-9]+]]: tensor<4x8x6xbf16>
// CHECK: %[[XR:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<?x?x8xf32>) outs(%{{.*}} : tensor<?x?x8xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[H0:.*]] = linalg.fill {{.*}} -> tensor<?x?x2x12xf32>
// CHECK: %[[H:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[XR]], %[[I]] : {{.*}}) outs(%[[H0]] : tensor<?x?x2x12xf32>)
// CHECK: ^bb0(%[[XB:.*]]: bf16, %[[E64:.*]]: i64, %[[ACC:.*]]: f32):
// CHECK: %[[XV:.*]] = arith.extf %[[XB]] : bf16 to f32
// CHECK: %[[E:.*]] = arith.index_cast %[[E64]] : i64 to index
// CHECK: %[[R:.*]] = linalg.index 3
// CHECK: %[[D:.*]] = linalg.index 4
// CHECK: %[[GV:.*]] = tensor.extract %[[GU]][%[[E]], %[[R]], %[[D]]] : tensor<4x12x8xbf16>
// CHECK: %[[GF:.*]] = arith.extf %[[GV]] : bf16 to f32
// CHECK: %[[XG:.*]] = arith.mulf %[[XV]], %[[GF]] : f32
// CHECK: arith.addf %[[ACC]], %[[XG]] : f32
// CHECK: %[[GATE:.*]] = tensor.extract_slice %[[H]][0, 0, 0, 0] [%{{.*}}, %{{.*}}, 2, 6]
// CHECK: %[[UP:.*]] = tensor.extract_slice %[[H]][0, 0, 0, 6] [%{{.*}}, %{{.*}}, 2, 6]
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[GATE]], %[[UP]] : {{.*}})
// CHECK: ^bb0(%[[G:.*]]: f32, %[[U:.*]]: f32, %{{.*}}: f32):
// CHECK: arith.negf %[[G]] : f32
// CHECK: %[[SIG:.*]] = arith.divf
// CHECK: %[[SILU:.*]] = arith.mulf %[[G]], %[[SIG]] : f32
// CHECK: %[[ACT:.*]] = arith.mulf %[[SILU]], %[[U]] : f32
// CHECK: %[[ACTR:.*]] = arith.truncf %[[ACT]] : f32 to bf16
// CHECK: arith.extf %[[ACTR]] : bf16 to f32
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[A]], %[[I]] : {{.*}}) outs(%{{.*}} : tensor<?x?x2x8xf32>)
// CHECK: tensor.extract %[[DN]][%{{.*}}, %{{.*}}, %{{.*}}] : tensor<4x8x6xbf16>
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[Y]], %[[W]] : {{.*}}) outs(%{{.*}} : tensor<?x?x8xf32>)
// CHECK: ^bb0(%[[YV:.*]]: f32, %[[RW:.*]]: f32, %[[ACC2:.*]]: f32):
// CHECK: %[[YW:.*]] = arith.mulf %[[RW]], %[[YV]] : f32
// CHECK: arith.addf %[[ACC2]], %[[YW]] : f32
// CHECK: return %[[OUT]]
// CHECK-NOT: lm.moe_experts
func.func @moe_experts_swiglu(%x: tensor<?x?x8xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                              %gu: tensor<4x12x8xbf16>, %dn: tensor<4x8x6xbf16>) -> tensor<?x?x8xf32> {
  %y = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
     : (tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x12x8xbf16>, tensor<4x8x6xbf16>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// relu2 experts: gate_up has I = 6 rows and a = relu(h)^2, no gate/up split.
// CHECK-LABEL: func.func @moe_experts_relu2
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[H:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?x2x6xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[H]] : tensor<?x?x2x6xf32>)
// CHECK-NEXT: ^bb0(%[[HV:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[RELU:.*]] = arith.maximumf %[[HV]], %[[ZERO]] : f32
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[RELU]], %[[RELU]] : f32
// CHECK-NEXT: linalg.yield %[[SQ]] : f32
// CHECK-NOT: lm.moe_experts
func.func @moe_experts_relu2(%x: tensor<?x?x8xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                             %gu: tensor<4x6x8xf32>, %dn: tensor<4x8x6xf32>) -> tensor<?x?x8xf32> {
  %y = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<relu2>}
     : (tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x6x8xf32>, tensor<4x8x6xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// GPT-OSS experts: the projections start from the expert's biases, gate and
// up alternate rows (gate 2i, up 2i + 1: affine maps), then the clamped GLU
// (u' + 1) * g' * sigmoid(alpha g').
// CHECK-DAG: #[[$GATEMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 * 2)>
// CHECK-DAG: #[[$UPMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 * 2 + 1)>
// CHECK-LABEL: func.func @moe_experts_gpt_oss
// CHECK-SAME: %[[I:[a-z0-9]+]]: tensor<?x?x2xi64>, {{.*}}, %[[GUBIAS:[a-z0-9]+]]: tensor<4x12xf32>, %[[DNBIAS:[a-z0-9]+]]: tensor<4x8xf32>
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 1.702000e+00 : f32
// CHECK-DAG: %[[NLIMIT:.*]] = arith.constant -7.000000e+00 : f32
// CHECK-DAG: %[[LIMIT:.*]] = arith.constant 7.000000e+00 : f32
// CHECK: %[[B0:.*]] = linalg.generic {{.*}} ins(%[[I]] : tensor<?x?x2xi64>) outs(%{{.*}} : tensor<?x?x2x12xf32>)
// CHECK: tensor.extract %[[GUBIAS]][%{{.*}}, %{{.*}}] : tensor<4x12xf32>
// CHECK: %[[H:.*]] = linalg.generic {{.*}} outs(%[[B0]] : tensor<?x?x2x12xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$GATEMAP]], #[[$UPMAP]], {{.*}}]{{.*}} ins(%[[H]], %[[H]] :
// CHECK: ^bb0(%[[GATE:.*]]: f32, %[[UP:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[GC:.*]] = arith.minimumf %[[GATE]], %[[LIMIT]] : f32
// CHECK-DAG: %[[UHI:.*]] = arith.minimumf %[[UP]], %[[LIMIT]] : f32
// CHECK: %[[UC:.*]] = arith.maximumf %[[UHI]], %[[NLIMIT]] : f32
// CHECK: arith.mulf %[[GC]], %[[ALPHA]] : f32
// CHECK: %[[SIG:.*]] = arith.divf %[[ONE]], %{{.*}} : f32
// CHECK: %[[GLU:.*]] = arith.mulf %[[GC]], %[[SIG]] : f32
// CHECK: %[[U1:.*]] = arith.addf %[[UC]], %[[ONE]] : f32
// CHECK: arith.mulf %[[U1]], %[[GLU]] : f32
// CHECK: tensor.extract %[[DNBIAS]][%{{.*}}, %{{.*}}] : tensor<4x8xf32>
// CHECK-NOT: lm.moe_experts
func.func @moe_experts_gpt_oss(%x: tensor<?x?x8xf32>, %w: tensor<?x?x2xf32>, %i: tensor<?x?x2xi64>,
                               %gu: tensor<4x12x8xf32>, %dn: tensor<4x8x6xf32>,
                               %gub: tensor<4x12xf32>, %dnb: tensor<4x8xf32>) -> tensor<?x?x8xf32> {
  %y = lm.moe_experts %x, %w, %i, %gu, %dn biases %gub, %dnb
         {activation = #lm.expert<gpt_oss_swiglu>, alpha = 1.702 : f64, limit = 7.0 : f64, interleaved_gate_up}
     : (tensor<?x?x8xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<4x12x8xf32>, tensor<4x8x6xf32>,
        tensor<4x12xf32>, tensor<4x8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// scale_input (Llama 4): the routing weight scales the expert's input
// x * w (per choice), and the expert's output is added unscaled.
// CHECK-LABEL: func.func @moe_experts_scale_input
// CHECK: %[[XW:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<?x?x8xf32>, tensor<?x?x1xf32>) outs(%{{.*}} : tensor<?x?x1x8xf32>)
// CHECK: ^bb0(%[[XV:.*]]: f32, %[[RW:.*]]: f32, %{{.*}}: f32):
// CHECK: arith.mulf %[[XV]], %[[RW]] : f32
// CHECK: linalg.generic {{.*}} ins(%[[XW]], %{{.*}} : tensor<?x?x1x8xf32>, tensor<?x?x1xi64>)
// CHECK: ^bb0(%[[XS:.*]]: f32, %{{.*}}: i64, %[[ACC:.*]]: f32):
// CHECK: %[[GV:.*]] = tensor.extract %{{.*}} : tensor<4x12x8xf32>
// CHECK: arith.mulf %[[XS]], %[[GV]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<?x?x1x8xf32>)
// CHECK-NEXT: ^bb0(%[[Y:.*]]: f32, %[[ACC2:.*]]: f32):
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ACC2]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]]
// CHECK-NOT: lm.moe_experts
func.func @moe_experts_scale_input(%x: tensor<?x?x8xf32>, %w: tensor<?x?x1xf32>, %i: tensor<?x?x1xi64>,
                                   %gu: tensor<4x12x8xf32>, %dn: tensor<4x8x6xf32>) -> tensor<?x?x8xf32> {
  %y = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>, scale_input}
     : (tensor<?x?x8xf32>, tensor<?x?x1xf32>, tensor<?x?x1xi64>, tensor<4x12x8xf32>, tensor<4x8x6xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// Each token's experts are table[ids[b, t], :] (i32 entries widened to the
// i64 indices); their weights are sqrt(softplus(logit)), divided by their
// sum (normalize) and multiplied by routed_scaling.
// CHECK-LABEL: func.func @hash_router
// CHECK-SAME: %[[IDS:[a-z0-9]+]]: tensor<?x?xi64>, %[[TABLE:[a-z0-9]+]]: tensor<16x2xi32>, %[[LOGITS:[a-z0-9]+]]: tensor<?x?x8xf32>
// CHECK-DAG: %[[SCALING:.*]] = arith.constant 1.500000e+00 : f32
// CHECK-DAG: %[[TWENTY:.*]] = arith.constant 2.000000e+01 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[IDB:.*]] = bufferization.to_buffer %[[IDS]] read_only
// CHECK: %[[TB:.*]] = bufferization.to_buffer %[[TABLE]] read_only
// CHECK: %[[LB:.*]] = bufferization.to_buffer %[[LOGITS]] read_only
// CHECK: %[[WTS:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x2xf32>
// CHECK: %[[IDX:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?x2xi64>
// CHECK: scf.parallel (%[[B:.*]], %[[T:.*]]) = (%c0, %c0) to
// CHECK: %[[ID64:.*]] = memref.load %[[IDB]][%[[B]], %[[T]]] : memref<?x?xi64>
// CHECK: %[[ID:.*]] = arith.index_cast %[[ID64]] : i64 to index
// CHECK: %[[TOTAL:.*]] = scf.for %[[K:.*]] = %c0 to %c2 step %c1 iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK: %[[E32:.*]] = memref.load %[[TB]][%[[ID]], %[[K]]] : memref<16x2xi32>
// CHECK: %[[E64:.*]] = arith.extsi %[[E32]] : i32 to i64
// CHECK: %[[E:.*]] = arith.index_cast %[[E64]] : i64 to index
// CHECK: %[[L:.*]] = memref.load %[[LB]][%[[B]], %[[T]], %[[E]]] : memref<?x?x8xf32>
// CHECK: %[[EXP:.*]] = math.exp %[[L]] : f32
// CHECK: %[[SOFT:.*]] = math.log1p %[[EXP]] : f32
// CHECK: %[[BIG:.*]] = arith.cmpf ogt, %[[L]], %[[TWENTY]] : f32
// CHECK: %[[SP:.*]] = arith.select %[[BIG]], %[[L]], %[[SOFT]] : f32
// CHECK: %[[S:.*]] = math.sqrt %[[SP]] : f32
// CHECK: memref.store %[[S]], %[[WTS]][%[[B]], %[[T]], %[[K]]]
// CHECK: memref.store %[[E64]], %[[IDX]][%[[B]], %[[T]], %[[K]]]
// CHECK: arith.addf %[[ACC]], %[[S]] : f32
// CHECK: scf.for %[[K2:.*]] = %c0 to %c2 step %c1 {
// CHECK: %[[WV:.*]] = memref.load %[[WTS]][%[[B]], %[[T]], %[[K2]]]
// CHECK: %[[N:.*]] = arith.divf %[[WV]], %[[TOTAL]] : f32
// CHECK: %[[SC:.*]] = arith.mulf %[[N]], %[[SCALING]] : f32
// CHECK: memref.store %[[SC]], %[[WTS]][%[[B]], %[[T]], %[[K2]]]
// CHECK: bufferization.to_tensor %[[WTS]] restrict writable : memref<?x?x2xf32> to tensor<?x?x2xf32>
// CHECK: bufferization.to_tensor %[[IDX]] restrict writable : memref<?x?x2xi64> to tensor<?x?x2xi64>
// CHECK-NOT: lm.hash_router
func.func @hash_router(%ids: tensor<?x?xi64>, %t: tensor<16x2xi32>, %l: tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>) {
  %w, %i = lm.hash_router %ids, %t, %l {scoring = #lm.scoring<sqrtsoftplus>, normalize, routed_scaling = 1.5 : f64}
      : (tensor<?x?xi64>, tensor<16x2xi32>, tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  return %w, %i : tensor<?x?x2xf32>, tensor<?x?x2xi64>
}
