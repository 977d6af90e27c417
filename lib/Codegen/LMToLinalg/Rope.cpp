//===- Rope.cpp - Rotary embeddings and attention temperature -------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// lm.rope: a generic over [B, T, H, D] reading each element's rotation
/// partner; frequencies are a constant table computed at compile time in the
/// way HF does (f32 frequencies, f32 angles, cos/sin times the attention
/// factor).
struct LowerRope final : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    SmallVector<double> invFreq;
    double factor = 1.0;
    op.computeFrequencies(invFreq, factor);
    const int64_t dim = op.getRotaryDim(), offset = op.getRotaryOffset();
    const int64_t half = dim / 2;
    const bool interleaved = op.getInterleaved(), inverse = op.getInverse();
    SmallVector<float> table(invFreq.begin(), invFreq.end());
    auto tableType = RankedTensorType::get({half}, rewriter.getF32Type());
    Value freqs = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(tableType, ArrayRef<float>(table)));

    MLIRContext *ctx = rewriter.getContext();
    AffineMap posMap = AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    AffineMap identity = rewriter.getMultiDimIdentityMap(4);
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, x));
    auto body = [&](OpBuilder &b, Location l, ValueRange args) -> Value {
      Value c0 = indexConstant(b, l, 0);
      Value d = linalg::IndexOp::create(b, l, 3);
      Value i = arith::SubIOp::create(b, l, d, indexConstant(b, l, offset));
      // Channels outside [offset, offset + dim) pass through; clamp i so the
      // (unused) partner read stays in bounds for them.
      Value inside = arith::AndIOp::create(
          b, l,
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, c0),
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                                indexConstant(b, l, dim)));
      Value ic = arith::SelectOp::create(b, l, inside, i, c0);
      Value pair, first, partner;
      if (interleaved) {
        pair = arith::DivUIOp::create(b, l, ic, indexConstant(b, l, 2));
        Value parity = arith::RemUIOp::create(b, l, ic, indexConstant(b, l, 2));
        first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, parity, c0);
        partner = arith::SelectOp::create(
            b, l, first, arith::AddIOp::create(b, l, ic, indexConstant(b, l, 1)),
            arith::SubIOp::create(b, l, ic, indexConstant(b, l, 1)));
      } else {
        first = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, ic,
                                      indexConstant(b, l, half));
        pair = arith::SelectOp::create(
            b, l, first, ic,
            arith::SubIOp::create(b, l, ic, indexConstant(b, l, half)));
        partner = arith::SelectOp::create(
            b, l, first, arith::AddIOp::create(b, l, ic, indexConstant(b, l, half)),
            arith::SubIOp::create(b, l, ic, indexConstant(b, l, half)));
      }
      Value freq = tensor::ExtractOp::create(b, l, freqs, ValueRange{pair});
      Value pos = arith::SIToFPOp::create(b, l, b.getF32Type(), args[1]);
      Value angle = arith::MulFOp::create(b, l, pos, freq);
      Value cos = math::CosOp::create(b, l, angle);
      Value sin = math::SinOp::create(b, l, angle);
      if (factor != 1.0) {
        Value f = f32Constant(b, l, factor);
        cos = arith::MulFOp::create(b, l, cos, f);
        sin = arith::MulFOp::create(b, l, sin, f);
      }
      if (inverse)
        sin = arith::NegFOp::create(b, l, sin);
      Value bi = linalg::IndexOp::create(b, l, 0);
      Value ti = linalg::IndexOp::create(b, l, 1);
      Value hi = linalg::IndexOp::create(b, l, 2);
      Value other = tensor::ExtractOp::create(
          b, l, x,
          ValueRange{bi, ti, hi,
                     arith::AddIOp::create(b, l, partner,
                                           indexConstant(b, l, offset))});
      Value self = args[0];
      // (a, b) -> (a cos - b sin, b cos + a sin)
      Value rotated = arith::SelectOp::create(
          b, l, first,
          arith::SubFOp::create(b, l, arith::MulFOp::create(b, l, self, cos),
                                arith::MulFOp::create(b, l, other, sin)),
          arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, self, cos),
                                arith::MulFOp::create(b, l, other, sin)));
      return arith::SelectOp::create(b, l, inside, rotated, self);
    };
    rewriter.replaceOp(op, buildGeneric(rewriter, loc, {x, op.getPositions()},
                                        {identity, posMap, identity}, init,
                                        iterators(4), body));
    return success();
  }
};

/// lm.attention_temperature: q * (1 + s * ln(1 + floor((p + 1) / f))).
struct LowerAttentionTemperature final
    : OpRewritePattern<AttentionTemperatureOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionTemperatureOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    double floorScale = op.getFloorScale().convertToDouble();
    double attnScale = op.getAttnScale().convertToDouble();
    MLIRContext *ctx = rewriter.getContext();
    AffineMap posMap = AffineMap::get(
        4, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    AffineMap identity = rewriter.getMultiDimIdentityMap(4);
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, op.getInput()));
    rewriter.replaceOp(
        op,
        buildGeneric(rewriter, loc, {op.getInput(), op.getPositions()},
                     {identity, posMap, identity}, init, iterators(4),
                     [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                       Value p = arith::SIToFPOp::create(b, l, b.getF32Type(),
                                                         args[1]);
                       Value q = math::FloorOp::create(
                           b, l,
                           arith::DivFOp::create(
                               b, l,
                               arith::AddFOp::create(b, l, p,
                                                     f32Constant(b, l, 1.0)),
                               f32Constant(b, l, floorScale)));
                       Value scale = arith::AddFOp::create(
                           b, l, f32Constant(b, l, 1.0),
                           arith::MulFOp::create(
                               b, l, f32Constant(b, l, attnScale),
                               math::Log1pOp::create(b, l, q)));
                       return arith::MulFOp::create(b, l, args[0], scale);
                     }));
    return success();
  }
};
} // namespace

void lowering::populateRopePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttentionTemperature, LowerRope>(patterns.getContext());
}
