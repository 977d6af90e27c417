//===- ShapeChecker.h - Shape checks of the lm verifiers --------*- C++ -*-===//
//
// Every verifier names the operand at fault and the numbers involved;
// dynamic dimensions are compatible with anything.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_SHAPECHECKER_H
#define LMC_DIALECT_LM_SHAPECHECKER_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::lm::detail {

/// Shape checks shared by the verifiers; types are ranked tensors or, for
/// kernel ops after bufferization, memrefs.
class ShapeChecker {
public:
  explicit ShapeChecker(Operation *op) : op(op) {}

  /// `name` has rank `rank`.
  LogicalResult rank(StringRef name, Type type, int64_t rank) const {
    int64_t actual = cast<ShapedType>(type).getRank();
    if (actual == rank)
      return success();
    return op->emitOpError("expected '")
           << name << "' of rank " << rank << ", got rank " << actual;
  }

  /// Dimension `index` (negative counts from the back) of `name` equals
  /// `expected` unless either is dynamic. `meaning` says what it is.
  LogicalResult dim(StringRef name, Type type, int64_t index, int64_t expected,
                    StringRef meaning) const {
    auto t = cast<ShapedType>(type);
    if (index < 0)
      index += t.getRank();
    int64_t actual = t.getDimSize(index);
    if (ShapedType::isDynamic(actual) || ShapedType::isDynamic(expected) ||
        actual == expected)
      return success();
    return op->emitOpError("expected '")
           << name << "' dimension " << index << " (" << meaning << ") to be "
           << expected << ", got " << actual;
  }

  /// Dimension `i` of `a` equals dimension `j` of `b`.
  LogicalResult sameDim(StringRef aName, Type a, int64_t i, StringRef bName,
                        Type b, int64_t j, StringRef meaning) const {
    return dim(aName, a, i, size(b, j), meaning);
  }

  /// `name` has exactly `shape` (dynamic entries match anything).
  LogicalResult shape(StringRef name, Type type, ArrayRef<int64_t> expected,
                      ArrayRef<StringRef> meanings) const {
    if (failed(rank(name, type, expected.size())))
      return failure();
    for (auto [i, e] : llvm::enumerate(expected))
      if (failed(dim(name, type, i, e, meanings[i])))
        return failure();
    return success();
  }

  static int64_t size(Type type, int64_t index) {
    auto t = cast<ShapedType>(type);
    if (index < 0)
      index += t.getRank();
    return t.getDimSize(index);
  }

  LogicalResult positive(StringRef attr, double value) const {
    if (value > 0)
      return success();
    return op->emitOpError("expected '")
           << attr << "' to be positive, got " << value;
  }

private:
  Operation *op;
};

} // namespace mlir::lm::detail

#endif // LMC_DIALECT_LM_SHAPECHECKER_H
