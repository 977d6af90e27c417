//===- FlashMLADecode.cpp - MLA's absorbed decode over the latent cache ---===//
//
// Weight-absorbed MLA decode attends with latent-space queries over the
// cached latents: each key is one latent row (R elements) and one rotary row
// (Dr), and the latent row is the key's value as well. Flash decoding's two
// kernels (FlashDecode.cpp) with their own reading of a key: a partials
// block per (sequence, tile of `head_tile` heads, split of the keys); each
// lane holds ceil(R / 32) consecutive elements of every head's latent query
// and value sum and ceil(Dr / 32) of its rotary query, so one read of a
// latent row serves both products of all the tile's heads. All heads share
// the one latent head, so a tile is a register budget, not a kv head: the
// H / head_tile tiles of a split read the same rows, which the L2 serves
// after the first.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
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
} // namespace

void buildFlashMLADecode(OpBuilder &b, FlashMLADecodeOp op) {
  Location loc = op.getLoc();
  auto latent = cast<MemRefType>(op.getQueryLatent().getType());
  int64_t heads = latent.getDimSize(2);
  SplitPartialsSpec spec;
  spec.name = "flash_mla_decode_partials";
  spec.warps = static_cast<int64_t>(op.getWarps());
  spec.headsPerBlock = static_cast<int64_t>(op.getHeadTile());
  spec.blockGroups = heads / spec.headsPerBlock;
  spec.valueDim = latent.getDimSize(3);
  spec.scale = op.getScale().convertToDouble();
  spec.positions = op.getPositions();
  spec.keys = op.getLatent();
  spec.partials = op.getPartials();
  LatentKeyReader reader(op);
  buildSplitPartials(b, loc, spec, reader);
  buildSplitCombine(b, loc, op.getPartials(), op.getInit(), heads,
                    /*sinks=*/Value());
}

} // namespace mlir::lm::gpu_mapping
