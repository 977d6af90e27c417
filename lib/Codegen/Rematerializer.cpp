//===- Rematerializer.cpp - Values recomputed at an earlier point ---------===//

#include "Rematerializer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::lm;

/// Deep enough for a size computed from sizes a few views away.
static constexpr unsigned kMaxDepth = 32;

Value Rematerializer::get(Value value, unsigned depth) {
  if (depth > kMaxDepth)
    return nullptr;
  if (auto dim = value.getDefiningOp<memref::DimOp>()) {
    std::optional<int64_t> index = dim.getConstantIndex();
    if (!index)
      return nullptr;
    if (dominance.properlyDominates(value, point))
      dims.try_emplace({dim.getSource(), *index}, value);
    return this->dim(dim.getSource(), *index, depth + 1);
  }
  if (dominance.properlyDominates(value, point))
    return value;
  if (Value known = computed.lookup(value))
    return known;
  Operation *op = value.getDefiningOp();
  bool division = isa<arith::DivUIOp, arith::CeilDivUIOp, arith::RemUIOp>(op);
  if (!op || (!isPure(op) && !division) || op->getNumRegions() != 0 ||
      op->getNumResults() != 1)
    return nullptr;
  IRMapping mapping;
  for (Value operand : op->getOperands()) {
    Value at = get(operand, depth + 1);
    if (!at)
      return nullptr;
    mapping.map(operand, at);
  }
  if (division) {
    // Not speculatable where it was (its divisor may be 0 on a path that
    // never runs it): recomputed with the divisor at least 1, which is the
    // same value wherever the original ran.
    Value divisor = mapping.lookup(op->getOperand(1));
    std::optional<int64_t> known = getConstantIntValue(divisor);
    if (!known || *known == 0)
      mapping.map(op->getOperand(1),
                  builder.createOrFold<arith::MaxUIOp>(
                      op->getLoc(), divisor,
                      builder.createOrFold<arith::ConstantOp>(
                          op->getLoc(), divisor.getType(),
                          builder.getIntegerAttr(divisor.getType(), 1))));
  }
  Operation *clone = builder.clone(*op, mapping);
  auto same = llvm::find_if(clones, [&](Operation *earlier) {
    return OperationEquivalence::isEquivalentTo(
        earlier, clone, OperationEquivalence::IgnoreLocations);
  });
  if (same != clones.end()) {
    clone->erase();
    clone = *same;
  } else {
    clones.push_back(clone);
  }
  return computed[value] = clone->getResult(0);
}

Value Rematerializer::dim(Value buffer, int64_t d, unsigned depth) {
  auto type = cast<MemRefType>(buffer.getType());
  if (!type.isDynamicDim(d))
    return constant(type.getDimSize(d));
  auto key = std::make_pair(buffer, d);
  if (Value known = dims.lookup(key))
    return known;
  Value size = traceDim(buffer, d, depth);
  if (!size && dominance.properlyDominates(buffer, point))
    size = memref::DimOp::create(builder, buffer.getLoc(), buffer, d);
  return dims[key] = size;
}

Value Rematerializer::traceDim(Value buffer, int64_t d, unsigned depth) {
  Operation *op = buffer.getDefiningOp();
  auto type = cast<MemRefType>(buffer.getType());
  if (auto alloc = dyn_cast_or_null<memref::AllocOp>(op))
    return get(alloc.getDynamicSizes()[type.getDynamicDimIndex(d)], depth);
  if (auto view = dyn_cast_or_null<memref::ViewOp>(op))
    return get(view.getSizes()[type.getDynamicDimIndex(d)], depth);
  if (auto cast = dyn_cast_or_null<memref::CastOp>(op))
    return dim(cast.getSource(), d, depth);
  if (auto expand = dyn_cast_or_null<memref::ExpandShapeOp>(op))
    return fold(expand.getMixedOutputShape()[d], depth);
  if (auto subview = dyn_cast_or_null<memref::SubViewOp>(op)) {
    if (subview.getSourceType().getRank() != type.getRank())
      return nullptr; // rank-reducing: sizes and dims do not line up
    return fold(subview.getMixedSizes()[d], depth);
  }
  if (auto branches = dyn_cast_or_null<scf::IfOp>(op)) {
    // A kernel choice's result: the size every branch yields, if they
    // agree (recomputations of one value come out as the same value).
    unsigned index = cast<OpResult>(buffer).getResultNumber();
    Value agreed;
    if (branches.getElseRegion().empty())
      return nullptr;
    for (scf::YieldOp yield : {branches.thenYield(), branches.elseYield()}) {
      Value size = dim(yield.getOperand(index), d, depth + 1);
      if (!size || (agreed && size != agreed))
        return nullptr;
      agreed = size;
    }
    return agreed;
  }
  if (auto collapse = dyn_cast_or_null<memref::CollapseShapeOp>(op)) {
    Value product;
    // A named copy: the loop must not run over a destroyed temporary.
    SmallVector<ReassociationIndices> groups =
        collapse.getReassociationIndices();
    for (int64_t s : groups[d]) {
      Value size = dim(collapse.getSrc(), s, depth + 1);
      if (!size)
        return nullptr;
      product = product ? builder.createOrFold<arith::MulIOp>(
                              buffer.getLoc(), product, size)
                        : size;
    }
    return product;
  }
  return nullptr;
}

Value Rematerializer::fold(OpFoldResult size, unsigned depth) {
  if (auto attr = dyn_cast<Attribute>(size))
    return constant(cast<IntegerAttr>(attr).getInt());
  return get(cast<Value>(size), depth + 1);
}

Value Rematerializer::constant(int64_t value) {
  return builder.createOrFold<arith::ConstantIndexOp>(point->getLoc(), value);
}
