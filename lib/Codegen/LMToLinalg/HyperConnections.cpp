//===- HyperConnections.cpp - mHC streams, Sinkhorn, hash routing ---------===//
//
// DeepSeek-V4's manifold-constrained hyper-connections. hc_pre and
// hc_collapse decompose into lm.rms_norm and lm.linear (lowered by their own
// patterns) plus small generics; Sinkhorn's alternating normalisations of
// tiny N x N matrices are loops over buffers.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// [B, T, N, D] -> [B, T, N*D] (stream-major).
Value flattenStreams(OpBuilder &b, Location loc, Value streams) {
  SmallVector<ReassociationIndices> groups = {{0}, {1}, {2, 3}};
  return tensor::CollapseShapeOp::create(b, loc, streams, groups);
}

/// rms(flat(X)) @ fn^T: the mixing logits of every stream combination.
Value mixLogits(PatternRewriter &rewriter, Location loc, Value streams, Value fn,
                double eps) {
  Value flat = flattenStreams(rewriter, loc, streams);
  Value normed = RMSNormOp::create(rewriter, loc, flat.getType(), flat, Value(),
                                   rewriter.getF64FloatAttr(eps),
                                   rewriter.getF64FloatAttr(0.0));
  auto flatType = cast<RankedTensorType>(flat.getType());
  auto fnType = cast<RankedTensorType>(fn.getType());
  auto mixType = RankedTensorType::get(
      {flatType.getDimSize(0), flatType.getDimSize(1), fnType.getDimSize(0)},
      rewriter.getF32Type());
  return LinearOp::create(rewriter, loc, mixType, normed, fn, Value());
}

/// out[b, t, n] = sigmoid(mix[b, t, offset + n] * scale[s] + base[offset + n])
/// * factor + shift, for n < count.
Value streamGates(OpBuilder &b, Location loc, Value mix, Value base, Value scale,
                  int64_t offset, int64_t count, int64_t scaleIndex,
                  double factor, double shift) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  // Slice the columns first: linalg infers loop bounds from operand shapes.
  SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, mix, 0),
                                     tensor::getMixedSize(b, loc, mix, 1),
                                     b.getIndexAttr(count)};
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                       b.getIndexAttr(offset)};
  SmallVector<OpFoldResult> ones(3, b.getIndexAttr(1));
  Value columns =
      tensor::ExtractSliceOp::create(b, loc, mix, offsets, sizes, ones);
  Value bias = tensor::ExtractSliceOp::create(
      b, loc, base, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(count)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  Value s = tensor::ExtractOp::create(b, loc, scale,
                                      ValueRange{indexConstant(b, loc, scaleIndex)});
  return buildGeneric(
      b, loc, {columns, bias},
      {b.getMultiDimIdentityMap(3), AffineMap::get(3, 0, {d(2)}, ctx),
       b.getMultiDimIdentityMap(3)},
      emptyTensor(b, loc, sizes), iterators(3),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value x = arith::AddFOp::create(
            nb, l, arith::MulFOp::create(nb, l, args[0], toF32(nb, l, s)),
            toF32(nb, l, args[1]));
        Value g = sigmoid(nb, l, x);
        if (factor != 1.0)
          g = arith::MulFOp::create(nb, l, g, f32Constant(nb, l, factor));
        if (shift != 0.0)
          g = arith::AddFOp::create(nb, l, g, f32Constant(nb, l, shift));
        return g;
      });
}

/// sum_n weights[b, t, n] * X[b, t, n, d].
Value mixStreams(OpBuilder &b, Location loc, Value weights, Value streams) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto type = cast<RankedTensorType>(streams.getType());
  SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, streams, 0),
                                     tensor::getMixedSize(b, loc, streams, 1),
                                     b.getIndexAttr(type.getDimSize(3))};
  return buildGeneric(
      b, loc, {weights, streams},
      {AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
       AffineMap::get(4, 0, {d(0), d(1), d(3), d(2)}, ctx),
       AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx)},
      filledTensor(b, loc, sizes, 0.0), iterators(3, 1),
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::AddFOp::create(
            nb, l, args[2], arith::MulFOp::create(nb, l, args[0], args[1]));
      });
}

