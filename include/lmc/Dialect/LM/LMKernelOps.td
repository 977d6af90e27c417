//===- LMKernelOps.td - Kernel choices of the lm dialect ----*- tablegen -*-===//
//
// Ops that stand for a kernel template chosen for a target (by
// lm-select-gpu-kernels), not for an architectural concept. They keep the
// semantics of the op they replace for the phase they were chosen for, are
// destination-style (they take tensors, then, after bufferization, memrefs)
// and become the template's launches after bufferization
// (lm-map-kernel-ops-to-gpu). The host pipeline never makes them.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_LMKERNELOPS_TD
#define LMC_DIALECT_LM_LMKERNELOPS_TD

include "lmc/Dialect/LM/LMAttrs.td"
include "lmc/Dialect/LM/LMDialect.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def LM_TensorOrMemRef : AnyTypeOf<[AnyRankedTensor, AnyMemRef]>;

class LM_KernelOp<string mnemonic, list<Trait> traits = []>
    : LM_Op<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DeclareOpInterfaceMethods<BufferizableOpInterface,
            ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
             "getAliasingValues", "isNotConflicting", "bufferize"]>])> {
  let results = (outs Variadic<AnyRankedTensor>:$results);
  // What every kernel op shares (LMKernelOps.cpp): inputs read, inits
  // written whole (and read first where the op's `readsInit(init)` says
  // so), results the inits; an input may share a buffer with an init where
  // the op's `readBeforeWritten(input, init)` says the input is read whole
  // before the init is written.
  let extraClassDefinition = [{
    void $cppClass::getEffects(
        ::llvm::SmallVectorImpl<::mlir::SideEffects::EffectInstance<
            ::mlir::MemoryEffects::Effect>> &effects) {
      ::mlir::lm::detail::getKernelOpEffects(
          *this, [&](::mlir::OpOperand &init) { return readsInit(init); },
          effects);
    }
    bool $cppClass::bufferizesToMemoryRead(
        ::mlir::OpOperand &operand,
        const ::mlir::bufferization::AnalysisState &) {
      return !isDpsInit(&operand) || readsInit(operand);
    }
    bool $cppClass::bufferizesToMemoryWrite(
        ::mlir::OpOperand &operand,
        const ::mlir::bufferization::AnalysisState &) {
      return isDpsInit(&operand);
    }
    bool $cppClass::isNotConflicting(
        ::mlir::OpOperand *read, ::mlir::OpOperand *write,
        const ::mlir::bufferization::AnalysisState &) {
      return read->getOwner() == getOperation() &&
             write->getOwner() == getOperation() && !isDpsInit(read) &&
             isDpsInit(write) && readBeforeWritten(*read, *write);
    }
    ::mlir::bufferization::AliasingValueList $cppClass::getAliasingValues(
        ::mlir::OpOperand &operand,
        const ::mlir::bufferization::AnalysisState &) {
      if (!isDpsInit(&operand))
        return {};
      return {{getTiedOpResult(&operand),
               ::mlir::bufferization::BufferRelation::Equivalent}};
    }
    ::llvm::LogicalResult $cppClass::bufferize(
        ::mlir::RewriterBase &rewriter,
        const ::mlir::bufferization::BufferizationOptions &options,
        ::mlir::bufferization::BufferizationState &state) {
      return ::mlir::lm::detail::bufferizeKernelOp(*this, rewriter, options,
                                                   state);
    }
  }];
}

