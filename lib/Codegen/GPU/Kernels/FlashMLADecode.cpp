//===- FlashMLADecode.cpp - MLA's absorbed decode over the latent cache ---===//
//
// Weight-absorbed MLA decode attends with latent-space queries over the
// cached latents: each key is one latent row (R elements) and one rotary row
// (Dr), and the latent row is the key's value as well. Three kernels:
//  - the absorption, q_lat[h] = q_nope[h] W_uk[h] (W_uk[h]: rows h (Dn + Dv)
//    .. + Dn of kv_b): a block per (sequence, head, chunk of R); each lane
//    owns a 16-byte slice of the chunk, so a warp reads a W_uk row's chunk
//    in one coalesced pass, and the block's warps take every warps-th row j,
//    their sums meeting in shared memory;
//  - flash decoding's partials (FlashDecode.cpp) with their own reading of
//    a key: a block per (sequence, tile of `head_tile` heads, split of the
//    keys); each lane holds ceil(R / 32) consecutive elements of every
//    head's latent query and value sum and ceil(Dr / 32) of its rotary
//    query, so one read of a latent row serves both products of all the
//    tile's heads. All heads share the one latent head, so a tile is a
//    register budget, not a kv head: the H / head_tile tiles of a split
//    read the same rows, which the L2 serves after the first;
//  - flash decoding's combine, whose block leaves its head's latent output
//    in shared memory and projects it by the head's value rows W_uv[h] (a
//    warp per output column streaming its kv_b row with 16-byte loads).
// The two projections read kv_b once per step, each row in 16-byte slices;
// as generics the absorption's lanes strode down W_uk's columns (2-byte
// loads 2R bytes apart) and the projection took a kernel of its own.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../MappingUtils.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
class LatentKeyReader final : public SplitKeyReader {
public:
  explicit LatentKeyReader(FlashMLADecodeOp op)
      : op(op), headTile(static_cast<int64_t>(op.getHeadTile())),
        latents(throughCorner(op.getLatent())),
        keyRopes(throughCorner(op.getKeyRope())) {
    FlashMLADecodeFootprint footprint{
        static_cast<int64_t>(op.getWarps()), headTile,
        cast<MemRefType>(op.getLatent().getType()).getDimSize(2),
        cast<MemRefType>(op.getKeyRope().getType()).getDimSize(2)};
    latentDim = footprint.latentDim;
    ropeDim = footprint.ropeDim;
    latentLane = footprint.latentLane();
    ropeLane = footprint.ropeLane();
  }

  void loadQueries(OpBuilder &b, Location loc, Value seq, Value firstHead,
                   Value lane) override {
    latentOffset =
        arith::MulIOp::create(b, loc, lane, index(b, loc, latentLane));
    ropeOffset = arith::MulIOp::create(b, loc, lane, index(b, loc, ropeLane));
    Value c0 = index(b, loc, 0);
    for (int64_t g = 0; g < headTile; ++g) {
      Value head = arith::AddIOp::create(b, loc, firstHead, index(b, loc, g));
      latentQueries.push_back(loadLaneRow(b, loc, op.getQueryLatent(),
                                          {seq, c0, head, latentOffset},
                                          latentLane, latentDim));
      ropeQueries.push_back(loadLaneRow(b, loc, op.getQueryRope(),
                                        {seq, c0, head, ropeOffset}, ropeLane,
                                        ropeDim));
    }
  }

  Value readKey(OpBuilder &b, Location loc, Value seq, Value,
                Value key) override {
    latentRow = loadLaneRow(b, loc, latents, {seq, key, latentOffset},
                            latentLane, latentDim);
    ropeRow = loadLaneRow(b, loc, keyRopes, {seq, key, ropeOffset}, ropeLane,
                          ropeDim);
    return latentRow;
  }

  Value laneDot(OpBuilder &b, Location loc, int64_t g) override {
    auto dot = [&](Value query, Value row) {
      return vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD,
          arith::MulFOp::create(b, loc, query, row));
    };
    return arith::AddFOp::create(b, loc, dot(latentQueries[g], latentRow),
                                 dot(ropeQueries[g], ropeRow));
  }

private:
  FlashMLADecodeOp op;
  int64_t headTile;
  /// Where the rows are read (throughCorner); the number of keys is the
  /// op's.
  Value latents, keyRopes;
  int64_t latentDim, ropeDim, latentLane, ropeLane;
  Value latentOffset, ropeOffset, latentRow, ropeRow;
  SmallVector<Value> latentQueries, ropeQueries;
};