struct LowerHCExpand final : OpRewritePattern<HCExpandOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HCExpandOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, op.getInput(), 0),
        tensor::getMixedSize(rewriter, loc, op.getInput(), 1),
        rewriter.getIndexAttr(type.getDimSize(2)),
        rewriter.getIndexAttr(type.getDimSize(3))};
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, op.getInput(),
                         {AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
                          rewriter.getMultiDimIdentityMap(4)},
                         emptyTensor(rewriter, loc, sizes), iterators(4),
                         [](OpBuilder &, Location, ValueRange args) -> Value {
                           return args[0];
                         }));
    return success();
  }
};

struct LowerHCPre final : OpRewritePattern<HCPreOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HCPreOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    const int64_t n =
        cast<RankedTensorType>(op.getStreams().getType()).getDimSize(2);
    const double hcEps = op.getHcEpsilon().convertToDouble();
    Value mix = mixLogits(rewriter, loc, op.getStreams(), op.getFn(),
                          op.getEpsilon().convertToDouble());
    Value pre = streamGates(rewriter, loc, mix, op.getBase(), op.getScale(), 0,
                            n, 0, 1.0, hcEps);
    Value post = streamGates(rewriter, loc, mix, op.getBase(), op.getScale(), n,
                             n, 1, 2.0, 0.0);
    // comb_logits[b, t, i, j] = mix[2N + i N + j] * scale[2] + base[...]
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    Value s = tensor::ExtractOp::create(rewriter, loc, op.getScale(),
                                        ValueRange{indexConstant(rewriter, loc, 2)});
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, mix, 0),
        tensor::getMixedSize(rewriter, loc, mix, 1), rewriter.getIndexAttr(n),
        rewriter.getIndexAttr(n)};
    Value comb = buildGeneric(
        rewriter, loc, {mix, op.getBase()},
        {AffineMap::get(4, 0, {d(0), d(1), d(2) * n + d(3) + 2 * n}, ctx),
         AffineMap::get(4, 0, {d(2) * n + d(3) + 2 * n}, ctx),
         rewriter.getMultiDimIdentityMap(4)},
        emptyTensor(rewriter, loc, sizes), iterators(4),
        [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
          return arith::AddFOp::create(
              nb, l, arith::MulFOp::create(nb, l, args[0], toF32(nb, l, s)),
              toF32(nb, l, args[1]));
        });
    Value input = mixStreams(rewriter, loc, pre, op.getStreams());
    rewriter.replaceOp(op, {input, post, comb});
    return success();
  }
};

struct LowerHCCollapse final : OpRewritePattern<HCCollapseOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HCCollapseOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    const int64_t n =
        cast<RankedTensorType>(op.getStreams().getType()).getDimSize(2);
    Value mix = mixLogits(rewriter, loc, op.getStreams(), op.getFn(),
                          op.getEpsilon().convertToDouble());
    Value pre = streamGates(rewriter, loc, mix, op.getBase(), op.getScale(), 0,
                            n, 0, 1.0, op.getHcEpsilon().convertToDouble());
    rewriter.replaceOp(op, mixStreams(rewriter, loc, pre, op.getStreams()));
    return success();
  }
};

