//===- Attention.cpp - Softmax attention and multi-head latent attention --===//
//
// Attention as a chain of generics: scores (a contraction over the head dim,
// KV heads shared by query-head groups through a floordiv indexing map), the
// mask from the positions, a max and a sum reduction, and the weighted sum of
// values. MLA reuses the chain, expanded for prefill and weight-absorbed for
// decode.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "../MLAPromptForm.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// MLA's dims: heads, nope and value head dims, kv_b rows per head (nope +
/// value), rope and latent dims.
struct MLADims {
  int64_t heads, nope, valueDim, rows, ropeDim, latentDim;
  explicit MLADims(MLAAttentionOp op) {
    auto qn = cast<RankedTensorType>(op.getQueryNope().getType());
    heads = qn.getDimSize(2);
    nope = qn.getDimSize(3);
    valueDim = cast<RankedTensorType>(op.getType()).getDimSize(3);
    rows = nope + valueDim;
    ropeDim = cast<RankedTensorType>(op.getKeyRope().getType()).getDimSize(2);
    latentDim = cast<RankedTensorType>(op.getLatent().getType()).getDimSize(2);
  }
};

struct MLAKeyView {
  /// [B, S, C] -> [B, S, 1, C]: one head shared by every query head.
  static Value asSingleHead(OpBuilder &b, Location loc, Value x) {
    auto t = cast<RankedTensorType>(x.getType());
    SmallVector<OpFoldResult> shape = sizesOf(b, loc, x);
    shape.insert(shape.begin() + 2, b.getIndexAttr(1));
    auto type = RankedTensorType::get(
        {t.getDimSize(0), t.getDimSize(1), 1, t.getDimSize(2)},
        t.getElementType());
    SmallVector<ReassociationIndices> groups = {{0}, {1}, {2, 3}};
    return tensor::ExpandShapeOp::create(b, loc, type, x, groups, shape);
  }
};

struct MaskSpec {
  std::optional<int64_t> window, chunk;
  Value selected; ///< [B, T, K] indices of visible keys, -1 = none
  /// DeepSeek-V4: keys [0, windowKeys) are tokens (seen through `window`),
  /// the rest compressed entries, entry e visible iff e < (p + 1) / ratio
  /// (and picked in `selected` when given).
  Value windowKeys;
  int64_t ratio = 1;
};

/// Whether `key` is among selected[b, t, :].
Value isPicked(OpBuilder &nb, Location l, Value selected, Value bi, Value ti,
               Value key) {
  Value picks = tensor::DimOp::create(nb, l, selected, 2);
  Value found = arith::ConstantIntOp::create(nb, l, nb.getI1Type(), 0);
  auto loop = scf::ForOp::create(
      nb, l, indexConstant(nb, l, 0), picks,
      indexConstant(nb, l, 1), ValueRange{found},
      [&](OpBuilder &lb, Location ll, Value kk, ValueRange acc) {
        Value pick =
            tensor::ExtractOp::create(lb, ll, selected, ValueRange{bi, ti, kk});
        Value same =
            arith::CmpIOp::create(lb, ll, arith::CmpIPredicate::eq, pick, key);
        scf::YieldOp::create(
            lb, ll, ValueRange{arith::OrIOp::create(lb, ll, acc[0], same)});
      });
  return loop.getResult(0);
}

/// The tensor `x` with every element through bf16 (bf16_products); a bf16
/// tensor already is.
Value tensorThroughBF16(OpBuilder &b, Location loc, Value x) {
  if (!cast<RankedTensorType>(x.getType()).getElementType().isF32())
    return x;
  return buildPointwise(b, loc, {x}, x,
                        [](OpBuilder &nb, Location l, ValueRange args) {
                          return throughBF16(nb, l, toF32(nb, l, args[0]));
                        });
}

