//===- WgmmaTile.cpp - Projections of many rows on Hopper tensor cores ----===//
//
// A bf16 projection `out[rows, n] += x[rows, k] * w[n, k]` with enough rows
// to fill a warpgroup's m64 instruction (prompts, large batches): a block
// per 128 x 128 output tile of the GEMM of WgmmaGemm.cpp (TMA copies into
// a ring of swizzled shared memory, wgmma.mma_async), A = x, B = w. x's
// rows and w's rows past the ends arrive as zeros; the epilogue stores only
// the outputs that exist. Two forms:
//
// - a projection generic (lm-map-projections-to-gpu): each output the fill's
//   value (or the output's own, for a residual folded in) plus its sum;
// - lm.tiled_linear (lm-select-gpu-kernels): the op's epilogue (bias, GLU,
//   residual, bf16 rounding). A GLU's block multiplies 64 rows of the gate
//   weight and the same 64 of the up weight (B as two boxes, a tensor map
//   each), so each thread holds both sums of its output columns and the
//   gate and up never reach memory.
//
// The tensor maps are made on the host before the launch
// (`nvgpu.tma.create.descriptor`, which the runtime's
// mgpuTensorMapEncodeTiledMemref encodes once per buffer and shape).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "WgmmaGemm.h"

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
/// Where a consumer thread's share of the tile lands in a projection's
/// output `[rows..., n]`: `body(rowIndices, col, i)` for each accumulator i
/// whose row (below `rows`, delinearized over `rowExtents`) and output
/// column `col` (colBase + colOffset(i), below `n`) exist, i stepping by
/// `width` (2: accumulators i and i + 1, neighbouring columns, as one
/// access) and skipping tile columns from `tileColumns` on (a GLU's up
/// halves, which the gate's columns read).
void forEachOutput(OpBuilder &b, Location loc, const WgmmaFragment &fragment,
                   Value colBase, ArrayRef<Value> rowExtents, Value rows,
                   int64_t n, int64_t width, int64_t tileColumns,
                   function_ref<void(ArrayRef<Value>, Value, int64_t)> body) {
  Value cols = index(b, loc, n);
  for (int64_t half = 0; half < 2; ++half) {
    Value row =
        arith::AddIOp::create(b, loc, fragment.row, index(b, loc, 8 * half));
    Value rowInside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows);
    ifThen(b, loc, rowInside, [&] {
      SmallVector<Value> rowIndices = delinearize(b, loc, row, rowExtents);
      for (int64_t i = 0; i < WgmmaFragment::kAccumulators; i += width) {
        if (WgmmaFragment::rowOffset(i) != 8 * half ||
            WgmmaFragment::colOffset(i) >= tileColumns)
          continue;
        Value col = arith::AddIOp::create(
            b, loc, colBase, index(b, loc, WgmmaFragment::colOffset(i)));
        Value colInside =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, cols);
        ifThen(b, loc, colInside, [&] { body(rowIndices, col, i); });
      }
    });
  }
}

/// `values` (f32, for the columns from `indices`' last on) stored at
/// `indices` of `output` in its element type, each first added to `start`
/// (a fill's value) or, with `addExisting`, to the output's own value: one
/// aligned vector access for several.
void storeOutputs(OpBuilder &b, Location loc, Value output,
                  ArrayRef<Value> indices, ArrayRef<Value> values, Value start,
                  bool addExisting) {
  Type element = cast<MemRefType>(output.getType()).getElementType();
  if (values.size() == 1) {
    Value value = values.front();
    if (addExisting)
      start = memref::LoadOp::create(b, loc, output, indices);
    if (start)
      value = arith::AddFOp::create(b, loc, start, value);
    memref::StoreOp::create(b, loc, asElementOf(b, loc, value, output), output,
                            indices);
    return;
  }
  int64_t count = values.size();
  auto f32s = VectorType::get({count}, b.getF32Type());
  Value vector = vector::FromElementsOp::create(b, loc, f32s, values);
  int64_t bytes = count * element.getIntOrFloatBitWidth() / 8;
  Value first;
  if (addExisting)
    first = vector::LoadOp::create(b, loc, f32s, output, indices,
                                   /*nontemporal=*/false, llvm::Align(bytes));
  else if (start)
    first = vector::BroadcastOp::create(b, loc, f32s, start);
  if (first)
    vector = arith::AddFOp::create(b, loc, first, vector);
  if (!element.isF32())
    vector = arith::TruncFOp::create(b, loc, VectorType::get({count}, element),
                                     vector);
  vector::StoreOp::create(b, loc, vector, output, indices,
                          /*nontemporal=*/false, llvm::Align(bytes));
}

/// The projection's epilogue: each output element the tile holds, as the
/// fill's value (or the output's own, for a residual folded in) plus its
/// sum.
class ProjectionEpilogue {
public:
  ProjectionEpilogue(const Projection &p, ArrayRef<Value> rowExtents,
                     Value rows, Value init)
      : p(p), rowExtents(rowExtents), rows(rows), init(init) {}

