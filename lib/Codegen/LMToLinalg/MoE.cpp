//===- MoE.cpp - Routers and expert dispatch -------------------------------===//
//
// Routing and expert dispatch have data-dependent control flow (top-k
// selection, per-token expert choice), so they lower to loops over buffers:
// inputs are read through bufferization.to_buffer, results are written into
// fresh buffers that become tensors again with to_tensor (buffer
// deallocation later frees the scratch buffers).
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// lm.router: per token, scores, (grouped) top-k of score + bias, weights.
struct LowerRouter final : OpRewritePattern<RouterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RouterOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto logitsType = cast<RankedTensorType>(op.getLogits().getType());
    const int64_t experts = logitsType.getDimSize(2);
    const int64_t topK = op.getTopK(), groups = op.getNumGroups();
    const int64_t keepGroups = op.getTopKGroups();
    const int64_t perGroup = experts / groups;
    const ScoringKind scoring = op.getScoring();
    const bool normalize = op.getNormalize();
    const double epsilon = op.getNormalizeEpsilon().convertToDouble();
    const double scaling = op.getRoutedScaling().convertToDouble();

    Value logits = toBuffer(b, loc, op.getLogits());
    Value bias = op.getCorrectionBias()
                     ? toBuffer(b, loc, op.getCorrectionBias())
                     : Value();
    Value c0 = indexConstant(b, loc, 0);
    Value batch = memref::DimOp::create(b, loc, logits, 0);
    Value tokens = memref::DimOp::create(b, loc, logits, 1);
    auto [weights, indices] = allocRouting(b, loc, batch, tokens, topK);
    // Per-token scratch: every token is routed by its own thread.
    SmallVector<Value> points = {batch, tokens};
    OpFoldResult numExpertsAttr = b.getIndexAttr(experts);
    OpFoldResult numGroupsAttr = b.getIndexAttr(groups);
    Value allScores = scratchPerPoint(b, loc, points, numExpertsAttr);
    Value allChoices = scratchPerPoint(b, loc, points, numExpertsAttr);
    Value allGroupScores = scratchPerPoint(b, loc, points, numGroupsAttr);
    Value allKeptGroups = scratchPerPoint(b, loc, points, numGroupsAttr);
    Value numExperts = indexConstant(b, loc, experts);
    Value negInf = f32Constant(b, loc, -INFINITY);

    forEachToken(
        b, loc, batch, tokens,
        [&](OpBuilder &b, Location loc, Value bi, Value ti) {
          Value scores = pointView(b, loc, allScores, {bi, ti});
          Value choice = pointView(b, loc, allChoices, {bi, ti});
          Value groupScores = pointView(b, loc, allGroupScores, {bi, ti});
          Value keptGroups = pointView(b, loc, allKeptGroups, {bi, ti});
          RouterScores router(b, loc, scoring, logits, bi, ti, experts);
          forEach(
              b, loc, c0, numExperts, [&](OpBuilder &b, Location l, Value e) {
                Value s = router.score(b, l, e);
                memref::StoreOp::create(b, l, s, scores, e);
                Value c = bias ? arith::AddFOp::create(
                                     b, l, s, toF32(b, l, load(b, l, bias, e)))
                               : s;
                memref::StoreOp::create(b, l, c, choice, e);
              });
          // Group-limited routing: keep the groups whose two best choices sum
          // highest; the others' choices become 0 (as HF masks them).
          if (groups > 1) {
            Value numGroups = indexConstant(b, loc, groups);
            Value width = indexConstant(b, loc, perGroup);
            forEach(
                b, loc, c0, numGroups, [&](OpBuilder &b, Location l, Value g) {
                  Value base = arith::MulIOp::create(b, l, g, width);
                  auto loop = scf::ForOp::create(
                      b, l, c0, width, indexConstant(b, l, 1),
                      ValueRange{negInf, negInf},
                      [&](OpBuilder &nb, Location ll, Value j, ValueRange acc) {
                        Value v = load(nb, ll, choice,
                                       arith::AddIOp::create(nb, ll, base, j));
                        Value top =
                            arith::MaximumFOp::create(nb, ll, acc[0], v);
                        Value second = arith::MaximumFOp::create(
                            nb, ll, acc[1],
                            arith::MinimumFOp::create(nb, ll, acc[0], v));
                        scf::YieldOp::create(nb, ll, ValueRange{top, second});
                      });
                  Value best2 =
                      perGroup > 1
                          ? arith::AddFOp::create(b, l, loop.getResult(0),
                                                  loop.getResult(1))
                          : loop.getResult(0);
                  memref::StoreOp::create(b, l, best2, groupScores, g);
                });
            // Pick the kept groups one by one (a picked group's score
            // becomes -inf) and flag them.
            forEach(b, loc, c0, numGroups,
                    [&](OpBuilder &b, Location l, Value g) {
                      memref::StoreOp::create(b, l, f32Constant(b, l, 0.0),
                                              keptGroups, g);
                    });
            forEach(b, loc, c0, indexConstant(b, loc, keepGroups),
                    [&](OpBuilder &b, Location l, Value) {
                      Value g = argmax(b, l, groupScores, numGroups);
                      memref::StoreOp::create(b, l, negInf, groupScores, g);
                      memref::StoreOp::create(b, l, f32Constant(b, l, 1.0),
                                              keptGroups, g);
                    });
            forEach(b, loc, c0, numExperts,
                    [&](OpBuilder &b, Location l, Value e) {
                      Value g = arith::DivUIOp::create(b, l, e, width);
                      Value kept = arith::CmpFOp::create(
                          b, l, arith::CmpFPredicate::OEQ,
                          load(b, l, keptGroups, g), f32Constant(b, l, 1.0));
                      Value c = arith::SelectOp::create(b, l, kept,
                                                        load(b, l, choice, e),
                                                        f32Constant(b, l, 0.0));
                      memref::StoreOp::create(b, l, c, choice, e);
                    });
          }
          // Top-k by choice; weights are the uncorrected scores.
          forEach(b, loc, c0, indexConstant(b, loc, topK),
                  [&](OpBuilder &b, Location l, Value k) {
                    Value e = argmax(b, l, choice, numExperts);
                    memref::StoreOp::create(b, l, negInf, choice, e);
                    memref::StoreOp::create(b, l, load(b, l, scores, e),
                                            weights, ValueRange{bi, ti, k});
                    memref::StoreOp::create(
                        b, l,
                        arith::IndexCastOp::create(b, l, b.getI64Type(), e),
                        indices, ValueRange{bi, ti, k});
                  });
          Value total = f32Constant(b, loc, 1.0);
          Value numK = indexConstant(b, loc, topK);
          if (normalize)
            total = arith::AddFOp::create(
                b, loc,
                reduce(b, loc, c0, numK, f32Constant(b, loc, 0.0),
                       [&](OpBuilder &b, Location l, Value k, Value acc) {
                         return arith::AddFOp::create(
                             b, l, acc,
                             load(b, l, weights, ValueRange{bi, ti, k}));
                       }),
                f32Constant(b, loc, epsilon));
          scaleRouting(b, loc, weights, bi, ti, topK, total, scaling);
        });
    auto weightsType = cast<RankedTensorType>(op.getWeights().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    Value w = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get(weightsType.getShape(), b.getF32Type()),
        weights, /*restrict=*/true, /*writable=*/true);
    Value i = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get(indicesType.getShape(), b.getI64Type()),
        indices, /*restrict=*/true, /*writable=*/true);
    rewriter.replaceOp(op, {w, i});
    return success();
  }
};