/// scores[b, h, t, s] = sum_d q[b, t, h, d] k[b, s, h / group, d], added to
/// `init` when given (zeros otherwise).
Value contractScores(OpBuilder &b, Location loc, Value q, Value k,
                     Value init = {}) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  const int64_t heads = cast<RankedTensorType>(q.getType()).getDimSize(2);
  const int64_t group =
      heads / cast<RankedTensorType>(k.getType()).getDimSize(2);
  if (!init)
    init = filledTensor(b, loc,
                        {tensor::getMixedSize(b, loc, q, 0), b.getIndexAttr(heads),
                         tensor::getMixedSize(b, loc, q, 1),
                         tensor::getMixedSize(b, loc, k, 1)},
                        0.0);
  return buildGeneric(
      b, loc, {q, k},
      {AffineMap::get(5, 0, {d(0), d(2), d(1), d(4)}, ctx),
       AffineMap::get(5, 0, {d(0), d(3), d(1).floorDiv(group), d(4)}, ctx),
       AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
      init, iterators(4, 1), multiplyAccumulate);
}

/// Unnormalised softmax weights of masked, scaled scores [B, H, T, S] and
/// their row sums (the sink logit joins the max and the sum).
std::pair<Value, Value> softmaxRows(OpBuilder &b, Location loc, Value scores,
                                    Value positions, Value sinks, double scale,
                                    std::optional<double> softcap,
                                    const MaskSpec &mask) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  SmallVector<OpFoldResult> sizes = sizesOf(b, loc, scores);
  SmallVector<OpFoldResult> rows(sizes.begin(), sizes.end() - 1);
  AffineMap id4 = b.getMultiDimIdentityMap(4);
  AffineMap posMap = AffineMap::get(4, 0, {d(0), d(2)}, ctx);
  Value masked = buildGeneric(
      b, loc, {scores, positions}, {id4, posMap, id4}, emptyTensor(b, loc, sizes),
      iterators(4), [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
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
        Value bi = linalg::IndexOp::create(nb, l, 0);
        Value ti = linalg::IndexOp::create(nb, l, 2);
        if (mask.windowKeys) {
          // Keys past the window segment are compressed entries.
          Value j = linalg::IndexOp::create(nb, l, 3);
          Value isEntry = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::uge,
                                                j, mask.windowKeys);
          Value e = arith::IndexCastOp::create(
              nb, l, nb.getI64Type(),
              arith::SubIOp::create(nb, l, j, mask.windowKeys));
          Value one = arith::ConstantIntOp::create(nb, l, nb.getI64Type(), 1);
          Value r = arith::ConstantIntOp::create(nb, l, nb.getI64Type(),
                                                 mask.ratio);
          Value complete = arith::DivSIOp::create(
              nb, l, arith::AddIOp::create(nb, l, pos, one), r);
          Value entryVisible = arith::CmpIOp::create(
              nb, l, arith::CmpIPredicate::slt, e, complete);
          if (mask.selected)
            entryVisible = arith::AndIOp::create(
                nb, l, entryVisible, isPicked(nb, l, mask.selected, bi, ti, e));
          visible = arith::SelectOp::create(nb, l, isEntry, entryVisible, visible);
        } else if (mask.selected) {
          // The key must be one of the indexer's picks for this query.
          visible = arith::AndIOp::create(
              nb, l, visible, isPicked(nb, l, mask.selected, bi, ti, key));
        }
        return arith::SelectOp::create(nb, l, visible, s,
                                       f32Constant(nb, l, -INFINITY));
      });

  Value rowMax = reduceLast(b, loc, masked, /*max=*/true);
  AffineMap id3 = b.getMultiDimIdentityMap(3);
  AffineMap sinkMap = AffineMap::get(3, 0, {d(1)}, ctx);
  if (sinks)
    rowMax = buildGeneric(b, loc, {rowMax, sinks}, {id3, sinkMap, id3},
                          emptyTensor(b, loc, rows), iterators(3),
                          [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                            return arith::MaximumFOp::create(
                                nb, l, args[0], toF32(nb, l, args[1]));
                          });
  AffineMap rowMap = AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx);
  Value exps = buildGeneric(
      b, loc, {masked, rowMax}, {id4, rowMap, id4}, emptyTensor(b, loc, sizes),
      iterators(4), [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return math::ExpOp::create(nb, l,
                                   arith::SubFOp::create(nb, l, args[0], args[1]));
      });
  Value rowSum = reduceLast(b, loc, exps);
  if (sinks)
    rowSum = buildGeneric(
        b, loc, {rowSum, rowMax, sinks}, {id3, id3, sinkMap, id3},
        emptyTensor(b, loc, rows), iterators(3),
        [](OpBuilder &nb, Location l, ValueRange args) -> Value {
          Value e = math::ExpOp::create(
              nb, l,
              arith::SubFOp::create(nb, l, toF32(nb, l, args[2]), args[1]));
          return arith::AddFOp::create(nb, l, args[0], e);
        });
  return {exps, rowSum};
}

