//===- Compressed.cpp - DeepSeek-V4 compressed entries --------------------===//
//
// The entries of a compressed cache, pooled from every projected row so far
// (the host keeps the rows of all tokens; entries are recomputed from them,
// so pending rows of an incomplete window need no extra state).
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

std::pair<Value, Value>
lowering::buildCompressedEntries(OpBuilder &b, Location loc, Value kvRows,
                                 Value gateRows, Value ape, int64_t ratio,
                                 bool overlap, int64_t dim) {
  Value batch = tensor::DimOp::create(b, loc, kvRows, 0);
  Value rows = tensor::DimOp::create(b, loc, kvRows, 1);
  Value count = arith::DivUIOp::create(b, loc, rows, indexConstant(b, loc, ratio));
  SmallVector<OpFoldResult> sizes = {batch, count, b.getIndexAttr(dim)};
  // entry[b, w, c]: softmax over the window's slots of gate + ape, weighting kv.
  auto body = [&](OpBuilder &nb, Location l, ValueRange) -> Value {
    Value bi = linalg::IndexOp::create(nb, l, 0);
    Value w = linalg::IndexOp::create(nb, l, 1);
    Value ch = linalg::IndexOp::create(nb, l, 2);
    Value m = indexConstant(nb, l, ratio);
    Value c0 = indexConstant(nb, l, 0);
    // Slot s < ratio: series B of window w (or the only series); with
    // overlap, slots ratio .. 2 ratio - 1 are series A of window w - 1.
    auto slot = [&](OpBuilder &sb, Location sl, Value i, bool previous)
        -> std::pair<Value, Value> {
      Value base = arith::MulIOp::create(sb, sl, w, m);
      Value column = ch;
      if (overlap && !previous)
        column = arith::AddIOp::create(sb, sl, ch, indexConstant(sb, sl, dim));
      if (previous) {
        // Window -1 does not exist: its slots weigh nothing.
        Value first = arith::CmpIOp::create(sb, sl, arith::CmpIPredicate::eq, w,
                                            c0);
        Value prevBase = arith::SelectOp::create(
            sb, sl, first, c0, arith::SubIOp::create(sb, sl, base, m));
        Value r = arith::AddIOp::create(sb, sl, prevBase, i);
        Value logit = arith::AddFOp::create(
            sb, sl,
            tensor::ExtractOp::create(sb, sl, gateRows, ValueRange{bi, r, column}),
            toF32(sb, sl, tensor::ExtractOp::create(sb, sl, ape, ValueRange{i, column})));
        Value value =
            tensor::ExtractOp::create(sb, sl, kvRows, ValueRange{bi, r, column});
        return {arith::SelectOp::create(sb, sl, first,
                                        f32Constant(sb, sl, -INFINITY), logit),
                arith::SelectOp::create(sb, sl, first, f32Constant(sb, sl, 0.0),
                                        value)};
      }
      Value r = arith::AddIOp::create(sb, sl, base, i);
      Value logit = arith::AddFOp::create(
          sb, sl,
          tensor::ExtractOp::create(sb, sl, gateRows, ValueRange{bi, r, column}),
          toF32(sb, sl, tensor::ExtractOp::create(sb, sl, ape, ValueRange{i, column})));
      return {logit,
              tensor::ExtractOp::create(sb, sl, kvRows, ValueRange{bi, r, column})};
    };
    SmallVector<bool> series = {false};
    if (overlap)
      series.push_back(true);
    Value max = f32Constant(nb, l, -INFINITY);
    for (bool previous : series)
      max = reduce(nb, l, c0, m, max, [&](OpBuilder &sb, Location sl, Value i,
                                          Value acc) {
        return arith::MaximumFOp::create(sb, sl, acc,
                                         slot(sb, sl, i, previous).first);
      });
    Value sum = f32Constant(nb, l, 0.0), weighted = f32Constant(nb, l, 0.0);
    for (bool previous : series) {
      auto loop = scf::ForOp::create(
          nb, l, c0, m, indexConstant(nb, l, 1), ValueRange{sum, weighted},
          [&](OpBuilder &sb, Location sl, Value i, ValueRange acc) {
            auto [logit, value] = slot(sb, sl, i, previous);
            Value e = math::ExpOp::create(sb, sl,
                                          arith::SubFOp::create(sb, sl, logit, max));
            scf::YieldOp::create(
                sb, sl,
                ValueRange{arith::AddFOp::create(sb, sl, acc[0], e),
                           arith::AddFOp::create(
                               sb, sl, acc[1],
                               arith::MulFOp::create(sb, sl, e, value))});
          });
      sum = loop.getResult(0);
      weighted = loop.getResult(1);
    }
    return arith::DivFOp::create(nb, l, weighted, sum);
  };
  Value entries = buildGeneric(b, loc, ValueRange{}, {b.getMultiDimIdentityMap(3)},
                               emptyTensor(b, loc, sizes), iterators(3), body);
  // Each entry sits at its window's first token.
  Value positions = buildGeneric(
      b, loc, ValueRange{}, {b.getMultiDimIdentityMap(2)},
      emptyTensor(b, loc, {batch, count}, b.getI64Type()), iterators(2),
      [&](OpBuilder &nb, Location l, ValueRange) -> Value {
        Value w = linalg::IndexOp::create(nb, l, 1);
        return arith::IndexCastOp::create(
            nb, l, nb.getI64Type(),
            arith::MulIOp::create(nb, l, w, indexConstant(nb, l, ratio)));
      });
  return {entries, positions};
}
