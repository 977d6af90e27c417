//===- BufferRoots.h - Which buffer a view is of ----------------*- C++ -*-===//
//
// Passes over bufferized code that move or fold memory accesses (copy
// elision, fill folding, reduction epilogues, launch merging) ask whether
// two values may share memory. They answer it by root: the buffer a value
// is a view of.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_BUFFERROOTS_H
#define LMC_CODEGEN_BUFFERROOTS_H

#include "mlir/IR/Operation.h"

namespace mlir::lm {

/// The buffer `value` is a view of: through view ops, up to an allocation,
/// an argument, or a slot of lm-plan-arena's arena (a `memref.view`: the
/// slot's other tenants are never live with it). Values with different
/// roots do not share memory (arguments are distinct runtime buffers).
Value rootOf(Value value);

/// Whether `op` or an op nested in it uses a memref whose root is `root`.
bool touches(Operation *op, Value root);

} // namespace mlir::lm

#endif // LMC_CODEGEN_BUFFERROOTS_H
