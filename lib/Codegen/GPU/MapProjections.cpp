//===- MapProjections.cpp - Projections -> the kernel for their row count -===//
//
// A projection (Projection.h) becomes a choice on the host between kernel
// templates (Kernels/), by its row count, which only the call knows:
//
//   rows <  kStreamingRows:  weight streaming (decode; bf16 and f32)
//   rows >= kWarpgroupRows:  bf16: the wgmma tile (prompts, large batches)
//                            where tensor maps can describe the operands
//   rows >= kStreamingRows:  bf16 otherwise: the mma.sync tile;
//                            f32: the generic, for the warp reduction
//
//===----------------------------------------------------------------------===//

#include "Kernels/Kernels.h"
#include "MappingUtils.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MAPPROJECTIONSTOGPUPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
using gpu_mapping::kStreamingRows;
using gpu_mapping::kWarpgroupRows;
using gpu_mapping::Projection;

void mapProjection(const Projection &p) {
  linalg::GenericOp op = p.op;
  Location loc = op.getLoc();
  OpBuilder b(op);
  linalg::FillOp fill = gpu_mapping::initialFill(op);
  Value init = fill ? fill.getInputs()[0] : Value();
  SmallVector<Range, 4> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
  SmallVector<Value> rowExtents;
  Value rows = arith::ConstantIndexOp::create(b, loc, 1);
  for (unsigned dim : p.rowDims) {
    rowExtents.push_back(
        getValueOrCreateConstantIndexOp(b, loc, ranges[dim].size));
    rows = b.createOrFold<arith::MulIOp>(loc, rows, rowExtents.back());
  }
  Value few = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, rows,
      arith::ConstantIndexOp::create(b, loc, kStreamingRows));
  // Both conditions here, beside each other: CSE makes them one for the
  // projections of the same rows, whose choices lm-merge-launches then
  // joins (and their kernels merge).
  bool warpgroups = gpu_mapping::wgmmaTileApplies(p);
  Value many = warpgroups
                   ? arith::CmpIOp::create(
                         b, loc, arith::CmpIPredicate::uge, rows,
                         arith::ConstantIndexOp::create(b, loc, kWarpgroupRows))
                   : Value();
  auto choice = scf::IfOp::create(b, loc, few, /*withElse=*/true);
  b.setInsertionPointToStart(&choice.getThenRegion().front());
  gpu_mapping::buildWeightStreaming(b, loc, p, rowExtents, rows, init);
  Operation *elseYield = choice.getElseRegion().front().getTerminator();
  if (p.isBF16()) {
    b.setInsertionPoint(elseYield);
    if (warpgroups) {
      auto tile = scf::IfOp::create(b, loc, many, /*withElse=*/true);
      b.setInsertionPointToStart(&tile.getThenRegion().front());
      gpu_mapping::buildWgmmaTile(b, loc, p, rowExtents, rows, init);
      b.setInsertionPointToStart(&tile.getElseRegion().front());
    }
    gpu_mapping::buildMmaSyncTile(b, loc, p, rowExtents, rows, init);
    op.erase();
    if (fill)
      fill.erase();
    return;
  }
  // f32 stays exact: the reduction mapping takes the generic, and folds the
  // fill kept next to it (nothing between them sees the buffer).
  if (fill)
    fill->moveBefore(elseYield);
  op->moveBefore(elseYield);
}

struct MapProjectionsToGPUPass final
    : impl::MapProjectionsToGPUPassBase<MapProjectionsToGPUPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Projection> projections;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->getParentOfType<gpu::LaunchOp>() ||
          op->getParentOfType<scf::ParallelOp>())
        return;
      if (std::optional<Projection> p = gpu_mapping::matchProjection(op))
        projections.push_back(*p);
    });
    for (const Projection &p : projections)
      mapProjection(p);
  }
};
} // namespace
} // namespace mlir::lm
