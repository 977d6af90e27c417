//===- Pointwise.cpp - Pointwise, shape and lookup ops --------------------===//

#include "Common.h"

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// lm.activation -> elementwise generic.
struct LowerActivation final : OpRewritePattern<ActivationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActivationOp op,
                                PatternRewriter &rewriter) const override {
    ActivationKind kind = op.getKind();
    rewriter.replaceOp(op, buildPointwise(rewriter, op.getLoc(), op.getInput(),
                                          op.getInput(),
                                          [&](OpBuilder &b, Location l,
                                              ValueRange args) -> Value {
                                            return applyActivation(
                                                b, l, kind, toF32(b, l, args[0]));
                                          }));
    return success();
  }
};

/// lm.glu -> elementwise generic over gate and up.
struct LowerGlu final : OpRewritePattern<GluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GluOp op,
                                PatternRewriter &rewriter) const override {
    GluKind kind = op.getKind();
    double alpha = op.getAlpha() ? op.getAlpha()->convertToDouble() : 0.0;
    double limit = op.getLimit() ? op.getLimit()->convertToDouble() : 0.0;
    rewriter.replaceOp(
        op, buildPointwise(rewriter, op.getLoc(), {op.getGate(), op.getUp()},
                           op.getGate(),
                           [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                             return applyGlu(b, l, kind, args[0], args[1],
                                             alpha, limit);
                           }));
    return success();
  }
};

/// lm.gate -> x * act(gate), the gate broadcast when its last dim is 1.
struct LowerGate final : OpRewritePattern<GateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t rank = type.getRank();
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap gateMap = identity;
    if (cast<RankedTensorType>(op.getGate().getType()).getDimSize(rank - 1) ==
            1 &&
        type.getDimSize(rank - 1) != 1) {
      SmallVector<AffineExpr> exprs;
      for (int64_t i = 0; i + 1 < rank; ++i)
        exprs.push_back(rewriter.getAffineDimExpr(i));
      exprs.push_back(rewriter.getAffineConstantExpr(0));
      gateMap = AffineMap::get(rank, 0, exprs, rewriter.getContext());
    }
    ActivationKind kind = op.getKind();
    Value init = emptyTensor(rewriter, loc, sizesOf(rewriter, loc, op.getInput()));
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, {op.getInput(), op.getGate()},
                         {identity, gateMap, identity}, init, iterators(rank),
                         [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                           return arith::MulFOp::create(
                               b, l, args[0],
                               applyActivation(b, l, kind, args[1]));
                         }));
    return success();
  }
};

/// lm.softcap -> cap * tanh(x / cap).
struct LowerSoftcap final : OpRewritePattern<SoftcapOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftcapOp op,
                                PatternRewriter &rewriter) const override {
    double cap = op.getCap().convertToDouble();
    rewriter.replaceOp(
        op, buildPointwise(rewriter, op.getLoc(), op.getInput(), op.getInput(),
                           [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                             Value c = f32Constant(b, l, cap);
                             Value t = math::TanhOp::create(
                                 b, l, arith::DivFOp::create(b, l, args[0], c));
                             return arith::MulFOp::create(b, l, c, t);
                           }));
    return success();
  }
};

/// lm.embed -> a generic over [B, T, D] gathering rows of the table.
struct LowerEmbed final : OpRewritePattern<EmbedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbedOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value table = op.getTable();
    double scale = op.getScale() ? op.getScale()->convertToDouble() : 1.0;
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getIds());
    sizes.push_back(rewriter.getIndexAttr(
        cast<RankedTensorType>(table.getType()).getDimSize(1)));
    Value init = emptyTensor(rewriter, loc, sizes);
    MLIRContext *ctx = rewriter.getContext();
    AffineMap idsMap = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    rewriter.replaceOp(
        op, buildGeneric(rewriter, loc, op.getIds(),
                         {idsMap, rewriter.getMultiDimIdentityMap(3)}, init,
                         iterators(3),
                         [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                           Value row = arith::IndexCastOp::create(
                               b, l, b.getIndexType(), args[0]);
                           Value col = linalg::IndexOp::create(b, l, 2);
                           Value v = toF32(b, l,
                                           tensor::ExtractOp::create(
                                               b, l, table, ValueRange{row, col}));
                           if (scale == 1.0)
                             return v;
                           return arith::MulFOp::create(
                               b, l, v, f32Constant(b, l, scale));
                         }));
    return success();
  }
};

