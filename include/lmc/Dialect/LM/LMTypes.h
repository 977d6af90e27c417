//===- LMTypes.h - Types and attributes of the lm dialect -------*- C++ -*-===//

#ifndef LMC_DIALECT_LM_LMTYPES_H
#define LMC_DIALECT_LM_LMTYPES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"

#include "lmc/Dialect/LM/LMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lmc/Dialect/LM/LMAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "lmc/Dialect/LM/LMTypes.h.inc"

namespace mlir::lm {
/// Values a state type holds per cached token (0 for constant-size state).
int64_t getValuesPerToken(Type stateType);
/// Values a state type holds per sequence regardless of its length.
int64_t getValuesPerSequence(Type stateType);
/// The element type of a state type.
Type getStateElementType(Type stateType);
} // namespace mlir::lm

#endif // LMC_DIALECT_LM_LMTYPES_H