/// The shapes the three kernels share.
struct MLAShapes {
  explicit MLAShapes(FlashMLADecodeOp op) {
    auto queryNope = cast<MemRefType>(op.getQueryNope().getType());
    heads = queryNope.getDimSize(2);
    nopeDim = queryNope.getDimSize(3);
    latentDim = cast<MemRefType>(op.getLatent().getType()).getDimSize(2);
    valueDim = cast<MemRefType>(op.getInit().getType()).getDimSize(3);
    weightType = cast<MemRefType>(op.getKvB().getType()).getElementType();
  }
  /// kv_b's first row of head `head` (its W_uk rows, then its W_uv rows).
  Value headRow(OpBuilder &b, Location loc, Value head) const {
    return arith::MulIOp::create(b, loc, head,
                                 index(b, loc, nopeDim + valueDim));
  }
  int64_t heads, nopeDim, latentDim, valueDim;
  Type weightType;
};

/// q_lat[s, 0, h, r] = sum_j q_nope[s, 0, h, j] kv_b[h (Dn + Dv) + j, r].
void buildAbsorption(OpBuilder &b, Location loc, FlashMLADecodeOp op,
                     const MLAShapes &n) {
  OpBuilder::InsertionGuard guard(b);
  using gpu_target::kWarpSize;
  MLAAbsorptionFootprint footprint{gpu_target::kWarpsPerBlock, n.weightType};
  int64_t warps = footprint.warps, slice = footprint.laneElements(),
          chunk = footprint.chunk();
  int64_t chunks = llvm::divideCeil(n.latentDim, chunk);
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto sumsType =
      MemRefType::get({warps, chunk}, b.getF32Type(), AffineMap(), workgroup);
  Value batch = memref::DimOp::create(b, loc, op.getQueryNope(), 0);
  Value blocks =
      arith::MulIOp::create(b, loc, batch, index(b, loc, n.heads * chunks));
  gpu::LaunchOp launch = createLinearLaunch(
      b, loc, blocks, index(b, loc, warps * kWarpSize), TypeRange{sumsType});
  nameKernel(launch, "flash_mla_decode_absorb");
  Value sums = launch.getWorkgroupAttributions()[0];
  SmallVector<Value> ids =
      delinearize(b, loc, launch.getBlockIds().x,
                  {batch, index(b, loc, n.heads), index(b, loc, chunks)});
  Value seq = ids[0], head = ids[1], c0 = index(b, loc, 0);
  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
  Value warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
  Value laneStart = arith::MulIOp::create(b, loc, lane, index(b, loc, slice));
  Value r = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, ids[2], index(b, loc, chunk)),
      laneStart);
  // Every lane's slice inside R (selection refuses R that is not a whole
  // number of slices): one vector load. Past R a lane reads row start and
  // its sums are never written.
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, r,
                                       index(b, loc, n.latentDim));
  Value column = arith::SelectOp::create(b, loc, inside, r, c0);
  Value firstRow = n.headRow(b, loc, head);
  auto sliceType = VectorType::get({slice}, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(sliceType));
  auto loop = scf::ForOp::create(
      b, loc, warp, index(b, loc, n.nopeDim), index(b, loc, warps),
      ValueRange{zero},
      [&](OpBuilder &nb, Location l, Value j, ValueRange acc) {
        Value q = toF32(nb, l,
                        memref::LoadOp::create(nb, l, op.getQueryNope(),
                                               ValueRange{seq, c0, head, j}));
        Value w =
            toF32(nb, l,
                  loadSlice(nb, l, op.getKvB(),
                            {arith::AddIOp::create(nb, l, firstRow, j), column},
                            slice, n.latentDim, /*whole=*/true));
        Value sum = vector::FMAOp::create(
            nb, l, vector::BroadcastOp::create(nb, l, sliceType, q), w, acc[0]);
        scf::YieldOp::create(nb, l, sum);
      });
  vector::StoreOp::create(b, loc, loop.getResult(0), sums,
                          ValueRange{warp, laneStart});
  gpu::BarrierOp::create(b, loc);
  // Thread t < chunk sums element t of the chunk over the warps, in order.
  Value t = tid;
  Value element = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, ids[2], index(b, loc, chunk)), t);
  Value writes = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t,
                            index(b, loc, chunk)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, element,
                            index(b, loc, n.latentDim)));
  auto ifWrites = scf::IfOp::create(b, loc, writes, /*withElse=*/false);
  b.setInsertionPointToStart(&ifWrites.getThenRegion().front());
  Value total = memref::LoadOp::create(b, loc, sums, ValueRange{c0, t});
  for (int64_t w = 1; w < warps; ++w)
    total = arith::AddFOp::create(
        b, loc, total,
        memref::LoadOp::create(b, loc, sums, ValueRange{index(b, loc, w), t}));
  memref::StoreOp::create(b, loc, total, op.getQueryLatent(),
                          ValueRange{seq, c0, head, element});
}

