//===- WeightStreaming.cpp - Projections of a few rows at memory speed ----===//
//
// A projection of a few rows (decode) is one pass over its weight, so the
// kernel's job is to keep enough bytes in flight. Each warp owns one output
// column n and streams weight row n with 16-byte loads per lane (8 bf16 or
// 4 f32 values), kUnroll of them issued before any is used. Rows of x are
// taken a row group at a time: each weight load is multiplied with the same
// K range of every row of the group (x is small and shared by all warps, so
// it comes from L1) into one f32 partial sum per row, and a butterfly of
// shuffles sums the partials across the warp; lane 0 writes the result.
//
// Up to a group's rows (decode at batch 1 to 4) the weight is read once;
// each further group re-reads the warp's row (a few KB) from L1 or L2. The
// one-warp-per-output reduction this replaces read it from DRAM with 2- or
// 4-byte lanes, once per row.
//
// Built for a projection generic (lm-map-projections-to-gpu) or for an
// lm.streamed_linear (lm-map-kernel-ops-to-gpu), which folds into the
// kernel what would be kernels of their own:
//  - a prologue: when the op's input is RMS-normalised or rounded to the
//    weight's type first, warp j of each block writes row j of the group,
//    normalised (its statistics by shuffles) and rounded as --dtype bf16
//    rounds a projection's input, to shared memory, and every warp reads
//    the group's rows from there. The norm costs each block a read of the
//    group's rows, not a kernel and a round trip through memory;
//  - a second weight: a GLU's up projection, streamed beside the gate's row
//    by the same warp (twice the bytes in flight per lane);
//  - an epilogue on lane 0's sums: the biases, the GLU, a residual add.
//
// lm.streamed_experts builds on the same kernel (WeightStreaming.h): its
// launches are cut into slices, a block per slice and columns, each slice
// (a token's choice, or a token) with weight rows of its own; its down
// launch streams one weight per choice, each against an input of its own,
// fewer loads in flight per weight as there are more of them.
//
//===----------------------------------------------------------------------===//

#include "WeightStreaming.h"

#include "Kernels.h"

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
using gpu_target::kWarpsPerBlock;
/// Weight loads in flight per lane: 64 bytes, 2 KB per warp.
constexpr int64_t kUnroll = 4;

/// A projection generic: the sum is added to the output's initial value,
/// `init` when a fill gave one, else what the buffer holds (a residual).
class GenericOperands final : public StreamingOperands {
public:
  GenericOperands(const Projection &p, Value init) : p(p), init(init) {}

  Type inputType() const override { return p.operandType; }

  Value loadWeight(OpBuilder &b, Location loc, int64_t, Value, Value column,
                   Value k, int64_t elements, bool whole) const override {
    // The weight's map reads no row dimension.
    SmallVector<Value> row(p.rowDims.size(), index(b, loc, 0));
    return loadAlongK(b, loc, p, p.weight, p.loopIndices(row, column, k), k,
                      elements, whole);
  }
  Value loadInput(OpBuilder &b, Location loc, int64_t, Value,
                  ArrayRef<Value> row, Value k, int64_t elements,
                  bool whole) const override {
    return loadAlongK(b, loc, p, p.activation,
                      p.loopIndices(row, index(b, loc, 0), k), k, elements,
                      whole);
  }
  void store(OpBuilder &b, Location loc, Value, ArrayRef<Value> row,
             Value column, ValueRange sums) const override {
    Value sum = sums[0];
    Value out = p.op.getDpsInitOperand(0)->get();
    SmallVector<Value> indices = p.outIndices(b, loc, row, column);
    Value old = init ? init : memref::LoadOp::create(b, loc, out, indices);
    memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, sum),
                            out, indices);
  }

private:
  Projection p;
  Value init;
};

/// lm.streamed_linear: the sums plus their biases, through the GLU or
/// added to the residual in the output when the op has them, rounded to
/// the output's type.
class StreamedLinearOperands final : public StreamingOperands {
public:
  explicit StreamedLinearOperands(StreamedLinearOp op)
      : op(op), k(cast<MemRefType>(op.getWeight().getType()).getDimSize(1)) {}