/// X'[b, t, k, d] = post[b, t, k] out[b, t, d] + sum_j comb[b, t, j, k] X[b, t, j, d]
struct LowerHCPost final : OpRewritePattern<HCPostOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HCPostOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    Value x = op.getStreams();
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, x);
    Value init = buildGeneric(
        rewriter, loc, {op.getPost(), op.getOutput()},
        {AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx),
         AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
         rewriter.getMultiDimIdentityMap(4)},
        emptyTensor(rewriter, loc, sizes), iterators(4),
        [](OpBuilder &nb, Location l, ValueRange args) -> Value {
          return arith::MulFOp::create(nb, l, args[0], args[1]);
        });
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, {op.getComb(), x},
                         {AffineMap::get(5, 0, {d(0), d(1), d(4), d(2)}, ctx),
                          AffineMap::get(5, 0, {d(0), d(1), d(4), d(3)}, ctx),
                          AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
                         init, iterators(4, 1),
                         [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                           return arith::AddFOp::create(
                               nb, l, args[2],
                               arith::MulFOp::create(nb, l, args[0], args[1]));
                         }));
    return success();
  }
};

/// lm.sinkhorn: row softmax + eps, a column normalisation, then
/// iterations - 1 row and column normalisations (denominators + eps).
struct LowerSinkhorn final : OpRewritePattern<SinkhornOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SinkhornOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto type = cast<RankedTensorType>(op.getType());
    if (type.getRank() != 4)
      return rewriter.notifyMatchFailure(op, "expected [B, T, N, N]");
    const int64_t n = type.getDimSize(3);
    const double eps = op.getEpsilon().convertToDouble();
    const int64_t iterations = op.getIterations();
    Value in = toBuffer(b, loc, op.getInput());
    Value c0 = indexConstant(b, loc, 0), cn = indexConstant(b, loc, n);
    Value batch = memref::DimOp::create(b, loc, in, 0);
    Value tokens = memref::DimOp::create(b, loc, in, 1);
    auto dyn = ShapedType::kDynamic;
    Value out = memref::AllocOp::create(
        b, loc, MemRefType::get({dyn, dyn, n, n}, b.getF32Type()),
        ValueRange{batch, tokens});
    Value epsilon = f32Constant(b, loc, eps);
    forEachToken(
        b, loc, batch, tokens,
        [&](OpBuilder &b, Location l, Value bi, Value ti) {
          // (A ValueRange would dangle: build the index lists by value.)
          auto at = [&](Value i, Value j) {
            return SmallVector<Value, 4>{bi, ti, i, j};
          };
          // Row softmax + eps.
          forEach(b, l, c0, cn, [&](OpBuilder &b, Location l, Value i) {
            Value max =
                reduce(b, l, c0, cn, f32Constant(b, l, -INFINITY),
                       [&](OpBuilder &b, Location l, Value j, Value acc) {
                         return arith::MaximumFOp::create(
                             b, l, acc, load(b, l, in, at(i, j)));
                       });
            Value
                sum = reduce(b, l, c0, cn, f32Constant(b, l, 0.0),
                             [&](OpBuilder &b, Location l, Value j, Value acc) {
                               Value e = math::ExpOp::create(
                                   b, l, arith::SubFOp::create(
                                             b, l, load(b, l, in, at(i, j)), max));
                               memref::StoreOp::create(b, l, e, out, at(i, j));
                               return arith::AddFOp::create(b, l, acc, e);
                             });
            forEach(b, l, c0, cn, [&](OpBuilder &b, Location l, Value j) {
              Value v = arith::AddFOp::create(
                  b, l,
                  arith::DivFOp::create(b, l, load(b, l, out, at(i, j)), sum),
                  epsilon);
              memref::StoreOp::create(b, l, v, out, at(i, j));
            });
          });
          auto normalize = [&](OpBuilder &b, Location l, bool rows) {
            forEach(b, l, c0, cn, [&](OpBuilder &b, Location l, Value i) {
              auto idx = [&](Value j) -> SmallVector<Value, 4> {
                return rows ? at(i, j) : at(j, i);
              };
              Value sum =
                  reduce(b, l, c0, cn, f32Constant(b, l, 0.0),
                         [&](OpBuilder &b, Location l, Value j, Value acc) {
                           return arith::AddFOp::create(
                               b, l, acc, load(b, l, out, idx(j)));
                         });
              Value denominator = arith::AddFOp::create(b, l, sum, epsilon);
              forEach(b, l, c0, cn, [&](OpBuilder &b, Location l, Value j) {
                memref::StoreOp::create(
                    b, l,
                    arith::DivFOp::create(b, l, load(b, l, out, idx(j)),
                                          denominator),
                    out, idx(j));
              });
            });
          };
          normalize(b, l, /*rows=*/false);
          forEach(b, l, c0, indexConstant(b, l, iterations - 1),
                  [&](OpBuilder &b, Location l, Value) {
                    normalize(b, l, /*rows=*/true);
                    normalize(b, l, /*rows=*/false);
                  });
        });
    rewriter.replaceOp(op, bufferization::ToTensorOp::create(
                               b, loc, type, out, /*restrict=*/true,
                               /*writable=*/true));
    return success();
  }
};

