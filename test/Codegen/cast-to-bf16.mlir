// RUN: lmc-opt %s --lm-cast-to-bf16 --split-input-file | FileCheck %s

// f32 weights become bf16; the input shared by two projections is rounded
// once, right after it is computed; the norm's weight is retyped but its
// input (the residual stream) is not a projection input and stays f32.
// CHECK-LABEL: func.func @projections
// CHECK: %[[NW:.*]] = lm.weight "norm" : tensor<8xbf16>
// CHECK: %[[N:.*]] = lm.rms_norm %arg0, %[[NW]] {{.*}} : tensor<?x?x8xf32>, tensor<8xbf16> -> tensor<?x?x8xf32>
// CHECK-NEXT: %[[R:.*]] = arith.truncf %[[N]] : tensor<?x?x8xf32> to tensor<?x?x8xbf16>
// CHECK: %[[Q:.*]] = lm.weight "q" : tensor<16x8xbf16>
// CHECK: lm.linear %[[R]], %[[Q]] : tensor<?x?x8xbf16>, tensor<16x8xbf16> -> tensor<?x?x16xf32>
// CHECK: %[[K:.*]] = lm.weight "k" : tensor<4x8xbf16>
// CHECK: lm.linear %[[R]], %[[K]] : tensor<?x?x8xbf16>, tensor<4x8xbf16> -> tensor<?x?x4xf32>
// CHECK-NOT: arith.truncf
func.func @projections(%x: tensor<?x?x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x4xf32>) {
  %nw = lm.weight "norm" : tensor<8xf32>
  %n = lm.rms_norm %x, %nw {epsilon = 1.0e-6 : f64} : tensor<?x?x8xf32>, tensor<8xf32> -> tensor<?x?x8xf32>
  %wq = lm.weight "q" : tensor<16x8xf32>
  %q = lm.linear %n, %wq : tensor<?x?x8xf32>, tensor<16x8xf32> -> tensor<?x?x16xf32>
  %wk = lm.weight "k" : tensor<4x8xf32>
  %k = lm.linear %n, %wk : tensor<?x?x8xf32>, tensor<4x8xf32> -> tensor<?x?x4xf32>
  return %q, %k : tensor<?x?x16xf32>, tensor<?x?x4xf32>
}

// -----

// A checkpoint's f16 weight is not bf16: it and its projection's input are
// left as they are (only f32 weights are cast).
// CHECK-LABEL: func.func @f16_weight
// CHECK-NOT: arith.truncf
// CHECK: lm.linear %arg0, %{{.*}} : tensor<?x?x8xf32>, tensor<4x8xf16> -> tensor<?x?x4xf32>
func.func @f16_weight(%x: tensor<?x?x8xf32>) -> tensor<?x?x4xf32> {
  %w = lm.weight "w" : tensor<4x8xf16>
  %y = lm.linear %x, %w : tensor<?x?x8xf32>, tensor<4x8xf16> -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// Attention's products become bf16 products (q, k, v and the weights
// rounded where the products read them); its operands keep their types.
// CHECK-LABEL: func.func @attention
// CHECK-NOT: arith.truncf
// CHECK: lm.attention %arg0, %arg1, %arg2, %arg3 {bf16_products, scale = 2.500000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
func.func @attention(%q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>,
                     %v: tensor<?x?x2x16xf32>, %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xf32> {
  %o = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
     -> tensor<?x?x4x16xf32>
  return %o : tensor<?x?x4x16xf32>
}

// -----

// MLA's likewise (its expanded, prompt form); kv_b, a weight, turns bf16.
// CHECK-LABEL: func.func @mla
// CHECK-NOT: arith.truncf
// CHECK: lm.mla_attention %arg0, %arg1, %arg2, %arg3, %{{.*}}, %arg4 {bf16_products, scale = 2.000000e-01 : f64} : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<128x32xbf16>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
func.func @mla(%qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>,
               %c: tensor<?x?x32xf32>, %kr: tensor<?x?x8xf32>,
               %pos: tensor<?x?xi64>) -> tensor<?x?x4x16xf32> {
  %wkvb = lm.weight "kv_b" : tensor<128x32xf32>
  %o = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos {scale = 0.2 : f64}
     : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
        tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return %o : tensor<?x?x4x16xf32>
}

// -----

// What a latent or key cache stores is rounded as it is written (once per
// value), so a bf16 cache (lm-set-cache-types) holds it exactly; the
// positions and the cache itself are left alone. A KV cache's k and v are
// not: attention's bf16 products round them where they read them.
// CHECK-LABEL: func.func @cache_writes
// CHECK-DAG: %[[L:.*]] = arith.truncf %arg4 : tensor<?x?x32xf32> to tensor<?x?x32xbf16>
// CHECK-DAG: %[[R:.*]] = arith.truncf %arg5 : tensor<?x?x8xf32> to tensor<?x?x8xbf16>
// CHECK: lm.kv_cache_update %arg0, %arg1, %arg2, %arg6 : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
// CHECK: lm.latent_cache_update %arg3, %[[L]], %[[R]], %arg6 : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xbf16>, tensor<?x?x8xbf16>, tensor<?x?xi64>)
// CHECK: lm.key_cache_update %arg7, %[[L]], %arg6 : (!lm.key_cache<32, f32>, tensor<?x?x32xbf16>, tensor<?x?xi64>)
func.func @cache_writes(%c: !lm.kv_cache<2 x 16 x 16, f32>, %k: tensor<?x?x2x16xf32>,
                        %v: tensor<?x?x2x16xf32>, %lc: !lm.latent_cache<32 + 8, f32>,
                        %l: tensor<?x?x32xf32>, %r: tensor<?x?x8xf32>,
                        %pos: tensor<?x?xi64>, %kc: !lm.key_cache<32, f32>)
    -> (!lm.kv_cache<2 x 16 x 16, f32>, !lm.latent_cache<32 + 8, f32>, !lm.key_cache<32, f32>) {
  %c1, %ks, %vs = lm.kv_cache_update %c, %k, %v, %pos
      : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
  %lc1, %lat, %krs = lm.latent_cache_update %lc, %l, %r, %pos
      : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
  %kc1, %keys = lm.key_cache_update %kc, %l, %pos
      : (!lm.key_cache<32, f32>, tensor<?x?x32xf32>, tensor<?x?xi64>)
      -> (!lm.key_cache<32, f32>, tensor<?x?x32xf32>)
  return %c1, %lc1, %kc1 : !lm.kv_cache<2 x 16 x 16, f32>, !lm.latent_cache<32 + 8, f32>, !lm.key_cache<32, f32>
}
