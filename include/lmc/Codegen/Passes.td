//===- Passes.td - Lowering passes of lmc -------------------*- tablegen -*-===//

#ifndef LMC_CODEGEN_PASSES_TD
#define LMC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerStatePass : Pass<"lm-lower-state", "mlir::ModuleOp"> {
  let summary = "Turn inference state into runtime-owned buffers";
  let description = [{
    Rewrites `@forward` so every state argument becomes one or more memref
    arguments the runtime owns for the whole generation (a KV cache becomes a
    keys and a values buffer of `[batch, max_context, heads, dim]`, a latent
    cache a latent and a rotary-key buffer, a key cache one buffer). The
    updated state is no longer returned: the buffers are updated in place.
    Each new argument carries `lm.state` (its name and role) and has the
    state's element type: a cache update rounds what it writes to it, and
    what it reads is converted to the type of the update's result.

    A call runs a ragged batch: two per-call arguments join the positions
    (names in `lmc/Dialect/LM/ForwardAbi.h`): `lengths` (`[B]`, the tokens
    sequence `b` holds in this call, its first `lengths[b]`; the rest of its
    row is padding) and `context` (an `index`: the cache slots the call
    reads, at least every held token's position + 1). Every cache update
    becomes a write of each held token at its own position (padding writes
    nothing) plus a read of slots `0 .. context-1`; attention masks by
    position, so each sequence sees only its own tokens. The recurrent
    mixers get the `lengths`, so padding leaves their state as it is.
    `context` is a host value: GPU host code never reads a position back.

    Before:
    ```mlir
    func.func @forward(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>, ...)
    %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos : ...
    ```
    After:
    ```mlir
    func.func @forward(%ids: tensor<?x?xi64>, %pos: tensor<?x?xi64>,
                       %lengths: tensor<?xi64>, %context: index, ...)
    // for b, t with t < lengths[b]: %keys[b, pos[b, t]] = %k[b, t], then
    %ks = bufferization.to_tensor %keys_0_to_context restrict : ...
    ```
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def LowerStridedCopiesPass : InterfacePass<"lm-lower-strided-copies",
                                          "mlir::FunctionOpInterface"> {
  let summary = "Turn memref.copy of strided views into linalg.copy";
  let description = [{
    Bufferization copies into and out of subviews (concatenations, state
    windows). The LLVM lowering turns a `memref.copy` with a non-identity
    layout into a call to a runtime helper (`memrefCopy`) that generated code
    must not depend on; as a `linalg.copy` it becomes plain loops.
    Contiguous copies stay `memref.copy` (they become `memcpy`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def FuseElementwisePass : InterfacePass<"lm-fuse-elementwise",
                                       "mlir::FunctionOpInterface"> {
  let summary = "Fuse elementwise producers into consumers that iterate "
                "their loops, never extra ones";
  let description = [{
    Upstream elementwise fusion (`linalg-fuse-elementwise-ops`) with one
    rule: a producer is fused into a consumer only when the consumer's loops
    are the producer's (same number of loops). Fusing an activation into
    the projection that reads it (a GLU into the down projection) would
    otherwise recompute the activation once per output feature: in
    SmolLM2-135M, 26.5 million `expf` per token instead of 46 thousand.

    And one fusion upstream does not make: an elementwise producer that its
    only consumer reads at its own element and at others through
    `tensor.extract` (a rotary embedding reading each channel's partner of
    a normalised head) is inlined at each read, the fused nest placed where
    the producer was.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FoldAddIntoReductionPass : InterfacePass<"lm-fold-add-into-reduction",
                                             "mlir::FunctionOpInterface"> {
  let summary = "Start a sum from the value added to it";
  let description = [{
    `x + s` where `s` is a `linalg.generic` sum (`yield(addf(out, v))`)
    whose output a zero fill initialises, and `s` is used only by the add:
    the sum takes `x` as its init instead and the add goes. A residual add
    after a projection (attention output, MLP down projection, MoE combine)
    stops being a kernel of its own on the GPU and a pass over the hidden
    states on the host. The sum's order changes (x first), not its terms.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def LowerToLinalgPass : Pass<"lm-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower lm compute ops to linalg, tensor, arith, math and scf";
  let description = [{
    Each lm op becomes structured ops on tensors: pointwise ops and norms
    become `linalg.generic`s (fusable by upstream elementwise fusion),
    projections become contractions, attention a chain of contractions and
    reductions with the mask computed from the positions; routers and expert
    dispatch, whose control flow depends on data, become loops over buffers.
    Weights must already be function arguments (`lm-weights-to-arguments`)
    and state lowered (`lm-lower-state`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def WeightsToArgumentsPass : Pass<"lm-weights-to-arguments", "mlir::ModuleOp"> {
  let summary = "Turn weight references into arguments of @forward";
  let description = [{
    Replaces every distinct `lm.weight` / `lm.stacked_weight` of `@forward`
    by a new function argument of the same tensor type, annotated with
    `lm.weight = "name"` (or `lm.stacked_weight = [patterns]`) so the
    artifact can bind the runtime's weight buffers to it.
  }];
}


def MapToGPUPass : Pass<"lm-map-to-gpu", "mlir::func::FuncOp"> {
  let summary = "Split bufferized loops into GPU kernels and host control";
  let description = [{
    Runs on a bufferized function whose structured ops are parallel loops
    (`convert-linalg-to-parallel-loops`). Afterwards the function body only
    orchestrates: every access to a buffer happens inside a `gpu.launch`,
    buffers are `gpu.alloc`ed, and the host reads device memory only through
    `gpu.memcpy`.

    - An outermost `scf.parallel` becomes one launch: its iteration space is
      linearised onto a 1-D grid of 256-thread blocks (consecutive threads
      take consecutive innermost iterations, so accesses coalesce), each
      thread delinearises its index and runs the body once; sequential
      loops inside the body (reductions) stay in the thread.
    - Host control flow that contains parallel loops (`scf.if`, `scf.for`)
      stays on the host and its regions are mapped the same way.
    - Any other operation that touches memory (a loop nest over buffers
      without parallel loops, such as a router's per-token loop) runs as a
      single-thread kernel: correct, and the place to add parallelism.
    - `memref.copy` becomes a copy kernel; `memref.alloc`/`dealloc` become
      `gpu.alloc`/`gpu.dealloc`.
    - A scalar the host loads from a weight or an input (never written by
      the function) is re-loaded inside the kernels that use it; any other
      host load goes through a one-element device buffer and `gpu.memcpy`.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def PrivatizeFillsPass : Pass<"lm-privatize-fills", "mlir::func::FuncOp"> {
  let summary = "Give every user of a filled tensor its own fill";
  let description = [{
    CSE merges identical `linalg.fill`s of empty tensors, so one filled
    tensor becomes the init of several reductions; bufferization must then
    copy it for each in-place writer (an allocation, a fill and a copy per
    reduction instead of an allocation and a fill). This clones the fill
    (and its `tensor.empty`) for each use. Run just before bufferization.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ElideCopiesPass : Pass<"lm-elide-copies", "mlir::func::FuncOp"> {
  let summary = "Write temporaries straight into the state or output they "
                "are copied to";
  let description = [{
    Runs on bufferized code. A `linalg.copy` / `memref.copy` of a whole
    temporary (a `memref.alloc` of the function body, or an
    `expand_shape` / `collapse_shape` of one) into a view of a function
    argument (a cache window, the logits output): when the temporary's
    other users are structured ops before the copy and nothing between its
    first user and the copy reads or writes any view of that argument, the
    users write the destination instead (reshaped back to the temporary's
    shape if a reshape was in between,
    recomputed before the first user) and the copy, the reshape and the
    temporary go. On the GPU each elided copy is one kernel less per layer.
    A temporary that bufferization reuses for the same value of every layer
    is rewritten one part of its life at a time: from its last full
    overwrite before the copy (a fill, a copy, an all-parallel generic not
    reading its output) to the copy, when the next use after the copy
    overwrites it again.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def FoldScatterCopiesPass
    : Pass<"lm-fold-scatter-copies", "mlir::func::FuncOp"> {
  let summary = "Stores into a temporary also do the scatter that copies it";
  let description = [{
    Runs on loops (after the kernels are mapped on the GPU, after
    `convert-linalg-to-loops` on the host). `lm-lower-state` writes a cache
    update as a scatter: an `scf.parallel` over the whole of a temporary
    (the new keys, values or latents, possibly reshaped) that loads each
    element at the loop's indices and stores it, converted, at a place it
    computes (the sequence's position, when the sequence holds the token).
    Every `memref.store` (or 1-D `vector.store`) into the temporary, or
    into a reshape of it, is followed by the loop's body for that element,
    its indices mapped through the reshapes (linearised or delinearised
    over static sizes): the ops that compute the temporary write the cache
    themselves, and the loop goes; the temporary's stores go too when
    nothing else reads it. Done when the loop's other loads and its stores
    are of other buffers, nothing between the temporary's first writer and
    the loop touches a buffer the loop stores to or writes one it reads,
    and the values the loop's body uses from outside are known before the
    first writer. On the GPU each fold is one kernel less per cache per
    layer; on the host, one pass over the new tokens.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

def PlanArenaPass : Pass<"lm-plan-arena", "mlir::func::FuncOp"> {
  let summary = "Place a function's temporaries in one arena, by liveness";
  let description = [{
    Runs on bufferized code after buffer deallocation (and canonicalize,
    which removes its `scf.if %true` guards). Deallocation frees every
    temporary at the end of the block, so all activations of a forward pass
    would be live at once; this pass gives each `memref.alloc` of the
    function body a slot of one `memref<?xi8>` arena instead, by liveness
    (its last use, through views, nested uses counted at the op of the body
    that holds them). Temporaries that are never live at once share a
    slot (reused only three memory-touching ops after its last reader, the
    one free the longest first, so reuse does not order kernels that
    lm-merge-launches could run together); a slot is as large as its
    largest tenant; slots start at multiples of 256 bytes. The slot sizes are computed where the first
    temporary is allocated, from the dynamic sizes traced back through
    `memref.dim` of views and allocations and pure arithmetic; each
    temporary becomes a `memref.view` of the arena at its slot's offset.

    A temporary allocated in a region of an op of the body that runs its
    regions one at a time (`scf.if`, `for`, `while`: a kernel choice's
    branches) lives, for the plan, as long as that op. The allocations the
    branches of a kernel choice each yield as one result (through casts and
    nested choices) are one temporary, live until the result's last use;
    its deallocation through the base buffer goes. Sizes computed inside a
    branch are recomputed before it (an unsigned division with its divisor
    kept at least 1), and a choice's result has the size its branches agree
    on. The arena's allocation carries `lm.arena` (lm-take-workspace).

    A temporary whose sizes cannot be computed there, or whose element type
    has no fixed size, keeps its allocation and is freed right after its
    last use. One whose views escape otherwise (returned) or that is freed
    elsewhere is left alone, as are allocations in parallel loop bodies.
  }];
  let options = [
    Option<"useArena", "use-arena", "bool", /*default=*/"true",
           "Slots of one arena; if false, every temporary keeps its "
           "allocation and is freed after its last use">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TakeWorkspacePass : Pass<"lm-take-workspace", "mlir::ModuleOp"> {
  let summary = "Make @forward's arena an argument the caller reserves, and "
                "its size a function of the call's shapes";
  let description = [{
    Runs on the GPU's host code once the arena (lm-plan-arena's allocation
    marked `lm.arena`, a `gpu.alloc` by then) is final. The arena becomes
    @forward's last argument, `memref<?xi8>` named `workspace`, and its
    deallocation goes; the computation of its size is cloned into
    `@forward_workspace_bytes`, a function of the same arguments returning
    the bytes. The runtime calls it when a session is created, for the
    largest call the session allows, reserves that much device memory once,
    and checks each call against it: no step allocates. The size may only
    depend on the arguments' shapes and scalars (`memref.dim` of arguments
    and pure arithmetic), and must not shrink as the call's tokens (the
    second dimension of the per-call arguments) or context grow: where they
    enter it, only sums, products, maxima, minima and divisions by what
    does not grow; anything else is an error. A @forward without
    temporaries takes a workspace of 0 bytes.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def CastToBF16Pass : Pass<"lm-cast-to-bf16", "mlir::ModuleOp"> {
  let summary = "bf16 weights, and bf16 inputs to the projections that use them";
  let description = [{
    What `lmc compile --dtype bf16` means, in the IR. Every f32 `lm.weight` /
    `lm.stacked_weight` becomes bf16 (the lowerings widen weights where
    they read them; the runtime rounds f32 checkpoint tensors to bf16,
    nearest even, once at load), halving weight memory and traffic. The
    input of every `lm.linear` with a bf16 weight is rounded to bf16
    (`arith.truncf`, one per distinct input, right after it is computed):
    the product of two bf16 values is exact in f32, so each projection is a
    bf16 x bf16 product with f32 accumulation, the contract tensor cores
    implement, and every kernel that computes it (a tensor-core tile for
    prompts, a weight-streaming reduction for decode, the host) computes the
    same thing up to the order of the sum. Every `lm.attention` gets
    `bf16_products`: its two products (scores, weighted values) take bf16
    operands as well, so prompts can run flash attention on tensor cores;
    its softmax statistics stay f32; every `lm.mla_attention` likewise
    (its expanded, prompt form). What a latent or key cache update
    writes (MLA's latents and rotary keys, indexer keys) is rounded to
    bf16, the value a bf16 cache stores; a KV cache's k and v need no
    rounding, attention's products round them where they read them. So
    `lm-set-cache-types` can store every one of these caches in bf16
    exactly. Norms and the residual stream stay f32, as do MLA's absorbed
    (decode) products and the compressed attentions', for now.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def SetCacheTypesPass : Pass<"lm-set-cache-types", "mlir::ModuleOp"> {
  let summary = "Choose the element type each cache stores";
  let description = [{
    What `lmc compile --kv-dtype` means, in the IR. The importer types a
    cache with the checkpoint's dtype, the size `lmc inspect` reports for a
    model; what a compiled model stores is this pass's choice, and
    `lm-lower-state` allocates each cache's buffers in its element type.
    Every `!lm.kv_cache` (attention's keys and values), `!lm.latent_cache`
    (MLA's latents and rotary keys) and `!lm.key_cache` (the sparse
    indexer's keys, DeepSeek-V4's window) stores `kv-dtype`; with bf16, what
    an update reads back becomes a bf16 tensor where only attention ops
    (`lm.attention`, `lm.mla_attention`, `lm.lightning_indexer`, which
    widen what they read) read it, so they read the stored values where
    they are instead of a widened copy (the update rounds what it writes,
    nearest even). Under `--dtype bf16` what these caches store is read
    as bf16 anyway (attention's bf16 products round k and v;
    `lm-cast-to-bf16` rounds what the latent and key caches store), so a
    bf16 cache changes no result and halves the cache's memory and its
    reads. Compressed caches store
    f32 whatever their imported type (their entries are pooled in f32);
    recurrent state always stays f32 (it accumulates).

    Before (`kv-dtype=bf16`):
    ```mlir
    %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos
        : (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, ...)
        -> (!lm.kv_cache<2 x 16 x 16, f32>, tensor<?x?x2x16xf32>, ...)
    ```
    After:
    ```mlir
    %c1, %ks, %vs = lm.kv_cache_update %c0, %k, %v, %pos
        : (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xf32>, ...)
        -> (!lm.kv_cache<2 x 16 x 16, bf16>, tensor<?x?x2x16xbf16>, ...)
    ```
  }];
  let options = [
    Option<"kvDtype", "kv-dtype", "std::string", /*default=*/"\"f32\"",
           "Element type of every !lm.kv_cache: f32 or bf16">,
  ];
}

def SelectGPUKernelsPass : Pass<"lm-select-gpu-kernels", "mlir::ModuleOp"> {
  let summary = "Choose GPU kernel templates for lm ops, by phase and shape";
  let description = [{
    The one place that decides which `lm` op runs as which GPU kernel
    template, while the op still says what it computes (after
    `lm-lower-state`, before `lm-lower-to-linalg`). An op it claims becomes
    an `scf.if` on the phase (the token count: 1 is a decode step) whose
    branch for the claimed phase holds the template's kernel op (LMKernelOps.td)
    with its configuration, and whose other branch keeps the op for today's
    generic path. Sizes come from the target (GPU/TargetInfo.h).

    Claimed today:

    - `lm.attention` at decode with an f32 result, when its heads and head
      dims are static, a lane's registers for its query-head group
      (ceil(D / 32) elements of each query and value sum) stay within 128
      values and the block's combine fits static shared memory:
      `lm.flash_decode` with 8 warps per block, the visible keys cut into
      `min(ceil(4 * SMs / (B * Hkv)), ceil(S / 32))` splits (enough blocks
      to cover the SMs, at least 4 keys per warp).
    - `lm.attention` of prompts (more than one token) with `bf16_products`
      (`--dtype bf16`), when its heads and head dims are static, the key dim
      at most 256 and the value dim at most 128 (a lane's registers; a tile
      of 64 keys and values then takes at most 56 KB of dynamic shared
      memory):
      `lm.flash_attention` with 4 warps per block (64 rows of (token, query
      head) pairs of one kv head). With flash decoding claimed as well, the
      branch on the phase holds both kernels; alone, it serves every phase.
      Where only the bf16 rounding of its merged heads reads the attention
      (o_proj's input under `--dtype bf16`), the kernels write bf16 into
      one output allocated before the branch and the rounding goes.
    - `lm.mla_attention`: at decode, `lm.flash_mla_decode` (the absorbed
      form over the latent cache) when a head tile's latent query and sum
      fit a lane's registers; of prompts with `bf16_products` and no
      selected keys, its expanded form (MLAPromptForm.h: kv_b's projection
      of the latents as one `lm.linear`, keys `[k_nope || k_rope]`) on
      `lm.flash_attention`, every head its own kv head (DeepSeek's Dk 192
      and Dv 128 take 48 KB and 32 bytes of dynamic shared memory). Both
      write one output allocated before the branch.
    - every `lm.router` of at most 256 experts, 16 groups and 16 choices
      with f32 weights, whatever the token count: `lm.warp_router` (no
      branch).
    - an `lm.rms_norm` whose result feeds only `lm.linear`s (directly, or
      rounded to bf16 under `--dtype bf16`) of static weights, below 16 rows
      (`rows = B * T`, decode at small batches): each linear an
      `lm.streamed_linear` with the norm as its prologue, 8 warps and 4 rows
      per pass over the weight, when the 4 normalised rows fit static
      shared memory. The norm is then no kernel of its own; the linears'
      launches merge into one (lm-merge-launches).

    With `explain`, each op a template could serve but refuses gets a
    remark saying why (a lane's registers, shared memory, the dtype).
  }];
  let options = [
    Option<"explain", "explain", "bool", /*default=*/"false",
           "Remark on each op a template refuses, with the reason">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def MapKernelOpsToGPUPass
    : Pass<"lm-map-kernel-ops-to-gpu", "mlir::func::FuncOp"> {
  let summary = "Build the launches of the kernel ops lm-select-gpu-kernels chose";
  let description = [{
    Runs on bufferized functions (after `lm-plan-arena`, so the templates'
    scratch buffers are arena slots). Each kernel op on memrefs becomes its
    template's `gpu.launch`es at its place (GPU/Kernels/): `lm.flash_decode`
    one launch of the split partials (shared memory for the combine of a
    block's warps) and one combining the splits (FlashDecode.cpp);
    `lm.flash_attention` one launch of 4-warp blocks staging key and value
    tiles in shared memory (FlashAttention.cpp); `lm.warp_router` a warp per
    token (WarpRouter.cpp); `lm.streamed_linear` one weight-streaming launch, its normalised rows
    staged in shared memory (WeightStreaming.cpp); `lm.streamed_experts`
    two weight-streaming launches (StreamedExperts.cpp); `lm.flash_mla_decode`
    the absorption, the partials and the combine (FlashMLADecode.cpp);
    `lm.grouped_experts` the sort, the gather, two wgmma GEMMs (TMA copies
    through tensor maps made on the host) and the combine
    (GroupedExperts.cpp). A kernel op still on tensors is an error.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

def MapProjectionsToGPUPass
    : Pass<"lm-map-projections-to-gpu", "mlir::func::FuncOp"> {
  let summary = "Run projections with the kernel template for their row "
                "count";
  let description = [{
    Runs on bufferized functions, before `lm-map-reductions-to-gpu`. A
    `linalg.generic` computing `out[rows..., n] += x[rows..., k] * w[n, k]`
    with a static row-contiguous weight `w` and `x` contiguous along `k`,
    both bf16 (extended to f32, the form `lm-cast-to-bf16` gives
    projections) or both f32, becomes a choice made on the host by the row
    count:

    - fewer than 16 rows (decode): weight streaming, a warp per output
      column reading its weight row with 16-byte loads per lane, four in
      flight, rows of `x` four at a time (each load applied to every row
      of the group), partials summed by shuffles
      (GPU/Kernels/WeightStreaming.cpp);
    - 64 rows or more, bf16 (and operands a tensor map can describe):
      128 x 128 output tiles per block of three warpgroups, one issuing TMA
      copies of x's and w's tiles into a four-stage ring of 128-byte
      swizzled shared memory, two issuing `wgmma.mma_async` m64n128k16
      (f32 accumulators), stages handed over by mbarriers; the tensor maps
      made on the host (GPU/Kernels/WgmmaTile.cpp);
    - 16 rows or more otherwise, bf16: a launch whose warps each compute a
      16 x 32 tile with `nvvm.mma.sync` m16n8k16 (f32 accumulation; operands
      read straight from global memory, 16 bytes per lane, K in chunks of
      32; blocks of 2 x 2 warps) (GPU/Kernels/MmaSyncTile.cpp);
    - 16 rows or more, f32: the generic as it was, for the reduction
      mapping (the f32 mode stays exact: no tensor cores).

    A fill that gives the output its initial value starts the kernels'
    sums instead (and goes); in the f32 branch it stays next to the generic.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def MapReductionsToGPUPass : Pass<"lm-map-reductions-to-gpu", "mlir::func::FuncOp"> {
  let summary = "Run reducing linalg.generics as one warp per output element";
  let description = [{
    Runs on bufferized functions, before `lm-map-to-gpu`. A `linalg.generic`
    with reduction loops, one f32 output and a body that folds one value per
    iteration into the output with an associative combiner (`addf`,
    `maximumf`, `minimumf`, `maxnumf`, `minnumf`) becomes a `gpu.launch`
    where each warp owns one output element: its 32 lanes stride through the
    (linearised) reduction space, innermost dimension fastest, so the reads
    of a contiguous reduction dimension (the K of a projection, the keys of
    attention) coalesce; partial results meet through five xor shuffles and
    lane 0 folds them into the output. Eight warps per block; outputs are
    linearised innermost first. When the output is a fresh buffer filled
    just before (and seen by nothing in between), lane 0 folds into the fill
    value instead and the fill goes: one kernel and one pass over the output
    fewer. An all-parallel generic right after it that rewrites the output
    in place element for element (reading the output only at that element,
    other inputs from other buffers: attention's scale and mask) becomes
    lane 0's epilogue, and its kernel goes. An all-parallel generic right
    after it that reads the result broadcast over the reduced dimensions
    (through the reduction's output map) and iterates the reduction's loops
    (it reads one of the reduction's inputs through the same permutation
    map), writing neither that input nor the result (a norm's scaling), is
    written by the warp itself, every lane holding the result after the
    butterfly: a row consumer (only after a reduction from a fill). With a
    static reduction size that is a multiple of u warp widths (u = 8, 4, 2)
    a loop trip takes u of a lane's iterations (their loads issue together,
    they fold in the same order); a row consumer's trip loads first, then
    stores. Norm statistics, softmax statistics, attention contractions, MoE
    experts and f32 prompt projections take this form; other generics are
    left to `lm-map-to-gpu` (one thread per output element).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def MergeLaunchesPass : Pass<"lm-merge-launches", "mlir::func::FuncOp"> {
  let summary = "Run independent neighbouring kernels as one launch";
  let description = [{
    Runs after lm-map-to-gpu. Two `gpu.launch` ops of the same block, with
    only memory-effect-free host ops (and tensor maps) between them, 1-D
    grids and constant 1-D blocks of the same size and the same dynamic
    shared memory (a constant, or none), where neither writes memory the
    other reads or writes (a TMA copy reads the buffer its tensor map was
    made of), become one launch over the sum of their grids: blocks
    below the first grid's size run the first body, the others the second
    with their block index shifted. Runs of them merge into one. Memory is
    told apart by root: an allocation, a function argument (the runtime
    passes distinct buffers), or a slot of lm-plan-arena's arena (its
    offset value). Decode at batch 1 is bound by launch latency; this
    merges a layer's q, k and v projections, its gate and up projections,
    its q and k norms. First, consecutive resultless `scf.if`s on the same
    condition (the projections' kernel choices on their row count) with
    only memory-effect-free ops between them (which move above them)
    become one, so the kernels in their branches are neighbours.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def MergeGPUModulesPass : Pass<"lm-merge-gpu-modules", "mlir::ModuleOp"> {
  let summary = "Merge outlined kernel modules into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` puts each kernel in its own `gpu.module`; this
    moves every kernel (and the globals they use) into one module,
    `@lmc_kernels`, renaming kernels after their former module and updating
    the launches. One module means one PTX file, one ptxas run and one
    module load at run time instead of one per kernel. Each kernel's
    shared-memory buffers are aligned to 16 bytes (`llvm.align`), as the
    templates' vector loads from them assume. A kernel identical to an
    earlier one (its text but for the name: the same template and shapes,
    as a model's layers launch) is dropped and its launches take the
    earlier one's name, so each distinct kernel is compiled once.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def GPUStreamOrderPass : Pass<"lm-gpu-stream-order", "mlir::func::FuncOp"> {
  let summary = "Order a function's GPU work on one stream; the host waits "
                "only to read what the GPU wrote for it";
  let description = [{
    Runs on host code after kernel outlining, in place of upstream
    `gpu-async-region`, whose host waits at every block boundary and before
    every op with side effects cost two waits per `scf.if` that chooses a
    kernel. The runtime runs a model's GPU work on one in-order stream (every
    `mgpuStreamCreate` returns it and `mgpuStreamDestroy` keeps it), so
    program order is execution order: every `gpu.launch_func`, `gpu.alloc`,
    `gpu.dealloc` and `gpu.memcpy` becomes asynchronous with the one stream
    created at the function's entry as its dependency, and a host wait
    (`gpu.wait`) follows only each `gpu.memcpy` into host memory (the scalar
    the host reads back). The function returns with work queued: the caller
    synchronises before it reads the outputs.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // LMC_CODEGEN_PASSES_TD