/// lm.hash_router: the experts of each token's id in the table, weighted by
/// their scores, renormalised and scaled.
struct LowerHashRouter final : OpRewritePattern<HashRouterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HashRouterOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    const int64_t topK =
        cast<RankedTensorType>(op.getTable().getType()).getDimSize(1);
    const int64_t experts =
        cast<RankedTensorType>(op.getLogits().getType()).getDimSize(2);
    const ScoringKind scoring = op.getScoring();
    const bool normalize = op.getNormalize();
    const double scaling = op.getRoutedScaling().convertToDouble();
    Value ids = toBuffer(b, loc, op.getIds());
    Value table = toBuffer(b, loc, op.getTable());
    Value logits = toBuffer(b, loc, op.getLogits());
    Value c0 = indexConstant(b, loc, 0);
    Value batch = memref::DimOp::create(b, loc, logits, 0);
    Value tokens = memref::DimOp::create(b, loc, logits, 1);
    auto [weights, indices] = allocRouting(b, loc, batch, tokens, topK);
    Value numK = indexConstant(b, loc, topK);
    forEachToken(
        b, loc, batch, tokens,
        [&](OpBuilder &b, Location l, Value bi, Value ti) {
          RouterScores router(b, l, scoring, logits, bi, ti, experts);
          Value id = arith::IndexCastOp::create(
              b, l, b.getIndexType(), load(b, l, ids, ValueRange{bi, ti}));
          Value total = reduce(
              b, l, c0, numK, f32Constant(b, l, 0.0),
              [&](OpBuilder &b, Location l, Value k, Value acc) {
                Value e64 = load(b, l, table, ValueRange{id, k});
                if (!e64.getType().isInteger(64))
                  e64 = arith::ExtSIOp::create(b, l, b.getI64Type(), e64);
                Value e =
                    arith::IndexCastOp::create(b, l, b.getIndexType(), e64);
                Value s = router.score(b, l, e);
                memref::StoreOp::create(b, l, s, weights,
                                        ValueRange{bi, ti, k});
                memref::StoreOp::create(b, l, e64, indices,
                                        ValueRange{bi, ti, k});
                return arith::AddFOp::create(b, l, acc, s);
              });
          if (!normalize)
            total = f32Constant(b, l, 1.0);
          scaleRouting(b, l, weights, bi, ti, topK, total, scaling);
        });
    rewriter.replaceOp(
        op, {bufferization::ToTensorOp::create(
                 b, loc, op.getWeights().getType(), weights, true, true),
             bufferization::ToTensorOp::create(
                 b, loc,
                 RankedTensorType::get(
                     cast<RankedTensorType>(op.getIndices().getType()).getShape(),
                     b.getI64Type()),
                 indices, true, true)});
    return success();
  }
};
} // namespace

void lowering::populateHyperConnectionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerHCCollapse, LowerHCExpand, LowerHCPost, LowerHCPre,
               LowerHashRouter, LowerSinkhorn>(patterns.getContext());
}
