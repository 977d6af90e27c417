//===- LMDialect.h - The lm dialect -----------------------------*- C++ -*-===//

#ifndef LMC_DIALECT_LM_LMDIALECT_H
#define LMC_DIALECT_LM_LMDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "lmc/Dialect/LM/LMDialect.h.inc"

#endif // LMC_DIALECT_LM_LMDIALECT_H