/// out[b, t, h, e] = sum_s exps[b, h, t, s] / sum[b, h, t] * v[b, s, h / g, e]
/// (with `bf16Products`, the weights exps and the values through bf16).
Value weightedValues(OpBuilder &b, Location loc, Value exps, Value rowSum,
                     Value v, bool bf16Products) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto vType = cast<RankedTensorType>(v.getType());
  const int64_t heads = cast<RankedTensorType>(exps.getType()).getDimSize(1);
  const int64_t group = heads / vType.getDimSize(2);
  Value out = filledTensor(
      b, loc,
      {tensor::getMixedSize(b, loc, exps, 0), tensor::getMixedSize(b, loc, exps, 2),
       b.getIndexAttr(heads), b.getIndexAttr(vType.getDimSize(3))},
      0.0);
  return buildGeneric(
      b, loc, {exps, rowSum, v},
      {AffineMap::get(5, 0, {d(0), d(2), d(1), d(4)}, ctx),
       AffineMap::get(5, 0, {d(0), d(2), d(1)}, ctx),
       AffineMap::get(5, 0, {d(0), d(4), d(2).floorDiv(group), d(3)}, ctx),
       AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
      out, iterators(4, 1),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value weight = args[0], value = toF32(nb, l, args[2]);
        if (bf16Products) {
          weight = throughBF16(nb, l, weight);
          value = throughBF16(nb, l, value);
        }
        Value p = arith::DivFOp::create(nb, l, weight, args[1]);
        return arith::AddFOp::create(nb, l, args[3],
                                     arith::MulFOp::create(nb, l, p, value));
      });
}

/// softmax(mask(q k^T * scale)) v over [B, T, H, D] queries and
/// [B, S, Hkv, D] keys and values.
/// With `bf16Products`, lm.attention's bf16 contract: q and k enter the
/// scores through bf16, the unnormalised weights and v the weighted sum.
Value buildAttention(OpBuilder &b, Location loc, Value q, Value k, Value v,
                     Value positions, Value sinks, double scale,
                     std::optional<double> softcap, const MaskSpec &mask,
                     bool bf16Products = false) {
  if (bf16Products) {
    q = tensorThroughBF16(b, loc, q);
    k = tensorThroughBF16(b, loc, k);
  }
  Value scores = contractScores(b, loc, q, k);
  auto [exps, rowSum] =
      softmaxRows(b, loc, scores, positions, sinks, scale, softcap, mask);
  return weightedValues(b, loc, exps, rowSum, v, bf16Products);
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
    rewriter.replaceOp(op, buildAttention(rewriter, op.getLoc(), op.getQuery(),
                                          op.getKey(), op.getValue(),
                                          op.getPositions(), op.getSinks(),
                                          op.getScale().convertToDouble(),
                                          softcap, mask, op.getBf16Products()));
    return success();
  }
};

/// out[b, t, h, o] = sum_k in[b, t, h, k] kv_b[weight(h, o, k)] over loops
/// (b, t, h, o, k): MLA's per-head products with slices of kv_b.
Value perHeadProduct(OpBuilder &b, Location loc, MLAAttentionOp op, Value input,
                     AffineExpr weightRow, AffineExpr weightColumn,
                     int64_t width) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  MLADims n(op);
  OpFoldResult batch = tensor::getMixedSize(b, loc, input, 0);
  OpFoldResult tokens = tensor::getMixedSize(b, loc, input, 1);
  return buildGeneric(b, loc, {input, op.getKvB()},
                      {AffineMap::get(5, 0, {d(0), d(1), d(2), d(4)}, ctx),
                       AffineMap::get(5, 0, {weightRow, weightColumn}, ctx),
                       AffineMap::get(5, 0, {d(0), d(1), d(2), d(3)}, ctx)},
                      filledTensor(b, loc,
                                   {batch, tokens, b.getIndexAttr(n.heads),
                                    b.getIndexAttr(width)},
                                   0.0),
                      iterators(4, 1), multiplyAccumulate);
}

