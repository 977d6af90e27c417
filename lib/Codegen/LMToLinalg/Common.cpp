//===- Common.cpp - Helpers of the lm -> linalg lowering ------------------===//

#include "Common.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

SmallVector<OpFoldResult> lowering::sizesOf(OpBuilder &b, Location loc,
                                            Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value lowering::emptyTensor(OpBuilder &b, Location loc,
                            ArrayRef<OpFoldResult> sizes, Type element) {
  return tensor::EmptyOp::create(b, loc, sizes,
                                 element ? element : b.getF32Type());
}

Value lowering::filledTensor(OpBuilder &b, Location loc,
                             ArrayRef<OpFoldResult> sizes, double value) {
  Value init = emptyTensor(b, loc, sizes);
  return linalg::FillOp::create(b, loc, f32Constant(b, loc, value), init)
      .getResult(0);
}

Value lowering::multiplyAccumulate(OpBuilder &b, Location loc,
                                   ValueRange args) {
  Value product = arith::MulFOp::create(b, loc, toF32(b, loc, args[0]),
                                        toF32(b, loc, args[1]));
  return arith::AddFOp::create(b, loc, args[2], product);
}

Value lowering::inverseRootMean(OpBuilder &b, Location loc, Value sum,
                                int64_t count, double eps) {
  Value mean =
      arith::DivFOp::create(b, loc, sum, f32Constant(b, loc, double(count)));
  return math::RsqrtOp::create(
      b, loc, arith::AddFOp::create(b, loc, mean, f32Constant(b, loc, eps)));
}

Value lowering::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value lowering::toF32(OpBuilder &b, Location loc, Value scalar) {
  Type t = scalar.getType();
  if (t.isF32())
    return scalar;
  if (t.getIntOrFloatBitWidth() < 32)
    return arith::ExtFOp::create(b, loc, b.getF32Type(), scalar);
  return arith::TruncFOp::create(b, loc, b.getF32Type(), scalar);
}

SmallVector<utils::IteratorType> lowering::iterators(int64_t parallel,
                                                     int64_t reduction) {
  SmallVector<utils::IteratorType> result(parallel,
                                          utils::IteratorType::parallel);
  result.append(reduction, utils::IteratorType::reduction);
  return result;
}

Value lowering::buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                             ArrayRef<AffineMap> maps, Value init,
                             ArrayRef<utils::IteratorType> iterators,
                             BodyFn body) {
  auto op = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
  return op.getResult(0);
}

Value lowering::buildPointwise(OpBuilder &b, Location loc, ValueRange inputs,
                               Value like, BodyFn body) {
  auto type = cast<RankedTensorType>(like.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : inputs) {
    int64_t inRank = cast<RankedTensorType>(in.getType()).getRank();
    if (inRank == rank)
      maps.push_back(b.getMultiDimIdentityMap(rank));
    else
      maps.push_back(AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx)));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, sizesOf(b, loc, like));
  return buildGeneric(b, loc, inputs, maps, init, iterators(rank), body);
}

Value lowering::reduceLast(OpBuilder &b, Location loc, Value x, bool max) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = sizesOf(b, loc, x);
  sizes.pop_back();
  Value init = filledTensor(b, loc, sizes, max ? -INFINITY : 0.0);
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i + 1 < rank; ++i)
    outExprs.push_back(b.getAffineDimExpr(i));
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, outExprs, b.getContext())};
  return buildGeneric(
      b, loc, x, maps, init, iterators(rank - 1, 1),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value v = toF32(nb, l, args[0]);
        if (max)
          return arith::MaximumFOp::create(nb, l, v, args[1]);
        return arith::AddFOp::create(nb, l, v, args[1]);
      });
}

/// Loop helpers over [lb, ub).
void lowering::forEach(OpBuilder &b, Location loc, Value lb, Value ub,
             function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, lb, ub, indexConstant(b, loc, 1), ValueRange{},
                     [&](OpBuilder &nb, Location l, Value iv, ValueRange) {
                       body(nb, l, iv);
                       scf::YieldOp::create(nb, l);
                     });
}

void lowering::forEachParallel(
    OpBuilder &b, Location loc, ValueRange ubs,
    function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Value> lbs(ubs.size(), indexConstant(b, loc, 0));
  SmallVector<Value> steps(ubs.size(), indexConstant(b, loc, 1));
  scf::ParallelOp::create(b, loc, lbs, ubs, steps, body);
}

void lowering::forEachToken(
    OpBuilder &b, Location loc, Value batch, Value tokens,
    function_ref<void(OpBuilder &, Location, Value, Value)> body) {
  forEachParallel(b, loc, {batch, tokens},
                  [&](OpBuilder &b, Location l, ValueRange ivs) {
                    body(b, l, ivs[0], ivs[1]);
                  });
}

Value lowering::scratchPerPoint(OpBuilder &b, Location loc, ValueRange extents,
                                ArrayRef<OpFoldResult> shape) {
  SmallVector<int64_t> dims;
  SmallVector<Value> dynamic;
  for (Value extent : extents) {
    std::optional<int64_t> known = getConstantIntValue(extent);
    dims.push_back(known.value_or(ShapedType::kDynamic));
    if (!known)
      dynamic.push_back(extent);
  }
  for (OpFoldResult size : shape) {
    std::optional<int64_t> known = getConstantIntValue(size);
    dims.push_back(known.value_or(ShapedType::kDynamic));
    if (!known)
      dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  }
  return memref::AllocOp::create(b, loc, MemRefType::get(dims, b.getF32Type()),
                                 dynamic);
}

