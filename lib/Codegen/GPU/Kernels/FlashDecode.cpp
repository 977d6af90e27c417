//===- FlashDecode.cpp - Attention of one token per sequence, split -------===//
//
// Decode attention reads the whole KV cache for a handful of dot products,
// so, as for weight streaming, the job is to spread that read over every SM
// and read each byte once. Two kernels (lm.flash_decode says what they
// compute):
//
//  1. partials: a block per (sequence, kv head, split of its visible keys).
//     Warp w takes keys start + w, start + w + warps, ...; each lane holds
//     ceil(Dk / 32) consecutive elements of every query head of the group
//     and ceil(Dv / 32) of their running sums, so one key row and one value
//     row (read with vector loads when the dims are multiples of 32) serve
//     the whole group. Scores are summed
//     across the warp by xor shuffles and folded into an online softmax per
//     head (running max m, sum l, sum of weighted values). The block's
//     warps then meet in shared memory: each rescales to the block's
//     maximum, and the block writes [acc, m, l] per query head.
//  2. combine: a block per (sequence, query head) rescales the splits to
//     their common maximum (and the sink's logit), and divides.
//
// The visible keys of a query at position p are one range: [0, p], cut
// below by the sliding window (p - W, p] or the chunk [p - p % C, p], so
// masked keys are never read (a sliding-window layer reads W keys, not S).
//
// With bf16_products the query, key and value rows are rounded to bf16 as
// they are read and each weight before it scales its value row: the
// products tensor cores compute for prompts, computed here on CUDA cores.
//
//===----------------------------------------------------------------------===//

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"
#include "Kernels.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kBlockThreads;
using gpu_target::kWarpSize;

Value i64(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), value);
}

class FlashDecodeKernel {
public:
  explicit FlashDecodeKernel(FlashDecodeOp op)
      : op(op), warps(static_cast<int64_t>(op.getWarps())),
        group(op.getGroupSize()), bf16Products(op.getBf16Products()),
        keys(throughCorner(op.getKey())), values(throughCorner(op.getValue())) {
    auto q = cast<MemRefType>(op.getQuery().getType());
    auto v = cast<MemRefType>(op.getValue().getType());
    heads = q.getDimSize(2);
    kvHeads = heads / group;
    keyDim = q.getDimSize(3);
    FlashDecodeFootprint footprint{warps, group, keyDim, v.getDimSize(3)};
    keyLane = footprint.keyLane();
    valueDim = v.getDimSize(3);
    valueLane = footprint.valueLane();
  }

  void build(OpBuilder &b) {
    Location loc = op.getLoc();
    buildPartials(b, loc);
    buildCombine(b, loc);
  }

private:
  /// The lane's `elements` consecutive values of `buffer`'s innermost row
  /// at `indices` (whose last index is the lane's first element), as f32:
  /// one vector load when every lane's slice lies inside the row (`size`
  /// a multiple of 32), else element by element, zero past `size`.
  Value loadRow(OpBuilder &b, Location loc, Value buffer,
                SmallVector<Value> indices, int64_t elements, int64_t size) {
    return productOperand(
        b, loc,
        toF32(b, loc,
              loadSlice(b, loc, buffer, std::move(indices), elements, size,
                        /*whole=*/size % kWarpSize == 0)));
  }

  /// `value` as the op's products see it.
  Value productOperand(OpBuilder &b, Location loc, Value value) {
    return bf16Products ? lowering::throughBF16(b, loc, value) : value;
  }

  Value scalarF32(OpBuilder &b, Location loc, Value buffer,
                  ValueRange indices) {
    return toF32(b, loc, memref::LoadOp::create(b, loc, buffer, indices));
  }

