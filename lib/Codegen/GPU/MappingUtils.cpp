//===- MappingUtils.cpp - What the GPU mapping passes share ---------------===//

#include "MappingUtils.h"
#include "../BufferRoots.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

gpu::LaunchOp lm::gpu_mapping::createLinearLaunch(OpBuilder &b, Location loc,
                                                  Value blocks, Value threads,
                                                  TypeRange workgroup,
                                                  int64_t dynamicSharedBytes) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value dynamicShared;
  if (dynamicSharedBytes > 0)
    dynamicShared = arith::ConstantIntOp::create(b, loc, b.getI32Type(),
                                                 dynamicSharedBytes);
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one,
                                      one, dynamicShared,
                                      /*asyncTokenType=*/nullptr,
                                      /*asyncDependencies=*/{}, workgroup);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&body);
  return launch;
}

MemRefType lm::gpu_mapping::workgroupMemRef(MLIRContext *context,
                                            ArrayRef<int64_t> shape,
                                            Type element) {
  return MemRefType::get(
      shape, element, AffineMap(),
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
}

Value lm::gpu_mapping::dynamicShared(OpBuilder &b, Location loc) {
  return gpu::DynamicSharedMemoryOp::create(
      b, loc,
      workgroupMemRef(b.getContext(), {ShapedType::kDynamic},
                      b.getIntegerType(8)));
}

Value lm::gpu_mapping::sharedView(OpBuilder &b, Location loc, Value shared,
                                  int64_t byteOffset, ArrayRef<int64_t> shape,
                                  Type element) {
  return memref::ViewOp::create(
      b, loc, workgroupMemRef(b.getContext(), shape, element), shared,
      arith::ConstantIndexOp::create(b, loc, byteOffset), ValueRange());
}

void lm::gpu_mapping::nameKernel(gpu::LaunchOp launch, StringRef name) {
  launch.setFunctionAttr(FlatSymbolRefAttr::get(launch.getContext(), name));
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

SmallVector<Value> lm::gpu_mapping::applyMap(OpBuilder &b, Location loc,
                                             AffineMap map, ValueRange ivs) {
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults())
    indices.push_back(b.createOrFold<affine::AffineApplyOp>(
        loc, AffineMap::get(map.getNumDims(), 0, expr), ivs));
  return indices;
}

linalg::FillOp lm::gpu_mapping::initialFill(linalg::GenericOp op) {
  Value buffer = op.getDpsInitOperand(0)->get();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  // A temporary (an allocation or a slot of the arena) or a view of an
  // argument (a cache window written in place, the logits): nothing else
  // aliases it but views of the same root.
  Value root = lm::rootOf(buffer);
  if (!root.getDefiningOp<memref::AllocOp>() &&
      !root.getDefiningOp<memref::ViewOp>() && !isa<BlockArgument>(root))
    return nullptr;
  if (!outMap.isProjectedPermutation() ||
      outMap.getNumResults() != cast<MemRefType>(buffer.getType()).getRank() ||
      llvm::any_of(op.getDpsInputs(),
                   [&](Value in) { return lm::rootOf(in) == root; }))
    return nullptr;
  // Walk back to the fill; anything on the way that sees the buffer would
  // see its filled value.
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev);
        fill && fill.getOutputs()[0] == buffer)
      return fill;
    if (!isMemoryEffectFree(prev) && lm::touches(prev, root))
      return nullptr;
  }
  return nullptr;
}

bool lm::gpu_mapping::isHostArithmetic(Operation *op) {
  return isMemoryEffectFree(op) || isa<nvgpu::TmaCreateDescriptorOp>(op);
}
