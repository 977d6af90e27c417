//===- FuseElementwise.cpp - Elementwise fusion without extra loops -------===//

#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/RegionUtils.h"

#define DEBUG_TYPE "lm-fuse-elementwise"

namespace mlir::lm {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// Fuses only when every element of the producer is still computed once:
/// the consumer iterates exactly the producer's loops (possibly permuted or
/// with some as reductions), never extra ones, and is the producer's only
/// user. (A producer with several users stays and is recomputed inside the
/// fused consumer: along a residual stream, where every sum feeds the next
/// norm and the next sum, each layer's norm re-added every earlier layer's
/// output, quadratic in the depth; DeepSeek-V3's 61 layers gave a kernel
/// with more parameters than PTX allows.)
bool fusesWithoutRecomputation(OpOperand *fusedOperand) {
  auto producer = fusedOperand->get().getDefiningOp<linalg::LinalgOp>();
  auto consumer = dyn_cast<linalg::LinalgOp>(fusedOperand->getOwner());
  return producer && consumer && fusedOperand->get().hasOneUse() &&
         producer.getNumLoops() == consumer.getNumLoops();
}

/// An index of a gather that is `consumer`'s own loop index `dim`
/// (`linalg.index dim`, or 0 where the loop has one iteration): the
/// gathered element shares that coordinate.
bool isOwnIndex(linalg::GenericOp consumer, Value index, unsigned dim) {
  if (auto loopIndex = index.getDefiningOp<linalg::IndexOp>())
    return loopIndex.getDim() == dim;
  return consumer.getStaticLoopRanges()[dim] == 1 &&
         isConstantIntValue(index, 0);
}

/// An elementwise producer that its consumer reads at its own element (an
/// input of the identity map) and at other elements of the same loops
/// through `tensor.extract` in its body (lm.rope reads each channel's
/// partner of a normalised head: the norm's scaling, then the rotation),
/// inlined at each: the consumer reads the producer's inputs instead, and
/// the producer, whose result nothing else reads, goes. Each element of the
/// producer is computed once per read (twice for a rotation's pairs, a
/// multiply or two), never once per extra loop. A producer input the gather
/// reads at the consumer's own coordinates (the norm's statistics of the
/// row) is the consumer's own value, so a reduction's row consumer
/// (lm-map-reductions-to-gpu) can still take the fused consumer: a warp
/// that normalises a head then also rotates it.
struct FuseIntoGatheringConsumer final : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    if (!consumer.hasPureTensorSemantics() ||
        consumer.getNumReductionLoops() != 0 || consumer.getNumDpsInits() != 1)
      return failure();
    for (OpOperand *operand : consumer.getDpsInputOperands()) {
      SmallVector<tensor::ExtractOp> gathers;
      auto producer = matchProducer(consumer, operand, gathers);
      if (succeeded(producer)) {
        fuse(consumer, operand, *producer, gathers, rewriter);
        return success();
      }
    }
    return failure();
  }

