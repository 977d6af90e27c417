//===- LMDialect.cpp - The lm dialect -------------------------------------===//

#include "lmc/Dialect/LM/LMDialect.h"
#include "lmc/Dialect/LM/LMOps.h"
#include "lmc/Dialect/LM/LMTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lm;

#include "lmc/Dialect/LM/LMDialect.cpp.inc"
#include "lmc/Dialect/LM/LMEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "lmc/Dialect/LM/LMAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "lmc/Dialect/LM/LMTypes.cpp.inc"

void LMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "lmc/Dialect/LM/LMOps.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "lmc/Dialect/LM/LMTypes.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lmc/Dialect/LM/LMAttrs.cpp.inc"
      >();
}
