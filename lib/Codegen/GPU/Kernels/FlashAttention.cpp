//===- FlashAttention.cpp - Prompt attention on tensor cores --------------===//
//
// FlashAttention-2's shape on mma.sync, for lm.flash_attention (attention
// with bf16 products): the scores never reach memory.
//
// Rows. The rows of a (sequence, kv head) are its (token, query head of the
// group) pairs, row r = token * group + head % group, so one staged key or
// value serves the whole group. A block takes 16 rows per warp; each warp
// keeps its rows' query fragments, online-softmax state (max m, sum of
// weights l) and value sums in registers.
//
// Keys. The block walks the union of its rows' visible ranges (each row's
// keys are one range, as in FlashDecode.cpp) in tiles of 64: every thread
// stages part of the tile into shared memory, 16 bytes of the cache per
// load (an f32 cache rounded to bf16, a bf16 one as it is) — keys as rows,
// values transposed (FlashAttentionFootprint says the padding). Per
// tile a warp computes its 16 x 64 scores (8 n8 blocks of mma.sync.m16n8k16
// per 16 of Dk), masks, folds them into (m, l) and adds P V with P straight
// from the score registers.
//
// Fragment mappings (PTX ISA, mma.m16n8k16 .bf16; lane = 4 g + t):
//  - A along Dk, as MmaSyncTile.cpp: lane t holds Dk elements [8t, 8t + 8)
//    of each 32-wide chunk (one 16-byte load), words 2s, 2s + 1 standing for
//    the k pairs (2t, 2t + 1) and (2t + 8, 2t + 9) of the chunk's step s;
//    keys take the same permutation, so the sum over Dk is unchanged.
//  - Score column c of n8 block j holds the tile's key
//    16 (j / 2) + 4 (c / 2) + 2 (j % 2) + c % 2, chosen so that the C
//    registers of blocks 2s and 2s + 1 are P's A registers of the value
//    step s as they are (column pairs (2t, 2t + 1) of block 2s are k pair
//    (2t, 2t + 1), those of block 2s + 1 the pair (2t + 8, 2t + 9)), and the
//    four keys a lane's B registers of that step need are consecutive: one
//    8-byte load from the transposed values.
// scripts/check-flash-layout.py checks these against the PTX layouts. Key
// rows are a multiple of 64 bytes long and value rows 160 bytes, at
// offsets of the (16-byte aligned) dynamic shared memory that are multiples
// of 16, so the fragment loads (16 and 8 bytes) state their alignment and
// stay single instructions.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
constexpr int64_t kWarpRows = 16;
constexpr int64_t kKeyTile = FlashAttentionFootprint::kKeyTile;
/// n8 blocks of a warp's scores per key tile, and k16 steps of P V.
constexpr int64_t kScoreBlocks = kKeyTile / 8;
constexpr int64_t kValueSteps = kKeyTile / 16;
/// Dk is read 32 at a time, eight consecutive elements per lane.
constexpr int64_t kChunk = 32;
constexpr int64_t kLaneElements = kChunk / 4;
/// Elements a thread stages per load from `source`: 16 bytes (4 of an f32
/// cache, 8 of a bf16 one).
int64_t stageElements(Value source) {
  return 128 / cast<MemRefType>(source.getType()).getElementTypeBitWidth();
}

Value i32(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}

/// Two f32 values as one register of bf16 operands, the first in the low
/// half (the lower k index).
Value packBF16(OpBuilder &b, Location loc, Value low, Value high) {
  Value pair = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{low, high});
  Value rounded = arith::TruncFOp::create(
      b, loc, VectorType::get({2}, b.getBF16Type()), pair);
  return vector::ExtractOp::create(
      b, loc,
      vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                rounded),
      0);
}

/// mma.sync.m16n8k16, bf16 x bf16 + f32: `c` (4 accumulators) updated.
void mma(OpBuilder &b, Location loc, ArrayRef<Value> a, ArrayRef<Value> bRegs,
         MutableArrayRef<Value> c) {
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, b.getF32Type()));
  auto op = NVVM::MmaOp::create(
      b, loc, resultType, a, bRegs, SmallVector<Value>(c.begin(), c.end()),
      {16, 8, 16}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  for (int64_t i = 0; i < 4; ++i)
    c[i] = LLVM::ExtractValueOp::create(b, loc, op, i);
}