  void store(OpBuilder &b, Location loc, const WgmmaTilePlace &place,
             const WgmmaFragment &fragment) {
    Value colBase = arith::AddIOp::create(b, loc, place.bRows[0], fragment.col);
    Value output = p.op.getDpsInitOperand(0)->get();
    int64_t width = pairedStores() ? 2 : 1;
    forEachOutput(
        b, loc, fragment, colBase, rowExtents, rows, p.n, width, kWgmmaTileCols,
        [&](ArrayRef<Value> rowIndices, Value col, int64_t i) {
          SmallVector<Value> sums;
          for (int64_t e = 0; e < width; ++e)
            sums.push_back(fragment.at(b, loc, i + e));
          storeOutputs(b, loc, output, p.outIndices(b, loc, rowIndices, col),
                       sums, init, /*addExisting=*/!init);
        });
  }

private:
  /// Whether the output's rows are contiguous with an even N, so that a
  /// pair of columns (2t, 2t + 1 from an even column) is one aligned 8-byte
  /// access inside the row.
  bool pairedStores() const {
    auto type = cast<MemRefType>(p.op.getDpsInitOperand(0)->get().getType());
    AffineMap map = p.op.getMatchingIndexingMap(p.op.getDpsInitOperand(0));
    return p.n % 2 == 0 && type.getLayout().isIdentity() &&
           map.getNumResults() > 0 &&
           map.getDimPosition(map.getNumResults() - 1) == p.nDim;
  }

  const Projection &p;
  ArrayRef<Value> rowExtents;
  Value rows, init;
};

/// `buffer` ([rows..., C], identity layout) as the [rows, C] matrix a
/// tensor map describes.
Value asMatrix(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getRank() == 2)
    return buffer;
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    groups[0].push_back(d);
  groups[1].push_back(type.getRank() - 1);
  return memref::CollapseShapeOp::create(b, loc, buffer, groups);
}

/// `spec`'s launch (its maps, K and epilogue set) over the tiles of a
/// projection of `rows` rows and `n` columns: a block per 128 rows and
/// 128 / bBoxes columns, those of a row tile neighbours (they share x's
/// tile in L2 while walking the weights); each box of a block's B tile
/// starts at the block's first column, which its place also holds as
/// extra[0].
void buildRowTiles(OpBuilder &b, Location loc, WgmmaGemmSpec &spec, Value rows,
                   int64_t n) {
  int64_t columns = kWgmmaTileCols / spec.bBoxes;
  Value rowTiles =
      arith::CeilDivUIOp::create(b, loc, rows, index(b, loc, kWgmmaTileRows));
  Value colTiles = index(b, loc, llvm::divideCeil(n, columns));
  spec.blocks = arith::MulIOp::create(b, loc, rowTiles, colTiles);
  auto place = [&](OpBuilder &nb, Location l, Value block) {
    SmallVector<Value> tile = delinearize(nb, l, block, {rowTiles, colTiles});
    WgmmaTilePlace at;
    at.aRow =
        arith::MulIOp::create(nb, l, tile[0], index(nb, l, kWgmmaTileRows));
    Value column = arith::MulIOp::create(nb, l, tile[1], index(nb, l, columns));
    at.bRows.assign(spec.bBoxes, column);
    at.extra.push_back(column);
    return at;
  };
  spec.place = place;
  buildWgmmaGemm(b, loc, spec);
}

} // namespace

bool wgmmaTileApplies(const Projection &p) {
  if (!p.isBF16() || p.k % 8 != 0)
    return false;
  // Tensor maps need 16-byte aligned rows: identity layouts (buffers'
  // starts) of K-long rows whose bytes are a multiple of 16.
  auto x = cast<MemRefType>(p.activation->get().getType());
  auto w = cast<MemRefType>(p.weight->get().getType());
  if (!x.getLayout().isIdentity() || !w.getLayout().isIdentity())
    return false;
  // x[rows..., k] with the rows in loop order, so that row r of the
  // [rows, K] view is the r-th row the output delinearizes.
  AffineMap map = p.op.getMatchingIndexingMap(p.activation);
  if (map.getNumResults() != p.rowDims.size() + 1)
    return false;
  for (auto [i, dim] : llvm::enumerate(p.rowDims))
    if (map.getDimPosition(i) != dim)
      return false;
  return true;
}

void buildWgmmaTile(OpBuilder &b, Location loc, const Projection &p,
                    ArrayRef<Value> rowExtents, Value rows, Value init) {
  ProjectionEpilogue epilogue(p, rowExtents, rows, init);
  WgmmaGemmSpec spec;
  spec.name = "wgmma_tile";
  // The tensor maps: x as [rows, K], w as [N, K].
  spec.aMap = makeWgmmaTensorMap(b, loc, asMatrix(b, loc, p.activation->get()),
                                 kWgmmaTileRows);
  spec.bMaps = {makeWgmmaTensorMap(b, loc, p.weight->get(), kWgmmaTileRows)};
  spec.k = p.k;
  auto store = [&](OpBuilder &nb, Location l, const WgmmaTilePlace &at,
                   const WgmmaFragment &fragment) {
    epilogue.store(nb, l, at, fragment);
  };
  spec.epilogue = store;
  buildRowTiles(b, loc, spec, rows, p.n);
}