  Type inputType() const override {
    return cast<MemRefType>(op.getInput().getType()).getElementType();
  }
  int64_t weightCount() const override { return op.getUpWeight() ? 2 : 1; }

  Value loadWeight(OpBuilder &b, Location loc, int64_t which, Value,
                   Value column, Value kIndex, int64_t elements,
                   bool whole) const override {
    return loadSlice(b, loc, which == 0 ? op.getWeight() : op.getUpWeight(),
                     {column, kIndex}, elements, k, whole);
  }
  Value loadInput(OpBuilder &b, Location loc, int64_t, Value,
                  ArrayRef<Value> row, Value kIndex, int64_t elements,
                  bool whole) const override {
    SmallVector<Value> indices(row);
    indices.push_back(kIndex);
    return loadSlice(b, loc, op.getInput(), indices, elements, k, whole);
  }
  void store(OpBuilder &b, Location loc, Value, ArrayRef<Value> row,
             Value column, ValueRange sums) const override {
    auto withBias = [&](Value sum, Value bias) -> Value {
      if (!bias)
        return sum;
      return arith::AddFOp::create(
          b, loc, toF32(b, loc, memref::LoadOp::create(b, loc, bias, column)),
          sum);
    };
    Value result = withBias(sums[0], op.getBias());
    SmallVector<Value> indices(row);
    indices.push_back(column);
    if (std::optional<GluKind> glu = op.getGlu()) {
      auto constant = [](std::optional<APFloat> value) {
        return value ? value->convertToDouble() : 0.0;
      };
      result = lowering::applyGlu(
          b, loc, *glu, result, withBias(sums[1], op.getUpBias()),
          constant(op.getAlpha()), constant(op.getLimit()));
    }
    if (op.getAccumulate())
      result = arith::AddFOp::create(
          b, loc, memref::LoadOp::create(b, loc, op.getInit(), indices),
          result);
    Type outType = cast<MemRefType>(op.getInit().getType()).getElementType();
    if (outType != result.getType())
      result = arith::TruncFOp::create(b, loc, outType, result);
    memref::StoreOp::create(b, loc, result, op.getInit(), indices);
  }

private:
  /// (Op handles are values; `mutable` lets const code query them.)
  mutable StreamedLinearOp op;
  int64_t k;
};

class WeightStreamingKernel {
public:
  WeightStreamingKernel(const WeightStreamingSpec &spec,
                        StreamingOperands &operands)
      : operands(operands), n(spec.n), k(spec.k), operandType(spec.operandType),
        rowExtents(spec.rowExtents), rows(spec.rows), slices(spec.slices),
        warps(spec.warps), rowGroup(spec.rowGroup),
        weights(operands.weightCount()), staging(spec.staging),
        name(spec.name) {
    assert((!staging || !operands.inputPerWeight()) &&
           "a staged input is one input");
    laneElements = vectorElements(operandType);
    warpElements = kWarpSize * laneElements;
    int64_t steps = llvm::divideCeil(k, warpElements);
    // At most 2 x kUnroll loads in flight per lane, over all weights.
    unroll = std::min(
        steps, std::max<int64_t>(1, std::min(kUnroll, 2 * kUnroll / weights)));
    iterations = llvm::divideCeil(steps, unroll);
    // Every lane's every load inside K: no clamping, no masking.
    everyLoadInside = k % (warpElements * unroll) == 0;
    vectorLoads = k % laneElements == 0;
  }

