//===- Attention.cpp - Softmax attention and multi-head latent attention --===//
//
// Attention as a chain of generics: scores (a contraction over the head dim,
// KV heads shared by query-head groups through a floordiv indexing map), the
// mask from the positions, a max and a sum reduction, and the weighted sum of
// values. MLA runs expanded: keys and values are projected from the latent
// cache, then the same chain applies.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
struct MaskSpec {
  std::optional<int64_t> window, chunk;
  Value selected; ///< [B, T, K] indices of visible keys, -1 = none
};

/// softmax(mask(q k^T * scale)) v over [B, T, H, D] queries and
/// [B, S, Hkv, D] keys and values.
Value buildAttention(OpBuilder &b, Location loc, Value q, Value k, Value v,
                     Value positions, Value sinks, double scale,
                     std::optional<double> softcap, const MaskSpec &mask) {
  MLIRContext *ctx = b.getContext();
  auto qType = cast<RankedTensorType>(q.getType());
  auto kType = cast<RankedTensorType>(k.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  const int64_t heads = qType.getDimSize(2), kvHeads = kType.getDimSize(2);
  const int64_t group = heads / kvHeads, valueDim = vType.getDimSize(3);
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };

  OpFoldResult batch = tensor::getMixedSize(b, loc, q, 0);
  OpFoldResult tokens = tensor::getMixedSize(b, loc, q, 1);
  OpFoldResult keys = tensor::getMixedSize(b, loc, k, 1);
  OpFoldResult h = b.getIndexAttr(heads);

  // scores[b, h, t, s] = sum_d q[b, t, h, d] k[b, s, h / group, d]
  Value scores = filledTensor(b, loc, {batch, h, tokens, keys}, 0.0);
  scores = buildGeneric(
      b, loc, {q, k},
      {AffineMap::get(5, 0, {d(0), d(2), d(1), d(4)}, ctx),
       AffineMap::get(5, 0, {d(0), d(3), d(1).floorDiv(group), d(4)}, ctx),
       AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
      scores, iterators(4, 1), [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return arith::AddFOp::create(
            nb, l, args[2], arith::MulFOp::create(nb, l, args[0], args[1]));
      });

  // Scale, soft-cap and mask.
  AffineMap id4 = b.getMultiDimIdentityMap(4);
  AffineMap posMap = AffineMap::get(4, 0, {d(0), d(2)}, ctx);
  Value masked = buildGeneric(
      b, loc, {scores, positions}, {id4, posMap, id4},
      emptyTensor(b, loc, {batch, h, tokens, keys}), iterators(4),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value s = arith::MulFOp::create(nb, l, args[0], f32Constant(nb, l, scale));
        if (softcap) {
          Value c = f32Constant(nb, l, *softcap);
          s = arith::MulFOp::create(
              nb, l, c,
              math::TanhOp::create(nb, l, arith::DivFOp::create(nb, l, s, c)));
        }
        Value key = arith::IndexCastOp::create(
            nb, l, nb.getI64Type(), linalg::IndexOp::create(nb, l, 3));
        Value pos = args[1];
        Value visible = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sle,
                                              key, pos);
        if (mask.window) {
          Value lowest = arith::SubIOp::create(
              nb, l, pos,
              arith::ConstantIntOp::create(nb, l, nb.getI64Type(),
                                           *mask.window));
          visible = arith::AndIOp::create(
              nb, l, visible,
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sgt, key,
                                    lowest));
        }
        if (mask.chunk) {
          Value c = arith::ConstantIntOp::create(nb, l, nb.getI64Type(),
                                                 *mask.chunk);
          visible = arith::AndIOp::create(
              nb, l, visible,
              arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq,
                                    arith::DivSIOp::create(nb, l, key, c),
                                    arith::DivSIOp::create(nb, l, pos, c)));
        }
        if (mask.selected) {
          // The key must be one of the indexer's picks for this query.
          Value bi = linalg::IndexOp::create(nb, l, 0);
          Value ti = linalg::IndexOp::create(nb, l, 2);
          int64_t picks =
              cast<RankedTensorType>(mask.selected.getType()).getDimSize(2);
          Value found = arith::ConstantIntOp::create(nb, l, nb.getI1Type(), 0);
          auto loop = scf::ForOp::create(
              nb, l, indexConstant(nb, l, 0), indexConstant(nb, l, picks),
              indexConstant(nb, l, 1), ValueRange{found},
              [&](OpBuilder &lb, Location ll, Value kk, ValueRange acc) {
                Value pick = tensor::ExtractOp::create(
                    lb, ll, mask.selected, ValueRange{bi, ti, kk});
                Value same = arith::CmpIOp::create(
                    lb, ll, arith::CmpIPredicate::eq, pick, key);
                scf::YieldOp::create(
                    lb, ll,
                    ValueRange{arith::OrIOp::create(lb, ll, acc[0], same)});
              });
          visible = arith::AndIOp::create(nb, l, visible, loop.getResult(0));
        }
        return arith::SelectOp::create(nb, l, visible, s,
                                       f32Constant(nb, l, -INFINITY));
      });

  // Row max (including the sink logit), exponentials and their sum.
  Value rowMax = reduceLast(b, loc, masked, /*max=*/true);
  AffineMap id3 = b.getMultiDimIdentityMap(3);
  AffineMap sinkMap = AffineMap::get(3, 0, {d(1)}, ctx);
  if (sinks)
    rowMax = buildGeneric(b, loc, {rowMax, sinks}, {id3, sinkMap, id3},
                          emptyTensor(b, loc, {batch, h, tokens}), iterators(3),
                          [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                            return arith::MaximumFOp::create(
                                nb, l, args[0], toF32(nb, l, args[1]));
                          });
  AffineMap rowMap = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
  Value exps = buildGeneric(
      b, loc, {masked, rowMax}, {id4, rowMap, id4},
      emptyTensor(b, loc, {batch, h, tokens, keys}), iterators(4),
      [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return math::ExpOp::create(nb, l,
                                   arith::SubFOp::create(nb, l, args[0], args[1]));
      });
  Value rowSum = reduceLast(b, loc, exps);
  if (sinks)
    rowSum = buildGeneric(
        b, loc, {rowSum, rowMax, sinks}, {id3, id3, sinkMap, id3},
        emptyTensor(b, loc, {batch, h, tokens}), iterators(3),
        [](OpBuilder &nb, Location l, ValueRange args) -> Value {
          Value e = math::ExpOp::create(
              nb, l,
              arith::SubFOp::create(nb, l, toF32(nb, l, args[2]), args[1]));
          return arith::AddFOp::create(nb, l, args[0], e);
        });

  // out[b, t, h, e] = sum_s exps[b, h, t, s] / sum[b, h, t] * v[b, s, h / g, e]
  Value out =
      filledTensor(b, loc, {batch, tokens, h, b.getIndexAttr(valueDim)}, 0.0);
  return buildGeneric(
      b, loc, {exps, rowSum, v},
      {AffineMap::get(5, 0, {d(0), d(2), d(1), d(4)}, ctx),
       AffineMap::get(5, 0, {d(0), d(2), d(1)}, ctx),
       AffineMap::get(5, 0, {d(0), d(4), d(2).floorDiv(group), d(3)}, ctx),
       AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
      out, iterators(4, 1), [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value p = arith::DivFOp::create(nb, l, args[0], args[1]);
        return arith::AddFOp::create(
            nb, l, args[3], arith::MulFOp::create(nb, l, p, args[2]));
      });
}