/// out[s, 0, h, e] = sum_r row[r] kv_b[h (Dn + Dv) + Dn + e, r] for the
/// combined latent `row` of (seq, head) in shared memory: a warp per column
/// e, its lanes' 16-byte slices of the kv_b row against the row's.
void buildValueProjection(OpBuilder &b, Location loc, FlashMLADecodeOp op,
                          const MLAShapes &n, Value seq, Value head,
                          Value row) {
  using gpu_target::kWarpSize;
  int64_t warps = gpu_target::kWarpsPerBlock;
  int64_t slice = vectorElements(n.weightType);
  int64_t steps = llvm::divideCeil(n.latentDim, kWarpSize * slice);
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
  Value warp = arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
  Value laneStart = arith::MulIOp::create(b, loc, lane, index(b, loc, slice));
  Value c0 = index(b, loc, 0);
  Value firstRow = arith::AddIOp::create(b, loc, n.headRow(b, loc, head),
                                         index(b, loc, n.nopeDim));
  auto sliceType = VectorType::get({slice}, b.getF32Type());
  scf::ForOp::create(
      b, loc, warp, index(b, loc, n.valueDim), index(b, loc, warps),
      ValueRange{}, [&](OpBuilder &nb, Location l, Value e, ValueRange) {
        Value weightRow = arith::AddIOp::create(nb, l, firstRow, e);
        Value acc = arith::ConstantOp::create(nb, l, nb.getZeroAttr(sliceType));
        for (int64_t step = 0; step < steps; ++step) {
          Value r = arith::AddIOp::create(
              nb, l, laneStart, index(nb, l, step * kWarpSize * slice));
          // Past R (R a whole number of slices): row start, counted as 0.
          Value inside = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ult,
                                               r, index(nb, l, n.latentDim));
          Value column = arith::SelectOp::create(nb, l, inside, r, c0);
          Value w = toF32(nb, l,
                          loadSlice(nb, l, op.getKvB(), {weightRow, column},
                                    slice, n.latentDim, /*whole=*/true));
          Value x = loadSlice(nb, l, row, {column}, slice, n.latentDim,
                              /*whole=*/true);
          x = arith::SelectOp::create(
              nb, l, inside, x,
              arith::ConstantOp::create(nb, l, nb.getZeroAttr(sliceType)));
          acc = vector::FMAOp::create(nb, l, x, w, acc);
        }
        Value total = warpSum(nb, l,
                              vector::ReductionOp::create(
                                  nb, l, vector::CombiningKind::ADD, acc));
        auto first = scf::IfOp::create(
            nb, l,
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, lane,
                                  index(nb, l, 0)),
            /*withElse=*/false);
        OpBuilder tb = OpBuilder::atBlockBegin(&first.getThenRegion().front(),
                                               nb.getListener());
        memref::StoreOp::create(tb, l, asElementOf(tb, l, total, op.getInit()),
                                op.getInit(), ValueRange{seq, c0, head, e});
        scf::YieldOp::create(nb, l);
      });
}
} // namespace

void buildFlashMLADecode(OpBuilder &b, FlashMLADecodeOp op) {
  Location loc = op.getLoc();
  MLAShapes n(op);
  buildAbsorption(b, loc, op, n);
  SplitPartialsSpec spec;
  spec.name = "flash_mla_decode_partials";
  spec.warps = static_cast<int64_t>(op.getWarps());
  spec.headsPerBlock = static_cast<int64_t>(op.getHeadTile());
  spec.blockGroups = n.heads / spec.headsPerBlock;
  spec.valueDim = n.latentDim;
  spec.scale = op.getScale().convertToDouble();
  spec.positions = op.getPositions();
  spec.keys = op.getLatent();
  spec.partials = op.getPartials();
  LatentKeyReader reader(op);
  buildSplitPartials(b, loc, spec, reader);
  buildSplitCombine(
      b, loc, op.getPartials(), /*init=*/Value(), n.heads,
      /*sinks=*/Value(),
      [&](OpBuilder &nb, Location l, Value seq, Value head, Value row) {
        buildValueProjection(nb, l, op, n, seq, head, row);
      });
}

} // namespace mlir::lm::gpu_mapping