def LM_FlashDecodeOp : LM_KernelOp<"flash_decode"> {
  let summary = "lm.attention of one query token per sequence, split over "
                "the keys (flash decoding)";
  let description = [{
    `lm.attention` (same operands, attributes and masks) for `query` of one
    token per sequence (`[B, 1, H, Dk]`), as a GPU kernel: the keys each
    sequence sees are cut into `P` contiguous splits, `P` the third
    dimension of `partials` (`[B, H, P, Dv + 2]`, f32). A block of `warps`
    warps per (sequence, kv head, split) reads each of its keys and values
    once for the whole query-head group and leaves, per query head, the
    split's unnormalised weighted sum of values relative to its running
    maximum, then that maximum and the sum of weights
    (`partials[b, h, p] = [acc_0 .. acc_{Dv-1}, max, sum]`); a second kernel
    rescales the splits to their common maximum, adds the sink's weight, and
    writes `init` (`[B, 1, H, Dv]`, f32, or bf16: rounded, as `--dtype
    bf16` rounds the next projection's input). With `bf16_products` it rounds
    the query, keys, values and weights before their products, as
    `lm.attention` says.

    Results are the two inits on tensors, none on memrefs.

    ```mlir
    %partials, %o = lm.flash_decode %q, %k, %v, %pos partials(%p) outs(%init)
        {scale = 0.125 : f64, warps = 8 : i64}
        : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x64xf32>,
           tensor<?x?xi64>, tensor<?x4x?x66xf32>, tensor<?x?x4x64xf32>)
        -> (tensor<?x4x?x66xf32>, tensor<?x?x4x64xf32>)
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$query, LM_TensorOrMemRef:$key,
                       LM_TensorOrMemRef:$value, LM_TensorOrMemRef:$positions,
                       Optional<LM_TensorOrMemRef>:$sinks,
                       LM_TensorOrMemRef:$partials, LM_TensorOrMemRef:$init,
                       F64Attr:$scale, OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<I64Attr>:$chunk_size,
                       OptionalAttr<F64Attr>:$softcap,
                       UnitAttr:$bf16_products, I64Attr:$warps);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions (`sinks` $sinks^)?
    `partials` `(` $partials `)` `outs` `(` $init `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// partials and init: the last two operands.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 2, 2);
    }
    /// Query heads per kv head.
    int64_t getGroupSize();
    /// The inits are only written.
    bool readsInit(::mlir::OpOperand &) { return false; }
    /// No input is known to be read whole before an init is written.
    bool readBeforeWritten(::mlir::OpOperand &, ::mlir::OpOperand &) {
      return false;
    }
  }];
  let hasVerifier = 1;
}

def LM_FlashMLADecodeOp : LM_KernelOp<"flash_mla_decode"> {
  let summary = "lm.mla_attention of one query token per sequence, "
                "weight-absorbed over the latent cache and split over the "
                "keys";
  let description = [{
    `lm.mla_attention` without selected keys (same operands and scale) for
    `query_nope` of one token per sequence (`[B, 1, H, Dn]`), in its
    weight-absorbed form, as three GPU kernels:

    - the absorption writes `query_latent` (`[B, 1, H, R]`, f32):
      `q_lat[h] = sum_j q_nope[h, j] kv_b[h (Dn + Dv) + j, :]`, a block per
      (sequence, head, 32 lanes' 16-byte slices of R), its warps taking
      every `warps`-th j and meeting in shared memory;
    - the partials attend with the latent queries and `query_rope`
      (`[B, 1, H, Dr]`) over the cached `latent` (`[B, S, R]`) and
      `key_rope` (`[B, S, Dr]`): score(h, s) = `scale` * (q_lat[h] .
      latent[s] + q_rope[h] . key_rope[s]) over the keys `[0, position]`,
      the weighted sum of the latents themselves (keys and values are one
      row). As `lm.flash_decode`: the keys are cut into `P` splits
      (`partials` is `[B, H, P, R + 2]`, f32), a block of `warps` warps per
      (sequence, `head_tile` heads, split) reads each latent row once for
      its heads;
    - the combine takes a block per (sequence, head): the splits' latent
      output in shared memory, then projected by the head's value rows of
      `kv_b` (`out[h, e] = sum_r o_lat[h, r] kv_b[h (Dn + Dv) + Dn + e, r]`,
      a warp per column streaming its row) into `init` (`[B, 1, H, Dv]`,
      f32, or bf16 to write the output rounded as `--dtype bf16` rounds
      o_proj's input).

    Results are the three inits on tensors, none on memrefs.

    ```mlir
    %ql, %p, %o = lm.flash_mla_decode %qn, %qr, %lat, %kr, %kvb, %pos
        query_latent(%qlinit) partials(%pinit) outs(%init)
        {scale = 0.125 : f64, warps = 8 : i64, head_tile = 2 : i64}
        : (tensor<?x1x4x16xf32>, tensor<?x1x4x8xf32>, tensor<?x?x32xf32>,
           tensor<?x?x8xf32>, tensor<128x32xbf16>, tensor<?x1xi64>,
           tensor<?x1x4x32xf32>, tensor<?x4x?x34xf32>, tensor<?x1x4x16xf32>)
        -> (tensor<?x1x4x32xf32>, tensor<?x4x?x34xf32>, tensor<?x1x4x16xf32>)
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$query_nope,
                       LM_TensorOrMemRef:$query_rope,
                       LM_TensorOrMemRef:$latent, LM_TensorOrMemRef:$key_rope,
                       LM_TensorOrMemRef:$kv_b, LM_TensorOrMemRef:$positions,
                       LM_TensorOrMemRef:$query_latent,
                       LM_TensorOrMemRef:$partials, LM_TensorOrMemRef:$init,
                       F64Attr:$scale, I64Attr:$warps, I64Attr:$head_tile);
  let assemblyFormat = [{
    $query_nope `,` $query_rope `,` $latent `,` $key_rope `,` $kv_b `,`
    $positions `query_latent` `(` $query_latent `)`
    `partials` `(` $partials `)` `outs` `(` $init `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// query_latent, partials and init: the last three operands.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 3, 3);
    }
    /// The inits are only written.
    bool readsInit(::mlir::OpOperand &) { return false; }
    /// No input is known to be read whole before an init is written.
    bool readBeforeWritten(::mlir::OpOperand &, ::mlir::OpOperand &) {
      return false;
    }
  }];
  let hasVerifier = 1;
}

def LM_FlashAttentionOp : LM_KernelOp<"flash_attention"> {
  let summary = "lm.attention of prompts on tensor cores (flash attention)";
  let description = [{
    `lm.attention` with `bf16_products` (same operands, attributes and
    masks; any token count) as one GPU kernel that never forms the scores
    in memory. The rows of a (sequence, kv head) are its (token, query head
    of the group) pairs, so one read of a key or value serves the whole
    group; a block of `warps` warps takes 16 rows per warp, walks the keys
    any of its rows sees in tiles of 64 through shared memory (rounded to
    bf16 as they are staged), computes scores and weighted values with
    `mma.sync.m16n8k16` (f32 accumulators) and keeps the online softmax
    (running max, sum of weights) in registers; it writes `init`
    (`[B, T, H, Dv]`, f32, or bf16: rounded, as `--dtype bf16` rounds the
    next projection's input).

    The result is the init on tensors, none on memrefs.

    ```mlir
    %o = lm.flash_attention %q, %k, %v, %pos outs(%init)
        {scale = 0.125 : f64, warps = 4 : i64}
        : (tensor<?x?x4x64xf32>, tensor<?x?x2x64xf32>, tensor<?x?x2x64xf32>,
           tensor<?x?xi64>, tensor<?x?x4x64xf32>) -> tensor<?x?x4x64xf32>
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$query, LM_TensorOrMemRef:$key,
                       LM_TensorOrMemRef:$value, LM_TensorOrMemRef:$positions,
                       Optional<LM_TensorOrMemRef>:$sinks,
                       LM_TensorOrMemRef:$init,
                       F64Attr:$scale, OptionalAttr<I64Attr>:$sliding_window,
                       OptionalAttr<I64Attr>:$chunk_size,
                       OptionalAttr<F64Attr>:$softcap, I64Attr:$warps);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions (`sinks` $sinks^)?
    `outs` `(` $init `)` attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// init: the last operand.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 1, 1);
    }
    /// Query heads per kv head.
    int64_t getGroupSize();
    /// The init is only written.
    bool readsInit(::mlir::OpOperand &) { return false; }
    /// No input is known to be read whole before an init is written.
    bool readBeforeWritten(::mlir::OpOperand &, ::mlir::OpOperand &) {
      return false;
    }
  }];
  let hasVerifier = 1;
}

def LM_StreamedLinearOp : LM_KernelOp<"streamed_linear",
                                      [AttrSizedOperandSegments]> {
  let summary = "lm.linear of a few rows with its input's RMS norm as a "
                "prologue and a GLU or residual add as an epilogue (weight "
                "streaming)";
  let description = [{
    `y[r..., n] = bias[n] + sum_k a[r..., k] * weight[n, k]` for every
    row `r` of `input` (`[rows..., K]`), `weight` `[N, K]` static, `bias`
    `[N]`. Without `norm`, `a` is `input`; with it, `a` is
    `lm.rms_norm(input, norm_weight)` with `epsilon` and `weight_offset`.
    `a` is converted to the weight's element type (bf16 or f32) before it is
    multiplied, as `--dtype bf16` rounds a projection's input; products are
    summed in f32. `init` (`[rows..., N]`, f32, or bf16 to round the result
    as `--dtype bf16` rounds the next projection's input; read only with
    `accumulate`) receives

    - `y`, without an epilogue;
    - `lm.glu(y, u)` of kind `glu` (with its `alpha` and `limit`), with
      `up(%u_weight)` (and `up_bias`): `u` is the same projection of `a` by
      `up_weight` `[N, K]`, the GLU's up half;
    - `init + y`, with `accumulate`: `init` holds the residual stream the
      projection adds to (and is read).

    A GPU kernel for few rows (decode): a warp per output column streams
    its weight row (and its up row) with 16-byte loads, `warps` warps per
    block. When `a` differs from `input` (a norm, or rounding to bf16), each
    block first writes `row_group` rows of `a` at a time to shared memory.
    One such op per projection: the norm, the rounding, the GLU and the
    residual add are no kernels of their own.

    ```mlir
    %q = lm.streamed_linear %x, %wq norm(%nw) outs(%init)
        {epsilon = 1.0e-06 : f64, row_group = 4 : i64, warps = 8 : i64}
        : (tensor<?x?x64xf32>, tensor<128x64xbf16>, tensor<64xbf16>,
           tensor<?x?x128xf32>) -> tensor<?x?x128xf32>
    %h = lm.streamed_linear %x, %wg up(%wu) norm(%nw) outs(%init)
        {epsilon = 1.0e-06 : f64, glu = #lm.glu<swiglu>, row_group = 4 : i64,
         warps = 8 : i64}
        : (tensor<?x?x64xf32>, tensor<256x64xbf16>, tensor<256x64xbf16>,
           tensor<64xbf16>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
    %r = lm.streamed_linear %h, %wd outs(%x)
        {accumulate, row_group = 4 : i64, warps = 8 : i64}
        : (tensor<?x?x256xf32>, tensor<64x256xbf16>, tensor<?x?x64xf32>)
        -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$input, LM_TensorOrMemRef:$weight,
                       Optional<LM_TensorOrMemRef>:$bias,
                       Optional<LM_TensorOrMemRef>:$up_weight,
                       Optional<LM_TensorOrMemRef>:$up_bias,
                       Optional<LM_TensorOrMemRef>:$norm_weight,
                       LM_TensorOrMemRef:$init,
                       OptionalAttr<F64Attr>:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_offset,
                       OptionalAttr<LM_GluAttr>:$glu,
                       OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$limit, UnitAttr:$accumulate,
                       I64Attr:$warps, I64Attr:$row_group);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`up` `(` $up_weight^ `)`)?
    (`up_bias` $up_bias^)? (`norm` `(` $norm_weight^ `)`)?
    `outs` `(` $init `)` attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// With `accumulate`, the init holds the residual added to.
    bool readsInit(::mlir::OpOperand &) { return getAccumulate(); }
    /// No input is known to be read whole before an init is written.
    bool readBeforeWritten(::mlir::OpOperand &, ::mlir::OpOperand &) {
      return false;
    }
    /// Whether the kernel stages `a` in shared memory: a norm, or an input
    /// rounded to the weight's type.
    bool stagesRows();
  }];
  let hasVerifier = 1;
}

def LM_TiledLinearOp : LM_KernelOp<"tiled_linear",
                                    [AttrSizedOperandSegments]> {
  let summary = "lm.linear of many rows on Hopper tensor cores with a GLU or "
                "residual add as its epilogue (the wgmma tile)";
  let description = [{
    `y[r..., n] = bias[n] + sum_k input[r..., k] * weight[n, k]` for every
    row `r` of `input` (`[rows..., K]`, bf16), `weight` `[N, K]` bf16 and
    static, `bias` `[N]`; products summed in f32. `init` (`[rows..., N]`,
    f32, or bf16 to round the result as `--dtype bf16` rounds the next
    projection's input; read only with `accumulate`) receives, as
    lm.streamed_linear's,

    - `y`, without an epilogue;
    - `lm.glu(y, u)` of kind `glu` (with its `alpha` and `limit`), with
      `up(%u_weight)` (and `up_bias`): `u` is the projection of `input` by
      `up_weight` `[N, K]`;
    - `init + y`, with `accumulate`.

    The prompt side of a projection (many rows; lm.streamed_linear is the
    decode side): a block per 128-row tile of `input` against 128 rows of
    `weight` (or 64 of `weight` and the same 64 of `up_weight`), copied
    by TMA into swizzled shared memory and multiplied by wgmma, the
    epilogue applied to the accumulators. Its tensor maps need `input`'s
    rows contiguous and 16-byte aligned: K is a multiple of 8, and the input
    is bufferized into a buffer of the identity layout (copied there when
    it is a view). The GLU's gate and up are no tensors of their own.

    ```mlir
    %h = lm.tiled_linear %x, %wg up(%wu) outs(%init) {glu = #lm.glu<swiglu>}
        : (tensor<?x?x64xbf16>, tensor<256x64xbf16>, tensor<256x64xbf16>,
           tensor<?x?x256xbf16>) -> tensor<?x?x256xbf16>
    %r = lm.tiled_linear %h, %wd outs(%res) {accumulate}
        : (tensor<?x?x256xbf16>, tensor<64x256xbf16>, tensor<?x?x64xf32>)
        -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$input, LM_TensorOrMemRef:$weight,
                       Optional<LM_TensorOrMemRef>:$bias,
                       Optional<LM_TensorOrMemRef>:$up_weight,
                       Optional<LM_TensorOrMemRef>:$up_bias,
                       LM_TensorOrMemRef:$init,
                       OptionalAttr<LM_GluAttr>:$glu,
                       OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$limit, UnitAttr:$accumulate);
  let assemblyFormat = [{
    $input `,` $weight (`bias` $bias^)? (`up` `(` $up_weight^ `)`)?
    (`up_bias` $up_bias^)? `outs` `(` $init `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// With `accumulate`, the init holds the residual added to.
    bool readsInit(::mlir::OpOperand &) { return getAccumulate(); }
    /// The tiles are read by many blocks while others write: no input may
    /// share the init's buffer.
    bool readBeforeWritten(::mlir::OpOperand &, ::mlir::OpOperand &) {
      return false;
    }
    /// Whether `operand` must be a buffer of the identity layout (a tensor
    /// map describes it): the input.
    bool needsIdentityLayout(::mlir::OpOperand &operand) {
      return operand.getOwner() == getOperation() &&
             operand.getOperandNumber() == 0;
    }
  }];
  let hasVerifier = 1;
}

def LM_StreamedExpertsOp : LM_KernelOp<"streamed_experts",
                                       [AttrSizedOperandSegments]> {
  let summary = "lm.moe_experts of a few tokens, its input's RMS norm as a "
                "prologue and a residual add as an epilogue (weight "
                "streaming of the chosen experts)";
  let description = [{
    `lm.moe_experts` (same operands and attributes, and its rounding of
    the products' operands to bf16 weights) for few tokens, as two GPU
    kernels that read only the chosen experts' rows. With `norm`, the
    experts' input is `lm.rms_norm(input, norm_weight)` (`epsilon`,
    `weight_offset`); with `accumulate`, `init` (`[B, T, D]`, f32) holds a
    residual the result is added to (and is read), else it is written.

    - The first kernel takes a block of `warps` warps per (token, choice)
      and per `warps` columns of the expert width I: the block stages the
      token's row (normalised, scaled by the routing weight under
      `scale_input`, rounded to the weights' type) in shared memory, and a
      warp per column streams the chosen expert's gate and up rows with
      16-byte loads, then writes the activation to `hidden` (`[B, T, K,
      I]`, of the `down` weights' element type: the down product's operand
      as `lm.moe_experts` rounds it).
    - The second takes a block per token and `warps` columns of D: a warp
      per column streams the K chosen experts' down rows side by side, each
      against its choice's `hidden` row, and writes the routing-weighted
      sum over the choices (plus the residual).

    Results are the two inits on tensors, none on memrefs.

    ```mlir
    %h, %y = lm.streamed_experts %x, %w, %i, %gu, %dn norm(%nw)
        hidden(%hinit) outs(%r)
        {activation = #lm.expert<swiglu>, epsilon = 1.0e-06 : f64,
         accumulate, warps = 8 : i64}
        : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
           tensor<8x64x64xbf16>, tensor<8x64x32xbf16>, tensor<64xbf16>,
           tensor<?x?x2x32xbf16>, tensor<?x?x64xf32>)
        -> (tensor<?x?x2x32xbf16>, tensor<?x?x64xf32>)
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$input, LM_TensorOrMemRef:$weights,
                       LM_TensorOrMemRef:$indices, LM_TensorOrMemRef:$gate_up,
                       LM_TensorOrMemRef:$down,
                       Optional<LM_TensorOrMemRef>:$gate_up_bias,
                       Optional<LM_TensorOrMemRef>:$down_bias,
                       Optional<LM_TensorOrMemRef>:$norm_weight,
                       LM_TensorOrMemRef:$hidden, LM_TensorOrMemRef:$init,
                       LM_ExpertAttr:$activation, OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$limit,
                       UnitAttr:$interleaved_gate_up, UnitAttr:$scale_input,
                       OptionalAttr<F64Attr>:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_offset,
                       UnitAttr:$accumulate, I64Attr:$warps);
  let assemblyFormat = [{
    $input `,` $weights `,` $indices `,` $gate_up `,` $down
    (`biases` $gate_up_bias^ `,` $down_bias)? (`norm` `(` $norm_weight^ `)`)?
    `hidden` `(` $hidden `)` `outs` `(` $init `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// hidden and init: the last two operands.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 2, 2);
    }
    /// With `accumulate`, the init holds the residual added to; `hidden` is
    /// only written.
    bool readsInit(::mlir::OpOperand &init) {
      return getAccumulate() &&
             init.getOperandNumber() + 1 == getOperation()->getNumOperands();
    }
    /// The first kernel reads the input whole before the second writes
    /// `init`: the residual a norm prologue reads can be accumulated into.
    bool readBeforeWritten(::mlir::OpOperand &input, ::mlir::OpOperand &init) {
      return &input == &getInputMutable() &&
             init.getOperandNumber() + 1 == getOperation()->getNumOperands();
    }
    /// Whether the first kernel stages the token's row in shared memory (a
    /// norm, a routing weight to scale by, or rounding to the weights'
    /// type): always but for f32 weights and input as they are.
    bool stagesRows();
    /// The expert width I.
    int64_t getExpertWidth() {
      return ::llvm::cast<::mlir::ShapedType>(getDown().getType())
          .getDimSize(2);
    }
    /// Experts chosen per token.
    int64_t getTopK() {
      return ::llvm::cast<::mlir::ShapedType>(getIndices().getType())
          .getDimSize(2);
    }
  }];
  let hasVerifier = 1;
}

def LM_GroupedExpertsOp : LM_KernelOp<"grouped_experts",
                                      [AttrSizedOperandSegments]> {
  let summary = "lm.moe_experts of many tokens as grouped GEMMs on tensor "
                "cores, the (token, choice) pairs sorted by expert";
  let description = [{
    `lm.moe_experts` (same operands and attributes, bf16 weights, and its
    rounding of the products' operands to bf16) for prompts and batches,
    as five GPU kernels over the (token, choice) pairs grouped by expert:

    - a sort: the pairs counted per expert, each expert's pairs a segment
      of the P = B x T x top_k sorted rows (in expert order), cut into
      tiles of up to 128 rows; `order[r]` is the pair (`(b * T + t) *
      top_k + k`) at sorted row r, `tiles[j] = [expert, first row, end
      row]` tile j (expert -1 past the last tile), `slots[b, t, k]` the
      sorted row of a pair;
    - a gather: `rows[r]` the pair's input row (times its routing weight
      under `scale_input`) rounded to bf16;
    - the gate/up GEMM: per tile, its rows against its expert's gate and up
      rows (wgmma), the activation of the biased sums rounded to bf16 into
      `hidden[r]`;
    - the down GEMM: `expert_out[r]` = bias + the tile's hidden rows against
      its expert's down rows (f32);
    - a combine: per token, the routing-weighted sum over its choices
      (unweighted under `scale_input`) of their `expert_out` rows, written
      to `init` (added to it with `accumulate`).

    A tile reads 128 rows from its first: those past its end are the next
    expert's (or zeros past P), computed and not stored. The tile table
    must hold the most tiles there can be: ceil(P / 128) + min(E, P) (a
    partial tile per expert chosen at all). Results are the inits on
    tensors, none on memrefs.

    ```mlir
    %o, %j, %s, %x16, %h, %y, %out = lm.grouped_experts %x, %w, %i, %gu, %dn
        schedule(%order, %tiles, %slots) rows(%rows) hidden(%hid)
        expert_out(%eo) outs(%r) {activation = #lm.expert<swiglu>, accumulate}
        : (tensor<?x?x64xf32>, tensor<?x?x2xf32>, tensor<?x?x2xi64>,
           tensor<8x64x64xbf16>, tensor<8x64x32xbf16>, tensor<?xi32>,
           tensor<?x3xi32>, tensor<?x?x2xi32>, tensor<?x64xbf16>,
           tensor<?x32xbf16>, tensor<?x64xf32>, tensor<?x?x64xf32>)
        -> (tensor<?xi32>, tensor<?x3xi32>, tensor<?x?x2xi32>,
            tensor<?x64xbf16>, tensor<?x32xbf16>, tensor<?x64xf32>,
            tensor<?x?x64xf32>)
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$input, LM_TensorOrMemRef:$weights,
                       LM_TensorOrMemRef:$indices, LM_TensorOrMemRef:$gate_up,
                       LM_TensorOrMemRef:$down,
                       Optional<LM_TensorOrMemRef>:$gate_up_bias,
                       Optional<LM_TensorOrMemRef>:$down_bias,
                       LM_TensorOrMemRef:$order, LM_TensorOrMemRef:$tiles,
                       LM_TensorOrMemRef:$slots, LM_TensorOrMemRef:$rows,
                       LM_TensorOrMemRef:$hidden,
                       LM_TensorOrMemRef:$expert_out, LM_TensorOrMemRef:$init,
                       LM_ExpertAttr:$activation, OptionalAttr<F64Attr>:$alpha,
                       OptionalAttr<F64Attr>:$limit,
                       UnitAttr:$interleaved_gate_up, UnitAttr:$scale_input,
                       UnitAttr:$accumulate);
  let assemblyFormat = [{
    $input `,` $weights `,` $indices `,` $gate_up `,` $down
    (`biases` $gate_up_bias^ `,` $down_bias)?
    `schedule` `(` $order `,` $tiles `,` $slots `)` `rows` `(` $rows `)`
    `hidden` `(` $hidden `)` `expert_out` `(` $expert_out `)`
    `outs` `(` $init `)` attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The seven scratch and output buffers: the last operands.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 7, 7);
    }
    /// With `accumulate`, the init holds the residual added to; the scratch
    /// is only written (each kernel writes what the next reads).
    bool readsInit(::mlir::OpOperand &init) {
      return getAccumulate() &&
             init.getOperandNumber() + 1 == getOperation()->getNumOperands();
    }
    /// The gather reads the input whole before the combine writes `init`.
    bool readBeforeWritten(::mlir::OpOperand &input, ::mlir::OpOperand &init) {
      return &input == &getInputMutable() &&
             init.getOperandNumber() + 1 == getOperation()->getNumOperands();
    }
    /// The expert width I.
    int64_t getExpertWidth() {
      return ::llvm::cast<::mlir::ShapedType>(getDown().getType())
          .getDimSize(2);
    }
    /// Experts chosen per token.
    int64_t getTopK() {
      return ::llvm::cast<::mlir::ShapedType>(getIndices().getType())
          .getDimSize(2);
    }
    /// Rows of a tile at most (the GEMMs' tile).
    static constexpr int64_t kTileRows = 128;
    /// The tiles a schedule needs at most for `pairs` (token, choice) pairs
    /// over `experts` experts: a partial tile per expert chosen at all.
    static int64_t maxTiles(int64_t pairs, int64_t experts) {
      return (pairs + kTileRows - 1) / kTileRows + std::min(experts, pairs);
    }
  }];
  let hasVerifier = 1;
}

def LM_WarpRouterOp : LM_KernelOp<"warp_router"> {
  let summary = "lm.router with a warp per token";
  let description = [{
    `lm.router` (same operands and attributes: scoring, correction bias,
    group-limited top-k, normalisation, scaling) as a GPU kernel: a warp
    routes each token, every lane holding the scores of experts `lane`,
    `lane + 32`, ...; maxima and sums across the warp by shuffles; the
    kept groups and the top-k chosen one by one, each by a warp-wide
    arg-max that takes the lowest index among equal values (as lm.router's
    serial scan does). Up to 256 experts. `weights` (`[B, T, top_k]`, f32)
    and `indices` (`[B, T, top_k]`, i64) are written, not read.

    ```mlir
    %w, %i = lm.warp_router %logits bias %b outs(%winit, %iinit)
        {scoring = #lm.scoring<sigmoid>, top_k = 2 : i64, num_groups = 4 : i64,
         top_k_groups = 2 : i64, normalize, routed_scaling = 2.5 : f64}
        : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<?x?x2xf32>,
           tensor<?x?x2xi64>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
    ```
  }];
  let arguments = (ins LM_TensorOrMemRef:$logits,
                       Optional<LM_TensorOrMemRef>:$correction_bias,
                       LM_TensorOrMemRef:$weights_init,
                       LM_TensorOrMemRef:$indices_init,
                       LM_ScoringAttr:$scoring, I64Attr:$top_k,
                       DefaultValuedAttr<I64Attr, "1">:$num_groups,
                       DefaultValuedAttr<I64Attr, "1">:$top_k_groups,
                       UnitAttr:$normalize,
                       DefaultValuedAttr<F64Attr, "0.0">:$normalize_epsilon,
                       DefaultValuedAttr<F64Attr, "1.0">:$routed_scaling);
  let assemblyFormat = [{
    $logits (`bias` $correction_bias^)?
    `outs` `(` $weights_init `,` $indices_init `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// weights and indices: the last two operands.
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 2, 2);
    }
    /// The inits are only written.
    bool readsInit(::mlir::OpOperand &) { return false; }
    /// No input is known to be read whole before an init is written.
    bool readBeforeWritten(::mlir::OpOperand &, ::mlir::OpOperand &) {
      return false;
    }
    /// Experts a warp routes at most: eight per lane.
    static constexpr int64_t kMaxExperts = 256;
  }];
  let hasVerifier = 1;
}

#endif // LMC_DIALECT_LM_LMKERNELOPS_TD