  void build(OpBuilder &b, Location loc) {
    SmallVector<Type> workgroup;
    if (staging)
      workgroup.push_back(
          StreamedLinearFootprint{rowGroup, k, operandType, /*staged=*/true}
              .stagingType(b.getContext()));
    int64_t columnBlocks = llvm::divideCeil(n, warps);
    Value blocks = index(b, loc, columnBlocks);
    if (slices)
      blocks = arith::MulIOp::create(b, loc, slices, blocks);
    gpu::LaunchOp launch = createLinearLaunch(
        b, loc, blocks, index(b, loc, warps * kWarpSize), workgroup);
    nameKernel(launch, name);
    if (staging)
      staged = launch.getWorkgroupAttributions()[0];
    Value tid = launch.getThreadIds().x;
    lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    Value columnBlock = launch.getBlockIds().x;
    if (slices) {
      slice = arith::DivUIOp::create(b, loc, columnBlock,
                                     index(b, loc, columnBlocks));
      columnBlock = arith::RemUIOp::create(b, loc, columnBlock,
                                           index(b, loc, columnBlocks));
      operands.beginSlice(b, loc, slice);
    }
    column = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, columnBlock, index(b, loc, warps)), warp);
    // The last block's warps past N stream row N - 1 again and write
    // nothing: every warp of a block takes part in its barriers and keeps
    // its shuffles uniform.
    weightRow = column;
    if (n % warps != 0)
      weightRow = arith::MinUIOp::create(b, loc, column, index(b, loc, n - 1));

    // Groups of rows; the group's first row always exists, the others are
    // guarded (uniformly across the warp) and read a valid row when absent.
    Value groups =
        arith::CeilDivUIOp::create(b, loc, rows, index(b, loc, rowGroup));
    auto groupLoop =
        scf::ForOp::create(b, loc, index(b, loc, 0), groups, index(b, loc, 1));
    b.setInsertionPointToStart(groupLoop.getBody());
    Value first = arith::MulIOp::create(b, loc, groupLoop.getInductionVar(),
                                        index(b, loc, rowGroup));
    Value lastRow = arith::SubIOp::create(b, loc, rows, index(b, loc, 1));
    rowActive.clear();
    rowIndices.clear();
    for (int64_t j = 0; j < rowGroup; ++j) {
      Value row = arith::AddIOp::create(b, loc, first, index(b, loc, j));
      rowActive.push_back(
          j == 0 ? Value()
                 : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                                         rows));
      rowIndices.push_back(delinearize(
          b, loc, arith::MinUIOp::create(b, loc, row, lastRow), rowExtents));
    }
    if (staging) {
      stageRows(b, loc, first, lastRow);
      gpu::BarrierOp::create(b, loc);
    }

    // Sums per (weight, row): weight w's of row j at w * rowGroup + j.
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    auto loop = scf::ForOp::create(
        b, loc, index(b, loc, 0), index(b, loc, iterations), index(b, loc, 1),
        SmallVector<Value>(weights * rowGroup, zero),
        [&](OpBuilder &nb, Location l, Value iteration, ValueRange sums) {
          scf::YieldOp::create(nb, l, step(nb, l, iteration, sums));
        });
    store(b, loc, loop.getResults());
    // The next group's rows overwrite the staged ones.
    if (staging)
      gpu::BarrierOp::create(b, loc);
  }