/// MLA's weight absorption: the non-rotary queries moved into latent space,
/// q_nope W_uk ([B, T, H, R], f32).
Value absorbMLAQuery(OpBuilder &b, Location loc, MLAAttentionOp op) {
  auto d = [&](unsigned i) { return getAffineDimExpr(i, b.getContext()); };
  MLADims n(op);
  // qLatent[b, t, h, r] = sum_j q_nope[b, t, h, j] kv_b[h * rows + j, r]
  return perHeadProduct(b, loc, op, op.getQueryNope(), d(2) * n.rows + d(4),
                        d(3), n.latentDim);
}

/// MLA's latent attention output ([B, T, H, R]) projected by W_uv: the
/// op's result ([B, T, H, Dv], f32).
Value projectMLALatentOutput(OpBuilder &b, Location loc, MLAAttentionOp op,
                             Value latentOutput) {
  auto d = [&](unsigned i) { return getAffineDimExpr(i, b.getContext()); };
  MLADims n(op);
  // out[b, t, h, e] = sum_r outLatent[b, t, h, r] kv_b[h * rows + nope + e, r]
  return perHeadProduct(b, loc, op, latentOutput, d(2) * n.rows + n.nope + d(3),
                        d(4), n.valueDim);
}

/// MLA. Prefill runs expanded: per-head keys [k_nope || k_rope] and values
/// are projected from the cached latents with kv_b. Decode (one new token)
/// runs weight-absorbed: the query moves into latent space
/// (q_nope W_uk), attends over the latents directly, and the latent output
/// is projected by W_uv, so cached latents are never expanded.
struct LowerMLAAttention final : OpRewritePattern<MLAAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MLAAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value tokens = tensor::DimOp::create(rewriter, loc, op.getQueryNope(), 1);
    Value single = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                         tokens, indexConstant(rewriter, loc, 1));
    auto ifOp = scf::IfOp::create(
        rewriter, loc, single,
        [&](OpBuilder &b, Location l) {
          scf::YieldOp::create(b, l, absorbed(b, l, op));
        },
        [&](OpBuilder &b, Location l) {
          scf::YieldOp::create(b, l, expanded(b, l, op));
        });
    rewriter.replaceOp(op, ifOp.getResults());
    return success();
  }

private:
  static Value asSingleHead(OpBuilder &b, Location loc, Value x) {
    return MLAKeyView::asSingleHead(b, loc, x);
  }

  static Value expanded(OpBuilder &b, Location loc, MLAAttentionOp op) {
    MLAPromptOperands operands = buildMLAPromptOperands(b, loc, op);
    MaskSpec mask;
    mask.selected = op.getSelected();
    return buildAttention(b, loc, operands.query, operands.key, operands.value,
                          op.getPositions(), Value(),
                          op.getScale().convertToDouble(), std::nullopt, mask,
                          op.getBf16Products());
  }

  static Value absorbed(OpBuilder &b, Location loc, MLAAttentionOp op) {
    Value qLatent = absorbMLAQuery(b, loc, op);
    Value latent = asSingleHead(b, loc, op.getLatent());
    Value scores = contractScores(b, loc, qLatent, latent);
    scores = contractScores(b, loc, op.getQueryRope(),
                            asSingleHead(b, loc, op.getKeyRope()), scores);
    MaskSpec mask;
    mask.selected = op.getSelected();
    auto [exps, rowSum] =
        softmaxRows(b, loc, scores, op.getPositions(), Value(),
                    op.getScale().convertToDouble(), std::nullopt, mask);
    Value outLatent = weightedValues(b, loc, exps, rowSum, latent,
                                     /*bf16Products=*/false);
    return projectMLALatentOutput(b, loc, op, outLatent);
  }
};
} // namespace

