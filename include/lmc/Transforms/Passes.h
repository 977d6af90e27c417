//===- Passes.h - Graph passes on the lm dialect ----------------*- C++ -*-===//

#ifndef LMC_TRANSFORMS_PASSES_H
#define LMC_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::lm {
#define GEN_PASS_DECL
#include "lmc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lmc/Transforms/Passes.h.inc"
} // namespace mlir::lm

#endif // LMC_TRANSFORMS_PASSES_H
