//===- WgmmaGemm.h - The Hopper GEMM tile's mainloop ------------*- C++ -*-===//
//
// The block of WgmmaGemm.cpp, for the templates built on it: a projection
// generic (WgmmaTile.cpp) and the experts of lm.grouped_experts
// (GroupedExperts.cpp). A block computes one 128 x 128 tile of
// `A[rows, K] B[cols, K]^T` (both operands K-major bf16, read through
// tensor maps) into f32 registers; the templates differ in where a block's
// tile lies in A and B (WgmmaTilePlace) and what is done with its sums (the
// epilogue).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_KERNELS_WGMMAGEMM_H
#define LMC_CODEGEN_GPU_KERNELS_WGMMAGEMM_H

#include "mlir/IR/Builders.h"

namespace mlir::lm::gpu_mapping {

/// The block's output tile: two consumer warpgroups of 64 rows by 128
/// columns (one m64n128 accumulator each).
inline constexpr int64_t kWgmmaTileRows = 128;
inline constexpr int64_t kWgmmaTileCols = 128;

/// Where a block's tile lies: A's rows [aRow, aRow + 128) against B's rows
/// [bRows[i], + 128 / bRows.size()) for each box i, stacked (a GLU's gate
/// and up halves: two boxes of 64). Without `exists` every block has a
/// tile; with it, the blocks where it is false do nothing (a grid sized for
/// the most tiles there can be). `extra` is what the epilogue needs of the
/// tile (an expert), computed once by every thread.
struct WgmmaTilePlace {
  Value exists;
  Value aRow;
  SmallVector<Value, 2> bRows;
  SmallVector<Value, 2> extra;
};

/// A consumer thread's share of the tile: accumulator i (of kAccumulators)
/// is at A's row `row + rowOffset(i)` and the tile's column
/// `col + colOffset(i)` (wgmma's D fragment; columns from the tile's first).
struct WgmmaFragment {
  static constexpr int64_t kAccumulators = 64;
  Value accumulators, row, col;
  static int64_t rowOffset(int64_t i) { return 8 * ((i % 4) / 2); }
  static int64_t colOffset(int64_t i) { return 8 * (i / 4) + i % 2; }
  /// Accumulator i, f32.
  Value at(OpBuilder &b, Location loc, int64_t i) const;
};

/// What a wgmma GEMM launch computes.
struct WgmmaGemmSpec {
  StringRef name;
  /// Tensor maps of A (boxes of 128 rows x 64) and B (boxes of
  /// 128 / bBoxes rows x 64), made by makeWgmmaTensorMap: one B map all
  /// boxes read, or one per box (a GLU's gate and up weights).
  Value aMap;
  SmallVector<Value, 2> bMaps;
  int64_t bBoxes = 1;
  /// The K extent (static); the copies fill zeros past it.
  int64_t k;
  /// The grid's blocks.
  Value blocks;
  /// Block `block`'s tile (every thread computes it).
  function_ref<WgmmaTilePlace(OpBuilder &, Location, Value block)> place;
  /// Each consumer thread's stores of its fragment of the tile at `place`.
  function_ref<void(OpBuilder &, Location, const WgmmaTilePlace &,
                    const WgmmaFragment &)>
      epilogue;
};

/// A tensor map of `buffer` (a 2-D bf16 memref of identity layout whose
/// rows are a multiple of 16 bytes) for boxes of `boxRows` x 64, 128-byte
/// swizzled, zeros out of bounds; made on the host.
Value makeWgmmaTensorMap(OpBuilder &b, Location loc, Value buffer,
                         int64_t boxRows);

/// One launch of 384-thread blocks (a producer warpgroup issuing TMA copies
/// into a four-stage ring of shared memory, two consumer warpgroups issuing
/// wgmma.mma_async), each computing its tile and handing it to the
/// epilogue.
void buildWgmmaGemm(OpBuilder &b, Location loc, const WgmmaGemmSpec &spec);

} // namespace mlir::lm::gpu_mapping

#endif // LMC_CODEGEN_GPU_KERNELS_WGMMAGEMM_H
