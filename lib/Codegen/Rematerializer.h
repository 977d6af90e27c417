//===- Rematerializer.h - Values recomputed at an earlier point -*- C++ -*-===//
//
// Passes that move work earlier (an arena sized where the first temporary
// is allocated, a view of state taken before the op that will write it)
// need values the function only computes later: sizes read off views with
// `memref.dim`, offsets, views. Those are recomputed at the earlier point
// from what they were made of, as long as that is known there.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_REMATERIALIZER_H
#define LMC_CODEGEN_REMATERIALIZER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Dominance.h"

namespace mlir::lm {

/// Recomputes values before `point`: a value that dominates it is itself; a
/// `memref.dim` is traced to the size its buffer was made with (allocation,
/// view, reshape, subview, cast operands) or taken of a buffer that
/// dominates the point; any other pure, region-free op is cloned with its
/// operands recomputed. Equal recomputations come out as the same value
/// (one op per distinct computation, the first `memref.dim` of a buffer
/// and dimension stands for all), so values compare as keys.
class Rematerializer {
public:
  Rematerializer(Operation *point, DominanceInfo &dominance)
      : builder(point), point(point), dominance(dominance) {}

  /// `value` before the point, or null when it cannot be known there.
  Value get(Value value) { return get(value, 0); }

private:
  Value get(Value value, unsigned depth);
  /// Dimension `d` of `buffer` before the point.
  Value dim(Value buffer, int64_t d, unsigned depth);
  /// Dimension `d` of `buffer` from the sizes its defining op was given.
  Value traceDim(Value buffer, int64_t d, unsigned depth);
  Value fold(OpFoldResult size, unsigned depth);
  Value constant(int64_t value);

  OpBuilder builder;
  Operation *point;
  DominanceInfo &dominance;
  DenseMap<Value, Value> computed;
  DenseMap<std::pair<Value, int64_t>, Value> dims;
  SmallVector<Operation *> clones;
};

} // namespace mlir::lm

#endif // LMC_CODEGEN_REMATERIALIZER_H
