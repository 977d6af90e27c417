//===- LMKernelOps.cpp - Kernel choices: verifiers, effects, bufferization ===//
//
// Kernel ops are destination-style: on tensors they return their inits, on
// memrefs (after one-shot bufferization) they read their inputs and write
// every element of their inits.
//
//===----------------------------------------------------------------------===//

#include "lmc/Dialect/LM/LMOps.h"

#include "ShapeChecker.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

using namespace mlir;
using namespace mlir::lm;
using lm::detail::ShapeChecker;

namespace {
/// Whether every shaped operand of `op` is a tensor, or every one a memref.
LogicalResult verifyOneForm(Operation *op) {
  bool tensors = false, memrefs = false;
  for (Type type : op->getOperandTypes()) {
    tensors |= isa<RankedTensorType>(type);
    memrefs |= isa<MemRefType>(type);
  }
  if (tensors && memrefs)
    return op->emitOpError("expected all operands to be tensors or all to be "
                           "memrefs");
  return success();
}

/// What a kernel op's bufferization shares: its inits are written, never
/// read (a kernel writes every element), its inputs only read.
template <typename ConcreteOp>
LogicalResult
bufferizeKernelOp(ConcreteOp op, RewriterBase &rewriter,
                  const bufferization::BufferizationOptions &options,
                  bufferization::BufferizationState &state) {
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands, inits;
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<TensorType>(operand.get().getType())) {
      operands.push_back(operand.get());
      continue;
    }
    FailureOr<Value> buffer =
        bufferization::getBuffer(rewriter, operand.get(), options, state);
    if (failed(buffer))
      return failure();
    operands.push_back(*buffer);
    if (op.isDpsInit(&operand))
      inits.push_back(*buffer);
  }
  ConcreteOp::create(rewriter, op.getLoc(), TypeRange{}, operands,
                     op->getAttrs());
  bufferization::replaceOpWithBufferizedValues(rewriter, op, inits);
  return success();
}

template <typename ConcreteOp>
void kernelOpEffects(
    ConcreteOp op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}
} // namespace

//===----------------------------------------------------------------------===//
// FlashDecodeOp
//===----------------------------------------------------------------------===//

int64_t FlashDecodeOp::getGroupSize() {
  return ShapeChecker::size(getQuery().getType(), 2) /
         ShapeChecker::size(getKey().getType(), 2);
}

LogicalResult FlashDecodeOp::verify() {
  if (failed(verifyOneForm(*this)))
    return failure();
  ShapeChecker check(*this);
  Type q = getQuery().getType(), k = getKey().getType(),
       v = getValue().getType(), pos = getPositions().getType();
  if (failed(lm::detail::verifyAttentionOperands(check, q, k, v)) ||
      failed(check.shape("positions", pos,
                         {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1)},
                         {"batch", "tokens"})) ||
      failed(check.dim("query", q, 1, 1, "tokens")))
    return failure();
  // The template specialises to the heads and head dims.
  int64_t heads = ShapeChecker::size(q, 2), kvHeads = ShapeChecker::size(k, 2);
  int64_t headDim = ShapeChecker::size(q, 3),
          valueDim = ShapeChecker::size(v, 3);
  for (int64_t size : {heads, kvHeads, headDim, valueDim})
    if (ShapedType::isDynamic(size) || size <= 0)
      return emitOpError("expected static, positive heads, kv heads and head "
                         "dims, got ")
             << q << ", " << k << " and " << v;
  if (heads % kvHeads != 0)
    return emitOpError("expected the ")
           << heads << " query heads to be a multiple of the " << kvHeads
           << " kv heads";
  auto elementOf = [](Type t) { return cast<ShapedType>(t).getElementType(); };
  if (!elementOf(pos).isSignlessInteger(64))
    return emitOpError("expected i64 'positions', got ") << pos;
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"query", q}, {"key", k}, {"value", v}})
    if (!isa<FloatType>(elementOf(type)))
      return emitOpError("expected float '") << name << "', got " << type;
  if (Value sinks = getSinks()) {
    if (failed(check.shape("sinks", sinks.getType(), {heads}, {"heads"})))
      return failure();
    if (!isa<FloatType>(elementOf(sinks.getType())))
      return emitOpError("expected float 'sinks', got ") << sinks.getType();
  }
  Type partials = getPartials().getType(), init = getInit().getType();
  if (failed(check.shape(
          "partials", partials,
          {ShapeChecker::size(q, 0), heads, ShapedType::kDynamic, valueDim + 2},
          {"batch", "heads", "splits", "value dim + 2"})) ||
      failed(check.shape(
          "init", init,
          {ShapeChecker::size(q, 0), ShapeChecker::size(q, 1), heads, valueDim},
          {"batch", "tokens", "heads", "value dim"})))
    return failure();
  for (auto [name, type] :
       {std::pair<StringRef, Type>{"partials", partials}, {"init", init}})
    if (!elementOf(type).isF32())
      return emitOpError("expected f32 '") << name << "', got " << type;
  if (failed(lm::detail::verifyAttentionAttributes(
          *this, check, getSlidingWindow(), getChunkSize(), getSoftcap(),
          getScale())))
    return failure();
  int64_t warps = static_cast<int64_t>(getWarps());
  if (warps < 1 || warps > 32)
    return emitOpError("expected 1 to 32 'warps', got ") << warps;
  return success();
}

void FlashDecodeOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  kernelOpEffects(*this, effects);
}

bool FlashDecodeOp::bufferizesToMemoryRead(
    OpOperand &operand, const bufferization::AnalysisState &) {
  return !isDpsInit(&operand);
}

bool FlashDecodeOp::bufferizesToMemoryWrite(
    OpOperand &operand, const bufferization::AnalysisState &) {
  return isDpsInit(&operand);
}

bufferization::AliasingValueList
FlashDecodeOp::getAliasingValues(OpOperand &operand,
                                 const bufferization::AnalysisState &) {
  if (!isDpsInit(&operand))
    return {};
  return {
      {getTiedOpResult(&operand), bufferization::BufferRelation::Equivalent}};
}

LogicalResult
FlashDecodeOp::bufferize(RewriterBase &rewriter,
                         const bufferization::BufferizationOptions &options,
                         bufferization::BufferizationState &state) {
  return bufferizeKernelOp(*this, rewriter, options, state);
}
