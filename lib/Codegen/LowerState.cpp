//===- LowerState.cpp - Inference state becomes runtime buffers -----------===//

#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/ForwardAbi.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "LMToLinalg/Common.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "lm-lower-state"

namespace mlir::lm {
#define GEN_PASS_DEF_LOWERSTATEPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// One runtime buffer of a state: `[batch, max_context, dims...]` for
/// per-token caches.
struct Buffer {
  std::string role;
  SmallVector<int64_t> dims; ///< per cached token, or per sequence
  bool perToken = true;
};

/// The buffers a state type lowers to, or failure when the host does not
/// support it yet.
FailureOr<SmallVector<Buffer>> buffersOf(Type type) {
  if (auto kv = dyn_cast<KVCacheType>(type))
    return SmallVector<Buffer>{{"keys", {kv.getNumHeads(), kv.getKeyDim()}},
                               {"values", {kv.getNumHeads(), kv.getValueDim()}}};
  if (auto latent = dyn_cast<LatentCacheType>(type))
    return SmallVector<Buffer>{{"latents", {latent.getLatentDim()}},
                               {"key_ropes", {latent.getRopeDim()}}};
  if (auto keys = dyn_cast<KeyCacheType>(type))
    return SmallVector<Buffer>{{"keys", {keys.getDim()}}};
  // Compressed caches keep the projected rows of every token; entries are
  // pooled from them (see buildCompressedEntries).
  if (auto compressed = dyn_cast<CompressedCacheType>(type))
    return SmallVector<Buffer>{{"kv_rows", {compressed.getRowWidth()}},
                               {"gate_rows", {compressed.getRowWidth()}}};
  if (auto recurrent = dyn_cast<RecurrentStateType>(type))
    return SmallVector<Buffer>{
        {"state", SmallVector<int64_t>(recurrent.getShape()), false}};
  return failure();
}

/// Lowers the state of one function.
class StateLowering {
public:
  StateLowering(func::FuncOp func) : func(func), b(func.getContext()) {}

  LogicalResult run();

private:
  /// Writes the tokens of `value` (`[B, T, ...]`) that each sequence holds
  /// (the first `lengths[b]`) into `buffer` at their positions, converted
  /// to its element type, and returns the tensor of tokens
  /// `0 .. context-1` of every sequence with the element type of `read`.
  Value writeAndRead(Location loc, Value buffer, Value value, Type read);

  func::FuncOp func;
  OpBuilder b;
  /// The per-call values of a ragged batch (see lm-lower-state's
  /// description): buffers of the positions and lengths, and the context.
  Value positions, lengths, context;
};

/// `value` (a scalar or a tensor of floats) as `elementType`.
Value convertElements(OpBuilder &b, Location loc, Value value,
                      Type elementType) {
  Type from = getElementTypeOrSelf(value.getType());
  if (from == elementType)
    return value;
  Type to = elementType;
  if (auto shaped = dyn_cast<ShapedType>(value.getType()))
    to = shaped.clone(elementType);
  if (from.getIntOrFloatBitWidth() < elementType.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, to, value);
  return arith::TruncFOp::create(b, loc, to, value);
}

Value StateLowering::writeAndRead(Location loc, Value buffer, Value value,
                                  Type read) {
  auto memrefType = cast<MemRefType>(buffer.getType());
  int64_t rank = memrefType.getRank();
  // A rounding that only this write reads (lm-cast-to-bf16's) is applied
  // as the write stores, not by a kernel of its own.
  Type rounding;
  if (auto trunc = value.getDefiningOp<arith::TruncFOp>();
      trunc && trunc->hasOneUse()) {
    rounding = getElementTypeOrSelf(trunc.getType());
    value = trunc.getIn();
  }
  auto valueType = cast<RankedTensorType>(value.getType());
  Value source = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(valueType.getShape(), valueType.getElementType()),
      value, /*read_only=*/true);
  // Token t of sequence bi goes to slot positions[bi, t] if t < lengths[bi]:
  // the padding of a shorter sequence writes nothing. Only the store is
  // conditional (positions has a slot for every token), so where
  // lm-fold-scatter-copies repeats this body after each store of the
  // value's producer, it stays a predicated store rather than a branch.
  SmallVector<Value> extents;
  for (int64_t i = 0; i < rank; ++i)
    extents.push_back(memref::DimOp::create(b, loc, source, i));
  lowering::forEachParallel(
      b, loc, extents, [&](OpBuilder &b, Location l, ValueRange ivs) {
        Value bi = ivs[0], ti = ivs[1];
        Value length = arith::IndexCastOp::create(
            b, l, b.getIndexType(), lowering::load(b, l, lengths, bi));
        Value held =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, ti, length);
        SmallVector<Value> slot(ivs);
        slot[1] = arith::IndexCastOp::create(
            b, l, b.getIndexType(),
            lowering::load(b, l, positions, ValueRange{bi, ti}));
        scf::IfOp::create(b, l, held, [&](OpBuilder &b, Location l) {
          Value element = lowering::load(b, l, source, ivs);
          if (rounding)
            element = convertElements(b, l, element, rounding);
          memref::StoreOp::create(
              b, l, convertElements(b, l, element, memrefType.getElementType()),
              buffer, slot);
          scf::YieldOp::create(b, l);
        });
      });

  // Read tokens 0 .. context - 1 of every sequence.
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(tensor::getMixedSize(b, loc, value, i));
  sizes[1] = context;
  Value all = memref::SubViewOp::create(b, loc, buffer, offsets, sizes, strides);
  // The subview is strided; copy it into a tensor of identity layout.
  SmallVector<int64_t> shape(memrefType.getShape());
  shape[1] = kDyn;
  auto tensorType = RankedTensorType::get(shape, memrefType.getElementType());
  Value stored = bufferization::ToTensorOp::create(b, loc, tensorType, all,
                                                   /*restrict=*/true,
                                                   /*writable=*/false);
  return convertElements(b, loc, stored, getElementTypeOrSelf(read));
}

