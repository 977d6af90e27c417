// RUN: lmc-opt %s --lm-to-host | FileCheck %s
// RUN: lmc-opt %s --lm-to-host=dtype=bf16 | FileCheck %s --check-prefix=BF16
// RUN: not lmc-opt %s --lm-to-host=dtype=f16 2>&1 | FileCheck %s --check-prefix=DTYPE

// The whole host pipeline on a one-layer model: an LLVM module whose C
// interface takes ids, positions, weights, state buffers and the logits
// out-parameter, with no helper calls the runtime would have to provide.
// CHECK-NOT: memrefCopy
// CHECK: llvm.func @_mlir_ciface_forward(%{{.*}}: !llvm.ptr {lm.name = "input_ids"}, %{{.*}}: !llvm.ptr {lm.name = "positions"}, %{{.*}}: !llvm.ptr {lm.weight = "embed"}, %{{.*}}: !llvm.ptr {lm.weight = "head"}, %{{.*}}: !llvm.ptr {lm.state = "kv.keys"}, %{{.*}}: !llvm.ptr {lm.state = "kv.values"}, %{{.*}}: !llvm.ptr)
// CHECK-NOT: memrefCopy
// CHECK-NOT: bf16

// The pipelines' dtype option is lmc compile's --dtype: with bf16 the
// weights are read as bf16 (and rounded to f32 by integer arithmetic).
// BF16: llvm.load %{{.*}} : !llvm.ptr -> bf16
// BF16: llvm.bitcast %{{.*}} : bf16 to i16
// BF16: llvm.func @_mlir_ciface_forward
// DTYPE: Cannot find option named 'f16'
module attributes {lm.model_type = "test"} {
  func.func @forward(%ids: tensor<?x?xi64> {lm.name = "input_ids"}, %pos: tensor<?x?xi64> {lm.name = "positions"},
                     %c: !lm.kv_cache<1 x 8 x 8, f32> {lm.name = "kv"}) -> (tensor<?x?x16xf32>, !lm.kv_cache<1 x 8 x 8, f32>) {
    %t = lm.weight "embed" : tensor<16x8xf32>
    %h = lm.embed %t, %ids : tensor<16x8xf32>, tensor<?x?xi64> -> tensor<?x?x8xf32>
    %q = lm.split_heads %h : tensor<?x?x8xf32> -> tensor<?x?x1x8xf32>
    %c1, %ks, %vs = lm.kv_cache_update %c, %q, %q, %pos
        : (!lm.kv_cache<1 x 8 x 8, f32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>)
        -> (!lm.kv_cache<1 x 8 x 8, f32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>)
    %a = lm.attention %q, %ks, %vs, %pos {scale = 0.35 : f64}
       : (tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?x1x8xf32>, tensor<?x?xi64>) -> tensor<?x?x1x8xf32>
    %m = lm.merge_heads %a : tensor<?x?x1x8xf32> -> tensor<?x?x8xf32>
    %r = arith.addf %h, %m : tensor<?x?x8xf32>
    %w = lm.weight "head" : tensor<16x8xf32>
    %l = lm.linear %r, %w : tensor<?x?x8xf32>, tensor<16x8xf32> -> tensor<?x?x16xf32>
    return %l, %c1 : tensor<?x?x16xf32>, !lm.kv_cache<1 x 8 x 8, f32>
  }
}