Value lowering::pointView(OpBuilder &b, Location loc, Value scratch,
                          ValueRange ivs) {
  auto type = cast<MemRefType>(scratch.getType());
  int64_t rank = type.getRank(), lead = ivs.size();
  SmallVector<OpFoldResult> offsets(ivs.begin(), ivs.end());
  SmallVector<OpFoldResult> sizes(lead, b.getIndexAttr(1));
  offsets.append(rank - lead, b.getIndexAttr(0));
  for (int64_t d = lead; d < rank; ++d)
    sizes.push_back(memref::getMixedSize(b, loc, scratch, d));
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  auto viewType = memref::SubViewOp::inferRankReducedResultType(
      type.getShape().drop_front(lead), type, offsets, sizes, strides);
  return memref::SubViewOp::create(b, loc, cast<MemRefType>(viewType), scratch,
                                   offsets, sizes, strides);
}

Value lowering::reduce(OpBuilder &b, Location loc, Value lb, Value ub, Value init,
             function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
  return scf::ForOp::create(
             b, loc, lb, ub, indexConstant(b, loc, 1), ValueRange{init},
             [&](OpBuilder &nb, Location l, Value iv, ValueRange acc) {
               scf::YieldOp::create(nb, l,
                                    ValueRange{body(nb, l, iv, acc[0])});
             })
      .getResult(0);
}

Value lowering::toBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(t.getShape(), t.getElementType()), tensor,
      /*read_only=*/true);
}

Value lowering::load(OpBuilder &b, Location loc, Value memref, ValueRange indices) {
  return memref::LoadOp::create(b, loc, memref, indices);
}

Value lowering::load(OpBuilder &b, Location loc, Value memref, Value index) {
  return memref::LoadOp::create(b, loc, memref, ValueRange{index});
}

/// Index of the largest `score[e]` for e in [0, n) (the first on ties).
Value lowering::argmax(OpBuilder &b, Location loc, Value scores, Value n) {
  Value c0 = indexConstant(b, loc, 0);
  auto loop = scf::ForOp::create(
      b, loc, c0, n, indexConstant(b, loc, 1),
      ValueRange{c0, f32Constant(b, loc, -INFINITY)},
      [&](OpBuilder &nb, Location l, Value e, ValueRange acc) {
        Value v = load(nb, l, scores, e);
        Value better =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, v, acc[1]);
        scf::YieldOp::create(
            nb, l,
            ValueRange{arith::SelectOp::create(nb, l, better, e, acc[0]),
                       arith::SelectOp::create(nb, l, better, v, acc[1])});
      });
  return loop.getResult(0);
}


RouterScores::RouterScores(OpBuilder &b, Location loc, ScoringKind scoring,
                           Value logits, Value bi, Value ti, int64_t experts)
    : scoring(scoring), logits(logits), bi(bi), ti(ti) {
  if (scoring != ScoringKind::softmax)
    return;
  Value c0 = indexConstant(b, loc, 0), n = indexConstant(b, loc, experts);
  max = reduce(b, loc, c0, n, f32Constant(b, loc, -INFINITY),
               [&](OpBuilder &b, Location l, Value e, Value acc) {
                 return arith::MaximumFOp::create(b, l, acc, logit(b, l, e));
               });
  sum = reduce(b, loc, c0, n, f32Constant(b, loc, 0.0),
               [&](OpBuilder &b, Location l, Value e, Value acc) {
                 Value x = math::ExpOp::create(
                     b, l, arith::SubFOp::create(b, l, logit(b, l, e), max));
                 return arith::AddFOp::create(b, l, acc, x);
               });
}

Value RouterScores::logit(OpBuilder &b, Location loc, Value expert) const {
  return load(b, loc, logits, ValueRange{bi, ti, expert});
}

Value RouterScores::score(OpBuilder &b, Location loc, Value expert) const {
  Value x = logit(b, loc, expert);
  switch (scoring) {
  case ScoringKind::softmax:
    return arith::DivFOp::create(
        b, loc, math::ExpOp::create(b, loc, arith::SubFOp::create(b, loc, x, max)),
        sum);
  case ScoringKind::sigmoid:
    return sigmoid(b, loc, x);
  case ScoringKind::sqrtsoftplus:
    return math::SqrtOp::create(b, loc, softplus(b, loc, x));
  }
  llvm_unreachable("unknown scoring");
}

std::pair<Value, Value> lowering::allocRouting(OpBuilder &b, Location loc,
                                               Value batch, Value tokens,
                                               int64_t topK) {
  auto dyn = ShapedType::kDynamic;
  Value weights = memref::AllocOp::create(
      b, loc, MemRefType::get({dyn, dyn, topK}, b.getF32Type()),
      ValueRange{batch, tokens});
  Value indices = memref::AllocOp::create(
      b, loc, MemRefType::get({dyn, dyn, topK}, b.getI64Type()),
      ValueRange{batch, tokens});
  return {weights, indices};
}

void lowering::scaleRouting(OpBuilder &b, Location loc, Value weights, Value bi,
                            Value ti, int64_t topK, Value total,
                            double scaling) {
  forEach(b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, topK),
          [&](OpBuilder &b, Location l, Value k) {
            Value w = load(b, l, weights, ValueRange{bi, ti, k});
            w = arith::MulFOp::create(b, l, arith::DivFOp::create(b, l, w, total),
                                      f32Constant(b, l, scaling));
            memref::StoreOp::create(b, l, w, weights, ValueRange{bi, ti, k});
          });
}
