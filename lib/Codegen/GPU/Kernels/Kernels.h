//===- Kernels.h - The kernel templates -------------------------*- C++ -*-===//
//
// One file per template. The projection templates are chosen by
// lm-map-projections-to-gpu; the others stand for a kernel op that
// lm-select-gpu-kernels chose at the lm level (lm-map-kernel-ops-to-gpu).
//
// A projection template builds one `gpu.launch` for a projection
// (Projection.h) at the builder's insertion point, specialised to its static
// N and K; the rows are dynamic. `init` is the output's initial value when a
// fill gave it one (the fill then goes); without it the kernel adds to the
// output (a residual folded into the projection).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_KERNELS_KERNELS_H
#define LMC_CODEGEN_GPU_KERNELS_KERNELS_H

#include "../Projection.h"
#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::lm::gpu_mapping {

/// An index constant, as the templates' arithmetic needs many.
inline Value index(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// `value` combined with its copies on the lanes `offsets` away (xor
/// shuffles), in that order.
Value acrossLanes(OpBuilder &b, Location loc, Value value,
                  ArrayRef<int64_t> offsets,
                  function_ref<Value(Value, Value)> combine);

/// `if (condition) body()`, the builder back after the branch.
void ifThen(OpBuilder &b, Location loc, Value condition,
            function_ref<void()> body);

/// `value` summed across the warp: every lane gets the total.
Value warpSum(OpBuilder &b, Location loc, Value value);

/// The keys [lo, end) (i64; none when end <= lo) that a query at position
/// `pos` (i64) sees among `keys`: [0, pos], cut to the keys there are, and
/// below by the sliding window (pos - W, pos] and the chunk
/// [pos - pos % C, pos]. lm.attention's mask is this one range, so the
/// attention templates never read a masked key.
std::pair<Value, Value> visibleKeys(OpBuilder &b, Location loc, Value pos,
                                    Value keys, std::optional<uint64_t> window,
                                    std::optional<uint64_t> chunk);

/// exp(x - max), or 0 where x is -inf: an online softmax's weight of a
/// score (a masked key gets none, and a running maximum of no key yet, -inf
/// itself, rescales what it has to nothing).
Value softmaxWeight(OpBuilder &b, Location loc, Value x, Value max);

/// The buffer `view` is a window of at static offsets (subviews of the same
/// rank with unit strides: the caches' first S slots, a slice of each head
/// of a projection), and those offsets: `view[i]` is `buffer[i + offsets]`,
/// and the buffer's identity layout proves the alignment of row loads that
/// the view's strides hide. A view of nothing else is its own window.
struct BufferWindow {
  Value buffer;
  SmallVector<int64_t> offsets;
  /// `indices` into the view as indices into `buffer`.
  SmallVector<Value> at(OpBuilder &b, Location loc,
                        ArrayRef<Value> indices) const;
};
BufferWindow throughWindow(Value view);

/// `elements` consecutive values of `buffer`'s innermost row at `indices`
/// (whose last is the first element's), in the buffer's element type. With
/// `whole` (the caller knows they lie inside the row's `size` elements):
/// one vector load, aligned to its bytes when the buffer's layout is the
/// identity. Otherwise element by element, clamped inside the row and zero
/// past it.
Value loadSlice(OpBuilder &b, Location loc, Value buffer,
                SmallVector<Value> indices, int64_t elements, int64_t size,
                bool whole);
/// The same slice of `window`'s view, read from its buffer (`indices` into
/// the view).
Value loadSlice(OpBuilder &b, Location loc, const BufferWindow &window,
                SmallVector<Value> indices, int64_t elements, int64_t size,
                bool whole);

/// `value` (a scalar or vector of floats) extended to f32.
Value toF32(OpBuilder &b, Location loc, Value value);

/// `value` (an f32 scalar) in `buffer`'s element type: rounded to nearest
/// even where the buffer is bf16 (a result written as the next
/// projection's bf16 input).
Value asElementOf(OpBuilder &b, Location loc, Value value, Value buffer);

/// The buffer `view` is a leading corner of (a window at offset zero), or
/// `view`: the same indices address the same elements there.
Value throughCorner(Value view);

/// Bytes of the templates' vector accesses to global memory (one 128-bit
/// load a lane, the widest).
inline constexpr int64_t kVectorBytes = 16;
/// Elements of `type` in one such access.
inline int64_t vectorElements(Type type) {
  return kVectorBytes * 8 / type.getIntOrFloatBitWidth();
}

/// Decode projections stream their weight below this many rows; from it
/// on, a tensor-core tile is mostly useful work (an m16 fragment is full).
/// Both choices read it: lm-select-gpu-kernels (lm.streamed_linear) and
/// lm-map-projections-to-gpu.
inline constexpr int64_t kStreamingRows = 16;
/// Rows weight streaming applies each weight load to (accumulators per
/// lane and weight), the rows an lm.streamed_linear stages at a time where
/// they fit in shared memory. Reasoned, not timed.
inline constexpr int64_t kStreamingRowGroup = 4;

/// From this many rows a bf16 projection fills Hopper's warpgroup
/// instructions (wgmma is m64: a warpgroup's 64 rows); below it, the
/// mma.sync tile's 32-row blocks waste less.
inline constexpr int64_t kWarpgroupRows = 64;

/// Prompts and batches, bf16 only: warps of 16 x 32 output tiles on tensor
/// cores (`mma.sync.m16n8k16`), operands loaded from global memory
/// (MmaSyncTile.cpp).
void buildMmaSyncTile(OpBuilder &b, Location loc, const Projection &p,
                      ArrayRef<Value> rowExtents, Value rows, Value init);

/// Whether the wgmma tile takes `p`: bf16, K a multiple of 8 (the tensor
/// maps' 16-byte rows), operands of identity layout, x's rows in loop order.
bool wgmmaTileApplies(const Projection &p);

/// Prompts and large batches, bf16: 128 x 128 output tiles per block, TMA
/// copies into a four-stage ring of swizzled shared memory, two consumer
/// warpgroups issuing `wgmma.mma_async` (WgmmaTile.cpp on WgmmaGemm.h).
void buildWgmmaTile(OpBuilder &b, Location loc, const Projection &p,
                    ArrayRef<Value> rowExtents, Value rows, Value init);

/// lm.tiled_linear on memrefs: the wgmma tile with the op's epilogue (bias,
/// GLU of the gate and up weights multiplied side by side, residual, bf16
/// rounding) (WgmmaTile.cpp).
void buildTiledLinear(OpBuilder &b, TiledLinearOp op);

/// Decode, bf16 or f32: a warp per output column streaming its weight row
/// with 16-byte loads, each load applied to a group of four rows
/// (WeightStreaming.cpp).
void buildWeightStreaming(OpBuilder &b, Location loc, const Projection &p,
                          ArrayRef<Value> rowExtents, Value rows, Value init);

/// What lm.streamed_linear's weight streaming holds in shared memory: when
/// it stages its input (a norm, or rounding to the weight's type),
/// `rowGroup` rows of K values of the weight's type. lm-select-gpu-kernels
/// picks a row group these fit in static shared memory; the template
/// allocates them.
struct StreamedLinearFootprint {
  int64_t rowGroup, k;
  Type operandType;
  bool staged;
  int64_t sharedBytes() const {
    return staged ? rowGroup * k * operandType.getIntOrFloatBitWidth() / 8 : 0;
  }
  /// The staged rows' buffer, in workgroup memory.
  MemRefType stagingType(MLIRContext *context) const {
    return MemRefType::get(
        {rowGroup, k}, operandType, AffineMap(),
        gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
  }
};

/// lm.streamed_linear on memrefs: the weight-streaming kernel with the op's
/// prologue (norm, rounding) and epilogue (bias, GLU, residual)
/// (WeightStreaming.cpp).
void buildStreamedLinear(OpBuilder &b, StreamedLinearOp op);

/// lm.streamed_experts on memrefs: a weight-streaming launch per (token,
/// choice) for the chosen experts' gate and up rows, and one per token for
/// their down rows (StreamedExperts.cpp).
void buildStreamedExperts(OpBuilder &b, StreamedExpertsOp op);

/// lm.grouped_experts on memrefs: the pairs sorted by expert, their rows
/// gathered, the gate/up and down products as wgmma GEMMs per tile of one
/// expert's rows, the choices combined per token (GroupedExperts.cpp).
void buildGroupedExperts(OpBuilder &b, GroupedExpertsOp op);

/// What flash decoding's partials kernel holds, for a block of `warps`
/// warps and `group` query heads per kv head: per lane ceil(D / 32) elements
/// of every row (queries and value sums in registers), per block each
/// warp's max, sum and value sums in shared memory. lm-select-gpu-kernels
/// refuses shapes these exceed; the template sizes its buffers by them.
struct FlashDecodeFootprint {
  int64_t warps, group, keyDim, valueDim;
  int64_t keyLane() const {
    return llvm::divideCeil(keyDim, gpu_target::kWarpSize);
  }
  int64_t valueLane() const {
    return llvm::divideCeil(valueDim, gpu_target::kWarpSize);
  }
  /// f32 registers a lane keeps for its group: queries and value sums.
  int64_t laneValues() const { return group * (keyLane() + valueLane()); }
  /// Static shared memory: per warp and head, the max, the sum and every
  /// lane's value sums.
  int64_t sharedBytes() const {
    return warps * group * (valueLane() * gpu_target::kWarpSize + 2) * 4;
  }
};

/// What lm.flash_attention's block holds in shared memory: a tile of
/// kKeyTile keys (rows of Dk rounded up to 32 elements, bf16) and the
/// tile's values transposed (rows of Dv rounded up to 8, each kKeyTile keys
/// long), rows padded so that the fragment loads of a warp's quarter (keys,
/// 16 bytes a lane) or half (values, 8 bytes) fall on distinct banks; and
/// each warp's key range. The template takes it as dynamic shared memory
/// (MLA's Dk = 192 with Dv = 128 needs 48 KB and 32 bytes, over the static
/// limit; the largest dims lm-select-gpu-kernels allows, 56 KB).
struct FlashAttentionFootprint {
  static constexpr int64_t kKeyTile = 64;
  int64_t warps, keyDim, valueDim;
  constexpr int64_t paddedKeyDim() const { return (keyDim + 31) / 32 * 32; }
  constexpr int64_t paddedValueDim() const { return (valueDim + 7) / 8 * 8; }
  /// Elements from one key row to the next: a multiple of 16 words, odd in
  /// units of 16 (two rows of one quarter-warp's loads take both halves of
  /// the 32 banks).
  constexpr int64_t keyStride() const {
    int64_t d = paddedKeyDim();
    return (d / 2) % 32 == 0 ? d + 32 : d;
  }
  /// Elements from one transposed value row to the next: 40 words, so the
  /// four rows of one half-warp's loads take a quarter of the banks each.
  static constexpr int64_t valueStride() { return kKeyTile + 16; }
  /// Byte offsets in the block's dynamic shared memory: the key tile, the
  /// transposed value tile, the warps' key ranges (i32 [2, warps]), each a
  /// multiple of 16.
  static constexpr int64_t keyTileOffset() { return 0; }
  constexpr int64_t valueTileOffset() const {
    return 2 * kKeyTile * keyStride();
  }
  constexpr int64_t warpRangesOffset() const {
    return valueTileOffset() + 2 * paddedValueDim() * valueStride();
  }
  constexpr int64_t sharedBytes() const {
    return warpRangesOffset() + 2 * warps * 4;
  }
};

/// lm.flash_attention on memrefs: one launch of blocks of 16 x warps rows
/// of a (sequence, kv head), mma.sync over key tiles staged in shared
/// memory (FlashAttention.cpp).
void buildFlashAttention(OpBuilder &b, FlashAttentionOp op);

/// lm.warp_router on memrefs: a warp per token, experts across its lanes
/// (WarpRouter.cpp).
void buildWarpRouter(OpBuilder &b, WarpRouterOp op);

/// lm.flash_decode on memrefs: a kernel for each split's partial softmax
/// and a kernel combining the splits, at the op (FlashDecode.cpp).
void buildFlashDecode(OpBuilder &b, FlashDecodeOp op);

/// What flash decoding's partials kernel is for one op: a block of `warps`
/// warps per (sequence, one of `blockGroups` sets of `headsPerBlock`
/// consecutive query heads, split of the keys), the score's scale and soft
/// cap, the mask's window or chunk, and the buffers (`keys`: a buffer whose
/// dimension 1 is the number of keys).
struct SplitPartialsSpec {
  StringRef name;
  int64_t warps, headsPerBlock, blockGroups, valueDim;
  double scale;
  std::optional<double> softcap;
  std::optional<uint64_t> slidingWindow, chunkSize;
  Value positions, keys, partials;
};

/// How a partials block reads its keys: the templates sharing flash
/// decoding's skeleton differ in where a key's rows are and how a head's
/// score is made of them.
class SplitKeyReader {
public:
  virtual ~SplitKeyReader() = default;
  /// Loads the lane's slices of the queries of heads firstHead ... (in the
  /// block's registers).
  virtual void loadQueries(OpBuilder &b, Location loc, Value seq,
                           Value firstHead, Value lane) = 0;
  /// Reads key `key`'s rows for the block's heads (`blockGroup` says which
  /// set); returns the lane's slice of its value row (f32, ceil(Dv / 32)
  /// elements from lane * that).
  virtual Value readKey(OpBuilder &b, Location loc, Value seq, Value blockGroup,
                        Value key) = 0;
  /// The lane's part of head g's dot product with the key read last.
  virtual Value laneDot(OpBuilder &b, Location loc, int64_t g) = 0;
  /// A softmax weight as it scales a value row.
  virtual Value weightOperand(OpBuilder &b, Location loc, Value weight) {
    return weight;
  }
};

/// `elements` values of `buffer`'s innermost row from `indices` (the last
/// the lane's first element), f32, a vector load when every lane's slice
/// lies inside the row of `size` elements (a multiple of 32).
Value loadLaneRow(OpBuilder &b, Location loc, Value buffer,
                  SmallVector<Value> indices, int64_t elements, int64_t size);

/// Flash decoding's first kernel: each block's online softmax over its
/// split's keys, its warps combined in shared memory, into
/// `partials[b, h, split] = [acc..., max, sum]` (FlashDecode.cpp).
void buildSplitPartials(OpBuilder &b, Location loc,
                        const SplitPartialsSpec &spec, SplitKeyReader &reader);

/// What a combine block does with its head's combined row instead of
/// writing it to `init`: the row is in shared memory (`row`, f32, of the
/// partials' value dim) and every thread of the block takes part (MLA's
/// value projection).
using CombineEpilogue = function_ref<void(OpBuilder &b, Location loc, Value seq,
                                          Value head, Value row)>;

/// Flash decoding's second kernel: a block per (sequence, head) rescales the
/// splits of `partials` to their common maximum (and the sink's logit, if
/// `sinks`) and writes `init[b, 0, h, :]`, or, with `project`, hands the
/// row to it.
void buildSplitCombine(OpBuilder &b, Location loc, Value partials, Value init,
                       int64_t heads, Value sinks,
                       CombineEpilogue project = nullptr);

/// What lm.flash_mla_decode's absorption block holds: per warp, each lane's
/// 16-byte slice of a chunk of R (in the kv_b weights' type) as f32 sums,
/// combined across the warps in shared memory. lm-select-gpu-kernels refuses
/// shapes whose R is not a whole number of slices.
struct MLAAbsorptionFootprint {
  int64_t warps;
  Type weightType;
  int64_t laneElements() const { return vectorElements(weightType); }
  int64_t chunk() const { return gpu_target::kWarpSize * laneElements(); }
  int64_t sharedBytes() const { return warps * chunk() * 4; }
};

/// What lm.flash_mla_decode's partials block holds: per lane ceil(R / 32)
/// elements of each of its `headTile` heads' latent queries and value sums
/// and ceil(Dr / 32) of their rotary queries (besides the key's rows); per
/// block as FlashDecodeFootprint.
struct FlashMLADecodeFootprint {
  int64_t warps, headTile, latentDim, ropeDim;
  int64_t latentLane() const {
    return llvm::divideCeil(latentDim, gpu_target::kWarpSize);
  }
  int64_t ropeLane() const {
    return llvm::divideCeil(ropeDim, gpu_target::kWarpSize);
  }
  int64_t laneValues() const {
    return headTile * (2 * latentLane() + ropeLane());
  }
  int64_t sharedBytes() const {
    return FlashDecodeFootprint{warps, headTile, latentDim, latentDim}
        .sharedBytes();
  }
};

/// lm.flash_mla_decode on memrefs: the absorption, then flash decoding's
/// two kernels, a partials block per (sequence, head tile, split) reading
/// each latent row once as its heads' key and value, the combine projecting
/// each head's latent output by its value rows (FlashMLADecode.cpp).
void buildFlashMLADecode(OpBuilder &b, FlashMLADecodeOp op);

} // namespace mlir::lm::gpu_mapping

#endif // LMC_CODEGEN_GPU_KERNELS_KERNELS_H