class FlashAttentionKernel {
public:
  explicit FlashAttentionKernel(FlashAttentionOp op)
      : op(op), footprint{static_cast<int64_t>(op.getWarps()), 0, 0},
        group(op.getGroupSize()), keys(throughWindow(op.getKey())),
        values(throughWindow(op.getValue())) {
    auto q = cast<MemRefType>(op.getQuery().getType());
    heads = q.getDimSize(2);
    kvHeads = heads / group;
    footprint.keyDim = q.getDimSize(3);
    footprint.valueDim =
        cast<MemRefType>(op.getValue().getType()).getDimSize(3);
    keyChunks = footprint.paddedKeyDim() / kChunk;
    valueBlocks = footprint.paddedValueDim() / 8;
  }

  void build(OpBuilder &b) {
    OpBuilder::InsertionGuard guard(b);
    Location loc = op.getLoc();
    launch(b, loc);
    loadQueries(b, loc);
    blockKeyRange(b, loc);

    // The online softmax over the block's key tiles.
    SmallVector<Value> init = {lowering::f32Constant(b, loc, -INFINITY),
                               lowering::f32Constant(b, loc, -INFINITY),
                               lowering::f32Constant(b, loc, 0.0),
                               lowering::f32Constant(b, loc, 0.0)};
    init.append(4 * valueBlocks, lowering::f32Constant(b, loc, 0.0));
    auto tiles = scf::ForOp::create(
        b, loc, firstKey, endKey, index(b, loc, kKeyTile), init,
        [&](OpBuilder &nb, Location l, Value tileStart, ValueRange state) {
          stageTile(nb, l, tileStart);
          gpu::BarrierOp::create(nb, l);
          SmallVector<Value> next = visitTile(nb, l, tileStart, state);
          // The next tile overwrites what this one read.
          gpu::BarrierOp::create(nb, l);
          scf::YieldOp::create(nb, l, next);
        });
    store(b, loc, tiles.getResults());
  }

private:
  /// The launch over (sequence, kv head, row tile), the heaviest row tiles
  /// (last tokens: most keys under a causal mask) first; the lane's rows.
  void launch(OpBuilder &b, Location loc) {
    Value q = op.getQuery();
    batch = memref::DimOp::create(b, loc, q, 0);
    tokens = memref::DimOp::create(b, loc, q, 1);
    rows = arith::MulIOp::create(b, loc, tokens, index(b, loc, group));
    int64_t blockRows = kWarpRows * footprint.warps;
    Value rowTiles =
        arith::CeilDivUIOp::create(b, loc, rows, index(b, loc, blockRows));
    Value kvHeadsValue = index(b, loc, kvHeads);
    Value blocks = arith::MulIOp::create(
        b, loc, arith::MulIOp::create(b, loc, batch, kvHeadsValue), rowTiles);
    threads = index(b, loc, footprint.warps * kWarpSize);
    gpu::LaunchOp launch = createLinearLaunch(b, loc, blocks, threads, {},
                                              footprint.sharedBytes());
    nameKernel(launch, "flash_attention");
    Type bf16 = b.getBF16Type();
    Value shared = dynamicShared(b, loc);
    keyTile = sharedView(b, loc, shared, footprint.keyTileOffset(),
                         {kKeyTile, footprint.keyStride()}, bf16);
    valueTile = sharedView(
        b, loc, shared, footprint.valueTileOffset(),
        {footprint.paddedValueDim(), FlashAttentionFootprint::valueStride()},
        bf16);
    warpRanges = sharedView(b, loc, shared, footprint.warpRangesOffset(),
                            {2, footprint.warps}, b.getI32Type());

    tid = launch.getThreadIds().x;
    lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    laneGroup = arith::DivUIOp::create(b, loc, lane, index(b, loc, 4));
    laneQuad = arith::RemUIOp::create(b, loc, lane, index(b, loc, 4));
    SmallVector<Value> ids = delinearize(b, loc, launch.getBlockIds().x,
                                         {batch, kvHeadsValue, rowTiles});
    seq = ids[0];
    kvHead = ids[1];
    Value rowTile = arith::SubIOp::create(
        b, loc, arith::SubIOp::create(b, loc, rowTiles, ids[2]),
        index(b, loc, 1));
    Value warpRow = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, rowTile, index(b, loc, blockRows)),
        arith::MulIOp::create(b, loc, warp, index(b, loc, kWarpRows)));
    Value lastRow = arith::SubIOp::create(b, loc, rows, index(b, loc, 1));
    for (int64_t half = 0; half < 2; ++half) {
      Value row = arith::AddIOp::create(
          b, loc, warpRow,
          arith::AddIOp::create(b, loc, laneGroup, index(b, loc, 8 * half)));
      rowValid[half] =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows);
      // Rows past the end read the last row's operands and store nothing.
      Value clamped = arith::MinUIOp::create(b, loc, row, lastRow);
      Value groupValue = index(b, loc, group);
      rowToken[half] = arith::DivUIOp::create(b, loc, clamped, groupValue);
      rowHead[half] = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, kvHead, groupValue),
          arith::RemUIOp::create(b, loc, clamped, groupValue));
    }
  }

  /// The lane's query fragments: per row half and 32-wide Dk chunk, the
  /// eight elements [8t, 8t + 8) rounded to bf16, as four registers.
  void loadQueries(OpBuilder &b, Location loc) {
    Value laneK =
        arith::MulIOp::create(b, loc, laneQuad, index(b, loc, kLaneElements));
    auto wordsType = VectorType::get({kLaneElements / 2}, b.getI32Type());
    for (int64_t half = 0; half < 2; ++half)
      for (int64_t chunk = 0; chunk < keyChunks; ++chunk) {
        Value d =
            arith::AddIOp::create(b, loc, laneK, index(b, loc, kChunk * chunk));
        Value slice =
            toF32(b, loc,
                  loadSlice(b, loc, op.getQuery(),
                            {seq, rowToken[half], rowHead[half], d},
                            kLaneElements, footprint.keyDim,
                            /*whole=*/footprint.keyDim % kChunk == 0));
        Value rounded = arith::TruncFOp::create(
            b, loc, VectorType::get({kLaneElements}, b.getBF16Type()), slice);
        queryWords[half].push_back(
            vector::BitCastOp::create(b, loc, wordsType, rounded));
      }
  }

  /// [lo, hi) of the keys the row sees (hi <= lo: none), as indices.
  std::pair<Value, Value> rowRange(OpBuilder &b, Location loc, Value token) {
    Type i64 = b.getI64Type();
    Value pos = memref::LoadOp::create(b, loc, op.getPositions(),
                                       ValueRange{seq, token});
    Value keyCount = arith::IndexCastOp::create(
        b, loc, i64, memref::DimOp::create(b, loc, op.getKey(), 1));
    auto [lo, hi] = visibleKeys(b, loc, pos, keyCount, op.getSlidingWindow(),
                                op.getChunkSize());
    // hi < 0 for a negative position: no keys, not 2^64 - 1 of them.
    Value zero = arith::ConstantIntOp::create(b, loc, i64, 0);
    auto toIndex = [&](Value v) {
      return arith::IndexCastOp::create(
          b, loc, b.getIndexType(), arith::MaxSIOp::create(b, loc, v, zero));
    };
    return {toIndex(lo), toIndex(hi)};
  }

  /// Each row's visible range, and [firstKey, endKey): their union over the
  /// block's rows (a warp's by shuffles, the block's through shared memory).
  void blockKeyRange(OpBuilder &b, Location loc) {
    Type i32Type = b.getI32Type();
    Value lo = i32(b, loc, INT32_MAX), hi = i32(b, loc, 0);
    for (int64_t half = 0; half < 2; ++half) {
      auto [rowLo, rowHi] = rowRange(b, loc, rowToken[half]);
      this->rowLo[half] = rowLo;
      this->rowHi[half] = rowHi;
      auto asI32 = [&](Value v) {
        return arith::IndexCastOp::create(b, loc, i32Type, v);
      };
      lo = arith::SelectOp::create(
          b, loc, rowValid[half],
          arith::MinSIOp::create(b, loc, lo, asI32(rowLo)), lo);
      hi = arith::SelectOp::create(
          b, loc, rowValid[half],
          arith::MaxSIOp::create(b, loc, hi, asI32(rowHi)), hi);
    }
    SmallVector<int64_t> all = {1, 2, 4, 8, 16};
    lo = acrossLanes(b, loc, lo, all, [&](Value x, Value y) -> Value {
      return arith::MinSIOp::create(b, loc, x, y);
    });
    hi = acrossLanes(b, loc, hi, all, [&](Value x, Value y) -> Value {
      return arith::MaxSIOp::create(b, loc, x, y);
    });
    Value c0 = index(b, loc, 0), c1 = index(b, loc, 1);
    {
      OpBuilder::InsertionGuard guard(b);
      auto first = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c0),
          /*withElse=*/false);
      b.setInsertionPointToStart(&first.getThenRegion().front());
      memref::StoreOp::create(b, loc, lo, warpRanges, ValueRange{c0, warp});
      memref::StoreOp::create(b, loc, hi, warpRanges, ValueRange{c1, warp});
    }
    gpu::BarrierOp::create(b, loc);
    Value blockLo = i32(b, loc, INT32_MAX), blockHi = i32(b, loc, 0);
    for (int64_t w = 0; w < footprint.warps; ++w) {
      Value at = index(b, loc, w);
      blockLo = arith::MinSIOp::create(
          b, loc, blockLo,
          memref::LoadOp::create(b, loc, warpRanges, ValueRange{c0, at}));
      blockHi = arith::MaxSIOp::create(
          b, loc, blockHi,
          memref::LoadOp::create(b, loc, warpRanges, ValueRange{c1, at}));
    }
    auto toIndex = [&](Value v) {
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    };
    endKey = toIndex(blockHi);
    // No row sees a key: an empty loop (first = end).
    firstKey = arith::MinSIOp::create(b, loc, toIndex(blockLo), endKey);
  }

  /// The tile's keys [start, start + 64), rounded to bf16 into shared
  /// memory; keys past the block's range are zeros. Keys as rows, lanes
  /// along Dk (coalesced reads, consecutive stores); values transposed,
  /// lanes along the keys (the stores of a warp then hit distinct banks).
  void stageTile(OpBuilder &b, Location loc, Value start) {
    // Padded key rows are multiples of 32 elements, value rows of 8.
    int64_t keyElements = stageElements(keys.buffer),
            valueElements = stageElements(values.buffer);
    Value lastKey = arith::SubIOp::create(
        b, loc, memref::DimOp::create(b, loc, op.getKey(), 1),
        index(b, loc, 1));
    auto stage =
        [&](const BufferWindow &source, int64_t size, int64_t padded,
            int64_t elements, bool keysFastest,
            function_ref<void(OpBuilder &, Location, Value, Value, Value)>
                write) {
          int64_t groups = padded / elements;
          scf::ForOp::create(
              b, loc, tid, index(b, loc, kKeyTile * groups), threads,
              ValueRange{},
              [&](OpBuilder &nb, Location l, Value item, ValueRange) {
                Value key, groupIndex;
                if (keysFastest) {
                  key = arith::RemUIOp::create(nb, l, item,
                                               index(nb, l, kKeyTile));
                  groupIndex = arith::DivUIOp::create(nb, l, item,
                                                      index(nb, l, kKeyTile));
                } else {
                  key =
                      arith::DivUIOp::create(nb, l, item, index(nb, l, groups));
                  groupIndex =
                      arith::RemUIOp::create(nb, l, item, index(nb, l, groups));
                }
                Value d = arith::MulIOp::create(nb, l, groupIndex,
                                                index(nb, l, elements));
                Value at = arith::AddIOp::create(nb, l, start, key);
                Value inside = arith::CmpIOp::create(
                    nb, l, arith::CmpIPredicate::ult, at, endKey);
                Value clamped = arith::MinUIOp::create(nb, l, at, lastKey);
                Value slice =
                    toF32(nb, l,
                          loadSlice(nb, l, source, {seq, clamped, kvHead, d},
                                    elements, size, /*whole=*/size == padded));
                auto type = VectorType::get({elements}, nb.getBF16Type());
                Value zeros =
                    arith::ConstantOp::create(nb, l, nb.getZeroAttr(type));
                Value rounded = arith::SelectOp::create(
                    nb, l, inside, arith::TruncFOp::create(nb, l, type, slice),
                    zeros);
                write(nb, l, key, d, rounded);
                scf::YieldOp::create(nb, l);
              });
        };
    stage(keys, footprint.keyDim, footprint.paddedKeyDim(), keyElements,
          /*keysFastest=*/false,
          [&](OpBuilder &nb, Location l, Value key, Value d, Value rounded) {
            vector::StoreOp::create(nb, l, rounded, keyTile, ValueRange{key, d},
                                    /*nontemporal=*/false,
                                    llvm::Align(2 * keyElements));
          });
    stage(values, footprint.valueDim, footprint.paddedValueDim(), valueElements,
          /*keysFastest=*/true,
          [&](OpBuilder &nb, Location l, Value key, Value d, Value rounded) {
            for (int64_t e = 0; e < valueElements; ++e)
              memref::StoreOp::create(
                  nb, l, vector::ExtractOp::create(nb, l, rounded, e),
                  valueTile,
                  ValueRange{arith::AddIOp::create(nb, l, d, index(nb, l, e)),
                             key});
          });
  }

  /// The tile's key that score column `column` of n8 block `block` holds
  /// (the file comment's permutation).
  Value scoreKey(OpBuilder &b, Location loc, int64_t block, Value column) {
    Value pairs = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, column, index(b, loc, 2)),
        index(b, loc, 4));
    Value odd = arith::RemUIOp::create(b, loc, column, index(b, loc, 2));
    return arith::AddIOp::create(
        b, loc, arith::AddIOp::create(b, loc, pairs, odd),
        index(b, loc, 16 * (block / 2) + 2 * (block % 2)));
  }

  /// One tile: scores, mask, online softmax, P V.
  SmallVector<Value> visitTile(OpBuilder &b, Location loc, Value start,
                               ValueRange state) {
    // Scores: the lane's B registers are its key row's [8t, 8t + 8) of each
    // chunk, that row the key of column g.
    auto wordsType = VectorType::get({kLaneElements / 2}, b.getI32Type());
    auto sliceType = VectorType::get({kLaneElements}, b.getBF16Type());
    Value laneK =
        arith::MulIOp::create(b, loc, laneQuad, index(b, loc, kLaneElements));
    SmallVector<Value> scores(4 * kScoreBlocks,
                              lowering::f32Constant(b, loc, 0.0));
    for (int64_t j = 0; j < kScoreBlocks; ++j) {
      Value key = scoreKey(b, loc, j, laneGroup);
      MutableArrayRef<Value> c(scores.data() + 4 * j, 4);
      for (int64_t chunk = 0; chunk < keyChunks; ++chunk) {
        Value d =
            arith::AddIOp::create(b, loc, laneK, index(b, loc, kChunk * chunk));
        Value words = vector::BitCastOp::create(
            b, loc, wordsType,
            vector::LoadOp::create(b, loc, sliceType, keyTile,
                                   ValueRange{key, d}, /*nontemporal=*/false,
                                   llvm::Align(2 * kLaneElements)));
        for (int64_t s = 0; s < 2; ++s) {
          Value q0 = queryWords[0][chunk], q1 = queryWords[1][chunk];
          auto word = [&](Value v, int64_t i) -> Value {
            return vector::ExtractOp::create(b, loc, v, i);
          };
          mma(b, loc,
              {word(q0, 2 * s), word(q1, 2 * s), word(q0, 2 * s + 1),
               word(q1, 2 * s + 1)},
              {word(words, 2 * s), word(words, 2 * s + 1)}, c);
        }
      }
    }

    // Scaled, capped, masked: register i of block j is row half i / 2 and
    // column 2t + i % 2.
    double scale = op.getScale().convertToDouble();
    for (int64_t j = 0; j < kScoreBlocks; ++j)
      for (int64_t i = 0; i < 4; ++i) {
        Value &s = scores[4 * j + i];
        s = arith::MulFOp::create(b, loc, s,
                                  lowering::f32Constant(b, loc, scale));
        if (std::optional<APFloat> softcap = op.getSoftcap()) {
          Value cap = lowering::f32Constant(b, loc, softcap->convertToDouble());
          s = arith::MulFOp::create(
              b, loc, cap,
              math::TanhOp::create(b, loc,
                                   arith::DivFOp::create(b, loc, s, cap)));
        }
        Value column = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, laneQuad, index(b, loc, 2)),
            index(b, loc, i % 2));
        Value key =
            arith::AddIOp::create(b, loc, start, scoreKey(b, loc, j, column));
        int64_t half = i / 2;
        Value visible = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, key,
                                  rowLo[half]),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, key,
                                  rowHi[half]));
        s = arith::SelectOp::create(b, loc, visible, s,
                                    lowering::f32Constant(b, loc, -INFINITY));
      }

    // The online softmax per row half: the four lanes of a row (t = 0..3)
    // share its maximum; each keeps its part of the sum.
    SmallVector<Value> next(state.begin(), state.end());
    SmallVector<Value> weights(scores.size());
    for (int64_t half = 0; half < 2; ++half) {
      Value tileMax = lowering::f32Constant(b, loc, -INFINITY);
      for (int64_t j = 0; j < kScoreBlocks; ++j)
        for (int64_t i = 2 * half; i < 2 * half + 2; ++i)
          tileMax =
              arith::MaximumFOp::create(b, loc, tileMax, scores[4 * j + i]);
      tileMax = acrossLanes(b, loc, tileMax, {1, 2}, [&](Value x, Value y) {
        return arith::MaximumFOp::create(b, loc, x, y).getResult();
      });
      Value max = state[half], sum = state[2 + half];
      Value newMax = arith::MaximumFOp::create(b, loc, max, tileMax);
      Value rescale = softmaxWeight(b, loc, max, newMax);
      Value tileSum = lowering::f32Constant(b, loc, 0.0);
      for (int64_t j = 0; j < kScoreBlocks; ++j)
        for (int64_t i = 2 * half; i < 2 * half + 2; ++i) {
          weights[4 * j + i] = softmaxWeight(b, loc, scores[4 * j + i], newMax);
          tileSum = arith::AddFOp::create(b, loc, tileSum, weights[4 * j + i]);
        }
      next[half] = newMax;
      next[2 + half] = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, sum, rescale), tileSum);
      for (int64_t n = 0; n < valueBlocks; ++n)
        for (int64_t i = 2 * half; i < 2 * half + 2; ++i) {
          Value &acc = next[4 + 4 * n + i];
          acc = arith::MulFOp::create(b, loc, acc, rescale);
        }
    }

    // P V: step s's A registers are the weights of score blocks 2s, 2s + 1;
    // the B registers of value block n are the transposed values' row
    // 8n + g at keys 16s + 4t .. 16s + 4t + 3.
    auto valueWordsType = VectorType::get({2}, b.getI32Type());
    auto valueSliceType = VectorType::get({4}, b.getBF16Type());
    for (int64_t s = 0; s < kValueSteps; ++s) {
      auto w = [&](int64_t block, int64_t i) { return weights[4 * block + i]; };
      SmallVector<Value> a = {
          packBF16(b, loc, w(2 * s, 0), w(2 * s, 1)),
          packBF16(b, loc, w(2 * s, 2), w(2 * s, 3)),
          packBF16(b, loc, w(2 * s + 1, 0), w(2 * s + 1, 1)),
          packBF16(b, loc, w(2 * s + 1, 2), w(2 * s + 1, 3))};
      Value keyAt = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, laneQuad, index(b, loc, 4)),
          index(b, loc, 16 * s));
      for (int64_t n = 0; n < valueBlocks; ++n) {
        Value d =
            arith::AddIOp::create(b, loc, laneGroup, index(b, loc, 8 * n));
        Value words = vector::BitCastOp::create(
            b, loc, valueWordsType,
            vector::LoadOp::create(b, loc, valueSliceType, valueTile,
                                   ValueRange{d, keyAt}, /*nontemporal=*/false,
                                   llvm::Align(8)));
        mma(b, loc, a,
            {vector::ExtractOp::create(b, loc, words, 0),
             vector::ExtractOp::create(b, loc, words, 1)},
            MutableArrayRef<Value>(next.data() + 4 + 4 * n, 4));
      }
    }
    return next;
  }

  /// out = acc / l per row, with the sink's weight in l; lanes store their
  /// accumulators (row half i / 2, value column 8n + 2t + i % 2).
  void store(OpBuilder &b, Location loc, ValueRange state) {
    Value init = op.getInit();
    auto initType = cast<MemRefType>(init.getType());
    Type outType = initType.getElementType();
    bool pairs = footprint.valueDim % 2 == 0 && initType.isLastDimUnitStride();
    // An allocation's rows of even length start aligned to a pair.
    llvm::MaybeAlign pairAlign;
    if (initType.getLayout().isIdentity())
      pairAlign = llvm::Align(2 * outType.getIntOrFloatBitWidth() / 8);
    Value valueDim = index(b, loc, footprint.valueDim);
    Value laneCol = arith::MulIOp::create(b, loc, laneQuad, index(b, loc, 2));
    for (int64_t half = 0; half < 2; ++half) {
      Value max = state[half];
      Value sum =
          acrossLanes(b, loc, state[2 + half], {1, 2}, [&](Value x, Value y) {
            return arith::AddFOp::create(b, loc, x, y).getResult();
          });
      Value factor = lowering::f32Constant(b, loc, 1.0);
      if (Value sinks = op.getSinks()) {
        Value sink = toF32(
            b, loc,
            memref::LoadOp::create(b, loc, sinks, ValueRange{rowHead[half]}));
        Value withSink = arith::MaximumFOp::create(b, loc, max, sink);
        factor = softmaxWeight(b, loc, max, withSink);
        sum = arith::AddFOp::create(
            b, loc, arith::MulFOp::create(b, loc, sum, factor),
            math::ExpOp::create(b, loc,
                                arith::SubFOp::create(b, loc, sink, withSink)));
      }
      Value scaleBy = arith::DivFOp::create(b, loc, factor, sum);
      OpBuilder::InsertionGuard guard(b);
      auto valid =
          scf::IfOp::create(b, loc, rowValid[half], /*withElse=*/false);
      b.setInsertionPointToStart(&valid.getThenRegion().front());
      for (int64_t n = 0; n < valueBlocks; ++n) {
        Value col =
            arith::AddIOp::create(b, loc, laneCol, index(b, loc, 8 * n));
        Value out[2];
        for (int64_t i = 0; i < 2; ++i)
          out[i] = arith::MulFOp::create(
              b, loc, state[4 + 4 * n + 2 * half + i], scaleBy);
        SmallVector<Value> at = {seq, rowToken[half], rowHead[half], col};
        Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                             col, valueDim);
        OpBuilder::InsertionGuard inner(b);
        auto guardCol = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
        b.setInsertionPointToStart(&guardCol.getThenRegion().front());
        // A bf16 init: rounded as --dtype bf16 rounds the next
        // projection's input.
        for (Value &value : out)
          value = asElementOf(b, loc, value, init);
        if (pairs) {
          // Dv even: column 2t + 1 exists wherever 2t does.
          vector::StoreOp::create(b, loc,
                                  vector::FromElementsOp::create(
                                      b, loc, VectorType::get({2}, outType),
                                      ValueRange{out[0], out[1]}),
                                  init, at, /*nontemporal=*/false, pairAlign);
          continue;
        }
        memref::StoreOp::create(b, loc, out[0], init, at);
        at.back() = arith::AddIOp::create(b, loc, col, index(b, loc, 1));
        auto second = scf::IfOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, at.back(),
                                  valueDim),
            /*withElse=*/false);
        b.setInsertionPointToStart(&second.getThenRegion().front());
        memref::StoreOp::create(b, loc, out[1], init, at);
      }
    }
  }

  FlashAttentionOp op;
  FlashAttentionFootprint footprint;
  int64_t group, heads = 0, kvHeads = 0, keyChunks = 0, valueBlocks = 0;
  /// Where key and value rows are read (throughWindow: a cache's first
  /// slots, MLA's values as a slice of kv_b's projection); the number of
  /// keys is still the op's.
  BufferWindow keys, values;
  Value batch, tokens, rows, threads, tid, lane, warp, laneGroup, laneQuad;
  Value seq, kvHead;
  Value keyTile, valueTile, warpRanges;
  /// Per row half (g, g + 8): whether it exists, its token and query head,
  /// its visible keys [lo, hi).
  Value rowValid[2], rowToken[2], rowHead[2], rowLo[2], rowHi[2];
  SmallVector<Value> queryWords[2];
  Value firstKey, endKey;
};
} // namespace

void buildFlashAttention(OpBuilder &b, FlashAttentionOp op) {
  FlashAttentionKernel(op).build(b);
}

} // namespace mlir::lm::gpu_mapping
