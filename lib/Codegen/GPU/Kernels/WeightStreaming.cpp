//===- WeightStreaming.cpp - Projections of a few rows at memory speed ----===//
//
// A projection of a few rows (decode) is one pass over its weight, so the
// kernel's job is to keep enough bytes in flight. Each warp owns one output
// column n and streams weight row n with 16-byte loads per lane (8 bf16 or
// 4 f32 values), kUnroll of them issued before any is used. Rows of x are
// taken kRowGroup at a time: each weight load is multiplied with the same K
// range of every row of the group (x is small and shared by all warps, so
// it comes from L1) into one f32 partial sum per row, and a butterfly of
// shuffles sums the partials across the warp; lane 0 adds the result to the
// output's initial value.
//
// Up to kRowGroup rows (decode at batch 1 to 4) the weight is read once;
// each further group re-reads the warp's row (a few KB) from L1 or L2. The
// one-warp-per-output reduction this replaces read it from DRAM with 2- or
// 4-byte lanes, once per row.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "../MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
using gpu_target::kWarpsPerBlock;
constexpr int64_t kLoadBytes = 16;
/// Weight loads in flight per lane: 64 bytes, 2 KB per warp.
constexpr int64_t kUnroll = 4;
/// Rows of x applied to each weight load (accumulators per lane).
constexpr int64_t kRowGroup = 4;

class WeightStreamingKernel {
public:
  WeightStreamingKernel(const Projection &p, ArrayRef<Value> rowExtents,
                        Value rows, Value init)
      : p(p), rowExtents(rowExtents), rows(rows), init(init) {
    laneElements = kLoadBytes * 8 / p.operandType.getIntOrFloatBitWidth();
    warpElements = kWarpSize * laneElements;
    int64_t steps = llvm::divideCeil(p.k, warpElements);
    unroll = std::min(steps, kUnroll);
    iterations = llvm::divideCeil(steps, unroll);
    // Every lane's every load inside K: no clamping, no masking.
    everyLoadInside = p.k % (warpElements * unroll) == 0;
    vectorLoads = p.k % laneElements == 0;
  }

  void build(OpBuilder &b, Location loc) {
    gpu::LaunchOp launch = createLinearLaunch(
        b, loc, index(b, loc, llvm::divideCeil(p.n, kWarpsPerBlock)),
        index(b, loc, kWarpsPerBlock * kWarpSize));
    nameKernel(launch, "weight_streaming");
    Value tid = launch.getThreadIds().x;
    lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    column = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, launch.getBlockIds().x,
                              index(b, loc, kWarpsPerBlock)),
        arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize)));
    if (p.n % kWarpsPerBlock != 0) {
      // Whole warps are in or out: the shuffles below stay uniform.
      auto inside = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, column,
                                index(b, loc, p.n)),
          /*withElse=*/false);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
    // Groups of rows; the group's first row always exists, the others are
    // guarded (uniformly across the warp) and read a valid row when absent.
    Value groups = arith::CeilDivUIOp::create(b, loc, rows,
                                              index(b, loc, kRowGroup));
    auto groupLoop = scf::ForOp::create(b, loc, index(b, loc, 0), groups,
                                        index(b, loc, 1));
    b.setInsertionPointToStart(groupLoop.getBody());
    Value first = arith::MulIOp::create(b, loc, groupLoop.getInductionVar(),
                                        index(b, loc, kRowGroup));
    Value lastRow = arith::SubIOp::create(b, loc, rows, index(b, loc, 1));
    for (int64_t j = 0; j < kRowGroup; ++j) {
      Value row = arith::AddIOp::create(b, loc, first, index(b, loc, j));
      rowActive.push_back(j == 0 ? Value()
                                 : arith::CmpIOp::create(
                                       b, loc, arith::CmpIPredicate::ult, row,
                                       rows));
      rowIndices.push_back(delinearize(
          b, loc, arith::MinUIOp::create(b, loc, row, lastRow), rowExtents));
    }

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    auto loop = scf::ForOp::create(
        b, loc, index(b, loc, 0), index(b, loc, iterations), index(b, loc, 1),
        SmallVector<Value>(kRowGroup, zero),
        [&](OpBuilder &nb, Location l, Value iteration, ValueRange sums) {
          scf::YieldOp::create(nb, l, step(nb, l, iteration, sums));
        });
    store(b, loc, loop.getResults());
  }

