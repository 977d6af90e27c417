//===- Projection.cpp - A projection generic, as the GPU kernels read it --===//

#include "Projection.h"
#include "../Combiner.h"
#include "MappingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
/// Whether `type`'s innermost dimension is contiguous.
bool hasUnitInnerStride(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

/// The block argument `factor` reads, through an extension from bf16 or
/// directly (f32); null otherwise.
BlockArgument factorArgument(Value factor, Block &body) {
  if (auto ext = factor.getDefiningOp<arith::ExtFOp>()) {
    auto arg = dyn_cast<BlockArgument>(ext.getIn());
    return arg && arg.getOwner() == &body && arg.getType().isBF16()
               ? arg
               : BlockArgument();
  }
  auto arg = dyn_cast<BlockArgument>(factor);
  return arg && arg.getOwner() == &body && arg.getType().isF32()
             ? arg
             : BlockArgument();
}
} // namespace

std::optional<Projection> matchProjection(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1)
    return std::nullopt;
  // The body: x * w (both extended from bf16, or both f32) added to the
  // f32 output.
  Block &body = op.getRegion().front();
  Operation *add = matchCombiner(op);
  if (!isa_and_nonnull<arith::AddFOp>(add) ||
      !body.getArgument(2).getType().isF32())
    return std::nullopt;
  auto mul = combinedValue(op, add).getDefiningOp<arith::MulFOp>();
  if (!mul)
    return std::nullopt;
  SmallVector<BlockArgument> factors;
  for (Value factor : mul->getOperands())
    if (BlockArgument arg = factorArgument(factor, body))
      factors.push_back(arg);
  if (factors.size() != 2 || factors[0].getType() != factors[1].getType() ||
      factors[0].getArgNumber() == factors[1].getArgNumber() ||
      factors[0].getArgNumber() > 1 || factors[1].getArgNumber() > 1)
    return std::nullopt;
  Type operandType = factors[0].getType();
  // extf, extf (bf16), mulf, addf, yield: nothing else in the body.
  if (body.getOperations().size() != (operandType.isBF16() ? 5u : 3u))
    return std::nullopt;
  // As lm.linear lowers: the activation first, the weight second.
  Projection p{op, op.getDpsInputOperand(0), op.getDpsInputOperand(1), 0, 0,
               {}, 0, 0, operandType};

  // w[n, k]: a static, row-contiguous matrix.
  auto weightType = dyn_cast<MemRefType>(p.weight->get().getType());
  AffineMap weightMap = op.getMatchingIndexingMap(p.weight);
  if (!weightType || weightType.getRank() != 2 ||
      !weightType.hasStaticShape() || !hasUnitInnerStride(weightType) ||
      !weightMap.isProjectedPermutation() || weightMap.getNumResults() != 2)
    return std::nullopt;
  p.nDim = weightMap.getDimPosition(0);
  p.kDim = weightMap.getDimPosition(1);
  auto iterators = op.getIteratorTypesArray();
  if (iterators[p.kDim] != utils::IteratorType::reduction ||
      iterators[p.nDim] != utils::IteratorType::parallel)
    return std::nullopt;
  p.n = weightType.getDimSize(0);
  p.k = weightType.getDimSize(1);

  // x[rows..., k], contiguous along k, independent of n.
  auto activationType = dyn_cast<MemRefType>(p.activation->get().getType());
  AffineMap activationMap = op.getMatchingIndexingMap(p.activation);
  if (!activationType || !hasUnitInnerStride(activationType) ||
      !activationMap.isProjectedPermutation() ||
      activationMap.getNumResults() == 0 ||
      activationMap.getDimPosition(activationMap.getNumResults() - 1) !=
          p.kDim ||
      activationMap.isFunctionOfDim(p.nDim))
    return std::nullopt;

  // out[rows..., n]: every parallel dimension, once.
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() || outMap.isFunctionOfDim(p.kDim) ||
      outMap.getNumResults() != op.getNumParallelLoops())
    return std::nullopt;
  for (unsigned dim = 0; dim < op.getNumLoops(); ++dim)
    if (dim != p.nDim && dim != p.kDim)
      p.rowDims.push_back(dim);
  return p;
}

SmallVector<Value> Projection::loopIndices(ArrayRef<Value> row, Value col,
                                           Value kIndex) const {
  SmallVector<Value> ivs(op.getNumLoops());
  for (auto [dim, value] : llvm::zip(rowDims, row))
    ivs[dim] = value;
  ivs[nDim] = col;
  ivs[kDim] = kIndex;
  return ivs;
}

SmallVector<Value> Projection::outIndices(OpBuilder &b, Location loc,
                                          ArrayRef<Value> row,
                                          Value col) const {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  return applyMap(b, loc, op.getMatchingIndexingMap(op.getDpsInitOperand(0)),
                  loopIndices(row, col, zero));
}

Value loadAlongK(OpBuilder &b, Location loc, const Projection &p,
                 OpOperand *operand, SmallVector<Value> ivs, Value k,
                 int64_t elements, bool whole) {
  Value buffer = operand->get();
  auto type = cast<MemRefType>(buffer.getType());
  auto vectorType = VectorType::get({elements}, type.getElementType());
  AffineMap map = p.op.getMatchingIndexingMap(operand);
  ivs[p.kDim] = k;
  if (whole) {
    // Rows start at multiples of the vector's bytes; the base is an
    // allocation's start unless the view has an offset.
    llvm::MaybeAlign align;
    if (type.getLayout().isIdentity())
      align = llvm::Align(elements * type.getElementTypeBitWidth() / 8);
    return vector::LoadOp::create(b, loc, vectorType, buffer,
                                  applyMap(b, loc, map, ivs),
                                  /*nontemporal=*/false, align);
  }
  Value zero =
      arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
  Value last = arith::ConstantIndexOp::create(b, loc, p.k - 1);
  SmallVector<Value> values;
  for (int64_t e = 0; e < elements; ++e) {
    Value ke = arith::AddIOp::create(
        b, loc, k, arith::ConstantIndexOp::create(b, loc, e));
    ivs[p.kDim] = arith::MinUIOp::create(b, loc, ke, last);
    Value value =
        memref::LoadOp::create(b, loc, buffer, applyMap(b, loc, map, ivs));
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, ke, last);
    values.push_back(arith::SelectOp::create(b, loc, inside, value, zero));
  }
  return vector::FromElementsOp::create(b, loc, vectorType, values);
}

} // namespace mlir::lm::gpu_mapping
