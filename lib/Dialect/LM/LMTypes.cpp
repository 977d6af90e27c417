//===- LMTypes.cpp - State types of the lm dialect ------------------------===//

#include "lmc/Dialect/LM/LMTypes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lm;

/// Every size parameter of a state type must be positive.
static LogicalResult verifyPositive(function_ref<InFlightDiagnostic()> emitError,
                                    StringRef typeName, StringRef what,
                                    int64_t value) {
  if (value > 0)
    return success();
  return emitError() << "expected " << typeName << " " << what
                     << " to be positive, got " << value;
}

static LogicalResult verifyFloat(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef typeName, Type elementType) {
  if (isa<FloatType>(elementType))
    return success();
  return emitError() << "expected " << typeName
                     << " element type to be a float type, got "
                     << elementType;
}

LogicalResult KVCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t numHeads, int64_t keyDim,
                                  int64_t valueDim, int64_t window,
                                  Type elementType) {
  if (failed(verifyPositive(emitError, "kv_cache", "head count", numHeads)) ||
      failed(verifyPositive(emitError, "kv_cache", "key dim", keyDim)) ||
      failed(verifyPositive(emitError, "kv_cache", "value dim", valueDim)))
    return failure();
  if (window < 0)
    return emitError() << "expected kv_cache window to be non-negative, got "
                       << window;
  return verifyFloat(emitError, "kv_cache", elementType);
}

LogicalResult
LatentCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t latentDim, int64_t ropeDim, Type elementType) {
  if (failed(verifyPositive(emitError, "latent_cache", "latent dim",
                            latentDim)) ||
      failed(verifyPositive(emitError, "latent_cache", "rope dim", ropeDim)))
    return failure();
  return verifyFloat(emitError, "latent_cache", elementType);
}

LogicalResult KeyCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t dim, int64_t window,
                                   Type elementType) {
  if (failed(verifyPositive(emitError, "key_cache", "dim", dim)))
    return failure();
  if (window < 0)
    return emitError() << "expected key_cache window to be non-negative, got "
                       << window;
  return verifyFloat(emitError, "key_cache", elementType);
}

LogicalResult
CompressedCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t dim, int64_t ratio, bool overlap,
                            Type elementType) {
  if (failed(verifyPositive(emitError, "compressed_cache", "dim", dim)))
    return failure();
  if (ratio < 2)
    return emitError() << "expected compressed_cache ratio to be at least 2, got "
                       << ratio;
  return verifyFloat(emitError, "compressed_cache", elementType);
}

LogicalResult
RecurrentStateType::verify(function_ref<InFlightDiagnostic()> emitError,
                           ArrayRef<int64_t> shape, Type elementType) {
  if (shape.empty())
    return emitError() << "expected recurrent_state to have a shape";
  for (int64_t d : shape)
    if (failed(verifyPositive(emitError, "recurrent_state", "dimension", d)))
      return failure();
  return verifyFloat(emitError, "recurrent_state", elementType);
}

int64_t RecurrentStateType::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : getShape())
    n *= d;
  return n;
}

int64_t mlir::lm::getValuesPerToken(Type stateType) {
  return llvm::TypeSwitch<Type, int64_t>(stateType)
      .Case([](KVCacheType t) {
        return t.getNumHeads() * (t.getKeyDim() + t.getValueDim());
      })
      .Case([](LatentCacheType t) {
        return t.getLatentDim() + t.getRopeDim();
      })
      .Case([](KeyCacheType t) { return t.getDim(); })
      // One entry every `ratio` tokens; callers divide by the ratio.
      .Case([](CompressedCacheType t) { return t.getDim(); })
      .Default([](Type) { return int64_t(0); });
}

int64_t mlir::lm::getValuesPerSequence(Type stateType) {
  if (auto t = dyn_cast<RecurrentStateType>(stateType))
    return t.getNumElements();
  // Pending rows of the incomplete window (kv and gate), plus the previous
  // window's first series when entries overlap.
  if (auto t = dyn_cast<CompressedCacheType>(stateType))
    return (t.getRatio() - 1) * 2 * t.getRowWidth() +
           (t.getOverlap() ? t.getRatio() * 2 * t.getDim() : 0);
  return 0;
}

Type mlir::lm::getStateElementType(Type stateType) {
  return llvm::TypeSwitch<Type, Type>(stateType)
      .Case([](KVCacheType t) { return t.getElementType(); })
      .Case([](LatentCacheType t) { return t.getElementType(); })
      .Case([](KeyCacheType t) { return t.getElementType(); })
      .Case([](CompressedCacheType t) { return t.getElementType(); })
      .Case([](RecurrentStateType t) { return t.getElementType(); })
      .Default([](Type) { return Type(); });
}