private:
  /// Warp j < rowGroup writes row `first + j` (if it exists) to row j of
  /// the shared buffer: RMS-normalised when the staging has a norm, in the
  /// operand type.
  void stageRows(OpBuilder &b, Location loc, Value first, Value lastRow) {
    OpBuilder::InsertionGuard guard(b);
    Value row = arith::AddIOp::create(b, loc, first, warp);
    Value mine = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, warp,
                              index(b, loc, rowGroup)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, row, lastRow));
    auto ifMine = scf::IfOp::create(b, loc, mine, /*withElse=*/false);
    b.setInsertionPointToStart(&ifMine.getThenRegion().front());
    SmallVector<Value> rowIndex = delinearize(b, loc, row, rowExtents);

    // 16-byte slices of the input row, or single elements when K does not
    // divide into them.
    int64_t slice = vectorElements(operands.inputType());
    if (k % slice != 0)
      slice = 1;
    Value scale = operands.stagingScale(b, loc, this->slice);
    int64_t chunks = llvm::divideCeil(k, kWarpSize * slice);
    Value laneStart = arith::MulIOp::create(b, loc, lane, index(b, loc, slice));
    auto sliceAt = [&](OpBuilder &nb, Location l, Value chunk) {
      return arith::AddIOp::create(
          nb, l,
          arith::MulIOp::create(nb, l, chunk, index(nb, l, kWarpSize * slice)),
          laneStart);
    };
    auto inside = [&](OpBuilder &nb, Location l, Value at) {
      return arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult, at,
                                   index(nb, l, k));
    };

    // With a norm: sum(x^2) over the row, then rsqrt(mean + eps), as
    // lm.rms_norm lowers.
    std::optional<NormPrologue> norm = staging->norm;
    Value inverse;
    if (norm) {
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
      auto sumLoop = scf::ForOp::create(
          b, loc, index(b, loc, 0), index(b, loc, chunks), index(b, loc, 1),
          ValueRange{zero},
          [&](OpBuilder &nb, Location l, Value chunk, ValueRange acc) {
            Value at = sliceAt(nb, l, chunk);
            Value in = inside(nb, l, at);
            Value x =
                toF32(nb, l,
                      operands.loadInput(nb, l, 0, this->slice, rowIndex,
                                         arith::SelectOp::create(
                                             nb, l, in, at, index(nb, l, 0)),
                                         slice, /*whole=*/true));
            Value squares =
                vector::ReductionOp::create(nb, l, vector::CombiningKind::ADD,
                                            arith::MulFOp::create(nb, l, x, x));
            Value sum = arith::AddFOp::create(
                nb, l, acc[0],
                arith::SelectOp::create(
                    nb, l, in, squares,
                    arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0))));
            scf::YieldOp::create(nb, l, sum);
          });
      Value total = warpSum(b, loc, sumLoop.getResult(0));
      Value mean = arith::DivFOp::create(
          b, loc, total,
          arith::ConstantOp::create(b, loc,
                                    b.getF32FloatAttr(static_cast<float>(k))));
      inverse = math::RsqrtOp::create(
          b, loc,
          arith::AddFOp::create(
              b, loc, mean,
              arith::ConstantOp::create(
                  b, loc,
                  b.getF32FloatAttr(static_cast<float>(norm->epsilon)))));
    }

    // x (* inverse * (offset + w)), rounded, into the shared row.
    auto f32Vector = VectorType::get({slice}, b.getF32Type());
    scf::ForOp::create(
        b, loc, index(b, loc, 0), index(b, loc, chunks), index(b, loc, 1),
        ValueRange{}, [&](OpBuilder &nb, Location l, Value chunk, ValueRange) {
          Value at = sliceAt(nb, l, chunk);
          auto ifInside =
              scf::IfOp::create(nb, l, inside(nb, l, at), /*withElse=*/false);
          OpBuilder ib = OpBuilder::atBlockBegin(
              &ifInside.getThenRegion().front(), nb.getListener());
          Value x = toF32(ib, l,
                          operands.loadInput(ib, l, 0, this->slice, rowIndex,
                                             at, slice, /*whole=*/true));
          if (norm) {
            Value scale = toF32(ib, l,
                                loadSlice(ib, l, norm->weight, {at}, slice, k,
                                          /*whole=*/true));
            if (norm->offset != 0.0)
              scale = arith::AddFOp::create(
                  ib, l, scale,
                  vector::BroadcastOp::create(
                      ib, l, f32Vector,
                      arith::ConstantOp::create(
                          ib, l,
                          ib.getF32FloatAttr(
                              static_cast<float>(norm->offset)))));
            x = arith::MulFOp::create(
                ib, l,
                arith::MulFOp::create(
                    ib, l, x,
                    vector::BroadcastOp::create(ib, l, f32Vector, inverse)),
                scale);
          }
          if (scale)
            x = arith::MulFOp::create(
                ib, l, x, vector::BroadcastOp::create(ib, l, f32Vector, scale));
          if (!operandType.isF32())
            x = arith::TruncFOp::create(
                ib, l, VectorType::get({slice}, operandType), x);
          // Slices start at multiples of their bytes in the 16-byte
          // aligned buffer (K is a multiple of the slice).
          int64_t bytes = slice * operandType.getIntOrFloatBitWidth() / 8;
          llvm::MaybeAlign align;
          if (llvm::isPowerOf2_64(bytes))
            align = llvm::Align(std::min<int64_t>(bytes, 16));
          vector::StoreOp::create(ib, l, x, staged, ValueRange{warp, at},
                                  /*nontemporal=*/false, align);
          scf::YieldOp::create(nb, l);
        });
  }

  /// The `laneElements` values at [k, k + laneElements) of row `j` of the
  /// group of weight `which`'s input, as f32; zero where `inside` is false.
  Value loadInputF32(OpBuilder &b, Location loc, int64_t which, int64_t j,
                     Value kIndex, Value inside) {
    Value values;
    if (staging)
      values = loadSlice(b, loc, staged, {index(b, loc, j), kIndex},
                         laneElements, k, vectorLoads);
    else
      values = operands.loadInput(b, loc, which, slice, rowIndices[j], kIndex,
                                  laneElements, vectorLoads);
    return maskedF32(b, loc, values, inside);
  }

  /// `values` as f32, zero where `inside` is false.
  Value maskedF32(OpBuilder &b, Location loc, Value values, Value inside) {
    auto type = cast<VectorType>(values.getType());
    if (inside)
      values = arith::SelectOp::create(
          b, loc, inside, values,
          arith::ConstantOp::create(b, loc, b.getZeroAttr(type)));
    return toF32(b, loc, values);
  }

  /// One iteration: `unroll` loads of each weight, then every active row.
  SmallVector<Value> step(OpBuilder &b, Location loc, Value iteration,
                          ValueRange acc) {
    Value base = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, iteration,
                              index(b, loc, warpElements * unroll)),
        arith::MulIOp::create(b, loc, lane, index(b, loc, laneElements)));
    SmallVector<Value> ks, insides;
    // Weight w's u-th load at w * unroll + u.
    SmallVector<Value> loaded(weights * unroll);
    for (int64_t u = 0; u < unroll; ++u) {
      Value kIndex =
          arith::AddIOp::create(b, loc, base, index(b, loc, u * warpElements));
      Value inside;
      if (!everyLoadInside && vectorLoads) {
        // Past K: load the row's start instead, and count it as zero.
        inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                       kIndex, index(b, loc, k));
        kIndex =
            arith::SelectOp::create(b, loc, inside, kIndex, index(b, loc, 0));
      }
      // (Element-wise loads zero whatever lies past K themselves.)
      ks.push_back(kIndex);
      insides.push_back(inside);
      for (int64_t w = 0; w < weights; ++w)
        loaded[w * unroll + u] =
            maskedF32(b, loc,
                      operands.loadWeight(b, loc, w, slice, weightRow, kIndex,
                                          laneElements, vectorLoads),
                      inside);
    }
    SmallVector<Value> next(acc.begin(), acc.end());
    for (int64_t j = 0; j < rowGroup; ++j) {
      // Row j's sums, one per weight.
      auto accumulate = [&](OpBuilder &b) {
        SmallVector<Value> sums;
        for (int64_t w = 0; w < weights; ++w)
          sums.push_back(acc[w * rowGroup + j]);
        for (int64_t u = 0; u < unroll; ++u) {
          Value shared = operands.inputPerWeight()
                             ? Value()
                             : loadInputF32(b, loc, 0, j, ks[u], insides[u]);
          for (int64_t w = 0; w < weights; ++w) {
            Value x =
                shared ? shared : loadInputF32(b, loc, w, j, ks[u], insides[u]);
            for (int64_t e = 0; e < laneElements; ++e)
              sums[w] = arith::AddFOp::create(
                  b, loc, sums[w],
                  arith::MulFOp::create(
                      b, loc, vector::ExtractOp::create(b, loc, x, e),
                      vector::ExtractOp::create(b, loc, loaded[w * unroll + u],
                                                e)));
          }
        }
        return sums;
      };
      SmallVector<Value> sums;
      if (!rowActive[j]) {
        sums = accumulate(b);
      } else {
        auto active = scf::IfOp::create(
            b, loc, SmallVector<Type>(weights, b.getF32Type()), rowActive[j],
            /*withElse=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&active.getThenRegion().front());
        scf::YieldOp::create(b, loc, accumulate(b));
        b.setInsertionPointToStart(&active.getElseRegion().front());
        SmallVector<Value> unchanged;
        for (int64_t w = 0; w < weights; ++w)
          unchanged.push_back(acc[w * rowGroup + j]);
        scf::YieldOp::create(b, loc, unchanged);
        sums.assign(active.getResults().begin(), active.getResults().end());
      }
      for (int64_t w = 0; w < weights; ++w)
        next[w * rowGroup + j] = sums[w];
    }
    return next;
  }

  /// Each active row's partials summed across the warp, written by lane 0
  /// of a warp inside N.
  void store(OpBuilder &b, Location loc, ValueRange acc) {
    Value writer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                         index(b, loc, 0));
    if (n % warps != 0)
      writer = arith::AndIOp::create(
          b, loc, writer,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, column,
                                index(b, loc, n)));
    for (int64_t j = 0; j < rowGroup; ++j) {
      OpBuilder::InsertionGuard guard(b);
      if (rowActive[j]) {
        auto active =
            scf::IfOp::create(b, loc, rowActive[j], /*withElse=*/false);
        b.setInsertionPointToStart(&active.getThenRegion().front());
      }
      SmallVector<Value> sums;
      for (int64_t w = 0; w < weights; ++w)
        sums.push_back(warpSum(b, loc, acc[w * rowGroup + j]));
      auto writerOnly = scf::IfOp::create(b, loc, writer, /*withElse=*/false);
      b.setInsertionPointToStart(&writerOnly.getThenRegion().front());
      operands.store(b, loc, slice, rowIndices[j], column, sums);
    }
  }

  StreamingOperands &operands;
  int64_t n, k;
  Type operandType;
  ArrayRef<Value> rowExtents;
  Value rows, slices;
  int64_t warps, rowGroup, weights;
  std::optional<RowStaging> staging;
  StringRef name;
  int64_t laneElements, warpElements, unroll, iterations;
  bool everyLoadInside, vectorLoads;
  Value lane, warp, slice, column, weightRow, staged;
  SmallVector<Value> rowActive;
  SmallVector<SmallVector<Value>> rowIndices;
};
} // namespace