private:
  /// The `laneElements` values at [k, k + laneElements) of `operand`'s row
  /// at loop indices `ivs`, as f32; zero where `inside` is false.
  Value loadF32(OpBuilder &b, Location loc, OpOperand *operand,
                SmallVector<Value> ivs, Value k, Value inside) {
    Value values =
        loadAlongK(b, loc, p, operand, ivs, k, laneElements, vectorLoads);
    auto type = cast<VectorType>(values.getType());
    if (inside)
      values = arith::SelectOp::create(
          b, loc, inside, values,
          arith::ConstantOp::create(b, loc, b.getZeroAttr(type)));
    if (p.isBF16())
      values = arith::ExtFOp::create(
          b, loc, VectorType::get(type.getShape(), b.getF32Type()), values);
    return values;
  }

  /// One iteration: `unroll` weight loads, then every active row.
  SmallVector<Value> step(OpBuilder &b, Location loc, Value iteration,
                          ValueRange acc) {
    Value base = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, iteration,
                              index(b, loc, warpElements * unroll)),
        arith::MulIOp::create(b, loc, lane, index(b, loc, laneElements)));
    SmallVector<Value> ks, insides, weights;
    for (int64_t u = 0; u < unroll; ++u) {
      Value k = arith::AddIOp::create(b, loc, base,
                                      index(b, loc, u * warpElements));
      Value inside;
      if (!everyLoadInside && vectorLoads) {
        // Past K: load the row's start instead, and count it as zero.
        inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k,
                                       index(b, loc, p.k));
        k = arith::SelectOp::create(b, loc, inside, k, index(b, loc, 0));
      }
      // (Element-wise loads zero whatever lies past K themselves.)
      ks.push_back(k);
      insides.push_back(inside);
      weights.push_back(loadF32(b, loc, p.weight,
                                p.loopIndices(rowIndices[0], column, k), k,
                                inside));
    }
    SmallVector<Value> next;
    for (int64_t j = 0; j < kRowGroup; ++j) {
      auto accumulate = [&](OpBuilder &b) {
        Value sum = acc[j];
        Value zeroCol = index(b, loc, 0);
        for (int64_t u = 0; u < unroll; ++u) {
          Value x = loadF32(b, loc, p.activation,
                            p.loopIndices(rowIndices[j], zeroCol, ks[u]),
                            ks[u], insides[u]);
          for (int64_t e = 0; e < laneElements; ++e)
            sum = arith::AddFOp::create(
                b, loc, sum,
                arith::MulFOp::create(b, loc,
                                      vector::ExtractOp::create(b, loc, x, e),
                                      vector::ExtractOp::create(
                                          b, loc, weights[u], e)));
        }
        return sum;
      };
      if (!rowActive[j]) {
        next.push_back(accumulate(b));
        continue;
      }
      auto active = scf::IfOp::create(b, loc, b.getF32Type(), rowActive[j],
                                      /*withElse=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&active.getThenRegion().front());
        scf::YieldOp::create(b, loc, accumulate(b));
        b.setInsertionPointToStart(&active.getElseRegion().front());
        scf::YieldOp::create(b, loc, acc[j]);
      }
      next.push_back(active.getResult(0));
    }
    return next;
  }

  /// Each active row's partials summed across the warp, added by lane 0.
  void store(OpBuilder &b, Location loc, ValueRange acc) {
    Value width = arith::ConstantIntOp::create(b, loc, kWarpSize, 32);
    Value firstLane = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, lane, index(b, loc, 0));
    Value out = p.op.getDpsInitOperand(0)->get();
    for (int64_t j = 0; j < kRowGroup; ++j) {
      OpBuilder::InsertionGuard guard(b);
      if (rowActive[j]) {
        auto active =
            scf::IfOp::create(b, loc, rowActive[j], /*withElse=*/false);
        b.setInsertionPointToStart(&active.getThenRegion().front());
      }
      Value partial = acc[j];
      for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
        Value other =
            gpu::ShuffleOp::create(
                b, loc, partial,
                arith::ConstantIntOp::create(b, loc, offset, 32), width,
                gpu::ShuffleMode::XOR)
                .getShuffleResult();
        partial = arith::AddFOp::create(b, loc, partial, other);
      }
      auto firstLaneOnly =
          scf::IfOp::create(b, loc, firstLane, /*withElse=*/false);
      b.setInsertionPointToStart(&firstLaneOnly.getThenRegion().front());
      SmallVector<Value> indices = p.outIndices(b, loc, rowIndices[j], column);
      Value old = init;
      if (!old)
        old = memref::LoadOp::create(b, loc, out, indices);
      memref::StoreOp::create(b, loc,
                              arith::AddFOp::create(b, loc, old, partial), out,
                              indices);
    }
  }

  Projection p;
  ArrayRef<Value> rowExtents;
  Value rows, init;
  int64_t laneElements, warpElements, unroll, iterations;
  bool everyLoadInside, vectorLoads;
  Value lane, column;
  SmallVector<Value> rowActive;
  SmallVector<SmallVector<Value>> rowIndices;
};
} // namespace

void buildWeightStreaming(OpBuilder &b, Location loc, const Projection &p,
                          ArrayRef<Value> rowExtents, Value rows, Value init) {
  WeightStreamingKernel(p, rowExtents, rows, init).build(b, loc);
}

} // namespace mlir::lm::gpu_mapping
