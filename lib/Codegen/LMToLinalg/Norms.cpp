//===- Norms.cpp - RMSNorm, LayerNorm, L2 norm ----------------------------===//
//
// Each norm is a reduction generic over the last dimension (statistics in
// f32) followed by an elementwise generic; upstream fusion merges them.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

/// Maps for (x, per-row statistic[, per-channel params...], out) over x's rank.
static SmallVector<AffineMap> normMaps(OpBuilder &b, int64_t rank,
                                       int64_t channelParams) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> rowExprs;
  for (int64_t i = 0; i + 1 < rank; ++i)
    rowExprs.push_back(getAffineDimExpr(i, ctx));
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, rowExprs, ctx)};
  for (int64_t i = 0; i < channelParams; ++i)
    maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx)));
  maps.push_back(b.getMultiDimIdentityMap(rank));
  return maps;
}

/// sum(x^2) over the last dimension.
static Value sumOfSquares(OpBuilder &b, Location loc, Value x) {
  Value squares = buildPointwise(b, loc, x, x,
                                 [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                                   Value v = toF32(nb, l, args[0]);
                                   return arith::MulFOp::create(nb, l, v, v);
                                 });
  return reduceLast(b, loc, squares);
}

namespace {
/// lm.rms_norm: x * rsqrt(mean(x^2) + eps) * (offset + w).
struct LowerRMSNorm final : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank(), n = type.getDimSize(rank - 1);
    double eps = op.getEpsilon().convertToDouble();
    double offset = op.getWeightOffset().convertToDouble();
    Value sums = sumOfSquares(rewriter, loc, x);
    SmallVector<Value> inputs = {x, sums};
    if (op.getWeight())
      inputs.push_back(op.getWeight());
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, x));
    bool weighted = bool(op.getWeight());
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, inputs,
                         normMaps(rewriter, rank, weighted ? 1 : 0), init,
                         iterators(rank),
                         [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                           Value inv = inverseRootMean(b, l, args[1], n, eps);
                           Value y = arith::MulFOp::create(
                               b, l, toF32(b, l, args[0]), inv);
                           if (!weighted)
                             return y;
                           Value w = toF32(b, l, args[2]);
                           if (offset != 0.0)
                             w = arith::AddFOp::create(
                                 b, l, w, f32Constant(b, l, offset));
                           return arith::MulFOp::create(b, l, y, w);
                         }));
    return success();
  }
};

/// lm.l2_norm: x * rsqrt(sum(x^2) + eps).
struct LowerL2Norm final : OpRewritePattern<L2NormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(L2NormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    double eps = op.getEpsilon().convertToDouble();
    Value sums = sumOfSquares(rewriter, loc, x);
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, x));
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, {x, sums}, normMaps(rewriter, rank, 0),
                         init, iterators(rank),
                         [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                           Value inv = math::RsqrtOp::create(
                               b, l,
                               arith::AddFOp::create(b, l, args[1],
                                                     f32Constant(b, l, eps)));
                           return arith::MulFOp::create(b, l, args[0], inv);
                         }));
    return success();
  }
};

/// lm.layer_norm: (x - mean) * rsqrt(var + eps) * w + b.
struct LowerLayerNorm final : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank(), n = type.getDimSize(rank - 1);
    double eps = op.getEpsilon().convertToDouble();
    Value sums = reduceLast(rewriter, loc, x);
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, x));
    Value centred = buildGeneric(
        rewriter, loc, {x, sums}, normMaps(rewriter, rank, 0), init,
        iterators(rank), [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value mean = arith::DivFOp::create(b, l, args[1],
                                             f32Constant(b, l, double(n)));
          return arith::SubFOp::create(b, l, toF32(b, l, args[0]), mean);
        });
    Value vars = sumOfSquares(rewriter, loc, centred);
    SmallVector<Value> inputs = {centred, vars, op.getWeight()};
    bool biased = bool(op.getBias());
    if (biased)
      inputs.push_back(op.getBias());
    Value init2 = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, x));
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, inputs,
                         normMaps(rewriter, rank, biased ? 2 : 1), init2,
                         iterators(rank),
                         [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                           Value inv = inverseRootMean(b, l, args[1], n, eps);
                           Value y = arith::MulFOp::create(
                               b, l, arith::MulFOp::create(b, l, args[0], inv),
                               toF32(b, l, args[2]));
                           if (!biased)
                             return y;
                           return arith::AddFOp::create(b, l, y,
                                                        toF32(b, l, args[3]));
                         }));
    return success();
  }
};
} // namespace

void lowering::populateNormPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerL2Norm, LowerLayerNorm, LowerRMSNorm>(
      patterns.getContext());
}