private:
  /// `operand`'s producer when it can be inlined: elementwise over the
  /// consumer's loops, read by the consumer only, at its own element and
  /// by the `gathers` (at least one) in its body.
  static FailureOr<linalg::GenericOp>
  matchProducer(linalg::GenericOp consumer, OpOperand *operand,
                SmallVectorImpl<tensor::ExtractOp> &gathers) {
    auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
    if (!producer || !producer.hasPureTensorSemantics() ||
        producer.getNumResults() != 1 || producer.getNumReductionLoops() != 0 ||
        producer.getNumLoops() != consumer.getNumLoops() ||
        !consumer.getMatchingIndexingMap(operand).isIdentity() ||
        !producer.getMatchingIndexingMap(producer.getDpsInitOperand(0))
             .isIdentity())
      return failure();
    Block &body = producer.getRegion().front();
    if (!body.getArguments().back().use_empty() ||
        !body.getOps<linalg::IndexOp>().empty())
      return failure();
    for (OpOperand *input : producer.getDpsInputOperands())
      if (!producer.getMatchingIndexingMap(input).isProjectedPermutation())
        return failure();
    for (OpOperand &use : producer->getResult(0).getUses()) {
      if (&use == operand)
        continue;
      auto gather = dyn_cast<tensor::ExtractOp>(use.getOwner());
      if (!gather || gather->getBlock() != &consumer.getRegion().front())
        return failure();
      gathers.push_back(gather);
    }
    if (gathers.empty())
      return failure();
    return producer;
  }

  /// Where the fused op goes: where the producer was when everything else
  /// the consumer reads exists there (a reduction the producer read then
  /// stays its neighbour: lm-map-reductions-to-gpu's row consumer), else
  /// where the consumer was. (Its init, an empty tensor, is made there.)
  static Operation *placement(linalg::GenericOp consumer, OpOperand *operand,
                              linalg::GenericOp producer) {
    DominanceInfo dominance(consumer->getParentOfType<FunctionOpInterface>());
    auto available = [&](Value value) {
      return value == operand->get() ||
             dominance.properlyDominates(value, producer);
    };
    SetVector<Value> captured;
    getUsedValuesDefinedAbove(consumer.getRegion(), captured);
    for (Value value : captured)
      if (!available(value))
        return consumer;
    for (OpOperand &use : consumer->getOpOperands()) {
      Value value = use.get();
      if (auto empty = value.getDefiningOp<tensor::EmptyOp>();
          empty && consumer.isDpsInit(&use)) {
        if (!llvm::all_of(empty->getOperands(), available))
          return consumer;
      } else if (!available(value)) {
        return consumer;
      }
    }
    return producer;
  }

  static void fuse(linalg::GenericOp consumer, OpOperand *operand,
                   linalg::GenericOp producer,
                   ArrayRef<tensor::ExtractOp> gathers,
                   PatternRewriter &rewriter) {
    Location loc = consumer.getLoc();
    // The consumer's inputs without `operand`, then the producer's, each
    // through its own map (the consumer reads the producer's result
    // through the identity, which maps its loops to the producer's).
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *input : consumer.getDpsInputOperands())
      if (input != operand) {
        inputs.push_back(input->get());
        maps.push_back(consumer.getMatchingIndexingMap(input));
      }
    unsigned producerStart = inputs.size();
    for (OpOperand *input : producer.getDpsInputOperands()) {
      inputs.push_back(input->get());
      maps.push_back(producer.getMatchingIndexingMap(input));
    }
    OpOperand *init = consumer.getDpsInitOperand(0);
    maps.push_back(consumer.getMatchingIndexingMap(init));
    Value initValue = init->get();
    rewriter.setInsertionPoint(placement(consumer, operand, producer));
    if (auto empty = initValue.getDefiningOp<tensor::EmptyOp>())
      initValue = rewriter.clone(*empty)->getResult(0);
    auto fused = linalg::GenericOp::create(
        rewriter, loc, consumer->getResultTypes(), inputs, initValue, maps,
        consumer.getIteratorTypesArray());

    Block &oldBody = consumer.getRegion().front();
    Block &producerBody = producer.getRegion().front();
    SmallVector<Type> argTypes;
    SmallVector<Location> argLocs;
    for (Value input : inputs) {
      argTypes.push_back(getElementTypeOrSelf(input.getType()));
      argLocs.push_back(loc);
    }
    argTypes.push_back(getElementTypeOrSelf(init->get().getType()));
    argLocs.push_back(loc);
    Block *body =
        rewriter.createBlock(&fused.getRegion(), {}, argTypes, argLocs);
    rewriter.setInsertionPointToStart(body);

    // The producer's element from its inputs' `values`.
    auto inlineProducer = [&](ArrayRef<Value> values) {
      IRMapping mapping;
      for (auto [arg, value] :
           llvm::zip(producerBody.getArguments().drop_back(), values))
        mapping.map(arg, value);
      for (Operation &op : producerBody.without_terminator())
        rewriter.clone(op, mapping);
      auto yield = cast<linalg::YieldOp>(producerBody.getTerminator());
      return mapping.lookupOrDefault(yield.getValues()[0]);
    };
    ArrayRef<BlockArgument> producerArgs =
        body->getArguments().slice(producerStart, producer.getNumDpsInputs());

    IRMapping mapping;
    unsigned next = 0;
    for (auto [index, arg] : llvm::enumerate(oldBody.getArguments())) {
      if (index == operand->getOperandNumber())
        continue;
      // (The consumer's init is the last argument in both.)
      mapping.map(arg, index + 1 == oldBody.getNumArguments()
                           ? body->getArguments().back()
                           : body->getArgument(next++));
    }
    SmallVector<Value> own(producerArgs.begin(), producerArgs.end());
    mapping.map(oldBody.getArgument(operand->getOperandNumber()),
                inlineProducer(own));
    for (Operation &op : oldBody) {
      auto gather = dyn_cast<tensor::ExtractOp>(&op);
      if (!gather || !llvm::is_contained(gathers, gather)) {
        rewriter.clone(op, mapping);
        continue;
      }
      // The producer's inputs at the gathered element: its own value where
      // the input's coordinates are the consumer's.
      SmallVector<Value> values;
      for (auto [k, input] : llvm::enumerate(producer.getDpsInputOperands())) {
        AffineMap map = producer.getMatchingIndexingMap(input);
        SmallVector<Value> indices;
        bool sameElement = true;
        for (AffineExpr result : map.getResults()) {
          unsigned dim = cast<AffineDimExpr>(result).getPosition();
          Value index = mapping.lookupOrDefault(gather.getIndices()[dim]);
          indices.push_back(index);
          sameElement &= isOwnIndex(consumer, gather.getIndices()[dim], dim);
        }
        if (sameElement || !isa<RankedTensorType>(input->get().getType()))
          values.push_back(producerArgs[k]);
        else
          values.push_back(
              tensor::ExtractOp::create(rewriter, loc, input->get(), indices));
      }
      mapping.map(gather.getResult(), inlineProducer(values));
    }
    rewriter.replaceOp(consumer, fused->getResults());
    rewriter.eraseOp(producer);
  }
};

struct FuseElementwisePass final
    : impl::FuseElementwisePassBase<FuseElementwisePass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    patterns.add<FuseIntoGatheringConsumer>(context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::lm