void buildWeightStreamingKernel(OpBuilder &b, Location loc,
                                const WeightStreamingSpec &spec,
                                StreamingOperands &operands) {
  // (The kernel is built inside its launch.)
  OpBuilder::InsertionGuard guard(b);
  WeightStreamingKernel(spec, operands).build(b, loc);
}

void buildWeightStreaming(OpBuilder &b, Location loc, const Projection &p,
                          ArrayRef<Value> rowExtents, Value rows, Value init) {
  GenericOperands operands(p, init);
  buildWeightStreamingKernel(
      b, loc,
      {"weight_streaming", p.n, p.k, p.operandType, rowExtents, rows,
       /*slices=*/Value(), kWarpsPerBlock, kStreamingRowGroup, std::nullopt},
      operands);
}

void buildStreamedLinear(OpBuilder &b, StreamedLinearOp op) {
  Location loc = op.getLoc();
  auto weightType = cast<MemRefType>(op.getWeight().getType());
  Value input = op.getInput();
  int64_t rank = cast<MemRefType>(input.getType()).getRank();
  SmallVector<Value> rowExtents;
  Value rows = index(b, loc, 1);
  for (int64_t dim = 0; dim + 1 < rank; ++dim) {
    rowExtents.push_back(memref::DimOp::create(b, loc, input, dim));
    rows = arith::MulIOp::create(b, loc, rows, rowExtents.back());
  }
  std::optional<RowStaging> staging = rowStagingOf(op, op.stagesRows());
  StreamedLinearOperands operands(op);
  buildWeightStreamingKernel(
      b, loc,
      {"weight_streaming", weightType.getDimSize(0), weightType.getDimSize(1),
       weightType.getElementType(), rowExtents, rows, /*slices=*/Value(),
       static_cast<int64_t>(op.getWarps()),
       static_cast<int64_t>(op.getRowGroup()), staging},
      operands);
}

} // namespace mlir::lm::gpu_mapping