namespace {
/// lm.tiled_linear's epilogue: for each of a consumer thread's output
/// columns, its sum (accumulator i; with a GLU the gate's, the up's at
/// i + 32, tile columns c and c + 64) biased, through the GLU, added to
/// the residual and written in the init's type; pairs of neighbouring
/// columns (i, i + 1) as one access where the init's rows allow.
class TiledLinearEpilogue {
public:
  TiledLinearEpilogue(TiledLinearOp op, ArrayRef<Value> rowExtents, Value rows)
      : op(op), rowExtents(rowExtents), rows(rows) {
    auto init = cast<MemRefType>(op.getInit().getType());
    n = init.getDimSize(init.getRank() - 1);
    identity = init.getLayout().isIdentity();
  }

  void store(OpBuilder &b, Location loc, const WgmmaTilePlace &place,
             const WgmmaFragment &fragment) {
    Value colBase = arith::AddIOp::create(b, loc, place.extra[0], fragment.col);
    // A pair of columns (2t, 2t + 1 from an even first column) lies inside
    // a row of even N together: one aligned access of both. Written
    // through the output's own indices (not a collapsed view), so that
    // lm-fold-scatter-copies can follow the stores to a cache.
    int64_t width = identity && n % 2 == 0 ? 2 : 1;
    int64_t tileColumns = op.getGlu() ? kWgmmaTileCols / 2 : kWgmmaTileCols;
    forEachOutput(
        b, loc, fragment, colBase, rowExtents, rows, n, width, tileColumns,
        [&](ArrayRef<Value> rowIndices, Value col, int64_t i) {
          SmallVector<Value> indices(rowIndices);
          indices.push_back(col);
          SmallVector<Value> values;
          for (int64_t e = 0; e < width; ++e)
            values.push_back(
                result(b, loc, fragment, i + e,
                       arith::AddIOp::create(b, loc, col, index(b, loc, e))));
          storeOutputs(b, loc, op.getInit(), indices, values, Value(),
                       op.getAccumulate());
        });
  }

private:
  /// Accumulator i's output (f32) at output column `col`, before the
  /// residual: biased, and through the GLU with the up's sum.
  Value result(OpBuilder &b, Location loc, const WgmmaFragment &fragment,
               int64_t i, Value col) {
    auto biased = [&](Value sum, Value bias) -> Value {
      if (!bias)
        return sum;
      return arith::AddFOp::create(
          b, loc, sum,
          toF32(b, loc, memref::LoadOp::create(b, loc, bias, col)));
    };
    Value value = biased(fragment.at(b, loc, i), op.getBias());
    std::optional<GluKind> glu = op.getGlu();
    if (!glu)
      return value;
    auto constant = [](std::optional<APFloat> c) {
      return c ? c->convertToDouble() : 0.0;
    };
    Value up = biased(fragment.at(b, loc, i + WgmmaFragment::kAccumulators / 2),
                      op.getUpBias());
    return lowering::applyGlu(b, loc, *glu, value, up, constant(op.getAlpha()),
                              constant(op.getLimit()));
  }

  TiledLinearOp op;
  ArrayRef<Value> rowExtents;
  Value rows;
  int64_t n;
  bool identity;
};
} // namespace

void buildTiledLinear(OpBuilder &b, TiledLinearOp op) {
  Location loc = op.getLoc();
  Value input = op.getInput();
  auto inputType = cast<MemRefType>(input.getType());
  auto weightType = cast<MemRefType>(op.getWeight().getType());
  int64_t n = weightType.getDimSize(0);
  SmallVector<Value> rowExtents;
  Value rows = index(b, loc, 1);
  for (int64_t d = 0; d + 1 < inputType.getRank(); ++d) {
    rowExtents.push_back(b.createOrFold<memref::DimOp>(loc, input, d));
    rows = b.createOrFold<arith::MulIOp>(loc, rows, rowExtents.back());
  }
  // A GLU's tile: 64 output columns, their gate rows and up rows.
  bool glu = bool(op.getUpWeight());
  int64_t boxes = glu ? 2 : 1;
  WgmmaGemmSpec spec;
  spec.name = glu ? "tiled_linear_glu" : "tiled_linear";
  spec.aMap =
      makeWgmmaTensorMap(b, loc, asMatrix(b, loc, input), kWgmmaTileRows);
  spec.bBoxes = boxes;
  spec.bMaps = {
      makeWgmmaTensorMap(b, loc, op.getWeight(), kWgmmaTileRows / boxes)};
  if (glu)
    spec.bMaps.push_back(
        makeWgmmaTensorMap(b, loc, op.getUpWeight(), kWgmmaTileRows / boxes));
  spec.k = weightType.getDimSize(1);
  TiledLinearEpilogue epilogue(op, rowExtents, rows);
  auto store = [&](OpBuilder &nb, Location l, const WgmmaTilePlace &at,
                   const WgmmaFragment &fragment) {
    epilogue.store(nb, l, at, fragment);
  };
  spec.epilogue = store;
  buildRowTiles(b, loc, spec, rows, n);
}

} // namespace mlir::lm::gpu_mapping