  /// Kernel 1: [acc, max, sum] of each (sequence, query head, split).
  void buildPartials(OpBuilder &b, Location loc) {
    OpBuilder::InsertionGuard guard(b);
    MLIRContext *ctx = b.getContext();
    Value partials = op.getPartials();
    Value batch = memref::DimOp::create(b, loc, partials, 0);
    Value splits = memref::DimOp::create(b, loc, partials, 2);
    Value kvHeadsValue = index(b, loc, kvHeads);
    Value blocks = arith::MulIOp::create(
        b, loc, arith::MulIOp::create(b, loc, batch, kvHeadsValue), splits);
    auto shared = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    Type f32Type = b.getF32Type();
    SmallVector<Type> workgroup = {
        MemRefType::get({warps, group}, f32Type, AffineMap(), shared),
        MemRefType::get({warps, group}, f32Type, AffineMap(), shared),
        MemRefType::get({warps, group, valueLane * kWarpSize}, f32Type,
                        AffineMap(), shared)};
    gpu::LaunchOp launch = createLinearLaunch(
        b, loc, blocks, index(b, loc, warps * kWarpSize), workgroup);
    nameKernel(launch, "flash_decode_partials");
    Value sharedMax = launch.getWorkgroupAttributions()[0];
    Value sharedSum = launch.getWorkgroupAttributions()[1];
    Value sharedAcc = launch.getWorkgroupAttributions()[2];

    Value tid = launch.getThreadIds().x;
    Value lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    Value warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    SmallVector<Value> ids = delinearize(b, loc, launch.getBlockIds().x,
                                         {batch, kvHeadsValue, splits});
    Value seq = ids[0], kvHead = ids[1], split = ids[2];
    Value c0 = index(b, loc, 0);

    // The split's keys [start, stop) of the visible range [lo, end).
    Value pos =
        memref::LoadOp::create(b, loc, op.getPositions(), ValueRange{seq, c0});
    Value keys = arith::IndexCastOp::create(
        b, loc, b.getI64Type(), memref::DimOp::create(b, loc, op.getKey(), 1));
    auto [lo, end] = visibleKeys(b, loc, pos, keys, op.getSlidingWindow(),
                                 op.getChunkSize());
    Value length = arith::MaxSIOp::create(
        b, loc, arith::SubIOp::create(b, loc, end, lo), i64(b, loc, 0));
    Value perSplit = arith::CeilDivSIOp::create(
        b, loc, length,
        arith::IndexCastOp::create(b, loc, b.getI64Type(), splits));
    Value start = arith::AddIOp::create(
        b, loc, lo,
        arith::MulIOp::create(
            b, loc, arith::IndexCastOp::create(b, loc, b.getI64Type(), split),
            perSplit));
    Value stop = arith::MinSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, start, perSplit), end);
    auto toIndex = [&](Value v) {
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    };

    // The lane's slice of each query head of the group.
    Value keyOffset =
        arith::MulIOp::create(b, loc, lane, index(b, loc, keyLane));
    Value valueOffset =
        arith::MulIOp::create(b, loc, lane, index(b, loc, valueLane));
    Value firstHead =
        arith::MulIOp::create(b, loc, kvHead, index(b, loc, group));
    SmallVector<Value> queries;
    for (int64_t g = 0; g < group; ++g) {
      Value head = arith::AddIOp::create(b, loc, firstHead, index(b, loc, g));
      queries.push_back(loadRow(b, loc, op.getQuery(),
                                {seq, c0, head, keyOffset}, keyLane, keyDim));
    }

    // The online softmax of each head over the warp's keys.
    auto accType = VectorType::get({valueLane}, f32Type);
    SmallVector<Value> init;
    for (int64_t g = 0; g < group; ++g)
      init.append({lowering::f32Constant(b, loc, -INFINITY),
                   lowering::f32Constant(b, loc, 0.0),
                   arith::ConstantOp::create(b, loc, b.getZeroAttr(accType))});
    Value first = arith::AddIOp::create(b, loc, toIndex(start), warp);
    auto keyLoop = scf::ForOp::create(
        b, loc, first, toIndex(stop), index(b, loc, warps), init,
        [&](OpBuilder &nb, Location l, Value key, ValueRange state) {
          scf::YieldOp::create(nb, l,
                               visitKey(nb, l, seq, kvHead, key, keyOffset,
                                        valueOffset, queries, state));
        });
    ValueRange state = keyLoop.getResults();

    // The block's warps meet at the block's maximum.
    Value firstLane =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c0);
    {
      OpBuilder::InsertionGuard inner(b);
      auto ifFirst = scf::IfOp::create(b, loc, firstLane, /*withElse=*/false);
      b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
      for (int64_t g = 0; g < group; ++g)
        memref::StoreOp::create(b, loc, state[3 * g], sharedMax,
                                ValueRange{warp, index(b, loc, g)});
    }
    gpu::BarrierOp::create(b, loc);
    for (int64_t g = 0; g < group; ++g) {
      Value blockMax = maxOverWarps(b, loc, sharedMax, g);
      Value factor = softmaxWeight(b, loc, state[3 * g], blockMax);
      Value acc = arith::MulFOp::create(
          b, loc, state[3 * g + 2],
          vector::BroadcastOp::create(b, loc, accType, factor));
      vector::StoreOp::create(b, loc, acc, sharedAcc,
                              ValueRange{warp, index(b, loc, g), valueOffset});
      OpBuilder::InsertionGuard inner(b);
      auto ifFirst = scf::IfOp::create(b, loc, firstLane, /*withElse=*/false);
      b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
      memref::StoreOp::create(
          b, loc, arith::MulFOp::create(b, loc, state[3 * g + 1], factor),
          sharedSum, ValueRange{warp, index(b, loc, g)});
    }
    gpu::BarrierOp::create(b, loc);

    // The block's sums, a thread per (head, element), and per head its
    // maximum and sum of weights.
    Value blockThreads = index(b, loc, warps * kWarpSize);
    scf::ForOp::create(
        b, loc, tid, index(b, loc, group * valueDim), blockThreads,
        ValueRange{}, [&](OpBuilder &nb, Location l, Value t, ValueRange) {
          Value g = arith::DivUIOp::create(nb, l, t, index(nb, l, valueDim));
          Value e = arith::RemUIOp::create(nb, l, t, index(nb, l, valueDim));
          Value sum = lowering::f32Constant(nb, l, 0.0);
          for (int64_t w = 0; w < warps; ++w)
            sum = arith::AddFOp::create(
                nb, l, sum,
                memref::LoadOp::create(nb, l, sharedAcc,
                                       ValueRange{index(nb, l, w), g, e}));
          Value head = arith::AddIOp::create(nb, l, firstHead, g);
          memref::StoreOp::create(nb, l, sum, partials,
                                  ValueRange{seq, head, split, e});
          scf::YieldOp::create(nb, l);
        });
    auto perHead = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tid,
                              index(b, loc, group)),
        /*withElse=*/false);
    b.setInsertionPointToStart(&perHead.getThenRegion().front());
    Value sum = lowering::f32Constant(b, loc, 0.0);
    for (int64_t w = 0; w < warps; ++w)
      sum = arith::AddFOp::create(
          b, loc, sum,
          memref::LoadOp::create(b, loc, sharedSum,
                                 ValueRange{index(b, loc, w), tid}));
    Value max = lowering::f32Constant(b, loc, -INFINITY);
    for (int64_t w = 0; w < warps; ++w)
      max = arith::MaximumFOp::create(
          b, loc, max,
          memref::LoadOp::create(b, loc, sharedMax,
                                 ValueRange{index(b, loc, w), tid}));
    Value head = arith::AddIOp::create(b, loc, firstHead, tid);
    memref::StoreOp::create(
        b, loc, max, partials,
        ValueRange{seq, head, split, index(b, loc, valueDim)});
    memref::StoreOp::create(
        b, loc, sum, partials,
        ValueRange{seq, head, split, index(b, loc, valueDim + 1)});
  }

  /// The maximum of head `g` over the block's warps (in shared memory).
  Value maxOverWarps(OpBuilder &b, Location loc, Value sharedMax, int64_t g) {
    Value max = lowering::f32Constant(b, loc, -INFINITY);
    for (int64_t w = 0; w < warps; ++w)
      max = arith::MaximumFOp::create(
          b, loc, max,
          memref::LoadOp::create(
              b, loc, sharedMax,
              ValueRange{index(b, loc, w), index(b, loc, g)}));
    return max;
  }

  /// One key: its row and its value row read once, then per head of the
  /// group the score and the online-softmax update of (max, sum, acc).
  SmallVector<Value> visitKey(OpBuilder &b, Location loc, Value seq,
                              Value kvHead, Value key, Value keyOffset,
                              Value valueOffset, ArrayRef<Value> queries,
                              ValueRange state) {
    Value keyRow =
        loadRow(b, loc, keys, {seq, key, kvHead, keyOffset}, keyLane, keyDim);
    Value valueRow = loadRow(b, loc, values, {seq, key, kvHead, valueOffset},
                             valueLane, valueDim);
    auto accType = cast<VectorType>(valueRow.getType());
    SmallVector<Value> next;
    for (int64_t g = 0; g < group; ++g) {
      Value dot = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD,
          arith::MulFOp::create(b, loc, queries[g], keyRow));
      Value score = arith::MulFOp::create(
          b, loc, warpSum(b, loc, dot),
          lowering::f32Constant(b, loc, op.getScale().convertToDouble()));
      if (std::optional<APFloat> softcap = op.getSoftcap()) {
        Value cap = lowering::f32Constant(b, loc, softcap->convertToDouble());
        score = arith::MulFOp::create(
            b, loc, cap,
            math::TanhOp::create(b, loc,
                                 arith::DivFOp::create(b, loc, score, cap)));
      }
      Value max = state[3 * g], sum = state[3 * g + 1], acc = state[3 * g + 2];
      Value newMax = arith::MaximumFOp::create(b, loc, max, score);
      Value rescale = softmaxWeight(b, loc, max, newMax);
      Value weight = math::ExpOp::create(
          b, loc, arith::SubFOp::create(b, loc, score, newMax));
      Value newSum = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, sum, rescale), weight);
      Value newAcc = vector::FMAOp::create(
          b, loc,
          vector::BroadcastOp::create(b, loc, accType,
                                      productOperand(b, loc, weight)),
          valueRow,
          arith::MulFOp::create(
              b, loc, acc,
              vector::BroadcastOp::create(b, loc, accType, rescale)));
      next.append({newMax, newSum, newAcc});
    }
    return next;
  }

  /// Kernel 2: out[b, 0, h, e] from the splits of (b, h) and the sink.
  void buildCombine(OpBuilder &b, Location loc) {
    OpBuilder::InsertionGuard guard(b);
    Value partials = op.getPartials();
    Value batch = memref::DimOp::create(b, loc, partials, 0);
    Value splits = memref::DimOp::create(b, loc, partials, 2);
    Value headsValue = index(b, loc, heads);
    gpu::LaunchOp launch = createLinearLaunch(
        b, loc, arith::MulIOp::create(b, loc, batch, headsValue),
        index(b, loc, kBlockThreads));
    nameKernel(launch, "flash_decode_combine");
    SmallVector<Value> ids =
        delinearize(b, loc, launch.getBlockIds().x, {batch, headsValue});
    Value seq = ids[0], head = ids[1];
    Value c0 = index(b, loc, 0), c1 = index(b, loc, 1);
    Value maxAt = index(b, loc, valueDim), sumAt = index(b, loc, valueDim + 1);
    Value sink;
    if (Value sinks = op.getSinks())
      sink = scalarF32(b, loc, sinks, ValueRange{head});
    scf::ForOp::create(
        b, loc, launch.getThreadIds().x, maxAt, index(b, loc, kBlockThreads),
        ValueRange{}, [&](OpBuilder &nb, Location l, Value e, ValueRange) {
          auto maxLoop = scf::ForOp::create(
              nb, l, c0, splits, c1,
              ValueRange{lowering::f32Constant(nb, l, -INFINITY)},
              [&](OpBuilder &lb, Location ll, Value s, ValueRange acc) {
                Value m = memref::LoadOp::create(
                    lb, ll, partials, ValueRange{seq, head, s, maxAt});
                scf::YieldOp::create(
                    lb, ll,
                    ValueRange{arith::MaximumFOp::create(lb, ll, acc[0], m)});
              });
          Value max = maxLoop.getResult(0);
          if (sink)
            max = arith::MaximumFOp::create(nb, l, max, sink);
          auto sumLoop = scf::ForOp::create(
              nb, l, c0, splits, c1,
              ValueRange{lowering::f32Constant(nb, l, 0.0),
                         lowering::f32Constant(nb, l, 0.0)},
              [&](OpBuilder &lb, Location ll, Value s, ValueRange acc) {
                Value m = memref::LoadOp::create(
                    lb, ll, partials, ValueRange{seq, head, s, maxAt});
                Value weight = softmaxWeight(lb, ll, m, max);
                Value sum = memref::LoadOp::create(
                    lb, ll, partials, ValueRange{seq, head, s, sumAt});
                Value value = memref::LoadOp::create(
                    lb, ll, partials, ValueRange{seq, head, s, e});
                scf::YieldOp::create(
                    lb, ll,
                    ValueRange{
                        arith::AddFOp::create(
                            lb, ll, acc[0],
                            arith::MulFOp::create(lb, ll, weight, value)),
                        arith::AddFOp::create(
                            lb, ll, acc[1],
                            arith::MulFOp::create(lb, ll, weight, sum))});
              });
          Value numerator = sumLoop.getResult(0);
          Value denominator = sumLoop.getResult(1);
          if (sink)
            denominator = arith::AddFOp::create(
                nb, l, denominator,
                math::ExpOp::create(nb, l,
                                    arith::SubFOp::create(nb, l, sink, max)));
          memref::StoreOp::create(
              nb, l, arith::DivFOp::create(nb, l, numerator, denominator),
              op.getInit(), ValueRange{seq, c0, head, e});
          scf::YieldOp::create(nb, l);
        });
  }

  FlashDecodeOp op;
  int64_t warps, group, heads, kvHeads;
  bool bf16Products;
  /// Where the key and value rows are read (throughCorner); the number of
  /// keys is still the op's.
  Value keys, values;
  /// Head dims, and the elements of a row each lane holds (the last lanes'
  /// slices lie past the row when a dim is not a multiple of 32).
  int64_t keyDim, keyLane, valueDim, valueLane;
};
} // namespace

void buildFlashDecode(OpBuilder &b, FlashDecodeOp op) {
  FlashDecodeKernel(op).build(b);
}

} // namespace mlir::lm::gpu_mapping