MLAPromptOperands lm::buildMLAPromptOperands(OpBuilder &b, Location loc,
                                             MLAAttentionOp op) {
  MLIRContext *ctx = b.getContext();
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  MLADims n(op);
  Type f32 = b.getF32Type();
  Value latent = op.getLatent();
  auto latentType = cast<RankedTensorType>(latent.getType());
  if (op.getBf16Products() && !latentType.getElementType().isBF16())
    latent = arith::TruncFOp::create(b, loc, latentType.clone(b.getBF16Type()),
                                     latent);
  int64_t batch = latentType.getDimSize(0), keys = latentType.getDimSize(1);
  // kv[b, s, h * rows + j] = sum_r latent[b, s, r] kv_b[h * rows + j, r]
  Value projected = LinearOp::create(
      b, loc, RankedTensorType::get({batch, keys, n.heads * n.rows}, f32),
      latent, op.getKvB(), Value());
  Value perHead = SplitHeadsOp::create(
      b, loc, RankedTensorType::get({batch, keys, n.heads, n.rows}, f32),
      projected);
  auto slice = [&](int64_t offset, int64_t size) -> Value {
    return SliceOp::create(
        b, loc, RankedTensorType::get({batch, keys, n.heads, size}, f32),
        perHead, offset, size);
  };
  Value kNope = slice(0, n.nope);
  Value values = slice(n.nope, n.valueDim);
  Value kRope = buildGeneric(
      b, loc, op.getKeyRope(),
      {AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
       b.getMultiDimIdentityMap(4)},
      emptyTensor(b, loc,
                  {tensor::getMixedSize(b, loc, latent, 0),
                   tensor::getMixedSize(b, loc, latent, 1),
                   b.getIndexAttr(n.heads), b.getIndexAttr(n.ropeDim)}),
      iterators(4), [](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return toF32(nb, l, args[0]);
      });
  Value key = tensor::ConcatOp::create(b, loc, 3, ValueRange{kNope, kRope});
  Value query = tensor::ConcatOp::create(
      b, loc, 3, ValueRange{op.getQueryNope(), op.getQueryRope()});
  return {query, key, values};
}

