//===- LaunchUtils.cpp - Building 1-D launches ----------------------------===//

#include "LaunchUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

gpu::LaunchOp lm::gpu_mapping::createLinearLaunch(OpBuilder &b, Location loc,
                                                  Value blocks, Value threads) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&body);
  return launch;
}

SmallVector<Value> lm::gpu_mapping::delinearize(OpBuilder &b, Location loc,
                                                Value linear,
                                                ArrayRef<Value> extents) {
  SmallVector<Value> indices(extents.size());
  for (int64_t d = extents.size() - 1; d >= 0; --d) {
    indices[d] = d == 0 ? linear
                        : b.createOrFold<arith::RemUIOp>(loc, linear, extents[d]);
    if (d > 0)
      linear = b.createOrFold<arith::DivUIOp>(loc, linear, extents[d]);
  }
  return indices;
}
