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
    auto scratch = MemRefType::get({experts}, b.getF32Type());
    Value scores = memref::AllocOp::create(b, loc, scratch);
    Value choice = memref::AllocOp::create(b, loc, scratch);
    Value groupScores = memref::AllocOp::create(
        b, loc, MemRefType::get({groups}, b.getF32Type()));
    Value keptGroups = memref::AllocOp::create(
        b, loc, MemRefType::get({groups}, b.getF32Type()));
    Value numExperts = indexConstant(b, loc, experts);
    Value negInf = f32Constant(b, loc, -INFINITY);

    forEach(b, loc, c0, batch, [&](OpBuilder &b, Location loc, Value bi) {
      forEach(b, loc, c0, tokens, [&](OpBuilder &b, Location loc, Value ti) {
        RouterScores router(b, loc, scoring, logits, bi, ti, experts);
        forEach(b, loc, c0, numExperts, [&](OpBuilder &b, Location l, Value e) {
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
          forEach(b, loc, c0, numGroups, [&](OpBuilder &b, Location l, Value g) {
            Value base = arith::MulIOp::create(b, l, g, width);
            auto loop = scf::ForOp::create(
                b, l, c0, width, indexConstant(b, l, 1),
                ValueRange{negInf, negInf},
                [&](OpBuilder &nb, Location ll, Value j, ValueRange acc) {
                  Value v = load(nb, ll, choice,
                                 arith::AddIOp::create(nb, ll, base, j));
                  Value top = arith::MaximumFOp::create(nb, ll, acc[0], v);
                  Value second = arith::MaximumFOp::create(
                      nb, ll, acc[1], arith::MinimumFOp::create(nb, ll, acc[0], v));
                  scf::YieldOp::create(nb, ll, ValueRange{top, second});
                });
            Value best2 = perGroup > 1
                              ? arith::AddFOp::create(b, l, loop.getResult(0),
                                                      loop.getResult(1))
                              : loop.getResult(0);
            memref::StoreOp::create(b, l, best2, groupScores, g);
          });
          // Pick the kept groups one by one (a picked group's score
          // becomes -inf) and flag them.
          forEach(b, loc, c0, numGroups, [&](OpBuilder &b, Location l, Value g) {
            memref::StoreOp::create(b, l, f32Constant(b, l, 0.0), keptGroups, g);
          });
          forEach(b, loc, c0, indexConstant(b, loc, keepGroups),
                  [&](OpBuilder &b, Location l, Value) {
                    Value g = argmax(b, l, groupScores, numGroups);
                    memref::StoreOp::create(b, l, negInf, groupScores, g);
                    memref::StoreOp::create(b, l, f32Constant(b, l, 1.0),
                                            keptGroups, g);
                  });
          forEach(b, loc, c0, numExperts, [&](OpBuilder &b, Location l, Value e) {
            Value g = arith::DivUIOp::create(b, l, e, width);
            Value kept = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ, load(b, l, keptGroups, g),
                f32Constant(b, l, 1.0));
            Value c = arith::SelectOp::create(b, l, kept, load(b, l, choice, e),
                                              f32Constant(b, l, 0.0));
            memref::StoreOp::create(b, l, c, choice, e);
          });
        }
        // Top-k by choice; weights are the uncorrected scores.
        forEach(b, loc, c0, indexConstant(b, loc, topK),
                [&](OpBuilder &b, Location l, Value k) {
                  Value e = argmax(b, l, choice, numExperts);
                  memref::StoreOp::create(b, l, negInf, choice, e);
                  memref::StoreOp::create(b, l, load(b, l, scores, e), weights,
                                          ValueRange{bi, ti, k});
                  memref::StoreOp::create(
                      b, l, arith::IndexCastOp::create(b, l, b.getI64Type(), e),
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
                           b, l, acc, load(b, l, weights, ValueRange{bi, ti, k}));
                     }),
              f32Constant(b, loc, epsilon));
        scaleRouting(b, loc, weights, bi, ti, topK, total, scaling);
      });
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
/// and summed.
struct LowerMoEExperts final : OpRewritePattern<MoEExpertsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MoEExpertsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
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

    Value x = toBuffer(b, loc, op.getInput());
    Value routeWeights = toBuffer(b, loc, op.getWeights());
    Value routeIndices = toBuffer(b, loc, op.getIndices());
    Value gateUp = toBuffer(b, loc, op.getGateUp());
    Value down = toBuffer(b, loc, op.getDown());
    Value guBias = op.getGateUpBias() ? toBuffer(b, loc, op.getGateUpBias())
                                      : Value();
    Value downBias =
        op.getDownBias() ? toBuffer(b, loc, op.getDownBias()) : Value();

    Value c0 = indexConstant(b, loc, 0);
    Value batch = memref::DimOp::create(b, loc, x, 0);
    Value tokens = memref::DimOp::create(b, loc, x, 1);
    auto dynamic = ShapedType::kDynamic;
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get({dynamic, dynamic, hidden}, b.getF32Type()),
        ValueRange{batch, tokens});
    linalg::FillOp::create(b, loc, f32Constant(b, loc, 0.0), out);
    Value projected = memref::AllocOp::create(
        b, loc, MemRefType::get({rows}, b.getF32Type()));
    Value activated = memref::AllocOp::create(
        b, loc, MemRefType::get({inner}, b.getF32Type()));
    Value numRows = indexConstant(b, loc, rows);
    Value numInner = indexConstant(b, loc, inner);
    Value numHidden = indexConstant(b, loc, hidden);

    forEach(b, loc, c0, batch, [&](OpBuilder &b, Location loc, Value bi) {
      forEach(b, loc, c0, tokens, [&](OpBuilder &b, Location loc, Value ti) {
        forEach(b, loc, c0, indexConstant(b, loc, topK),
                [&](OpBuilder &b, Location loc, Value k) {
          Value e = arith::IndexCastOp::create(
              b, loc, b.getIndexType(),
              load(b, loc, routeIndices, ValueRange{bi, ti, k}));
          Value w = load(b, loc, routeWeights, ValueRange{bi, ti, k});
          // h = gate_up[e] x (+ bias), with x scaled by w for scale_input.
          forEach(b, loc, c0, numRows, [&](OpBuilder &b, Location l, Value r) {
            Value init = guBias ? toF32(b, l, load(b, l, guBias, ValueRange{e, r}))
                                : f32Constant(b, l, 0.0);
            Value acc = reduce(
                b, l, c0, numHidden, init,
                [&](OpBuilder &b, Location l, Value d, Value acc) {
                  Value xv = load(b, l, x, ValueRange{bi, ti, d});
                  if (scaleInput)
                    xv = arith::MulFOp::create(b, l, xv, w);
                  Value wv = toF32(b, l, load(b, l, gateUp, ValueRange{e, r, d}));
                  return arith::AddFOp::create(
                      b, l, acc, arith::MulFOp::create(b, l, xv, wv));
                });
            memref::StoreOp::create(b, l, acc, projected, r);
          });
          forEach(b, loc, c0, numInner, [&](OpBuilder &b, Location l, Value i) {
            Value a;
            if (kind == ExpertKind::relu2) {
              a = applyActivation(b, l, ActivationKind::relu2,
                                  load(b, l, projected, i));
            } else {
              Value gateRow, upRow;
              if (interleaved) {
                gateRow = arith::MulIOp::create(b, l, i, indexConstant(b, l, 2));
                upRow = arith::AddIOp::create(b, l, gateRow, indexConstant(b, l, 1));
              } else {
                gateRow = i;
                upRow = arith::AddIOp::create(b, l, i, numInner);
              }
              GluKind glu = kind == ExpertKind::swiglu ? GluKind::swiglu
                            : kind == ExpertKind::geglu_tanh
                                ? GluKind::geglu_tanh
                            : kind == ExpertKind::clamped_swiglu
                                ? GluKind::clamped_swiglu
                                : GluKind::gpt_oss_swiglu;
              a = applyGlu(b, l, glu, load(b, l, projected, gateRow),
                           load(b, l, projected, upRow), alpha, limit);
            }
            memref::StoreOp::create(b, l, a, activated, i);
          });
          // out += w * (down[e] a (+ bias)).
          forEach(b, loc, c0, numHidden, [&](OpBuilder &b, Location l, Value d) {
            Value init = downBias
                             ? toF32(b, l, load(b, l, downBias, ValueRange{e, d}))
                             : f32Constant(b, l, 0.0);
            Value y = reduce(
                b, l, c0, numInner, init,
                [&](OpBuilder &b, Location l, Value i, Value acc) {
                  Value wv = toF32(b, l, load(b, l, down, ValueRange{e, d, i}));
                  return arith::AddFOp::create(
                      b, l, acc,
                      arith::MulFOp::create(b, l, wv, load(b, l, activated, i)));
                });
            if (!scaleInput)
              y = arith::MulFOp::create(b, l, y, w);
            Value prev = load(b, l, out, ValueRange{bi, ti, d});
            memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, prev, y),
                                    out, ValueRange{bi, ti, d});
          });
        });
      });
    });
    auto type = cast<RankedTensorType>(op.getType());
    rewriter.replaceOp(op, bufferization::ToTensorOp::create(
                               b, loc, type, out, /*restrict=*/true,
                               /*writable=*/true));
    return success();
  }
};
} // namespace

void lowering::populateMoEPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMoEExperts, LowerRouter>(patterns.getContext());
}
