//===- WgmmaTile.cpp - Projections of many rows on Hopper tensor cores ----===//
//
// A bf16 projection `out[rows, n] += x[rows, k] * w[n, k]` with enough rows
// to fill a warpgroup's m64 instruction (prompts, large batches): a block
// per 128 x 128 output tile of the GEMM of WgmmaGemm.cpp (TMA copies into
// a ring of swizzled shared memory, wgmma.mma_async), A = x, B = w. x's
// rows and w's rows past the ends arrive as zeros; the epilogue stores only
// the outputs that exist, each as the fill's value (or the output's own,
// for a residual folded in) plus its sum.
//
// The tensor maps are made on the host before the launch
// (`nvgpu.tma.create.descriptor`, which the runtime's
// mgpuTensorMapEncodeTiledMemref encodes once per buffer and shape).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "WgmmaGemm.h"

#include "../MappingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::lm::gpu_mapping {

namespace {
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
    Value rowBase = fragment.row;
    Value colBase = arith::AddIOp::create(b, loc, place.bRows[0], fragment.col);
    Value cols = index(b, loc, p.n);
    Value output = p.op.getDpsInitOperand(0)->get();
    for (int64_t half = 0; half < 2; ++half) {
      Value row =
          arith::AddIOp::create(b, loc, rowBase, index(b, loc, 8 * half));
      Value rowInside =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows);
      auto guard = scf::IfOp::create(b, loc, rowInside, /*withElse=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      SmallVector<Value> rowIndices = delinearize(b, loc, row, rowExtents);
      // Accumulators i and i + 1 (i even) are neighbours in a row: one
      // 8-byte access where the output's rows are contiguous and even.
      int64_t width = pairedStores() ? 2 : 1;
      for (int64_t i = 0; i < WgmmaFragment::kAccumulators; i += width) {
        if (WgmmaFragment::rowOffset(i) != 8 * half)
          continue;
        Value col = arith::AddIOp::create(
            b, loc, colBase, index(b, loc, WgmmaFragment::colOffset(i)));
        Value colInside =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, cols);
        auto inside = scf::IfOp::create(b, loc, colInside, /*withElse=*/false);
        OpBuilder::InsertionGuard gi(b);
        b.setInsertionPointToStart(&inside.getThenRegion().front());
        SmallVector<Value> indices = p.outIndices(b, loc, rowIndices, col);
        if (width == 1) {
          Value start =
              init ? init : memref::LoadOp::create(b, loc, output, indices);
          memref::StoreOp::create(
              b, loc,
              arith::AddFOp::create(b, loc, start, fragment.at(b, loc, i)),
              output, indices);
          continue;
        }
        auto pair = VectorType::get({2}, b.getF32Type());
        Value start =
            init ? vector::BroadcastOp::create(b, loc, pair, init).getResult()
                 : vector::LoadOp::create(b, loc, pair, output, indices,
                                          /*nontemporal=*/false, llvm::Align(8))
                       .getResult();
        Value sum = vector::FromElementsOp::create(
            b, loc, pair,
            ValueRange{fragment.at(b, loc, i), fragment.at(b, loc, i + 1)});
        vector::StoreOp::create(
            b, loc, arith::AddFOp::create(b, loc, start, sum), output, indices,
            /*nontemporal=*/false, llvm::Align(8));
      }
    }
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

/// x as the [rows, K] matrix its tensor map describes.
Value collapsedActivation(OpBuilder &b, Location loc, const Projection &p) {
  Value x = p.activation->get();
  auto type = cast<MemRefType>(x.getType());
  if (type.getRank() == 2)
    return x;
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    groups[0].push_back(d);
  groups[1].push_back(type.getRank() - 1);
  return memref::CollapseShapeOp::create(b, loc, x, groups);
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
  // The tensor maps: x as [rows, K], w as [N, K].
  Value xMap = makeWgmmaTensorMap(b, loc, collapsedActivation(b, loc, p),
                                  kWgmmaTileRows);
  Value wMap = makeWgmmaTensorMap(b, loc, p.weight->get(), kWgmmaTileRows);
  Value rowTiles =
      arith::CeilDivUIOp::create(b, loc, rows, index(b, loc, kWgmmaTileRows));
  Value colTiles = index(b, loc, llvm::divideCeil(p.n, kWgmmaTileCols));
  ProjectionEpilogue epilogue(p, rowExtents, rows, init);
  WgmmaGemmSpec spec;
  spec.name = "wgmma_tile";
  spec.aMap = xMap;
  spec.bMap = wMap;
  spec.k = p.k;
  spec.blocks = arith::MulIOp::create(b, loc, rowTiles, colTiles);
  // Blocks of the same row tile are neighbours: they share x's tile in L2
  // while walking w.
  auto place = [&](OpBuilder &nb, Location l, Value block) {
    SmallVector<Value> tile = delinearize(nb, l, block, {rowTiles, colTiles});
    WgmmaTilePlace at;
    at.aRow =
        arith::MulIOp::create(nb, l, tile[0], index(nb, l, kWgmmaTileRows));
    at.bRows.push_back(
        arith::MulIOp::create(nb, l, tile[1], index(nb, l, kWgmmaTileCols)));
    return at;
  };
  spec.place = place;
  auto store = [&](OpBuilder &nb, Location l, const WgmmaTilePlace &at,
                   const WgmmaFragment &fragment) {
    epilogue.store(nb, l, at, fragment);
  };
  spec.epilogue = store;
  buildWgmmaGemm(b, loc, spec);
}

} // namespace mlir::lm::gpu_mapping
