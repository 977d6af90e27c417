//===- MmaSyncTile.cpp - Projections of many rows on tensor cores ---------===//
//
// A bf16 projection with enough rows to fill tensor cores (prompts,
// batches): each warp owns a 16 x 32 output tile and issues
// `mma.sync.m16n8k16` (bf16 operands, f32 accumulators) over K.
//
// Operands are loaded straight from global memory, 16 bytes per lane: lane
// (g = lane / 4, t = lane % 4) reads elements [8t, 8t + 8) of a 32-wide K
// chunk of its rows, and those eight values fill its fragment registers of
// two k16 steps. This permutes K inside the chunk (the PTX fragment layout
// wants columns 2t, 2t+1, 2t+8, 2t+9 of each step) identically for both
// operands, which a sum does not notice (scripts/check-mma-layout.py checks
// the mapping against the PTX fragment layouts).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
/// A warp's tile: one m16 row block by four n8 column blocks.
constexpr int64_t kWarpRows = 16;
constexpr int64_t kColumnBlocks = 4;
constexpr int64_t kWarpCols = 8 * kColumnBlocks;
/// Warps per block, as 2 (rows) x 2 (columns): a 32 x 64 block tile.
constexpr int64_t kBlockRows = 2 * kWarpRows;
constexpr int64_t kBlockCols = 2 * kWarpCols;
/// K is consumed 32 at a time: eight consecutive elements per lane.
constexpr int64_t kChunk = 32;
constexpr int64_t kLaneElements = kChunk / 4;

/// The kernel: one launch over (column tiles x row tiles) blocks of four
/// warps; `init` is the output's initial value when a fill gave it one.
class TensorCoreKernel {
public:
  TensorCoreKernel(const Projection &p, ArrayRef<Value> rowExtents,
                   Value rows, Value init)
      : p(p), rowExtents(rowExtents), rows(rows), init(init) {}

  void build(OpBuilder &b, Location loc) {
    Value rowTiles = arith::CeilDivUIOp::create(b, loc, rows,
                                                index(b, loc, kBlockRows));
    int64_t colTiles = llvm::divideCeil(p.n, kBlockCols);
    Value blocks = arith::MulIOp::create(b, loc, rowTiles,
                                         index(b, loc, colTiles));
    gpu::LaunchOp launch = createLinearLaunch(
        b, loc, blocks, index(b, loc, 4 * kWarpSize));
    nameKernel(launch, "mma_sync_tile");

    // Blocks that share a column tile are neighbours: they reuse the same
    // weight rows from L2.
    Value block = launch.getBlockIds().x;
    Value tid = launch.getThreadIds().x;
    Value warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    Value lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    // (column tile, row tile) of the block, (column, row) of the warp in it.
    SmallVector<Value> blockTile = delinearize(
        b, loc, block, {index(b, loc, colTiles), rowTiles});
    SmallVector<Value> warpTile = delinearize(
        b, loc, warp, {index(b, loc, 2), index(b, loc, 2)});
    auto origin = [&](int dim, int64_t blockSize, int64_t warpSize) -> Value {
      return arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(b, loc, blockTile[dim], index(b, loc, blockSize)),
          arith::MulIOp::create(b, loc, warpTile[dim], index(b, loc, warpSize)));
    };
    Value rowBase = origin(1, kBlockRows, kWarpRows);
    Value colBase = origin(0, kBlockCols, kWarpCols);
    group = arith::DivUIOp::create(b, loc, lane, index(b, loc, 4));
    Value quad = arith::RemUIOp::create(b, loc, lane, index(b, loc, 4));
    laneK = arith::MulIOp::create(b, loc, quad, index(b, loc, kLaneElements));
    laneCol = arith::MulIOp::create(b, loc, quad, index(b, loc, 2));

    // The two rows (g, g + 8) and four columns (one per n8 block) this lane
    // reads; reads past the end re-read the last row / column, whose
    // results are never stored.
    Value lastRow = arith::SubIOp::create(b, loc, rows, index(b, loc, 1));
    for (int64_t half = 0; half < 2; ++half) {
      Value row = arith::AddIOp::create(
          b, loc, rowBase,
          arith::AddIOp::create(b, loc, group, index(b, loc, 8 * half)));
      laneRows[half] = row;
      rowIndices[half] = delinearize(
          b, loc, arith::MinUIOp::create(b, loc, row, lastRow), rowExtents);
    }
    for (int64_t j = 0; j < kColumnBlocks; ++j) {
      Value blockCol =
          arith::AddIOp::create(b, loc, colBase, index(b, loc, 8 * j));
      outCols[j] = arith::AddIOp::create(b, loc, blockCol, laneCol);
      weightRows[j] = arith::MinUIOp::create(
          b, loc, arith::AddIOp::create(b, loc, blockCol, group),
          index(b, loc, p.n - 1));
    }

    SmallVector<Value> acc = initialAccumulators(b, loc);
    auto loop = scf::ForOp::create(
        b, loc, index(b, loc, 0), index(b, loc, p.k), index(b, loc, kChunk),
        acc, [&](OpBuilder &nb, Location l, Value k, ValueRange sums) {
          scf::YieldOp::create(nb, l, step(nb, l, k, sums));
        });
    store(b, loc, loop.getResults());
  }

