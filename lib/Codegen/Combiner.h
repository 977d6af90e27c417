//===- Combiner.h - Reductions that fold one value into the output -*- C++ -*-===//
//
// The form the reduction passes (warp reductions, tensor-core projections,
// the residual fold) all look for: a generic whose body ends in
// `yield(combiner(out, value))`.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_COMBINER_H
#define LMC_CODEGEN_COMBINER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::lm {

/// The op folding one value into `op`'s (first) output, if the body's yield
/// is `combiner(out, value)` with `out` used nowhere else and the combiner
/// an associative float op: addf, maximumf, minimumf, maxnumf, minnumf.
Operation *matchCombiner(linalg::GenericOp op);

/// The value `combiner` (from matchCombiner) folds into the output.
Value combinedValue(linalg::GenericOp op, Operation *combiner);

} // namespace mlir::lm

#endif // LMC_CODEGEN_COMBINER_H