namespace {
/// lm.lightning_indexer: index scores as contractions and a weighted ReLU sum
/// over the index heads, then a top-k per query over the visible keys
/// (-1 where fewer are visible).
struct LowerLightningIndexer final : OpRewritePattern<LightningIndexerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LightningIndexerOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    MLIRContext *ctx = b.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    const double scale = op.getScale().convertToDouble();
    const int64_t topK = op.getTopK(), ratio = op.getRatio();
    // dots[b, h, t, s] = q[b, t, h, :] . k[b, s, :]
    Value keys = MLAKeyView::asSingleHead(b, loc, op.getKey());
    Value dots = contractScores(b, loc, op.getQuery(), keys);
    // score[b, t, s] = scale * sum_h w[b, t, h] relu(dots[b, h, t, s])
    SmallVector<OpFoldResult> sizes = {tensor::getMixedSize(b, loc, dots, 0),
                                       tensor::getMixedSize(b, loc, dots, 2),
                                       tensor::getMixedSize(b, loc, dots, 3)};
    Value scores = buildGeneric(
        b, loc, {dots, op.getHeadWeights()},
        {AffineMap::get(4, 0, {d(0), d(3), d(1), d(2)}, ctx),
         AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
         AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx)},
        filledTensor(b, loc, sizes, 0.0), iterators(3, 1),
        [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
          Value relu = arith::MaximumFOp::create(nb, l, args[0],
                                                 f32Constant(nb, l, 0.0));
          Value w = arith::MulFOp::create(nb, l, toF32(nb, l, args[1]),
                                          f32Constant(nb, l, scale));
          return arith::AddFOp::create(nb, l, args[2],
                                       arith::MulFOp::create(nb, l, w, relu));
        });

    // Top-k per query over the visible keys.
    Value score = bufferization::ToBufferOp::create(
        b, loc,
        MemRefType::get(cast<RankedTensorType>(scores.getType()).getShape(),
                        b.getF32Type()),
        scores, /*read_only=*/true);
    Value positions = toBuffer(b, loc, op.getPositions());
    Value c0 = indexConstant(b, loc, 0);
    Value batch = memref::DimOp::create(b, loc, score, 0);
    Value tokens = memref::DimOp::create(b, loc, score, 1);
    Value keysCount = memref::DimOp::create(b, loc, score, 2);
    auto dyn = ShapedType::kDynamic;
    Value picks = memref::AllocOp::create(
        b, loc, MemRefType::get({dyn, dyn, topK}, b.getI64Type()),
        ValueRange{batch, tokens});
    Value rows = scratchPerPoint(b, loc, {batch, tokens}, {keysCount});
    Value negInf = f32Constant(b, loc, -INFINITY);
    forEachToken(
        b, loc, batch, tokens,
        [&](OpBuilder &b, Location l, Value bi, Value ti) {
          Value row = pointView(b, l, rows, {bi, ti});
          Value pos = load(b, l, positions, ValueRange{bi, ti});
          forEach(b, l, c0, keysCount, [&](OpBuilder &b, Location l, Value s) {
            Value key = arith::IndexCastOp::create(b, l, b.getI64Type(), s);
            Value visible;
            if (ratio == 1) {
              visible = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle,
                                              key, pos);
            } else {
              Value r =
                  arith::ConstantIntOp::create(b, l, b.getI64Type(), ratio);
              Value one = arith::ConstantIntOp::create(b, l, b.getI64Type(), 1);
              Value complete = arith::DivSIOp::create(
                  b, l, arith::AddIOp::create(b, l, pos, one), r);
              visible = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt,
                                              key, complete);
            }
            Value v = load(b, l, score, ValueRange{bi, ti, s});
            memref::StoreOp::create(
                b, l, arith::SelectOp::create(b, l, visible, v, negInf), row,
                s);
          });
          forEach(b, l, c0, indexConstant(b, l, topK),
                  [&](OpBuilder &b, Location l, Value kk) {
                    Value best = argmax(b, l, row, keysCount);
                    Value value = load(b, l, row, best);
                    Value found = arith::CmpFOp::create(
                        b, l, arith::CmpFPredicate::OGT, value, negInf);
                    Value index = arith::SelectOp::create(
                        b, l, found,
                        arith::IndexCastOp::create(b, l, b.getI64Type(), best),
                        arith::ConstantIntOp::create(b, l, b.getI64Type(), -1));
                    memref::StoreOp::create(b, l, index, picks,
                                            ValueRange{bi, ti, kk});
                    memref::StoreOp::create(b, l, negInf, row, best);
                  });
        });
    rewriter.replaceOp(op, bufferization::ToTensorOp::create(
                               b, loc, op.getType(), picks, /*restrict=*/true,
                               /*writable=*/true));
    return success();
  }
};
/// lm.compressed_attention: the window tokens and the compressed entries
/// form one key sequence of a single head whose keys are also its values.
struct LowerCompressedAttention final : OpRewritePattern<CompressedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CompressedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value keys = op.getKv();
    MaskSpec mask;
    mask.window = static_cast<int64_t>(op.getSlidingWindow());
    if (Value entries = op.getEntries()) {
      mask.windowKeys = tensor::DimOp::create(rewriter, loc, keys, 1);
      mask.ratio = op.getRatio();
      mask.selected = op.getSelected();
      keys = tensor::ConcatOp::create(rewriter, loc, 1,
                                      ValueRange{keys, entries});
    }
    Value heads = MLAKeyView::asSingleHead(rewriter, loc, keys);
    Value scores = contractScores(rewriter, loc, op.getQuery(), heads);
    auto [exps, rowSum] = softmaxRows(rewriter, loc, scores, op.getPositions(),
                                      op.getSinks(),
                                      op.getScale().convertToDouble(),
                                      std::nullopt, mask);
    rewriter.replaceOp(op, weightedValues(rewriter, loc, exps, rowSum, heads,
                                          /*bf16Products=*/false));
    return success();
  }
};
} // namespace

void lowering::populateAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerAttention, LowerCompressedAttention, LowerLightningIndexer,
               LowerMLAAttention>(patterns.getContext());
}
