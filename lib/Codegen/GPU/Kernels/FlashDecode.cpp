//===- FlashDecode.cpp - Attention of one token per sequence, split -------===//
//
// Decode attention reads the whole KV cache for a handful of dot products,
// so, as for weight streaming, the job is to spread that read over every SM
// and read each byte once. Two kernels (lm.flash_decode says what they
// compute; lm.flash_mla_decode, FlashMLADecode.cpp, shares both with its own
// way of reading a key):
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
} // namespace

Value loadLaneRow(OpBuilder &b, Location loc, Value buffer,
                  SmallVector<Value> indices, int64_t elements, int64_t size) {
  return toF32(b, loc,
               loadSlice(b, loc, buffer, std::move(indices), elements, size,
                         /*whole=*/size % kWarpSize == 0));
}

void buildSplitPartials(OpBuilder &b, Location loc,
                        const SplitPartialsSpec &spec, SplitKeyReader &reader) {
  OpBuilder::InsertionGuard guard(b);
  MLIRContext *ctx = b.getContext();
  const int64_t warps = spec.warps, group = spec.headsPerBlock;
  const int64_t valueDim = spec.valueDim;
  const int64_t valueLane = llvm::divideCeil(valueDim, kWarpSize);
  Value partials = spec.partials;
  Value batch = memref::DimOp::create(b, loc, partials, 0);
  Value splits = memref::DimOp::create(b, loc, partials, 2);
  Value groupsValue = index(b, loc, spec.blockGroups);
  Value blocks = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, batch, groupsValue), splits);
  auto shared = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Type f32Type = b.getF32Type();
  SmallVector<Type> workgroup = {
      MemRefType::get({warps, group}, f32Type, AffineMap(), shared),
      MemRefType::get({warps, group}, f32Type, AffineMap(), shared),
      MemRefType::get({warps, group, valueLane * kWarpSize}, f32Type,
                      AffineMap(), shared)};
  gpu::LaunchOp launch = createLinearLaunch(
      b, loc, blocks, index(b, loc, warps * kWarpSize), workgroup);
  nameKernel(launch, spec.name);
  Value sharedMax = launch.getWorkgroupAttributions()[0];
  Value sharedSum = launch.getWorkgroupAttributions()[1];
  Value sharedAcc = launch.getWorkgroupAttributions()[2];

  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
  Value warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
  SmallVector<Value> ids =
      delinearize(b, loc, launch.getBlockIds().x, {batch, groupsValue, splits});
  Value seq = ids[0], blockGroup = ids[1], split = ids[2];
  Value c0 = index(b, loc, 0);

  // The split's keys [start, stop) of the visible range [lo, end).
  Value pos =
      memref::LoadOp::create(b, loc, spec.positions, ValueRange{seq, c0});
  Value keys = arith::IndexCastOp::create(
      b, loc, b.getI64Type(), memref::DimOp::create(b, loc, spec.keys, 1));
  auto [lo, end] =
      visibleKeys(b, loc, pos, keys, spec.slidingWindow, spec.chunkSize);
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

  // The lane's slice of each query head of the block.
  Value valueOffset =
      arith::MulIOp::create(b, loc, lane, index(b, loc, valueLane));
  Value firstHead =
      arith::MulIOp::create(b, loc, blockGroup, index(b, loc, group));
  reader.loadQueries(b, loc, seq, firstHead, lane);

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
        Value valueRow = reader.readKey(nb, l, seq, blockGroup, key);
        SmallVector<Value> next;
        for (int64_t g = 0; g < group; ++g) {
          Value score = arith::MulFOp::create(
              nb, l, warpSum(nb, l, reader.laneDot(nb, l, g)),
              lowering::f32Constant(nb, l, spec.scale));
          if (spec.softcap) {
            Value cap = lowering::f32Constant(nb, l, *spec.softcap);
            score = arith::MulFOp::create(
                nb, l, cap,
                math::TanhOp::create(nb, l,
                                     arith::DivFOp::create(nb, l, score, cap)));
          }
          Value max = state[3 * g], sum = state[3 * g + 1],
                acc = state[3 * g + 2];
          Value newMax = arith::MaximumFOp::create(nb, l, max, score);
          Value rescale = softmaxWeight(nb, l, max, newMax);
          Value weight = math::ExpOp::create(
              nb, l, arith::SubFOp::create(nb, l, score, newMax));
          Value newSum = arith::AddFOp::create(
              nb, l, arith::MulFOp::create(nb, l, sum, rescale), weight);
          Value newAcc = vector::FMAOp::create(
              nb, l,
              vector::BroadcastOp::create(nb, l, accType,
                                          reader.weightOperand(nb, l, weight)),
              valueRow,
              arith::MulFOp::create(
                  nb, l, acc,
                  vector::BroadcastOp::create(nb, l, accType, rescale)));
          next.append({newMax, newSum, newAcc});
        }
        scf::YieldOp::create(nb, l, next);
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
  // The maximum of head `g` over the block's warps (in shared memory).
  auto maxOverWarps = [&](Value g) {
    Value max = lowering::f32Constant(b, loc, -INFINITY);
    for (int64_t w = 0; w < warps; ++w)
      max = arith::MaximumFOp::create(
          b, loc, max,
          memref::LoadOp::create(b, loc, sharedMax,
                                 ValueRange{index(b, loc, w), g}));
    return max;
  };
  for (int64_t g = 0; g < group; ++g) {
    Value blockMax = maxOverWarps(index(b, loc, g));
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
      b, loc, tid, index(b, loc, group * valueDim), blockThreads, ValueRange{},
      [&](OpBuilder &nb, Location l, Value t, ValueRange) {
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
  auto perHead =
      scf::IfOp::create(b, loc,
                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              tid, index(b, loc, group)),
                        /*withElse=*/false);
  b.setInsertionPointToStart(&perHead.getThenRegion().front());
  Value sum = lowering::f32Constant(b, loc, 0.0);
  for (int64_t w = 0; w < warps; ++w)
    sum = arith::AddFOp::create(
        b, loc, sum,
        memref::LoadOp::create(b, loc, sharedSum,
                               ValueRange{index(b, loc, w), tid}));
  Value max = maxOverWarps(tid);
  Value head = arith::AddIOp::create(b, loc, firstHead, tid);
  memref::StoreOp::create(
      b, loc, max, partials,
      ValueRange{seq, head, split, index(b, loc, valueDim)});
  memref::StoreOp::create(
      b, loc, sum, partials,
      ValueRange{seq, head, split, index(b, loc, valueDim + 1)});
}

