//===- Projections.cpp - Linear and grouped linear projections ------------===//
//
// x W^T as a contraction generic (parallel over the leading dims and the
// output features, reduction over the input features), accumulating in f32
// from weights of any float type.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// lm.linear: out[..., n] = bias[n] + sum_k x[..., k] * w[n, k].
struct LowerLinear final : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    int64_t n = cast<RankedTensorType>(op.getWeight().getType()).getDimSize(0);
    MLIRContext *ctx = rewriter.getContext();
    // Loops: n, leading dims (rank - 1), k. Output features outermost: a
    // weight row is read once and reused by every token of a prompt while it
    // is in cache, instead of the whole matrix streaming once per token.
    int64_t loops = rank + 1;
    AffineExpr nExpr = getAffineDimExpr(0, ctx);
    SmallVector<AffineExpr> lead;
    for (int64_t i = 0; i + 1 < rank; ++i)
      lead.push_back(getAffineDimExpr(i + 1, ctx));
    AffineExpr kExpr = getAffineDimExpr(rank, ctx);
    SmallVector<AffineExpr> xExprs = lead, outExprs = lead;
    xExprs.push_back(kExpr);
    outExprs.push_back(nExpr);
    SmallVector<AffineMap> maps = {
        AffineMap::get(loops, 0, xExprs, ctx),
        AffineMap::get(loops, 0, {nExpr, kExpr}, ctx),
        AffineMap::get(loops, 0, outExprs, ctx)};

    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, x);
    sizes.back() = rewriter.getIndexAttr(n);
    Value init;
    if (Value bias = op.getBias()) {
      Value empty = emptyTensor(rewriter, loc, sizes);
      init = buildPointwise(rewriter, loc, bias, empty,
                            [](OpBuilder &b, Location l, ValueRange args) -> Value {
                              return toF32(b, l, args[0]);
                            });
    } else {
      init = filledTensor(rewriter, loc, sizes, 0.0);
    }
    rewriter.replaceOp(op, buildGeneric(rewriter, loc, {x, op.getWeight()},
                                        maps, init, iterators(rank, 1),
                                        multiplyAccumulate));
    return success();
  }
};

/// lm.grouped_linear: out[b, t, g, n] = sum_k x[b, t, g, k] * w[g*N + n, k].
struct LowerGroupedLinear final : OpRewritePattern<GroupedLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GroupedLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto outType = cast<RankedTensorType>(op.getType());
    int64_t n = outType.getDimSize(3);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b0 = getAffineDimExpr(0, ctx), t = getAffineDimExpr(1, ctx),
               g = getAffineDimExpr(2, ctx), nn = getAffineDimExpr(3, ctx),
               k = getAffineDimExpr(4, ctx);
    SmallVector<AffineMap> maps = {
        AffineMap::get(5, 0, {b0, t, g, k}, ctx),
        AffineMap::get(5, 0, {g * n + nn, k}, ctx),
        AffineMap::get(5, 0, {b0, t, g, nn}, ctx)};
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getInput());
    sizes.back() = rewriter.getIndexAttr(n);
    Value init = filledTensor(rewriter, loc, sizes, 0.0);
    rewriter.replaceOp(op, buildGeneric(rewriter, loc,
                                        {op.getInput(), op.getWeight()}, maps,
                                        init, iterators(4, 1),
                                        multiplyAccumulate));
    return success();
  }
};
} // namespace

void lowering::populateProjectionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerGroupedLinear, LowerLinear>(patterns.getContext());
}