/// lm.moe_experts: per token and chosen expert, the expert's FFN, weighted
/// and summed. Structured steps over [batch, tokens, top_k, ...] whose
/// weight reads gather the chosen expert's rows inside the body (the expert
/// index is an input of the generic): every (token, choice) pair is
/// independent, so each step is one parallel kernel on a GPU and a plain
/// loop nest on the host. With bf16 weights, the products' other operands
/// are rounded to bf16 first (`round`), as --dtype bf16 rounds every
/// projection's input.
///   operand[b,t,(k,)d] = round(x[b,t,d] (* w[b,t,k]))  (when it differs from
///   x) projected[b,t,k,r] = bias[e,r] + sum_d operand[b,t,(k,)d]
///   gate_up[e,r,d] activated[b,t,k,i] = round(act(projected[b,t,k,gate(i)],
///                                  projected[b,t,k,up(i)]))
///   expert[b,t,k,d]    = bias[e,d] + sum_i down[e,d,i] activated[b,t,k,i]
///   out[b,t,d]         = sum_k (w[b,t,k] *) expert[b,t,k,d]
struct LowerMoEExperts final : OpRewritePattern<MoEExpertsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MoEExpertsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    MLIRContext *ctx = b.getContext();
    auto guType = cast<RankedTensorType>(op.getGateUp().getType());
    auto downType = cast<RankedTensorType>(op.getDown().getType());
    const int64_t rows = guType.getDimSize(1), hidden = guType.getDimSize(2);
    const int64_t inner = downType.getDimSize(2);
    const int64_t topK = op.getTopK();
    const ExpertKind kind = op.getActivation();
    const bool interleaved = op.getInterleavedGateUp();
    const bool scaleInput = op.getScaleInput();
    const double alpha = op.getAlpha() ? op.getAlpha()->convertToDouble() : 0.0;
    const double limit = op.getLimit() ? op.getLimit()->convertToDouble() : 0.0;
    Value x = op.getInput(), routeWeights = op.getWeights(),
          routeIndices = op.getIndices(), gateUp = op.getGateUp(),
          down = op.getDown(), guBias = op.getGateUpBias(),
          downBias = op.getDownBias();

    SmallVector<OpFoldResult> xSizes = sizesOf(b, loc, x);
    auto sizes = [&](int64_t last) {
      return SmallVector<OpFoldResult>{xSizes[0], xSizes[1],
                                       b.getIndexAttr(topK),
                                       b.getIndexAttr(last)};
    };
    auto dim = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto map = [&](unsigned n, ArrayRef<AffineExpr> results) {
      return AffineMap::get(n, 0, results, ctx);
    };
    // The chosen expert of (b, t, k), from the generic's index input.
    auto expertOf = [&](OpBuilder &nb, Location l, Value index) -> Value {
      return arith::IndexCastOp::create(nb, l, nb.getIndexType(), index);
    };
    auto at = [&](OpBuilder &nb, Location l, unsigned d) -> Value {
      return linalg::IndexOp::create(nb, l, d);
    };
    // [b,t,k,n] = bias[e, n], or 0 without a bias.
    auto biasInit = [&](Value bias, int64_t n) -> Value {
      if (!bias)
        return filledTensor(b, loc, sizes(n), 0.0);
      return buildGeneric(
          b, loc, {routeIndices},
          {map(4, {dim(0), dim(1), dim(2)}), b.getMultiDimIdentityMap(4)},
          emptyTensor(b, loc, sizes(n)), iterators(4),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value e = expertOf(nb, l, args[0]);
            return toF32(nb, l,
                         tensor::ExtractOp::create(nb, l, bias,
                                                   ValueRange{e, at(nb, l, 3)}));
          });
    };

    // The products' operands, rounded to bf16 weights: the input for
    // gate_up, the activation for down.
    auto operandTypeOf = [&](RankedTensorType weights) -> Type {
      return weights.getElementType().isBF16() ? b.getBF16Type()
                                               : b.getF32Type();
    };
    Type operandType = operandTypeOf(guType);
    auto round = [&](OpBuilder &nb, Location l, Value value) -> Value {
      if (operandType.isF32())
        return value;
      return arith::TruncFOp::create(nb, l, operandType, value);
    };
    bool roundActivation = downType.getElementType().isBF16();
    auto roundTrip = [&](OpBuilder &nb, Location l, Value value) -> Value {
      return roundActivation ? throughBF16(nb, l, value) : value;
    };
    // operand: x scaled per choice (loops b, t, k, d) or x rounded (b, t, d).
    Value operand = x;
    AffineMap operandMap = map(5, {dim(0), dim(1), dim(4)});
    if (scaleInput) {
      operand = buildGeneric(
          b, loc, {x, routeWeights},
          {map(4, {dim(0), dim(1), dim(3)}), map(4, {dim(0), dim(1), dim(2)}),
           b.getMultiDimIdentityMap(4)},
          emptyTensor(b, loc, sizes(hidden), operandType), iterators(4),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            return round(
                nb, l,
                arith::MulFOp::create(nb, l, toF32(nb, l, args[0]), args[1]));
          });
      operandMap = map(5, {dim(0), dim(1), dim(2), dim(4)});
    } else if (!operandType.isF32()) {
      operand = buildGeneric(
          b, loc, {x},
          {b.getMultiDimIdentityMap(3), b.getMultiDimIdentityMap(3)},
          emptyTensor(b, loc, xSizes, operandType), iterators(3),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            return round(nb, l, toF32(nb, l, args[0]));
          });
    }

    // projected: loops (b, t, k, r, d), d reduced.
    SmallVector<Value> inputs = {operand, routeIndices};
    SmallVector<AffineMap> maps = {operandMap, map(5, {dim(0), dim(1), dim(2)}),
                                   map(5, {dim(0), dim(1), dim(2), dim(3)})};
    Value projected = buildGeneric(
        b, loc, inputs, maps, biasInit(guBias, rows), iterators(4, 1),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value xv = toF32(nb, l, args[0]);
          Value wv = tensor::ExtractOp::create(
              nb, l, gateUp,
              ValueRange{expertOf(nb, l, args[1]), at(nb, l, 3), at(nb, l, 4)});
          return arith::AddFOp::create(
              nb, l, args.back(),
              arith::MulFOp::create(nb, l, xv, toF32(nb, l, wv)));
        });

    // activated: loops (b, t, k, i); gate and up rows by affine maps.
    Value activated;
    if (kind == ExpertKind::relu2) {
      activated = buildPointwise(
          b, loc, {projected}, projected,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            return roundTrip(nb, l,
                             applyExpertActivation(nb, l, kind, args[0],
                                                   Value(), alpha, limit));
          });
    } else {
      // Interleaved rows by maps (2i, 2i + 1); halves by slices, so that no
      // input map has a bare i over the 2 x inner rows (linalg would take
      // the loop's extent from it).
      Value gateRows = projected, upRows = projected;
      AffineExpr gate = dim(3) * 2, up = dim(3) * 2 + 1;
      if (!interleaved) {
        SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
        SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
        gateRows = tensor::ExtractSliceOp::create(b, loc, projected, offsets,
                                                  sizes(inner), strides);
        offsets[3] = b.getIndexAttr(inner);
        upRows = tensor::ExtractSliceOp::create(b, loc, projected, offsets,
                                                sizes(inner), strides);
        gate = up = dim(3);
      }
      activated = buildGeneric(
          b, loc, {gateRows, upRows},
          {map(4, {dim(0), dim(1), dim(2), gate}),
           map(4, {dim(0), dim(1), dim(2), up}), b.getMultiDimIdentityMap(4)},
          emptyTensor(b, loc, sizes(inner)), iterators(4),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            return roundTrip(nb, l,
                             applyExpertActivation(nb, l, kind, args[0],
                                                   args[1], alpha, limit));
          });
    }

    // expert: loops (b, t, k, d, i), i reduced.
    Value expert = buildGeneric(
        b, loc, {activated, routeIndices},
        {map(5, {dim(0), dim(1), dim(2), dim(4)}),
         map(5, {dim(0), dim(1), dim(2)}),
         map(5, {dim(0), dim(1), dim(2), dim(3)})},
        biasInit(downBias, hidden), iterators(4, 1),
        [&](OpBuilder &nb, Location l, ValueRange args) {
          Value wv = tensor::ExtractOp::create(
              nb, l, down,
              ValueRange{expertOf(nb, l, args[1]), at(nb, l, 3), at(nb, l, 4)});
          return arith::AddFOp::create(
              nb, l, args.back(),
              arith::MulFOp::create(nb, l, toF32(nb, l, wv), args[0]));
        });

    // out: loops (b, t, d, k), k reduced.
    SmallVector<OpFoldResult> outSizes = {xSizes[0], xSizes[1],
                                          b.getIndexAttr(hidden)};
    SmallVector<Value> sumInputs = {expert};
    SmallVector<AffineMap> sumMaps = {
        map(4, {dim(0), dim(1), dim(3), dim(2)})};
    if (!scaleInput) {
      sumInputs.push_back(routeWeights);
      sumMaps.push_back(map(4, {dim(0), dim(1), dim(3)}));
    }
    sumMaps.push_back(map(4, {dim(0), dim(1), dim(2)}));
    Value out = buildGeneric(
        b, loc, sumInputs, sumMaps, filledTensor(b, loc, outSizes, 0.0),
        iterators(3, 1), [&](OpBuilder &nb, Location l, ValueRange args) {
          Value y = scaleInput ? args[0]
                               : Value(arith::MulFOp::create(nb, l, args[1],
                                                             args[0]));
          return arith::AddFOp::create(nb, l, args.back(), y);
        });
    rewriter.replaceOp(op, out);
    return success();
  }
};
} // namespace

void lowering::populateMoEPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMoEExperts, LowerRouter>(patterns.getContext());
}
