// RUN: lmc-opt %s --lm-set-cache-types=kv-dtype=bf16 --split-input-file | FileCheck %s --check-prefix=BF16
// RUN: lmc-opt %s --lm-set-cache-types --split-input-file | FileCheck %s --check-prefix=F32
// RUN: not lmc-opt %s --lm-set-cache-types=kv-dtype=f16 --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: unsupported kv-dtype 'f16' (supported: f32, bf16)

// kv-dtype=bf16: the KV cache stores bf16 and attention reads the stored
// keys and values as they are; the update's inputs stay f32 (it rounds
// them as it writes). The signature follows.
// BF16-LABEL: func.func @attention
// BF16-SAME: %{{.*}}: !lm.kv_cache<2 x 16 x 16, bf16> {lm.name = "kv"}
// BF16-SAME: -> (tensor<?x?x4x16xf32>, !lm.kv_cache<2 x 16 x 16, bf16>)
// BF16: lm.kv_cache_update
// BF16-SAME: (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
// BF16-SAME: -> (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xbf16>, tensor<?x?x2x16xbf16>)
// BF16: lm.attention
// BF16-SAME: (tensor<?x?x4x16xf32>, tensor<?x?x2x16xbf16>, tensor<?x?x2x16xbf16>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
// kv-dtype=f32 (the default): an imported bf16 cache stores f32.
// F32-LABEL: func.func @attention
// F32-SAME: !lm.kv_cache<2 x 16 x 16, f32>
// F32: lm.kv_cache_update
// F32-SAME: -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
func.func @attention(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>,
                   %q: tensor<?x?x4x16xf32>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x16xf32>,
                   %c0: !lm.kv_cache<2 x 16 x 16, bf16> {lm.name = "kv"})
    -> (tensor<?x?x4x16xf32>, !lm.kv_cache<2 x 16 x 16, bf16>) {
  %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos
      : (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
  %o = lm.attention %q, %ks, %vs, %pos {scale = 0.25 : f64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return %o, %c1 : tensor<?x?x4x16xf32>, !lm.kv_cache<2 x 16 x 16, bf16>
}

// -----

// Keys read by anything but attention stay f32 (lm-lower-state widens them).
// BF16-LABEL: func.func @other_reader
// BF16: lm.kv_cache_update
// BF16-SAME: -> (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
func.func @other_reader(%pos: tensor<?x?xi64>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x16xf32>,
                   %c0: !lm.kv_cache<2 x 16 x 16, f32>)
    -> (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, !lm.kv_cache<2 x 16 x 16, f32>) {
  %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos
      : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
      -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
  return %ks, %vs, %c1 : tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, !lm.kv_cache<2 x 16 x 16, f32>
}

// -----

// A latent cache (MLA) stores kv-dtype too; what MLA reads of it is read as
// stored, what anything else reads is widened.
// BF16-LABEL: func.func @latent
// BF16-SAME: !lm.latent_cache<32 + 8, bf16>
// BF16: lm.latent_cache_update
// BF16-SAME: -> (!lm.latent_cache<32 + 8, bf16>, tensor<?x?x32xbf16>, tensor<?x?x8xf32>)
// BF16: lm.mla_attention
// BF16-SAME: tensor<?x?x32xbf16>, tensor<?x?x8xf32>
// F32-LABEL: func.func @latent
// F32-SAME: !lm.latent_cache<32 + 8, f32>
func.func @latent(%pos: tensor<?x?xi64>, %l: tensor<?x?x32xf32>, %r: tensor<?x?x8xf32>,
                   %qn: tensor<?x?x4x16xf32>, %qr: tensor<?x?x4x8xf32>, %wkvb: tensor<128x32xf32>,
                   %c0: !lm.latent_cache<32 + 8, bf16>)
    -> (tensor<?x?x4x16xf32>, tensor<?x?x8xf32>, !lm.latent_cache<32 + 8, bf16>) {
  %c1, %lat, %kr = lm.latent_cache_update %c0, %l, %r, %pos
      : (!lm.latent_cache<32 + 8, bf16>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
      -> (!lm.latent_cache<32 + 8, bf16>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
  %a = lm.mla_attention %qn, %qr, %lat, %kr, %wkvb, %pos {scale = 0.2 : f64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
         tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
  return %a, %kr, %c1 : tensor<?x?x4x16xf32>, tensor<?x?x8xf32>, !lm.latent_cache<32 + 8, bf16>
}

// -----

// A compressed cache stores f32 whatever it was imported as: its entries
// are pooled in f32.
// BF16-LABEL: func.func @compressed
// BF16-SAME: !lm.compressed_cache<8, f32, ratio = 4>
// F32-LABEL: func.func @compressed
// F32-SAME: !lm.compressed_cache<8, f32, ratio = 4>
func.func @compressed(%pos: tensor<?x?xi64>, %kv: tensor<?x?x8xf32>, %g: tensor<?x?x8xf32>, %ape: tensor<4x8xf32>,
                   %s: !lm.compressed_cache<8, bf16, ratio = 4>)
    -> (tensor<?x?x8xf32>, !lm.compressed_cache<8, bf16, ratio = 4>) {
  %s1, %e, %ep = lm.kv_compress %s, %kv, %g, %ape, %pos
      : (!lm.compressed_cache<8, bf16, ratio = 4>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<4x8xf32>, tensor<?x?xi64>)
      -> (!lm.compressed_cache<8, bf16, ratio = 4>, tensor<?x?x8xf32>, tensor<?x?xi64>)
  return %e, %s1 : tensor<?x?x8xf32>, !lm.compressed_cache<8, bf16, ratio = 4>
}
