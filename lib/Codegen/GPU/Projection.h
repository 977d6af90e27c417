//===- Projection.h - A projection generic, as the GPU kernels read it -*- C++ -*-===//
//
// `out[rows..., n] += x[rows..., k] * w[n, k]` over buffers: how lm.linear
// lowers (bf16 operands extended to f32 under --dtype bf16, f32 otherwise).
// The projection kernels (Kernels/) are built from this description, and
// lm-map-projections-to-gpu chooses among them.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_PROJECTION_H
#define LMC_CODEGEN_GPU_PROJECTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir::lm::gpu_mapping {

struct Projection {
  /// (Op handles are values; `mutable` lets const code query them.)
  mutable linalg::GenericOp op;
  OpOperand *activation;
  OpOperand *weight;
  unsigned nDim, kDim;
  SmallVector<unsigned> rowDims; ///< The other parallel dimensions, in order.
  int64_t n, k;                  ///< Static sizes of the weight.
  /// The operands' element type (bf16 or f32); the sum is f32.
  Type operandType;

  bool isBF16() const { return operandType.isBF16(); }

  /// Loop indices of the generic for output row `row` (indices of the row
  /// dimensions), column `col` and reduction index `k`.
  SmallVector<Value> loopIndices(ArrayRef<Value> row, Value col,
                                 Value k) const;
  /// The output's indices for row `row` and column `col`.
  SmallVector<Value> outIndices(OpBuilder &b, Location loc,
                                ArrayRef<Value> row, Value col) const;
};

/// `op` as a projection: two operands of the same type, bf16 (extended) or
/// f32, an f32 sum, a static row-contiguous weight `w[n, k]`, an activation
/// contiguous along `k`, an output over every parallel dimension.
std::optional<Projection> matchProjection(linalg::GenericOp op);

/// The `elements` consecutive values [k, k + elements) of a row of
/// `operand` (contiguous along K) at loop indices `ivs`. With `whole` (the
/// caller knows they lie inside the row and K is a multiple of
/// `elements`): one vector load, 16-byte aligned when the buffer's layout
/// is the identity. Otherwise element by element, clamped inside the row
/// and zero past it.
Value loadAlongK(OpBuilder &b, Location loc, const Projection &p,
                 OpOperand *operand, SmallVector<Value> ivs, Value k,
                 int64_t elements, bool whole);

} // namespace mlir::lm::gpu_mapping

#endif // LMC_CODEGEN_GPU_PROJECTION_H