struct LowerAttention final : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    MaskSpec mask;
    if (op.getSlidingWindow())
      mask.window = static_cast<int64_t>(*op.getSlidingWindow());
    if (op.getChunkSize())
      mask.chunk = static_cast<int64_t>(*op.getChunkSize());
    std::optional<double> softcap;
    if (op.getSoftcap())
      softcap = op.getSoftcap()->convertToDouble();
    rewriter.replaceOp(
        op, buildAttention(rewriter, op.getLoc(), op.getQuery(), op.getKey(),
                           op.getValue(), op.getPositions(), op.getSinks(),
                           op.getScale().convertToDouble(), softcap, mask));
    return success();
  }
};

/// MLA, expanded: per-head keys [k_nope || k_rope] and values are projected
/// from the cached latents with kv_b.
struct LowerMLAAttention final : OpRewritePattern<MLAAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MLAAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    auto qn = cast<RankedTensorType>(op.getQueryNope().getType());
    auto out = cast<RankedTensorType>(op.getType());
    const int64_t heads = qn.getDimSize(2), nope = qn.getDimSize(3);
    const int64_t valueDim = out.getDimSize(3), rows = nope + valueDim;
    const int64_t ropeDim =
        cast<RankedTensorType>(op.getKeyRope().getType()).getDimSize(2);
    Value latent = op.getLatent();
    OpFoldResult batch = tensor::getMixedSize(rewriter, loc, latent, 0);
    OpFoldResult keys = tensor::getMixedSize(rewriter, loc, latent, 1);

    // proj[b, s, h, j] = sum_r latent[b, s, r] kv_b[h * rows + offset + j, r]
    auto project = [&](int64_t offset, int64_t width) {
      Value init = filledTensor(rewriter, loc,
                                {batch, keys, rewriter.getIndexAttr(heads),
                                 rewriter.getIndexAttr(width)},
                                0.0);
      return buildGeneric(
          rewriter, loc, {latent, op.getKvB()},
          {AffineMap::get(5, 0, {d(0), d(1), d(4)}, ctx),
           AffineMap::get(5, 0, {d(2) * rows + offset + d(3), d(4)}, ctx),
           AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
          init, iterators(4, 1), [](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::AddFOp::create(
                b, l, args[2],
                arith::MulFOp::create(b, l, toF32(b, l, args[0]),
                                      toF32(b, l, args[1])));
          });
    };
    Value kNope = project(0, nope);
    Value values = project(nope, valueDim);
    // The rotary key is shared by every head.
    Value kRope = buildGeneric(
        rewriter, loc, op.getKeyRope(),
        {AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
         rewriter.getMultiDimIdentityMap(4)},
        emptyTensor(rewriter, loc,
                    {batch, keys, rewriter.getIndexAttr(heads),
                     rewriter.getIndexAttr(ropeDim)}),
        iterators(4),
        [](OpBuilder &b, Location l, ValueRange args) -> Value { return args[0]; });
    Value k = tensor::ConcatOp::create(rewriter, loc, 3,
                                       ValueRange{kNope, kRope});
    Value q = tensor::ConcatOp::create(
        rewriter, loc, 3, ValueRange{op.getQueryNope(), op.getQueryRope()});
    MaskSpec mask;
    mask.selected = op.getSelected();
    rewriter.replaceOp(op, buildAttention(rewriter, loc, q, k, values,
                                          op.getPositions(), Value(),
                                          op.getScale().convertToDouble(),
                                          std::nullopt, mask));
    return success();
  }
};
} // namespace

void lowering::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttention, LowerMLAAttention>(patterns.getContext());
}
