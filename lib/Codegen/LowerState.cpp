//===- LowerState.cpp - Inference state becomes runtime buffers -----------===//

#include "lmc/Codegen/Passes.h"
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
  /// Writes `value` (`[B, T, ...]`) into `buffer` at token `start` and
  /// returns the tensor of tokens `0 .. start+T-1`.
  Value writeAndRead(Location loc, Value buffer, Value value, Value start);

  func::FuncOp func;
  OpBuilder b;
};

Value StateLowering::writeAndRead(Location loc, Value buffer, Value value,
                                  Value start) {
  auto memrefType = cast<MemRefType>(buffer.getType());
  int64_t rank = memrefType.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(rank, b.getIndexAttr(1));
  offsets[1] = start;
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(tensor::getMixedSize(b, loc, value, i));
  Value window =
      memref::SubViewOp::create(b, loc, buffer, offsets, sizes, strides);
  // A linalg.copy (not memref.copy, which needs a runtime helper for strided
  // views) writes the new tokens; it lowers to plain loops.
  auto valueType = cast<RankedTensorType>(value.getType());
  Value source = bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(valueType.getShape(), valueType.getElementType()),
      value, /*read_only=*/true);
  linalg::CopyOp::create(b, loc, source, window);

  // Read tokens 0 .. start + T - 1 of every sequence.
  Value tokens = tensor::DimOp::create(b, loc, value, 1);
  Value end = arith::AddIOp::create(b, loc, start, tokens);
  offsets[1] = b.getIndexAttr(0);
  sizes[1] = end;
  Value all = memref::SubViewOp::create(b, loc, buffer, offsets, sizes, strides);
  // The subview is strided; copy it into a tensor of identity layout.
  SmallVector<int64_t> shape(memrefType.getShape());
  shape[1] = kDyn;
  auto tensorType = RankedTensorType::get(shape, memrefType.getElementType());
  return bufferization::ToTensorOp::create(b, loc, tensorType, all,
                                           /*restrict=*/true,
                                           /*writable=*/false);
}

LogicalResult StateLowering::run() {
  Block &entry = func.getBody().front();
  auto returnOp = cast<func::ReturnOp>(entry.getTerminator());
  b.setInsertionPointToStart(&entry);
  Location loc = func.getLoc();

  // start = positions[0, 0]: the first new token of every sequence.
  Value positions = entry.getArgument(1);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value first = tensor::ExtractOp::create(b, loc, positions,
                                          ValueRange{zero, zero});
  Value start = arith::IndexCastOp::create(b, loc, b.getIndexType(), first);

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
    auto name = func.getArgAttrOfType<StringAttr>(index, "lm.name");
    for (const Buffer &buffer : *layout) {
      SmallVector<int64_t> shape = {kDyn};
      if (buffer.perToken)
        shape.push_back(kDyn);
      shape.append(buffer.dims);
      std::string role = (name ? name.getValue().str() : "state") + "." +
                         buffer.role;
      unsigned position = func.getNumArguments();
      NamedAttrList attrs;
      attrs.set("lm.state", b.getStringAttr(role));
      if (!buffer.perToken)
        attrs.set("lm.per_sequence", b.getUnitAttr());
      if (failed(func.insertArgument(position,
                                     MemRefType::get(shape, b.getF32Type()),
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
  b.setInsertionPointAfter(start.getDefiningOp());

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
    Value kvRows = writeAndRead(op.getLoc(), it->second[0], op.getKv(), start);
    Value gateRows =
        writeAndRead(op.getLoc(), it->second[1], op.getGate(), start);
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
      Value all = writeAndRead(op->getLoc(), it->second[i],
                               op->getOperand(1 + i), start);
      op->getResult(1 + i).replaceAllUsesWith(all);
    }
    // The updated cache only flows to the return, which drops it below.
    op->getResult(0).replaceAllUsesWith(cache);
    op->erase();
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
    auto forward = getOperation().lookupSymbol<func::FuncOp>("forward");
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
