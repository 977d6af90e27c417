//===- WeightStreaming.h - The weight-streaming kernel's parts --*- C++ -*-===//
//
// The kernel of WeightStreaming.cpp, for the templates built on it: a
// projection generic and lm.streamed_linear (WeightStreaming.cpp), the
// chosen experts of lm.streamed_experts (StreamedExperts.cpp). They differ
// in where the kernel reads its operands and what it does with its sums
// (StreamingOperands).
//
//===----------------------------------------------------------------------===//

#ifndef LMC_CODEGEN_GPU_KERNELS_WEIGHTSTREAMING_H
#define LMC_CODEGEN_GPU_KERNELS_WEIGHTSTREAMING_H

#include "mlir/IR/Builders.h"

namespace mlir::lm::gpu_mapping {

/// Where a weight-streaming kernel reads its operands and writes its sums.
/// The launch may be cut into slices (a block per slice and `warps`
/// columns), each with its own weights and rows: `slice` is the block's
/// (null when there is one slice). Rows are given as the indices of the
/// leading dimensions, columns and K positions as indices.
class StreamingOperands {
public:
  virtual ~StreamingOperands() = default;
  /// The input's element type, as stored.
  virtual Type inputType() const = 0;
  /// Weights of the same shape streamed side by side, each giving one sum
  /// per output element (a GLU's gate and up: 2).
  virtual int64_t weightCount() const { return 1; }
  /// Whether each weight has an input of its own (else all read one).
  virtual bool inputPerWeight() const { return false; }
  /// Weight `which`'s values [k, k + elements) of row `column`, in its type.
  virtual Value loadWeight(OpBuilder &b, Location loc, int64_t which,
                           Value slice, Value column, Value k, int64_t elements,
                           bool whole) const = 0;
  /// The input's values [k, k + elements) of row `row` (of weight `which`'s
  /// input), in its type.
  virtual Value loadInput(OpBuilder &b, Location loc, int64_t which,
                          Value slice, ArrayRef<Value> row, Value k,
                          int64_t elements, bool whole) const = 0;
  /// Called at the kernel's start with the block's slice, when the launch
  /// has slices: what the other methods read of a slice (its routing, say)
  /// is loaded here, once.
  virtual void beginSlice(OpBuilder &, Location, Value) {}
  /// A factor (f32) the staged rows of `slice` are multiplied by before
  /// they are rounded; none by default.
  virtual Value stagingScale(OpBuilder &, Location, Value) const { return {}; }
  /// Writes the output element (row, column) from `sums`, the f32 dot
  /// products with each weight.
  virtual void store(OpBuilder &b, Location loc, Value slice,
                     ArrayRef<Value> row, Value column,
                     ValueRange sums) const = 0;
};

/// The RMS norm applied to the input rows as they are staged.
struct NormPrologue {
  Value weight;
  double epsilon, offset;
};

/// What the kernel does to its input rows before it multiplies them:
/// normalise them (when `norm`), scale them (StreamingOperands::
/// stagingScale) and round them to the weight's type, into shared memory.
struct RowStaging {
  std::optional<NormPrologue> norm;
};

/// The staging of a kernel op that stages its rows (`stages`), with its
/// norm prologue when it has a norm weight (lm.streamed_linear,
/// lm.streamed_experts).
template <typename KernelOp>
std::optional<RowStaging> rowStagingOf(KernelOp op, bool stages) {
  if (!stages)
    return std::nullopt;
  RowStaging staging;
  if (Value weight = op.getNormWeight())
    staging.norm = NormPrologue{weight, op.getEpsilon()->convertToDouble(),
                                op.getWeightOffset().convertToDouble()};
  return staging;
}

/// One weight-streaming launch: `n` output columns, each a warp's, of
/// static in features `k`, operands of `operandType` (the weights'; the
/// input is converted to it), `warps` warps per block; per slice (`slices`
/// of them, null for one) the rows of `rowExtents` (`rows` in all), taken
/// `rowGroup` at a time. Named `name`.
struct WeightStreamingSpec {
  StringRef name;
  int64_t n, k;
  Type operandType;
  ArrayRef<Value> rowExtents;
  Value rows, slices;
  int64_t warps, rowGroup;
  std::optional<RowStaging> staging;
};

/// Builds the launch at the builder (WeightStreaming.cpp).
void buildWeightStreamingKernel(OpBuilder &b, Location loc,
                                const WeightStreamingSpec &spec,
                                StreamingOperands &operands);

} // namespace mlir::lm::gpu_mapping

#endif // LMC_CODEGEN_GPU_KERNELS_WEIGHTSTREAMING_H
