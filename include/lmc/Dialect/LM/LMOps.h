//===- LMOps.h - Operations of the lm dialect -------------------*- C++ -*-===//

#ifndef LMC_DIALECT_LM_LMOPS_H
#define LMC_DIALECT_LM_LMOPS_H

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "lmc/Dialect/LM/LMDialect.h"
#include "lmc/Dialect/LM/LMTypes.h"

namespace mlir::lm::detail {
/// What the kernel ops (LMKernelOps.td) share: on memrefs they read their
/// inputs and write their inits (reading first those `readsInit` says);
/// bufferized, they are the same op on buffers, without results.
void getKernelOpEffects(
    DestinationStyleOpInterface op, function_ref<bool(OpOperand &)> readsInit,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects);
LogicalResult
bufferizeKernelOp(DestinationStyleOpInterface op, RewriterBase &rewriter,
                  const bufferization::BufferizationOptions &options,
                  bufferization::BufferizationState &state);
} // namespace mlir::lm::detail

#define GET_OP_CLASSES
#include "lmc/Dialect/LM/LMOps.h.inc"

#endif // LMC_DIALECT_LM_LMOPS_H