void buildSplitCombine(OpBuilder &b, Location loc, Value partials, Value init,
                       int64_t heads, Value sinks, CombineEpilogue project) {
  OpBuilder::InsertionGuard guard(b);
  int64_t valueDim = cast<MemRefType>(partials.getType()).getDimSize(3) - 2;
  Value batch = memref::DimOp::create(b, loc, partials, 0);
  Value splits = memref::DimOp::create(b, loc, partials, 2);
  Value headsValue = index(b, loc, heads);
  // With a projection, the combined row goes to shared memory first.
  SmallVector<Type> workgroup;
  if (project)
    workgroup.push_back(
        MemRefType::get({valueDim}, b.getF32Type(), AffineMap(),
                        gpu::AddressSpaceAttr::get(
                            b.getContext(), gpu::AddressSpace::Workgroup)));
  gpu::LaunchOp launch = createLinearLaunch(
      b, loc, arith::MulIOp::create(b, loc, batch, headsValue),
      index(b, loc, kBlockThreads), workgroup);
  nameKernel(launch,
             project ? "flash_mla_decode_combine" : "flash_decode_combine");
  SmallVector<Value> ids =
      delinearize(b, loc, launch.getBlockIds().x, {batch, headsValue});
  Value seq = ids[0], head = ids[1];
  Value c0 = index(b, loc, 0), c1 = index(b, loc, 1);
  Value maxAt = index(b, loc, valueDim), sumAt = index(b, loc, valueDim + 1);
  Value sink;
  if (sinks)
    sink = toF32(b, loc, memref::LoadOp::create(b, loc, sinks, head));
  scf::ForOp::create(
      b, loc, launch.getThreadIds().x, maxAt, index(b, loc, kBlockThreads),
      ValueRange{}, [&](OpBuilder &nb, Location l, Value e, ValueRange) {
        auto maxLoop = scf::ForOp::create(
            nb, l, c0, splits, c1,
            ValueRange{lowering::f32Constant(nb, l, -INFINITY)},
            [&](OpBuilder &lb, Location ll, Value s, ValueRange acc) {
              Value m = memref::LoadOp::create(lb, ll, partials,
                                               ValueRange{seq, head, s, maxAt});
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
              Value m = memref::LoadOp::create(lb, ll, partials,
                                               ValueRange{seq, head, s, maxAt});
              Value weight = softmaxWeight(lb, ll, m, max);
              Value sum = memref::LoadOp::create(
                  lb, ll, partials, ValueRange{seq, head, s, sumAt});
              Value value = memref::LoadOp::create(lb, ll, partials,
                                                   ValueRange{seq, head, s, e});
              scf::YieldOp::create(
                  lb, ll,
                  ValueRange{arith::AddFOp::create(
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
        Value combined = arith::DivFOp::create(nb, l, numerator, denominator);
        if (project)
          memref::StoreOp::create(nb, l, combined,
                                  launch.getWorkgroupAttributions()[0], e);
        else
          memref::StoreOp::create(nb, l, asElementOf(nb, l, combined, init),
                                  init, ValueRange{seq, c0, head, e});
        scf::YieldOp::create(nb, l);
      });
  if (project) {
    gpu::BarrierOp::create(b, loc);
    project(b, loc, seq, head, launch.getWorkgroupAttributions()[0]);
  }
}

namespace {
/// lm.flash_decode's keys: a block per kv head, its group's queries in
/// registers; a key row and a value row per key, each query head's dot
/// with the key row. With bf16_products the query, key and value rows are
/// rounded as they are read, and each weight before it scales its value
/// row.
class GroupKeyReader final : public SplitKeyReader {
public:
  explicit GroupKeyReader(FlashDecodeOp op)
      : op(op), group(op.getGroupSize()), bf16Products(op.getBf16Products()),
        keys(throughCorner(op.getKey())), values(throughCorner(op.getValue())) {
    auto q = cast<MemRefType>(op.getQuery().getType());
    auto v = cast<MemRefType>(op.getValue().getType());
    keyDim = q.getDimSize(3);
    valueDim = v.getDimSize(3);
    FlashDecodeFootprint footprint{static_cast<int64_t>(op.getWarps()), group,
                                   keyDim, valueDim};
    keyLane = footprint.keyLane();
    valueLane = footprint.valueLane();
  }

  void loadQueries(OpBuilder &b, Location loc, Value seq, Value firstHead,
                   Value lane) override {
    keyOffset = arith::MulIOp::create(b, loc, lane, index(b, loc, keyLane));
    valueOffset = arith::MulIOp::create(b, loc, lane, index(b, loc, valueLane));
    Value c0 = index(b, loc, 0);
    for (int64_t g = 0; g < group; ++g) {
      Value head = arith::AddIOp::create(b, loc, firstHead, index(b, loc, g));
      queries.push_back(productOperand(b, loc,
                                       loadLaneRow(b, loc, op.getQuery(),
                                                   {seq, c0, head, keyOffset},
                                                   keyLane, keyDim)));
    }
  }

  Value readKey(OpBuilder &b, Location loc, Value seq, Value kvHead,
                Value key) override {
    keyRow =
        productOperand(b, loc,
                       loadLaneRow(b, loc, keys, {seq, key, kvHead, keyOffset},
                                   keyLane, keyDim));
    return productOperand(b, loc,
                          loadLaneRow(b, loc, values,
                                      {seq, key, kvHead, valueOffset},
                                      valueLane, valueDim));
  }

  Value laneDot(OpBuilder &b, Location loc, int64_t g) override {
    return vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD,
        arith::MulFOp::create(b, loc, queries[g], keyRow));
  }

  Value weightOperand(OpBuilder &b, Location loc, Value weight) override {
    return productOperand(b, loc, weight);
  }

private:
  /// `value` as the op's products see it.
  Value productOperand(OpBuilder &b, Location loc, Value value) {
    return bf16Products ? lowering::throughBF16(b, loc, value) : value;
  }

  FlashDecodeOp op;
  int64_t group;
  bool bf16Products;
  /// Where the key and value rows are read (throughCorner); the number of
  /// keys is still the op's.
  Value keys, values;
  /// Head dims, and the elements of a row each lane holds (the last lanes'
  /// slices lie past the row when a dim is not a multiple of 32).
  int64_t keyDim, keyLane, valueDim, valueLane;
  Value keyOffset, valueOffset, keyRow;
  SmallVector<Value> queries;
};
} // namespace

void buildFlashDecode(OpBuilder &b, FlashDecodeOp op) {
  Location loc = op.getLoc();
  auto q = cast<MemRefType>(op.getQuery().getType());
  int64_t heads = q.getDimSize(2), group = op.getGroupSize();
  SplitPartialsSpec spec;
  spec.name = "flash_decode_partials";
  spec.warps = static_cast<int64_t>(op.getWarps());
  spec.headsPerBlock = group;
  spec.blockGroups = heads / group;
  spec.valueDim = cast<MemRefType>(op.getValue().getType()).getDimSize(3);
  spec.scale = op.getScale().convertToDouble();
  if (std::optional<APFloat> softcap = op.getSoftcap())
    spec.softcap = softcap->convertToDouble();
  spec.slidingWindow = op.getSlidingWindow();
  spec.chunkSize = op.getChunkSize();
  spec.positions = op.getPositions();
  spec.keys = op.getKey();
  spec.partials = op.getPartials();
  GroupKeyReader reader(op);
  buildSplitPartials(b, loc, spec, reader);
  buildSplitCombine(b, loc, op.getPartials(), op.getInit(), heads,
                    op.getSinks());
}

} // namespace mlir::lm::gpu_mapping
