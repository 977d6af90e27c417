//===- LMTypes.td - Inference state types of the lm dialect -*- tablegen -*-===//
//
// Every kind of per-sequence inference state is a type of its own, so the
// runtime's state layout, the cache accounting of `lmc inspect` and the
// prefill/decode specialisation can all be read off the function signature.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_LMTYPES_TD
#define LMC_DIALECT_LM_LMTYPES_TD

include "lmc/Dialect/LM/LMDialect.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def LM_KVCacheType : LM_Type<"KVCache", "kv_cache"> {
  let summary = "Keys and values of one attention layer";
  let description = [{
    Per token: `numHeads` key heads of `keyDim` channels and as many value
    heads of `valueDim`. A non-zero `window` means the layer only ever attends
    to the last `window` tokens, so the cache never holds more than that.

    ```mlir
    !lm.kv_cache<8 x 128 x 128, bf16>
    !lm.kv_cache<8 x 64 x 64, bf16, window = 128>
    ```
  }];
  let parameters = (ins "int64_t":$numHeads, "int64_t":$keyDim,
                        "int64_t":$valueDim,
                        DefaultValuedParameter<"int64_t", "0">:$window,
                        "Type":$elementType);
  let assemblyFormat = [{
    `<` $numHeads `x` $keyDim `x` $valueDim `,` $elementType
    (`,` `window` `=` $window^)? `>`
  }];
  let genVerifyDecl = 1;
}

def LM_LatentCacheType : LM_Type<"LatentCache", "latent_cache"> {
  let summary = "Compressed KV latent of multi-head latent attention (MLA)";
  let description = [{
    Per token: the normalised KV latent (`latentDim` channels, shared by every
    head) and the shared rotary key (`ropeDim` channels).

    ```mlir
    !lm.latent_cache<512 + 64, bf16>
    ```
  }];
  let parameters = (ins "int64_t":$latentDim, "int64_t":$ropeDim,
                        "Type":$elementType);
  let assemblyFormat = "`<` $latentDim `+` $ropeDim `,` $elementType `>`";
  let genVerifyDecl = 1;
}

def LM_KeyCacheType : LM_Type<"KeyCache", "key_cache"> {
  let summary = "Single-head keys of a sparse-attention indexer";
  let description = [{
    Per token: one key of `dim` channels, shared by every head (DeepSeek-V3.2's
    indexer keys; DeepSeek-V4's key-and-value vector). A non-zero `window`
    caps the tokens kept, as for `!lm.kv_cache`.

    ```mlir
    !lm.key_cache<128, bf16>
    !lm.key_cache<512, bf16, window = 128>
    ```
  }];
  let parameters = (ins "int64_t":$dim,
                        DefaultValuedParameter<"int64_t", "0">:$window,
                        "Type":$elementType);
  let assemblyFormat = "`<` $dim `,` $elementType (`,` `window` `=` $window^)? `>`";
  let genVerifyDecl = 1;
}

def LM_CompressedCacheType : LM_Type<"CompressedCache", "compressed_cache"> {
  let summary = "Entries pooled from windows of `ratio` tokens, with pending rows";
  let description = [{
    DeepSeek-V4's compressed attention: every `ratio` tokens add one entry of
    `dim` channels. Until a window is complete its projected rows (kv and
    gate, `2 * width * dim` per token) wait in a pending buffer; with
    `overlap` each entry also pools the previous window, whose rows
    (`2 * dim` per token) are kept too.

    ```mlir
    !lm.compressed_cache<512, f32, ratio = 128>
    !lm.compressed_cache<512, f32, ratio = 4, overlap = true>
    ```
  }];
  let parameters = (ins "int64_t":$dim, "int64_t":$ratio,
                        DefaultValuedParameter<"bool", "false">:$overlap,
                        "Type":$elementType);
  let assemblyFormat = [{
    `<` $dim `,` $elementType `,` `ratio` `=` $ratio (`,` `overlap` `=` $overlap^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Channels of one projected row: 2 * dim with overlap, else dim.
    int64_t getRowWidth() const { return getOverlap() ? 2 * getDim() : getDim(); }
  }];
}

def LM_RecurrentStateType : LM_Type<"RecurrentState", "recurrent_state"> {
  let summary = "Constant-size per-sequence state of a recurrent mixer";
  let description = [{
    A state whose size does not grow with the sequence: the delta-rule state
    `[heads, key_dim, value_dim]`, a Mamba-2 SSM state `[heads, head_dim,
    state_dim]`, or the last `kernel - 1` inputs of a short convolution
    `[channels, kernel - 1]`.

    ```mlir
    !lm.recurrent_state<[32, 128, 128], f32>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "Type":$elementType);
  let assemblyFormat = "`<` `[` $shape `]` `,` $elementType `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumElements() const;
  }];
}

#endif // LMC_DIALECT_LM_LMTYPES_TD