private:
  SmallVector<Value> loopIndices(int64_t half, Value col, Value k) {
    return p.loopIndices(rowIndices[half], col, k);
  }

  SmallVector<Value> outIndices(OpBuilder &b, Location loc, int64_t half,
                                Value col) {
    return p.outIndices(b, loc, rowIndices[half], col);
  }

  /// Accumulator (n8 block j, register i) holds row g + 8 * (i / 2) and
  /// column 2t + i % 2 of the block.
  SmallVector<Value> initialAccumulators(OpBuilder &b, Location loc) {
    SmallVector<Value> acc;
    Value lastCol = index(b, loc, p.n - 1);
    for (int64_t j = 0; j < kColumnBlocks; ++j)
      for (int64_t i = 0; i < 4; ++i) {
        if (init) {
          acc.push_back(init);
          continue;
        }
        Value col = arith::MinUIOp::create(
            b, loc,
            arith::AddIOp::create(b, loc, outCols[j], index(b, loc, i % 2)),
            lastCol);
        acc.push_back(memref::LoadOp::create(
            b, loc, p.op.getDpsInitOperand(0)->get(),
            outIndices(b, loc, i / 2, col)));
      }
    return acc;
  }

  /// Whether every chunk lies inside K: lanes load 16 bytes at once.
  bool wholeChunks() const { return p.k % kChunk == 0; }

  /// Eight bf16 values as the four 32-bit registers mma.sync takes; the
  /// lower half of each holds the lower index.
  Value asRegisters(OpBuilder &b, Location loc, Value values) {
    return vector::BitCastOp::create(
        b, loc, VectorType::get({kLaneElements / 2}, b.getI32Type()), values);
  }

  Value reg(OpBuilder &b, Location loc, Value registers, int64_t i) {
    return vector::ExtractOp::create(b, loc, registers, i);
  }

  /// One 32-wide K chunk: two k16 steps over four n8 blocks.
  SmallVector<Value> step(OpBuilder &b, Location loc, Value k0,
                          ValueRange acc) {
    Value k = arith::AddIOp::create(b, loc, k0, laneK);
    Value a[2];
    for (int64_t half = 0; half < 2; ++half)
      a[half] = asRegisters(
          b, loc,
          loadAlongK(b, loc, p, p.activation,
                     loopIndices(half, index(b, loc, 0), k), k,
                     kLaneElements, wholeChunks()));
    Value w[kColumnBlocks];
    for (int64_t j = 0; j < kColumnBlocks; ++j) {
      SmallVector<Value> ivs(p.op.getNumLoops(), index(b, loc, 0));
      ivs[p.nDim] = weightRows[j];
      w[j] = asRegisters(b, loc, loadAlongK(b, loc, p, p.weight, ivs, k, kLaneElements,
                                         wholeChunks()));
    }
    Type f32 = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, f32));
    SmallVector<Value> next(acc.begin(), acc.end());
    for (int64_t s = 0; s < 2; ++s) {
      // Step s takes words 2s and 2s + 1 of each lane load. A's fragment
      // registers are (row g, k 2t..2t+1), (row g+8, same k), (row g, k
      // 2t+8..2t+9), (row g+8, same k); B's are k 2t..2t+1 and 2t+8..2t+9 of
      // column g. Word 2s stands for the first k pair, 2s + 1 for the second.
      SmallVector<Value> aRegs = {reg(b, loc, a[0], 2 * s),
                                  reg(b, loc, a[1], 2 * s),
                                  reg(b, loc, a[0], 2 * s + 1),
                                  reg(b, loc, a[1], 2 * s + 1)};
      for (int64_t j = 0; j < kColumnBlocks; ++j) {
        SmallVector<Value> bRegs = {reg(b, loc, w[j], 2 * s),
                                    reg(b, loc, w[j], 2 * s + 1)};
        MutableArrayRef<Value> c(next.data() + 4 * j, 4);
        auto mma = NVVM::MmaOp::create(
            b, loc, resultType, aRegs, bRegs, SmallVector<Value>(c), {16, 8, 16},
            std::nullopt, std::nullopt,
            std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                          NVVM::MMATypes::bf16},
            std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                           NVVM::MMALayout::col});
        for (int64_t i = 0; i < 4; ++i)
          c[i] = LLVM::ExtractValueOp::create(b, loc, mma, i);
      }
    }
    return next;
  }

  /// Each accumulator to its output element, when that element exists.
  void store(OpBuilder &b, Location loc, ValueRange acc) {
    Value cols = index(b, loc, p.n);
    for (int64_t j = 0; j < kColumnBlocks; ++j)
      for (int64_t i = 0; i < 4; ++i) {
        Value col =
            arith::AddIOp::create(b, loc, outCols[j], index(b, loc, i % 2));
        Value inside = arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                  laneRows[i / 2], rows),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, cols));
        auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(&guard.getThenRegion().front());
        memref::StoreOp::create(b, loc, acc[4 * j + i],
                                p.op.getDpsInitOperand(0)->get(),
                                outIndices(b, loc, i / 2, col));
      }
  }

  Projection p;
  ArrayRef<Value> rowExtents;
  Value rows, init;
  Value group, laneK, laneCol;
  Value laneRows[2];
  SmallVector<Value> rowIndices[2];
  Value outCols[kColumnBlocks], weightRows[kColumnBlocks];
};

} // namespace

void buildMmaSyncTile(OpBuilder &b, Location loc, const Projection &p,
                      ArrayRef<Value> rowExtents, Value rows, Value init) {
  TensorCoreKernel(p, rowExtents, rows, init).build(b, loc);
}

} // namespace mlir::lm::gpu_mapping