/// lm.select_rows -> a generic over [B, L, D] reading row rows[b, l] of
/// each sequence (clamped into [0, T)).
struct LowerSelectRows final : OpRewritePattern<SelectRowsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SelectRowsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getRows());
    sizes.push_back(sizesOf(rewriter, loc, input)[2]);
    auto type = cast<RankedTensorType>(op.getType());
    Value init =
        tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    Value lastRow = arith::SubIOp::create(
        rewriter, loc, tensor::DimOp::create(rewriter, loc, input, 1),
        arith::ConstantIndexOp::create(rewriter, loc, 1));
    MLIRContext *ctx = rewriter.getContext();
    AffineMap rowsMap = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
    rewriter.replaceOp(
        op,
        buildGeneric(
            rewriter, loc, op.getRows(),
            {rowsMap, rewriter.getMultiDimIdentityMap(3)}, init, iterators(3),
            [&](OpBuilder &b, Location l, ValueRange args) -> Value {
              Value zero =
                  arith::ConstantIntOp::create(b, l, args[0].getType(), 0);
              Value row = arith::IndexCastOp::create(
                  b, l, b.getIndexType(),
                  arith::MaxSIOp::create(b, l, args[0], zero));
              row = arith::MinUIOp::create(b, l, row, lastRow);
              Value seq = linalg::IndexOp::create(b, l, 0);
              Value col = linalg::IndexOp::create(b, l, 2);
              return tensor::ExtractOp::create(b, l, input,
                                               ValueRange{seq, row, col});
            }));
    return success();
  }
};

/// lm.transpose -> linalg.transpose.
struct LowerTranspose final : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<OpFoldResult> in = sizesOf(rewriter, op.getLoc(), op.getInput());
    SmallVector<OpFoldResult> sizes;
    for (int64_t p : op.getPermutation())
      sizes.push_back(in[p]);
    Value init = tensor::EmptyOp::create(rewriter, op.getLoc(), sizes,
                                         type.getElementType());
    rewriter.replaceOp(op, linalg::TransposeOp::create(
                               rewriter, op.getLoc(), op.getInput(), init,
                               op.getPermutation())
                               .getResult());
    return success();
  }
};

/// lm.split_heads -> tensor.expand_shape of the last dimension.
struct LowerSplitHeads final : OpRewritePattern<SplitHeadsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitHeadsOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<OpFoldResult> shape = sizesOf(rewriter, loc, op.getInput());
    shape.pop_back();
    shape.push_back(rewriter.getIndexAttr(type.getDimSize(2)));
    shape.push_back(rewriter.getIndexAttr(type.getDimSize(3)));
    SmallVector<ReassociationIndices> groups = {{0}, {1}, {2, 3}};
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, type, op.getInput(),
                                                       groups, shape);
    return success();
  }
};

/// lm.merge_heads -> tensor.collapse_shape of the last two dimensions.
struct LowerMergeHeads final : OpRewritePattern<MergeHeadsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MergeHeadsOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<ReassociationIndices> groups = {{0}, {1}, {2, 3}};
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, op.getInput(),
                                                         groups);
    return success();
  }
};

/// lm.slice -> tensor.extract_slice of the last dimension.
struct LowerSlice final : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = cast<RankedTensorType>(op.getType()).getRank();
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    SmallVector<OpFoldResult> sizes = sizesOf(rewriter, loc, op.getInput());
    offsets.back() = rewriter.getIndexAttr(op.getOffset());
    sizes.back() = rewriter.getIndexAttr(op.getSize());
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, cast<RankedTensorType>(op.getType()), op.getInput(), offsets, sizes,
        strides);
    return success();
  }
};

/// lm.concat -> tensor.concat along the last dimension.
struct LowerConcat final : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    int64_t rank = cast<RankedTensorType>(op.getType()).getRank();
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, op.getType(), rank - 1,
                                                  op.getInputs());
    return success();
  }
};
} // namespace

void lowering::populatePointwisePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerActivation, LowerConcat, LowerEmbed, LowerGate, LowerGlu,
               LowerSelectRows, LowerMergeHeads, LowerSlice, LowerSoftcap,
               LowerSplitHeads, LowerTranspose>(patterns.getContext());
}
