//===- ShapeChecker.h - Shape checks of the lm verifiers --------*- C++ -*-===//
//
// Every verifier names the operand at fault and the numbers involved;
// dynamic dimensions are compatible with anything.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_SHAPECHECKER_H
#define LMC_DIALECT_LM_SHAPECHECKER_H

#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"

#include <optional>

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

/// lm.attention's query `[B, T, H, Dk]`, key `[B, S, Hkv, Dk]` and value
/// `[B, S, Hkv, Dv]` agree (the kernel ops computing it take the same).
inline LogicalResult verifyAttentionOperands(const ShapeChecker &check,
                                             Type q, Type k, Type v) {
  if (failed(check.rank("query", q, 4)) || failed(check.rank("key", k, 4)) ||
      failed(check.rank("value", v, 4)))
    return failure();
  return failure(
      failed(check.sameDim("key", k, 0, "query", q, 0, "batch")) ||
      failed(check.sameDim("key", k, 3, "query", q, 3, "head dim")) ||
      failed(check.sameDim("value", v, 0, "key", k, 0, "batch")) ||
      failed(check.sameDim("value", v, 1, "key", k, 1, "keys")) ||
      failed(check.sameDim("value", v, 2, "key", k, 2, "kv heads")));
}

/// The attributes of lm.attention that the kernel ops computing it share: at
/// most one of a positive sliding window and a positive chunk size, a
/// positive softcap when there is one, a positive scale.
inline LogicalResult
verifyAttentionAttributes(Operation *op, const ShapeChecker &check,
                          std::optional<uint64_t> window,
                          std::optional<uint64_t> chunk,
                          std::optional<llvm::APFloat> softcap,
                          llvm::APFloat scale) {
  if (window && chunk)
    return op->emitOpError("expected at most one of 'sliding_window' and "
                           "'chunk_size'");
  // I64Attr getters are unsigned: compare as signed.
  if (window && static_cast<int64_t>(*window) <= 0)
    return op->emitOpError("expected a positive 'sliding_window', got ")
           << static_cast<int64_t>(*window);
  if (chunk && static_cast<int64_t>(*chunk) <= 0)
    return op->emitOpError("expected a positive 'chunk_size', got ")
           << static_cast<int64_t>(*chunk);
  if (softcap && failed(check.positive("softcap", softcap->convertToDouble())))
    return failure();
  return check.positive("scale", scale.convertToDouble());
}

/// The clamped GLUs need their constants (`needsLimit`, `needsAlpha`), the
/// others take none; `kind` names the GLU in the message.
inline LogicalResult verifyGluConstants(Operation *op, StringRef kind,
                                        bool needsLimit, bool needsAlpha,
                                        std::optional<llvm::APFloat> alpha,
                                        std::optional<llvm::APFloat> limit) {
  if (needsLimit != limit.has_value())
    return op->emitOpError(needsLimit ? "expected a 'limit' for "
                                      : "unexpected 'limit' for ")
           << kind;
  if (needsAlpha != alpha.has_value())
    return op->emitOpError(needsAlpha ? "expected an 'alpha' for "
                                      : "unexpected 'alpha' for ")
           << kind;
  if (limit && limit->convertToDouble() <= 0)
    return op->emitOpError("expected a positive 'limit', got ")
           << limit->convertToDouble();
  return success();
}

/// lm.router's operands and attributes (lm.warp_router's too): logits
/// [B, T, E] with E static, the bias [E], top-k within the kept groups,
/// weights and indices [B, T, top_k].
LogicalResult verifyRouter(Operation *op, Type logits, Value bias, int64_t topK,
                           int64_t groups, int64_t keep, Type weights,
                           Type indices);

/// What lm.moe_experts says of its operands and attributes
/// (lm.streamed_experts too): input [B, T, D], routing weights and indices
/// [B, T, K], gate_up [E, 2I or I, D], down [E, D, I], both biases or
/// neither, the activation's constants.
struct MoEExpertsOperands {
  Type input, weights, indices, gateUp, down;
  Value gateUpBias, downBias;
  ExpertKind activation;
  std::optional<llvm::APFloat> alpha, limit;
  bool interleavedGateUp;
};
LogicalResult verifyMoEExperts(Operation *op, const ShapeChecker &check,
                               const MoEExpertsOperands &operands);

/// A GLU kind's constants: both clamped kinds take a `limit`, GPT-OSS's an
/// `alpha` too (lm.glu, lm.streamed_linear).
inline LogicalResult verifyGluConstants(Operation *op, GluKind kind,
                                        std::optional<llvm::APFloat> alpha,
                                        std::optional<llvm::APFloat> limit) {
  return verifyGluConstants(op, stringifyGluKind(kind),
                            kind == GluKind::clamped_swiglu ||
                                kind == GluKind::gpt_oss_swiglu,
                            kind == GluKind::gpt_oss_swiglu, alpha, limit);
}

} // namespace mlir::lm::detail

#endif // LMC_DIALECT_LM_SHAPECHECKER_H
