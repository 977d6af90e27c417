//===- LMOps.td - Operations of the lm dialect --------------*- tablegen -*-===//
//
// Conventions shared by every op:
//  * activations are `[B, T, C]` or, per head, `[B, T, H, D]`, with dynamic
//    B (batch) and T (tokens); `positions` is `[B, T]` of absolute 0-based
//    token positions;
//  * weights keep the checkpoint layout: linear weights are `[out, in]`,
//    stacked expert weights `[E, out, in]`;
//  * a cached sequence dimension S (keys, latents) covers absolute positions
//    `0 .. S-1`: caches are logical, their physical layout (ring buffers for
//    sliding windows, compression) belongs to the lowering.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_LMOPS_TD
#define LMC_DIALECT_LM_LMOPS_TD

include "lmc/Dialect/LM/LMDialect.td"
include "lmc/Dialect/LM/LMAttrs.td"
include "lmc/Dialect/LM/LMTypes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def LM_StateType : AnyTypeOf<[LM_KVCacheType, LM_LatentCacheType,
                              LM_KeyCacheType, LM_CompressedCacheType,
                              LM_RecurrentStateType]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def LM_StackedWeightOp : LM_Op<"stacked_weight", [Pure]> {
  let summary = "Stack per-expert checkpoint tensors into one [E, ...] tensor";
  let description = [{
    Refers to `count` tensors per name pattern; `{}` in a pattern stands for
    the expert index `0 .. count-1`. With several patterns, expert `e`'s
    tensors are concatenated along their first dimension (gate rows, then up
    rows), so the result is `[count, sum(rows), cols]`.

    ```mlir
    %gu = lm.stacked_weight ["model.layers.1.mlp.experts.{}.gate_proj.weight",
                             "model.layers.1.mlp.experts.{}.up_proj.weight"] x 8
          : tensor<8x64x64xbf16>
    ```
  }];
  let arguments = (ins StrArrayAttr:$patterns, I64Attr:$count);
  let results = (outs LM_AnyTensor:$result);
  let assemblyFormat = "$patterns `x` $count attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def LM_TransposeOp : LM_Op<"transpose", [Pure]> {
  let summary = "Permute the dimensions of a tensor";
  let description = [{
    `result[i_perm[0], ...] = input[i_0, ...]`; used to bring checkpoint
    tensors stored as `x @ W` (`[E, in, out]`) into the `[E, out, in]`
    layout the other ops expect.

    ```mlir
    %t = lm.transpose %w [0, 2, 1] : tensor<4x64x128xf32> -> tensor<4x128x64xf32>
    ```
  }];
  let arguments = (ins LM_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs LM_AnyTensor:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_WeightOp : LM_Op<"weight", [Pure]> {
  let summary = "Refer to a checkpoint tensor by name";
  let description = [{
    The value of the checkpoint tensor `name`, with its stored shape and
    element type. Weights are bound by name and loaded by the runtime; the IR
    never inlines them.

    ```mlir
    %w = lm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<2048x1024xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs LM_AnyTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding and output
//===----------------------------------------------------------------------===//

def LM_EmbedOp : LM_Op<"embed", [Pure]> {
  let summary = "Look up token embeddings";
  let description = [{
    `result[b, t, :] = table[ids[b, t], :] * scale`. Gemma scales by
    `sqrt(hidden)` rounded to the weight dtype; others leave `scale` unset.

    ```mlir
    %h = lm.embed %table, %ids : tensor<256x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$table, LM_IndexTensor:$ids,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $table `,` $ids attr-dict `:` type($table) `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_SelectRowsOp : LM_Op<"select_rows", [Pure]> {
  let summary = "Take chosen tokens of each sequence";
  let description = [{
    `result[b, l, :] = input[b, rows[b, l], :]`: the final hidden states of
    the tokens whose logits a call asks for (the forward pass's
    `logit_rows`: every token of a prompt, or only each sequence's last),
    so the final norm and the LM head run on those alone. A row outside
    `[0, T)` reads the nearest one.

    ```mlir
    %last = lm.select_rows %h, %rows : tensor<?x?x64xf32>, tensor<?x?xi64> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_IndexTensor:$rows);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $rows attr-dict `:` type($input) `,` type($rows) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_SoftcapOp : LM_Op<"softcap", [Pure, SameOperandsAndResultType]> {
  let summary = "Soft-cap values: cap * tanh(x / cap)";
  let description = [{
    ```mlir
    %l = lm.softcap %logits {cap = 30.0 : f64} : tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, F64Attr:$cap);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def LM_GatedRMSNormOp : LM_Op<"gated_rms_norm", [Pure]> {
  let summary = "RMS normalization combined with a SiLU output gate";
  let description = [{
    Over groups of `group_size` channels of the last dimension (0: the whole
    dimension). With `norm_before_gate` (Qwen3-Next, Kimi):
    `w * rms(x) * act(gate)`; without (Mamba-2): `w * rms(x * act(gate))`.
    `act` is `gate_activation` (SiLU unless said; Kimi uses a sigmoid). `weight` has the size of the last dimension.

    ```mlir
    %o = lm.gated_rms_norm %x, %z, %w {epsilon = 1.0e-06 : f64, norm_before_gate}
       : tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<16xf32> -> tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$gate,
                       LM_FloatTensor:$weight, F64Attr:$epsilon,
                       DefaultValuedAttr<I64Attr, "0">:$group_size,
                       UnitAttr:$norm_before_gate,
                       DefaultValuedAttr<LM_ActivationAttr,
                                         "ActivationKind::silu">:$gate_activation);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $weight attr-dict `:` type($input) `,` type($gate) `,`
    type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_L2NormOp : LM_Op<"l2_norm", [Pure, SameOperandsAndResultType]> {
  let summary = "L2 normalization over the last dimension";
  let description = [{
    `x * rsqrt(sum(x^2) + epsilon)` (a sum, not a mean: the delta-rule q/k
    normalization).

    ```mlir
    %q = lm.l2_norm %x {epsilon = 1.0e-06 : f64} : tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, F64Attr:$epsilon);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def LM_LayerNormOp : LM_Op<"layer_norm", [Pure]> {
  let summary = "Layer normalization over the last dimension";
  let description = [{
    `(x - mean) * rsqrt(var + epsilon) * weight + bias`, statistics in f32.

    ```mlir
    %k = lm.layer_norm %x, %w, %b {epsilon = 1.0e-06 : f64}
       : tensor<?x?x16xf32>, tensor<16xf32>, tensor<16xf32> -> tensor<?x?x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$weight,
                       Optional<LM_FloatTensor>:$bias, F64Attr:$epsilon);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_RMSNormOp : LM_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalization over the last dimension";
  let description = [{
    `x * rsqrt(mean(x^2) + epsilon) * (weight_offset + weight)`, statistics in
    f32. `weight_offset = 1.0` is the zero-centred form of Gemma 3 and
    Qwen3-Next (the stored weight is the offset from one); without `weight`
    the norm is weightless (Llama 4's QK "L2" norm). The weight has the size of
    the last dimension, so per-head norms run on `[B, T, H, D]` and
    whole-projection norms on `[B, T, H*D]`.

    ```mlir
    %n = lm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
       : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    %q = lm.rms_norm %q0 {epsilon = 1.0e-05 : f64} : tensor<?x?x4x16xf32> -> tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, Optional<LM_FloatTensor>:$weight,
                       F64Attr:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_offset);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? attr-dict `:` type($input) (`,` type($weight)^)?
    `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Projections and shapes
//===----------------------------------------------------------------------===//

def LM_ConcatOp : LM_Op<"concat", [Pure]> {
  let summary = "Concatenate along the last dimension";
  let description = [{
    ```mlir
    %k = lm.concat %k_nope, %k_rope : tensor<?x?x4x8xf32>, tensor<?x?x4x4xf32> -> tensor<?x?x4x12xf32>
    ```
  }];
  let arguments = (ins Variadic<LM_FloatTensor>:$inputs);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def LM_GroupedLinearOp : LM_Op<"grouped_linear", [Pure]> {
  let summary = "Independent projections of G channel groups";
  let description = [{
    `result[b, t, g, :] = input[b, t, g, :] @ weight[g*N : (g+1)*N, :]^T`
    for a weight `[G*N, K]`: DeepSeek-V4's grouped output projection.

    ```mlir
    %y = lm.grouped_linear %x, %w : tensor<?x?x2x64xf32>, tensor<64x64xf32> -> tensor<?x?x2x32xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$weight);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_LinearOp : LM_Op<"linear", [Pure]> {
  let summary = "Affine projection of the last dimension: x W^T + b";
  let description = [{
    `weight` is `[out, in]` (PyTorch `nn.Linear`), `bias` is `[out]`.

    ```mlir
    %q = lm.linear %x, %wq : tensor<?x?x64xf32>, tensor<128x64xf32> -> tensor<?x?x128xf32>
    %o = lm.linear %a, %wo, %bo : tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$weight,
                       Optional<LM_FloatTensor>:$bias);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_MergeHeadsOp : LM_Op<"merge_heads", [Pure]> {
  let summary = "Concatenate heads head-major: [B, T, H, D] -> [B, T, H*D]";
  let description = [{
    ```mlir
    %o = lm.merge_heads %a : tensor<?x?x4x16xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LM_SliceOp : LM_Op<"slice", [Pure]> {
  let summary = "Take `size` channels of the last dimension from `offset`";
  let description = [{
    ```mlir
    %c = lm.slice %ckv [0, 32] : tensor<?x?x40xf32> -> tensor<?x?x32xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, I64Attr:$offset, I64Attr:$size);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `[` $offset `,` $size `]` attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_SplitHeadsOp : LM_Op<"split_heads", [Pure]> {
  let summary = "View channels as heads: [B, T, H*D] -> [B, T, H, D]";
  let description = [{
    Head `h` is channels `h*D .. h*D+D-1` (head-major).

    ```mlir
    %q = lm.split_heads %x : tensor<?x?x64xf32> -> tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

def LM_ActivationOp : LM_Op<"activation", [Pure, SameOperandsAndResultType]> {
  let summary = "Apply a pointwise activation";
  let description = [{
    ```mlir
    %y = lm.activation %x {kind = #lm.activation<silu>} : tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_ActivationAttr:$kind);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def LM_GateOp : LM_Op<"gate", [Pure]> {
  let summary = "Scale values by an activated gate: x * act(gate)";
  let description = [{
    `gate` has the shape of `input`, or 1 in the last dimension (one gate
    per token, broadcast over channels: Qwen3-Next's shared-expert gate).

    ```mlir
    %o = lm.gate %attn, %g {kind = #lm.activation<sigmoid>}
       : tensor<?x?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$gate,
                       LM_ActivationAttr:$kind);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate attr-dict `:` type($input) `,` type($gate) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_GluOp : LM_Op<"glu", [Pure, SameOperandsAndResultType]> {
  let summary = "Gated linear unit: act(gate) * up";
  let description = [{
    `swiglu`: `silu(g) * u`; `geglu_tanh`: `gelu_tanh(g) * u`; `geglu`:
    `gelu(g) * u` (exact, erf);
    `clamped_swiglu` (DeepSeek-V4): `silu(min(g, limit)) * clamp(u, -limit, limit)`;
    `gpt_oss_swiglu`: `g' = min(g, limit)`, `u' = clamp(u, -limit, limit)`,
    `(u' + 1) * g' * sigmoid(alpha * g')`.

    ```mlir
    %h = lm.glu %g, %u {kind = #lm.glu<swiglu>} : tensor<?x?x128xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$gate, LM_FloatTensor:$up,
                       LM_GluAttr:$kind, OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$limit);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Positions
//===----------------------------------------------------------------------===//

def LM_AttentionTemperatureOp : LM_Op<"attention_temperature",
                                      [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Llama 4 attention temperature tuning of NoPE queries";
  let description = [{
    `q * (1 + attn_scale * ln(1 + floor((p + 1) / floor_scale)))` at absolute
    position `p`.

    ```mlir
    %q2 = lm.attention_temperature %q, %pos {attn_scale = 1.0e-01 : f64, floor_scale = 8.192e+03 : f64}
        : tensor<?x?x4x16xf32>, tensor<?x?xi64>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_IndexTensor:$positions,
                       F64Attr:$floor_scale, F64Attr:$attn_scale);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $positions attr-dict `:` type($input) `,` type($positions)";
  let hasVerifier = 1;
}

def LM_RopeOp : LM_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding of the first `rotary_dim` channels";
  let description = [{
    Rotates channel pairs of each head of `input` (`[B, T, H, D]`) by
    `p * inv_freq[i]`, with `inv_freq[i] = theta^(-2i/rotary_dim)` rescaled as
    `scaling` says (the Hugging Face `rope_parameters` dictionary: `rope_type`
    = `linear` | `llama3` | `yarn` and its fields; YaRN also scales cos and
    sin by its attention factor). Pairs are `(i, i + rotary_dim/2)`
    (half-split) or `(2i, 2i+1)` with `interleaved`, counted from
    `rotary_offset` (DeepSeek-V4 rotates the trailing channels); the other
    channels pass through (partial RoPE). `inverse` rotates by `-angle`
    (V4 de-rotates its attention output).

    ```mlir
    %q = lm.rope %x, %pos {rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
       : tensor<?x?x4x16xf32>, tensor<?x?xi64>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_IndexTensor:$positions,
                       F64Attr:$theta, I64Attr:$rotary_dim,
                       DefaultValuedAttr<I64Attr, "0">:$rotary_offset,
                       UnitAttr:$interleaved, UnitAttr:$inverse,
                       OptionalAttr<DictionaryAttr>:$scaling);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $positions attr-dict `:` type($input) `,` type($positions)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The rotation frequencies and the cos/sin factor implied by `theta`,
    /// `rotary_dim` and `scaling` (HF `modeling_rope_utils.py` semantics).
    void computeFrequencies(::llvm::SmallVectorImpl<double> &invFreq,
                            double &attentionFactor);
  }];
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def LM_AttentionOp : LM_Op<"attention", [Pure]> {
  let summary = "Scaled dot-product attention with grouped KV heads";
  let description = [{
    `query` `[B, T, H, Dk]` attends to `key` `[B, S, Hkv, Dk]` and `value`
    `[B, S, Hkv, Dv]`; query head `h` reads KV head `h / (H / Hkv)` (MHA,
    GQA, MQA). Key `j` sits at absolute position `j`; query `t` at
    `positions[b, t]`, and sees key `j` iff `j <= p` and, with
    `sliding_window = W`, `j > p - W` (W keys including itself), or, with
    `chunk_size = C`, `j / C == p / C`. Scores are `q.k * scale`, soft-capped
    by `softcap` when set; softmax in f32. A learned `sinks` logit per head
    joins each softmax row's denominator without a value.

    With `bf16_products` (what `--dtype bf16` asks for, so tensor cores can
    compute it), both products take bf16 operands, rounded to nearest even:
    `q` and `k` for the scores, `v` and the unnormalised softmax weights
    `exp(s - max)` for the weighted sum. The products accumulate in f32, and
    the max, the sum of weights (of the unrounded weights) and the division
    stay f32.

    ```mlir
    %o = lm.attention %q, %k, %v, %pos {scale = 0.25 : f64, sliding_window = 8 : i64}
       : (tensor<?x?x4x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
       -> tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$query, LM_FloatTensor:$key,
                       LM_FloatTensor:$value, LM_IndexTensor:$positions,
                       Optional<LM_FloatTensor>:$sinks, F64Attr:$scale,
                       OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<I64Attr>:$chunk_size,
                       OptionalAttr<F64Attr>:$softcap,
                       UnitAttr:$bf16_products);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions (`sinks` $sinks^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_CompressedAttentionOp : LM_Op<"compressed_attention",
                                     [Pure, AttrSizedOperandSegments]> {
  let summary = "Attention over a sliding window and compressed entries (DeepSeek-V4)";
  let description = [{
    One softmax per query over two key segments of a single head shared by
    all query heads, whose keys are also its values: the window keys `kv`
    (`[B, S, D]`, key `j` at position `j`, visible iff `p - W < j <= p`) and
    the compressed `entries` (`[B, E, D]`, entry `e` visible iff
    `e < (p + 1) / ratio`, and, with `selected`, iff chosen by the indexer;
    sliding-only layers have no entries).
    Logits are `q.k * scale`; the per-head `sinks` logit joins each
    denominator without a value.

    ```mlir
    %o = lm.compressed_attention %q, %kv entries %entries, %pos, %sinks {ratio = 8 : i64, scale = 0.17 : f64, sliding_window = 8 : i64}
       : (tensor<?x?x4x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?xi64>, tensor<4xf32>)
       -> tensor<?x?x4x32xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$query, LM_FloatTensor:$kv,
                       Optional<LM_FloatTensor>:$entries,
                       LM_IndexTensor:$positions, LM_FloatTensor:$sinks,
                       Optional<LM_IndexTensor>:$selected, F64Attr:$scale,
                       I64Attr:$sliding_window,
                       DefaultValuedAttr<I64Attr, "1">:$ratio);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $kv (`entries` $entries^)? `,` $positions `,` $sinks
    (`selected` $selected^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_LightningIndexerOp : LM_Op<"lightning_indexer", [Pure]> {
  let summary = "DeepSeek sparse-attention indexer: select the top-k keys";
  let description = [{
    `score(t, s) = sum_h head_weights[t, h] * scale * relu(query[t, h] . key[s])`
    over the causally visible keys `s <= positions[t]`; the result holds the
    indices of the `top_k` best keys per query, `-1` where fewer are visible.
    With `ratio = m > 1` the keys are compressed entries, entry `s` summarising
    tokens up to `(s+1)*m - 1`, visible iff `s < (positions[t] + 1) / m`.

    ```mlir
    %sel = lm.lightning_indexer %qi, %ki, %wi, %pos {scale = 0.25 : f64, top_k = 8 : i64}
         : (tensor<?x?x16x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
         -> tensor<?x?x8xi64>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$query, LM_FloatTensor:$key,
                       LM_FloatTensor:$head_weights, LM_IndexTensor:$positions,
                       I64Attr:$top_k, F64Attr:$scale,
                       DefaultValuedAttr<I64Attr, "1">:$ratio);
  let results = (outs LM_IndexTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $head_weights `,` $positions attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_MLAAttentionOp : LM_Op<"mla_attention", [Pure]> {
  let summary = "Multi-head latent attention over a cached KV latent";
  let description = [{
    Per head `h`: `k_h = [latent @ Wk_h^T || key_rope]`,
    `v_h = latent @ Wv_h^T`, where `kv_b` (`[H*(Dn+Dv), R]`) holds for each
    head `Dn` key rows then `Dv` value rows. Queries are
    `[query_nope || query_rope]`; masking is causal, restricted to the keys in
    `selected` (`[B, T, K]`, `-1` = none) when given (DeepSeek sparse
    attention). The lowering may run the expanded form (prefill) or the
    weight-absorbed form in latent space (decode): they are the same math.
    With `bf16_products` (what `--dtype bf16` asks for) the expanded form
    takes bf16 operands in its products, as `lm.attention`'s: the latents
    rounded to bf16 where kv_b projects them (exact for a latent cache
    that `--dtype bf16` rounds as it is written), the queries, keys and
    values where the scores and weighted values read them; its softmax
    stays f32, and the absorbed form keeps f32 products.

    ```mlir
    %o = lm.mla_attention %qn, %qr, %c, %kr, %wkvb, %pos {scale = 0.2 : f64}
       : (tensor<?x?x4x16xf32>, tensor<?x?x4x8xf32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>,
          tensor<128x32xf32>, tensor<?x?xi64>) -> tensor<?x?x4x16xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$query_nope, LM_FloatTensor:$query_rope,
                       LM_FloatTensor:$latent, LM_FloatTensor:$key_rope,
                       LM_FloatTensor:$kv_b, LM_IndexTensor:$positions,
                       Optional<LM_IndexTensor>:$selected, F64Attr:$scale,
                       UnitAttr:$bf16_products);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $query_nope `,` $query_rope `,` $latent `,` $key_rope `,` $kv_b `,` $positions
    (`selected` $selected^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Inference state
//===----------------------------------------------------------------------===//

def LM_KVCompressOp : LM_Op<"kv_compress", [Pure]> {
  let summary = "Pool windows of projected tokens into compressed entries";
  let description = [{
    DeepSeek-V4's compressor. `kv` and `gate` are the projected tokens
    (`[B, T, R]`, R the cache's row width), `ape` (`[ratio, R]`) a learned
    per-slot bias added to the gate. Each complete window `w` of `ratio`
    tokens yields entry `w`: a per-channel softmax over the window's rows of
    `gate + ape`, weighting `kv`. With `overlap` the rows are split in two
    series of `dim` channels and entry `w` pools series B of window `w` with
    series A of window `w - 1` (none before the first window). Rows of
    incomplete windows wait in the cache. Returns the cache and every entry
    so far (`[B, E, dim]`) with the position of each entry's first token.

    ```mlir
    %c1, %e, %epos = lm.kv_compress %c0, %kv, %g, %ape, %pos
        : (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?x32xf32>,
           tensor<8x32xf32>, tensor<?x?xi64>)
        -> (!lm.compressed_cache<32, f32, ratio = 8>, tensor<?x?x32xf32>, tensor<?x?xi64>)
    ```
  }];
  let arguments = (ins LM_CompressedCacheType:$cache, LM_FloatTensor:$kv,
                       LM_FloatTensor:$gate, LM_FloatTensor:$ape,
                       LM_IndexTensor:$positions);
  let results = (outs LM_CompressedCacheType:$updated,
                      LM_FloatTensor:$entries, LM_IndexTensor:$entry_positions);
  let assemblyFormat = [{
    $cache `,` $kv `,` $gate `,` $ape `,` $positions attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_KeyCacheUpdateOp : LM_Op<"key_cache_update", [Pure]> {
  let summary = "Append single-head keys; return the cache and all keys";
  let description = [{
    ```mlir
    %c1, %keys = lm.key_cache_update %c0, %k, %pos
               : (!lm.key_cache<16, f32>, tensor<?x?x16xf32>, tensor<?x?xi64>)
               -> (!lm.key_cache<16, f32>, tensor<?x?x16xf32>)
    ```
  }];
  let arguments = (ins LM_KeyCacheType:$cache, LM_FloatTensor:$key,
                       LM_IndexTensor:$positions);
  let results = (outs LM_KeyCacheType:$updated, LM_FloatTensor:$keys);
  let assemblyFormat = [{
    $cache `,` $key `,` $positions attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_KVCacheUpdateOp : LM_Op<"kv_cache_update", [Pure]> {
  let summary = "Write new keys and values at their positions; return all";
  let description = [{
    Stores `key`/`value` (`[B, T, Hkv, D]`) at `positions` and returns the
    updated cache with every key and value of positions `0 .. S-1`.

    ```mlir
    %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos
        : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xi64>)
        -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
    ```
  }];
  let arguments = (ins LM_KVCacheType:$cache, LM_FloatTensor:$key,
                       LM_FloatTensor:$value, LM_IndexTensor:$positions);
  let results = (outs LM_KVCacheType:$updated, LM_FloatTensor:$keys,
                      LM_FloatTensor:$values);
  let assemblyFormat = [{
    $cache `,` $key `,` $value `,` $positions attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_LatentCacheUpdateOp : LM_Op<"latent_cache_update", [Pure]> {
  let summary = "Append MLA latents and rotary keys; return all";
  let description = [{
    ```mlir
    %c1, %lat, %kr = lm.latent_cache_update %c0, %c, %k_rope, %pos
        : (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>, tensor<?x?xi64>)
        -> (!lm.latent_cache<32 + 8, f32>, tensor<?x?x32xf32>, tensor<?x?x8xf32>)
    ```
  }];
  let arguments = (ins LM_LatentCacheType:$cache, LM_FloatTensor:$latent,
                       LM_FloatTensor:$key_rope, LM_IndexTensor:$positions);
  let results = (outs LM_LatentCacheType:$updated, LM_FloatTensor:$latents,
                      LM_FloatTensor:$key_ropes);
  let assemblyFormat = [{
    $cache `,` $latent `,` $key_rope `,` $positions attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Recurrent mixers
//===----------------------------------------------------------------------===//

def LM_CausalConv1dOp : LM_Op<"causal_conv1d", [Pure, AttrSizedOperandSegments]> {
  let summary = "Depthwise causal short convolution with a carried state";
  let description = [{
    `y[c, t] = sum_j weight[c, 0, j] * x[c, t - (K-1) + j] (+ bias[c])`, then
    `activation`; inputs before the sequence come from `state` (the last K-1
    inputs, zeros initially), and the updated state is returned.

    With `lengths` (`[B]`, a ragged batch), sequence `b` holds its first
    `lengths[b]` tokens: the state becomes the last K-1 inputs before token
    `lengths[b]`, and the outputs of the tokens after it (padding) are zero.

    ```mlir
    %y, %s1 = lm.causal_conv1d %x, %w, %s0 {activation = #lm.activation<silu>}
        : (tensor<?x?x96xf32>, tensor<96x1x4xf32>, !lm.recurrent_state<[96, 3], f32>)
        -> (tensor<?x?x96xf32>, !lm.recurrent_state<[96, 3], f32>)
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$weight,
                       Optional<LM_FloatTensor>:$bias,
                       LM_RecurrentStateType:$state,
                       Optional<LM_IndexTensor>:$lengths,
                       LM_ActivationAttr:$activation);
  let results = (outs LM_FloatTensor:$result, LM_RecurrentStateType:$updated);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? `,` $state (`lengths` $lengths^)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_DecayGateOp : LM_Op<"decay_gate", [Pure]> {
  let summary = "Log decay of a gated recurrence: -exp(A_log) * softplus(a + dt_bias)";
  let description = [{
    `a` is `[B, T, H]` (one decay per head: Gated DeltaNet) or
    `[B, T, H, D]` (one per channel: Kimi Delta Attention). `a_log` has one
    value per head; `dt_bias` one per element of `a`'s trailing dimensions.
    The result (`<= 0`) has the shape of `a`.

    ```mlir
    %g = lm.decay_gate %a, %a_log, %dt_bias
       : tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<?x?x4xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$a_log,
                       LM_FloatTensor:$dt_bias);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $a_log `,` $dt_bias attr-dict `:` type($input) `,` type($a_log)
    `,` type($dt_bias) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LM_GatedDeltaRuleOp : LM_Op<"gated_delta_rule", [Pure]> {
  let summary = "Gated delta-rule linear attention (Gated DeltaNet, KDA)";
  let description = [{
    Per value head `h` (key head `h / (Hv / Hk)`), with state `S` `[Dk, Dv]`:
    ```
    S   <- exp(g_t) * S          (g_t per head, or per key channel: diag)
    u_t <- beta_t * (v_t - S^T k_t)
    S   <- S + k_t u_t^T
    o_t <- scale * S^T q_t
    ```
    `log_decay` is `[B, T, Hv]` (Gated DeltaNet) or `[B, T, Hv, Dk]` (Kimi
    Delta Attention). The op is the ground truth: the host lowering runs this
    recurrence for a single decode token and the equivalent chunked (WY)
    form, 64 tokens per chunk, for prefill.

    With `lengths` (`[B]`, a ragged batch), sequence `b` holds its first
    `lengths[b]` tokens: the tokens after them (padding) leave the state as
    it is and their outputs are zero.

    ```mlir
    %o, %s1 = lm.gated_delta_rule %q, %k, %v, %g, %beta, %s0 {scale = 0.25 : f64}
        : (tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4xf32>,
           tensor<?x?x4xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
        -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
    ```
  }];
  let arguments = (ins LM_FloatTensor:$query, LM_FloatTensor:$key,
                       LM_FloatTensor:$value, LM_FloatTensor:$log_decay,
                       LM_FloatTensor:$beta, LM_RecurrentStateType:$state,
                       Optional<LM_IndexTensor>:$lengths,
                       F64Attr:$scale);
  let results = (outs LM_FloatTensor:$result, LM_RecurrentStateType:$updated);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $log_decay `,` $beta `,` $state
    (`lengths` $lengths^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_SelectiveScanOp : LM_Op<"selective_scan", [Pure]> {
  let summary = "Mamba-2 selective state-space scan (SSD)";
  let description = [{
    With `dt' = clamp(softplus(dt + dt_bias), dt_min, dt_max)` and
    `A = -exp(a_log)`, per head `h` (group `h / (H / G)`) and state `S`
    `[P, N]`:
    ```
    S   <- exp(dt'_t * A) * S + dt'_t * x_t B_t^T
    y_t <- S C_t + D * x_t
    ```
    `x` is `[B, T, H, P]`, `dt` `[B, T, H]`, `b`/`c` `[B, T, G, N]`. The
    host lowering runs this recurrence for a single decode token and the
    equivalent chunked (SSD) form, 64 tokens per chunk, for prefill.

    With `lengths` (`[B]`, a ragged batch), sequence `b` holds its first
    `lengths[b]` tokens: the tokens after them (padding) leave the state as
    it is and their outputs are zero.

    ```mlir
    %y, %s1 = lm.selective_scan %x, %dt, %dtb, %alog, %b, %c, %d, %s0
        : (tensor<?x?x4x16xf32>, tensor<?x?x4xf32>, tensor<4xf32>, tensor<4xf32>,
           tensor<?x?x1x16xf32>, tensor<?x?x1x16xf32>, tensor<4xf32>,
           !lm.recurrent_state<[4, 16, 16], f32>)
        -> (tensor<?x?x4x16xf32>, !lm.recurrent_state<[4, 16, 16], f32>)
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$dt,
                       LM_FloatTensor:$dt_bias, LM_FloatTensor:$a_log,
                       LM_FloatTensor:$b, LM_FloatTensor:$c,
                       LM_FloatTensor:$d, LM_RecurrentStateType:$state,
                       Optional<LM_IndexTensor>:$lengths,
                       DefaultValuedAttr<F64Attr, "0.0">:$dt_min,
                       OptionalAttr<F64Attr>:$dt_max);
  let results = (outs LM_FloatTensor:$result, LM_RecurrentStateType:$updated);
  let assemblyFormat = [{
    $input `,` $dt `,` $dt_bias `,` $a_log `,` $b `,` $c `,` $d `,` $state
    (`lengths` $lengths^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Hyper-connections (mHC)
//===----------------------------------------------------------------------===//

def LM_HCCollapseOp : LM_Op<"hc_collapse", [Pure]> {
  let summary = "Collapse the residual streams into one hidden state";
  let description = [{
    `pre = sigmoid(rms(X.flat) @ fn^T * scale + base) + hc_epsilon` over the
    `N` streams of `X` (`[B, T, N, D]`, flattened stream-major, weightless RMS
    with `epsilon`); the result is `sum_n pre[n] * X[n]`. `fn` is `[N, N*D]`,
    `base` `[N]`, `scale` `[1]`.

    ```mlir
    %h = lm.hc_collapse %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
       : (tensor<?x?x4x64xf32>, tensor<4x256xf32>, tensor<4xf32>, tensor<1xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$streams, LM_FloatTensor:$fn,
                       LM_FloatTensor:$base, LM_FloatTensor:$scale,
                       F64Attr:$epsilon, F64Attr:$hc_epsilon);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $streams `,` $fn `,` $base `,` $scale attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_HCExpandOp : LM_Op<"hc_expand", [Pure]> {
  let summary = "Copy a hidden state into N identical residual streams";
  let description = [{
    ```mlir
    %X = lm.hc_expand %h : tensor<?x?x64xf32> -> tensor<?x?x4x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def LM_HCPostOp : LM_Op<"hc_post", [Pure]> {
  let summary = "Write a sublayer's output back into the residual streams";
  let description = [{
    `X'[k] = post[k] * output + sum_j comb[j, k] * X[j]` for streams `X`
    `[B, T, N, D]`, `output` `[B, T, D]`, `post` `[B, T, N]` and the doubly
    stochastic `comb` `[B, T, N, N]`.

    ```mlir
    %X1 = lm.hc_post %X, %out, %post, %comb
        : (tensor<?x?x4x64xf32>, tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
        -> tensor<?x?x4x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$streams, LM_FloatTensor:$output,
                       LM_FloatTensor:$post, LM_FloatTensor:$comb);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $streams `,` $output `,` $post `,` $comb attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_HCPreOp : LM_Op<"hc_pre", [Pure]> {
  let summary = "Mix the residual streams into a sublayer input (mHC)";
  let description = [{
    With `f = rms(X.flat)` (weightless, `epsilon`) and
    `mix = f @ fn^T` split `[N | N | N*N]`:
    `pre = sigmoid(mix0 * scale[0] + base0) + hc_epsilon`,
    `post = 2 * sigmoid(mix1 * scale[1] + base1)`,
    `comb_logits = mix2 * scale[2] + base2` (row-major `[N, N]`, projected
    by `lm.sinkhorn`), and the sublayer input is `sum_n pre[n] * X[n]`.
    `fn` is `[(2+N)*N, N*D]`, `base` `[(2+N)*N]`, `scale` `[3]`.

    ```mlir
    %x, %post, %cl = lm.hc_pre %X, %fn, %base, %scale {epsilon = 1.0e-06 : f64, hc_epsilon = 1.0e-06 : f64}
        : (tensor<?x?x4x64xf32>, tensor<24x256xf32>, tensor<24xf32>, tensor<3xf32>)
        -> (tensor<?x?x64xf32>, tensor<?x?x4xf32>, tensor<?x?x4x4xf32>)
    ```
  }];
  let arguments = (ins LM_FloatTensor:$streams, LM_FloatTensor:$fn,
                       LM_FloatTensor:$base, LM_FloatTensor:$scale,
                       F64Attr:$epsilon, F64Attr:$hc_epsilon);
  let results = (outs LM_FloatTensor:$input, LM_FloatTensor:$post,
                      LM_FloatTensor:$comb_logits);
  let assemblyFormat = [{
    $streams `,` $fn `,` $base `,` $scale attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_SinkhornOp : LM_Op<"sinkhorn", [Pure, SameOperandsAndResultType]> {
  let summary = "Project logits onto doubly stochastic matrices (Sinkhorn-Knopp)";
  let description = [{
    Over the last two dimensions (`[N, N]`): `C = softmax_rows(logits) +
    epsilon`, then a column normalisation `C /= colsum(C) + epsilon`, then
    `iterations - 1` times a row and a column normalisation.

    ```mlir
    %comb = lm.sinkhorn %cl {epsilon = 1.0e-06 : f64, iterations = 20 : i64} : tensor<?x?x4x4xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, I64Attr:$iterations,
                       F64Attr:$epsilon);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def LM_HashRouterOp : LM_Op<"hash_router", [Pure]> {
  let summary = "Route each token to the experts its id hashes to";
  let description = [{
    The experts are `table[ids[b, t], :]` (DeepSeek-V4's `tid2eid`); their
    weights are the `scoring` scores of `logits` at those experts,
    renormalised when `normalize` and multiplied by `routed_scaling`.

    ```mlir
    %w, %i = lm.hash_router %ids, %table, %logits {scoring = #lm.scoring<sqrtsoftplus>, normalize}
        : (tensor<?x?xi64>, tensor<256x2xi64>, tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
    ```
  }];
  let arguments = (ins LM_IndexTensor:$ids, LM_IndexTensor:$table,
                       LM_FloatTensor:$logits, LM_ScoringAttr:$scoring,
                       UnitAttr:$normalize,
                       DefaultValuedAttr<F64Attr, "1.0">:$routed_scaling);
  let results = (outs LM_FloatTensor:$weights, LM_IndexTensor:$indices);
  let assemblyFormat = [{
    $ids `,` $table `,` $logits attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def LM_MoEExpertsOp : LM_Op<"moe_experts", [Pure, AttrSizedOperandSegments]> {
  let summary = "Weighted sum of the routed experts' feed-forward networks";
  let description = [{
    `y[t] = sum_k weights[t, k] * FFN_{indices[t, k]}(x[t])`, or with
    `scale_input` (Llama 4) `sum_k FFN_{indices[t, k]}(weights[t, k] * x[t])`.
    Expert `e`'s FFN: `h = x @ gate_up[e]^T (+ gate_up_bias[e])`, then for a
    GLU `act(h[:I]) * h[I:]` (or, with `interleaved_gate_up`, gate and up in
    alternating rows), for `relu2` `relu(h)^2`; `out = h @ down[e]^T
    (+ down_bias[e])`. `gate_up` is `[E, 2I, D]` (`[E, I, D]` for `relu2`),
    `down` `[E, D, I]`. Products are summed in f32; a bf16 `gate_up` takes
    its other operand (x, or the scaled x) rounded to bf16, a bf16 `down`
    the activation, as `--dtype bf16` rounds every projection's input.

    ```mlir
    %y = lm.moe_experts %x, %w, %i, %gu, %dn {activation = #lm.expert<swiglu>}
       : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>, tensor<8x64x64xf32>,
          tensor<8x64x32xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_FloatTensor:$input, LM_FloatTensor:$weights,
                       LM_IndexTensor:$indices, LM_FloatTensor:$gate_up,
                       LM_FloatTensor:$down,
                       Optional<LM_FloatTensor>:$gate_up_bias,
                       Optional<LM_FloatTensor>:$down_bias,
                       LM_ExpertAttr:$activation,
                       OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$limit,
                       UnitAttr:$interleaved_gate_up, UnitAttr:$scale_input);
  let results = (outs LM_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weights `,` $indices `,` $gate_up `,` $down
    (`biases` $gate_up_bias^ `,` $down_bias)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getNumExperts() {
      return ::llvm::cast<::mlir::RankedTensorType>(getGateUp().getType()).getDimSize(0);
    }
    int64_t getTopK() {
      return ::llvm::cast<::mlir::RankedTensorType>(getIndices().getType()).getDimSize(2);
    }
  }];
}

def LM_RouterOp : LM_Op<"router", [Pure]> {
  let summary = "Choose the top-k experts of each token and their weights";
  let description = [{
    `s = scoring(logits)` (softmax over all experts, sigmoid, or
    `sqrt(softplus)`). Selection uses `s + correction_bias` (the bias never
    enters the weights). With `num_groups = G > 1`, experts form G groups,
    each scored by the sum of its two best corrected scores, and only the
    `top_k_groups` best groups stay eligible. Weights are the uncorrected `s`
    of the chosen experts, renormalised when `normalize`
    (`w / (sum w + normalize_epsilon)`) and multiplied by `routed_scaling`.

    ```mlir
    %w, %i = lm.router %logits bias %b {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64,
                                       num_groups = 4 : i64, top_k_groups = 2 : i64, normalize,
                                       normalize_epsilon = 1.0e-20 : f64, routed_scaling = 2.5 : f64}
        : (tensor<?x?x8xf32>, tensor<8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
    ```
  }];
  let arguments = (ins LM_FloatTensor:$logits,
                       Optional<LM_FloatTensor>:$correction_bias,
                       LM_ScoringAttr:$scoring, I64Attr:$top_k,
                       DefaultValuedAttr<I64Attr, "1">:$num_groups,
                       DefaultValuedAttr<I64Attr, "1">:$top_k_groups,
                       UnitAttr:$normalize,
                       DefaultValuedAttr<F64Attr, "0.0">:$normalize_epsilon,
                       DefaultValuedAttr<F64Attr, "1.0">:$routed_scaling);
  let results = (outs LM_FloatTensor:$weights, LM_IndexTensor:$indices);
  let assemblyFormat = [{
    $logits (`bias` $correction_bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

include "lmc/Dialect/LM/LMKernelOps.td"

#endif // LMC_DIALECT_LM_LMOPS_TD