LogicalResult StateLowering::run() {
  Block &entry = func.getBody().front();
  auto returnOp = cast<func::ReturnOp>(entry.getTerminator());
  b.setInsertionPointToStart(&entry);
  Location loc = func.getLoc();

  // The per-call values of a ragged batch join the positions: `lengths`
  // (the tokens each sequence holds in this call) and `context` (the cache
  // slots a call reads: at least every sequence's last position + 1).
  auto name = [&](StringRef n) {
    return NamedAttribute(b.getStringAttr(abi::kName), b.getStringAttr(n));
  };
  MLIRContext *ctx = func.getContext();
  auto lengthsType = RankedTensorType::get({kDyn}, b.getI64Type());
  if (failed(func.insertArgument(
          2, lengthsType, DictionaryAttr::get(ctx, {name(abi::kLengths)}),
          loc)) ||
      failed(func.insertArgument(
          3, b.getIndexType(), DictionaryAttr::get(ctx, {name(abi::kContext)}),
          loc)))
    return failure();
  auto asBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  positions = asBuffer(entry.getArgument(1));
  Value lengthsTensor = entry.getArgument(2);
  lengths = asBuffer(lengthsTensor);
  context = entry.getArgument(3);

  // New buffer arguments for every state argument, in order.
  SmallVector<unsigned> stateArgs;
  for (BlockArgument arg : entry.getArguments())
    if (getStateElementType(arg.getType()))
      stateArgs.push_back(arg.getArgNumber());

  llvm::DenseMap<Value, SmallVector<Value>> buffers;
  for (unsigned index : stateArgs) {
    BlockArgument arg = entry.getArgument(index);
    FailureOr<SmallVector<Buffer>> layout = buffersOf(arg.getType());
    if (failed(layout))
      return func.emitError("state of type ")
             << arg.getType() << " is not supported on the host yet";
    auto name = func.getArgAttrOfType<StringAttr>(index, abi::kName);
    for (const Buffer &buffer : *layout) {
      SmallVector<int64_t> shape = {kDyn};
      if (buffer.perToken)
        shape.push_back(kDyn);
      shape.append(buffer.dims);
      std::string role = (name ? name.getValue().str() : "state") + "." +
                         buffer.role;
      unsigned position = func.getNumArguments();
      NamedAttrList attrs;
      attrs.set(abi::kState, b.getStringAttr(role));
      if (!buffer.perToken)
        attrs.set(abi::kPerSequence, b.getUnitAttr());
      if (failed(func.insertArgument(
              position,
              MemRefType::get(shape, getStateElementType(arg.getType())),
              attrs.getDictionary(b.getContext()), loc)))
        return failure();
      buffers[arg].push_back(entry.getArgument(position));
    }
  }

  // Recurrent state is read and written in place by the ops that carry it;
  // they see the buffer through a cast (lm-lower-to-linalg unwraps it), and
  // their updated state is the same buffer.
  for (unsigned index : stateArgs) {
    BlockArgument arg = entry.getArgument(index);
    if (!isa<RecurrentStateType>(arg.getType()))
      continue;
    b.setInsertionPointToStart(&entry);
    Value view = UnrealizedConversionCastOp::create(b, loc, arg.getType(),
                                                    buffers[arg].front())
                     .getResult(0);
    arg.replaceAllUsesWith(view);
    func.walk([&](Operation *op) {
      if (isa<CausalConv1dOp, GatedDeltaRuleOp, SelectiveScanOp>(op) &&
          llvm::is_contained(op->getOperands(), view))
        op->getResult(1).replaceAllUsesWith(view);
    });
  }
  // The recurrences step each sequence over the tokens it holds.
  func.walk([&](Operation *op) {
    if (auto conv = dyn_cast<CausalConv1dOp>(op))
      conv.getLengthsMutable().assign(lengthsTensor);
    else if (auto rule = dyn_cast<GatedDeltaRuleOp>(op))
      rule.getLengthsMutable().assign(lengthsTensor);
    else if (auto scan = dyn_cast<SelectiveScanOp>(op))
      scan.getLengthsMutable().assign(lengthsTensor);
  });
  b.setInsertionPointAfter(lengths.getDefiningOp());

  // Rewrite every update into writes and reads of the buffers.
  SmallVector<Operation *> updates;
  func.walk([&](Operation *op) {
    if (isa<KVCacheUpdateOp, LatentCacheUpdateOp, KeyCacheUpdateOp>(op))
      updates.push_back(op);
  });
  SmallVector<KVCompressOp> compressions;
  func.walk([&](KVCompressOp op) { compressions.push_back(op); });
  for (KVCompressOp op : compressions) {
    b.setInsertionPoint(op);
    auto it = buffers.find(op.getCache());
    if (it == buffers.end())
      return op->emitError("expected the cache to be a function argument");
    // Entries are pooled in the projections' type.
    Value kvRows = writeAndRead(op.getLoc(), it->second[0], op.getKv(),
                                op.getKv().getType());
    Value gateRows = writeAndRead(op.getLoc(), it->second[1], op.getGate(),
                                  op.getGate().getType());
    CompressedCacheType type = op.getCache().getType();
    auto [entries, positions] = lowering::buildCompressedEntries(
        b, op.getLoc(), kvRows, gateRows, op.getApe(), type.getRatio(),
        type.getOverlap(), type.getDim());
    op.getEntries().replaceAllUsesWith(entries);
    op.getEntryPositions().replaceAllUsesWith(positions);
    op.getUpdated().replaceAllUsesWith(op.getCache());
    op->erase();
  }
  for (Operation *op : updates) {
    b.setInsertionPoint(op);
    Value cache = op->getOperand(0);
    auto it = buffers.find(cache);
    if (it == buffers.end())
      return op->emitError("expected the cache to be a function argument");
    // Operands after the cache, before the positions, are written in order;
    // results after the updated cache are the reads.
    unsigned numValues = op->getNumOperands() - 2;
    for (unsigned i = 0; i < numValues; ++i) {
      Value all =
          writeAndRead(op->getLoc(), it->second[i], op->getOperand(1 + i),
                       op->getResult(1 + i).getType());
      op->getResult(1 + i).replaceAllUsesWith(all);
    }
    // The updated cache only flows to the return, which drops it below.
    op->getResult(0).replaceAllUsesWith(cache);
    SmallVector<Value> written(op->getOperands().drop_front().drop_back());
    op->erase();
    // Roundings the writes took over.
    for (Value value : written)
      if (auto trunc = value.getDefiningOp<arith::TruncFOp>();
          trunc && trunc->use_empty())
        trunc->erase();
  }

  // Return only the logits; drop the state arguments.
  b.setInsertionPoint(returnOp);
  func::ReturnOp::create(b, returnOp.getLoc(), returnOp.getOperand(0));
  returnOp.erase();
  llvm::BitVector erase(entry.getNumArguments());
  for (unsigned index : stateArgs)
    erase.set(index);
  if (failed(func.eraseArguments(erase)))
    return failure();
  func.setFunctionType(FunctionType::get(func.getContext(),
                                         entry.getArgumentTypes(),
                                         {func.getResultTypes().front()}));
  return success();
}

struct LowerStatePass final : impl::LowerStatePassBase<LowerStatePass> {
  using Base::Base;
  void runOnOperation() override {
    auto forward = getOperation().lookupSymbol<func::FuncOp>(abi::kForward);
    if (!forward) {
      getOperation().emitError("expected a 'forward' function");
      return signalPassFailure();
    }
    if (failed(StateLowering(forward).run()))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::lm
