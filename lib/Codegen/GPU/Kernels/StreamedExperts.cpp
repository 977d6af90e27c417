//===- StreamedExperts.cpp - The chosen experts of a few tokens -----------===//
//
// lm.streamed_experts: lm.moe_experts at decode, as two weight-streaming
// launches (WeightStreaming.h) that read only the chosen experts' rows.
//  - experts_gate_up: a slice per (token, choice). Its blocks stage the
//    token's row (normalised, scaled by the routing weight under
//    scale_input, rounded to the weights' type) in shared memory; a warp per
//    column of the expert width streams the chosen expert's gate and up rows
//    (its one row for relu2) and writes the activation to `hidden`, rounded
//    to the down weights' type as lm.moe_experts rounds it.
//  - experts_down: a slice per token. A warp per output column streams the
//    K chosen experts' down rows side by side, each against its choice's
//    hidden row, and writes sum_k w_k (dot_k + bias_k) (unweighted under
//    scale_input), plus the residual with `accumulate`.
// The SwiGLU, the weighted sum over the choices, the input's norm and the
// residual add are no kernels of their own.
//
// At batch 1 each chosen expert's rows are read once. Tokens of a batch
// that share an expert each read its rows (from L2 when their blocks run
// close together); sorting the (token, choice) pairs by expert, as the
// grouped GEMM of prompts will, is the step beyond.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"
#include "WeightStreaming.h"

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::lm::gpu_mapping {

namespace {
/// What both launches read of the op: its buffers, shapes and the routing
/// of a token.
struct ExpertsView {
  explicit ExpertsView(StreamedExpertsOp op)
      : op(op), topK(op.getTopK()), width(op.getExpertWidth()),
        hidden(cast<MemRefType>(op.getInput().getType()).getDimSize(2)),
        gated(op.getActivation() != ExpertKind::relu2) {}

  /// (batch, token) of token slice `token` (batch-major).
  SmallVector<Value> tokenIndices(OpBuilder &b, Location loc,
                                  Value token) const {
    Value tokens = memref::DimOp::create(b, loc, op.getInput(), 1);
    return {arith::DivUIOp::create(b, loc, token, tokens),
            arith::RemUIOp::create(b, loc, token, tokens)};
  }
  /// Choice `choice`'s expert (index) and routing weight (f32) of the token
  /// at `at` (batch, token).
  std::pair<Value, Value> route(OpBuilder &b, Location loc, ArrayRef<Value> at,
                                Value choice) const {
    SmallVector<Value> indices(at);
    indices.push_back(choice);
    Value expert = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        memref::LoadOp::create(b, loc, op.getIndices(), indices));
    Value weight = memref::LoadOp::create(b, loc, op.getWeights(), indices);
    return {expert, weight};
  }
  /// The element (e, row) of a bias [E, rows] as f32, or none.
  static Value bias(OpBuilder &b, Location loc, Value bias, Value expert,
                    Value row) {
    if (!bias)
      return {};
    return toF32(b, loc,
                 memref::LoadOp::create(b, loc, bias, ValueRange{expert, row}));
  }
  static Value plus(OpBuilder &b, Location loc, Value sum, Value bias) {
    return bias ? arith::AddFOp::create(b, loc, sum, bias) : sum;
  }

  /// (Op handles are values; `mutable` lets const code query them.)
  mutable StreamedExpertsOp op;
  int64_t topK, width, hidden;
  bool gated;
};

/// The first launch's operands: slice = (batch, token, choice), row-major.
class GateUpOperands final : public StreamingOperands {
public:
  explicit GateUpOperands(const ExpertsView &view) : view(view) {}

  /// The slice's token, expert and routing weight, at the kernel's start.
  void beginSlice(OpBuilder &b, Location loc, Value slice) override {
    Value k = index(b, loc, view.topK);
    at = view.tokenIndices(b, loc, arith::DivUIOp::create(b, loc, slice, k));
    choice = arith::RemUIOp::create(b, loc, slice, k);
    std::tie(expert, weight) = view.route(b, loc, at, choice);
  }

  Type inputType() const override {
    return cast<MemRefType>(view.op.getInput().getType()).getElementType();
  }
  int64_t weightCount() const override { return view.gated ? 2 : 1; }

  /// Row of gate_up that column i's weight `which` (gate 0, up 1) is.
  Value gateUpRow(OpBuilder &b, Location loc, int64_t which,
                  Value column) const {
    if (!view.gated)
      return column;
    if (view.op.getInterleavedGateUp())
      return arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, column, index(b, loc, 2)),
          index(b, loc, which));
    if (which == 0)
      return column;
    return arith::AddIOp::create(b, loc, column, index(b, loc, view.width));
  }

  Value loadWeight(OpBuilder &b, Location loc, int64_t which, Value,
                   Value column, Value k, int64_t elements,
                   bool whole) const override {
    return loadSlice(b, loc, view.op.getGateUp(),
                     {expert, gateUpRow(b, loc, which, column), k}, elements,
                     view.hidden, whole);
  }
  Value loadInput(OpBuilder &b, Location loc, int64_t, Value, ArrayRef<Value>,
                  Value k, int64_t elements, bool whole) const override {
    return loadSlice(b, loc, view.op.getInput(), {at[0], at[1], k}, elements,
                     view.hidden, whole);
  }
  Value stagingScale(OpBuilder &, Location, Value) const override {
    return view.op.getScaleInput() ? weight : Value();
  }
  void store(OpBuilder &b, Location loc, Value, ArrayRef<Value>, Value column,
             ValueRange sums) const override {
    Value bias = view.op.getGateUpBias();
    auto term = [&](int64_t which) {
      return ExpertsView::plus(
          b, loc, sums[which],
          ExpertsView::bias(b, loc, bias, expert,
                            gateUpRow(b, loc, which, column)));
    };
    auto constant = [](std::optional<APFloat> value) {
      return value ? value->convertToDouble() : 0.0;
    };
    Value activation = lowering::applyExpertActivation(
        b, loc, view.op.getActivation(), term(0),
        view.gated ? term(1) : Value(), constant(view.op.getAlpha()),
        constant(view.op.getLimit()));
    Type hiddenType =
        cast<MemRefType>(view.op.getHidden().getType()).getElementType();
    if (hiddenType != activation.getType())
      activation = arith::TruncFOp::create(b, loc, hiddenType, activation);
    memref::StoreOp::create(b, loc, activation, view.op.getHidden(),
                            ValueRange{at[0], at[1], choice, column});
  }

private:
  const ExpertsView &view;
  SmallVector<Value> at;
  Value choice, expert, weight;
};

/// The second launch's operands: slice = (batch, token); weight c is choice
/// c's down rows, its input choice c's hidden row.
class DownOperands final : public StreamingOperands {
public:
  explicit DownOperands(const ExpertsView &view) : view(view) {}

  /// The slice's token and its choices' experts and routing weights.
  void beginSlice(OpBuilder &b, Location loc, Value slice) override {
    at = view.tokenIndices(b, loc, slice);
    for (int64_t c = 0; c < view.topK; ++c) {
      auto [expert, weight] = view.route(b, loc, at, index(b, loc, c));
      experts.push_back(expert);
      weights.push_back(weight);
    }
  }

  Type inputType() const override {
    return cast<MemRefType>(view.op.getHidden().getType()).getElementType();
  }
  int64_t weightCount() const override { return view.topK; }
  bool inputPerWeight() const override { return true; }

  Value loadWeight(OpBuilder &b, Location loc, int64_t which, Value,
                   Value column, Value k, int64_t elements,
                   bool whole) const override {
    return loadSlice(b, loc, view.op.getDown(), {experts[which], column, k},
                     elements, view.width, whole);
  }
  Value loadInput(OpBuilder &b, Location loc, int64_t which, Value,
                  ArrayRef<Value>, Value k, int64_t elements,
                  bool whole) const override {
    return loadSlice(b, loc, view.op.getHidden(),
                     {at[0], at[1], index(b, loc, which), k}, elements,
                     view.width, whole);
  }
  /// sum_c w_c (sum_c + bias_c), in choice order as lm.moe_experts sums.
  void store(OpBuilder &b, Location loc, Value, ArrayRef<Value>, Value column,
             ValueRange sums) const override {
    Value total;
    for (int64_t c = 0; c < view.topK; ++c) {
      Value expert = ExpertsView::plus(
          b, loc, sums[c],
          ExpertsView::bias(b, loc, view.op.getDownBias(), experts[c], column));
      if (!view.op.getScaleInput())
        expert = arith::MulFOp::create(b, loc, weights[c], expert);
      total = total ? arith::AddFOp::create(b, loc, total, expert) : expert;
    }
    SmallVector<Value> indices = {at[0], at[1], column};
    if (view.op.getAccumulate())
      total = arith::AddFOp::create(
          b, loc, memref::LoadOp::create(b, loc, view.op.getInit(), indices),
          total);
    memref::StoreOp::create(b, loc, total, view.op.getInit(), indices);
  }

private:
  const ExpertsView &view;
  SmallVector<Value> at, experts, weights;
};
} // namespace

void buildStreamedExperts(OpBuilder &b, StreamedExpertsOp op) {
  Location loc = op.getLoc();
  ExpertsView view(op);
  Type weightType = cast<MemRefType>(op.getGateUp().getType()).getElementType();
  Value input = op.getInput();
  Value tokens =
      arith::MulIOp::create(b, loc, memref::DimOp::create(b, loc, input, 0),
                            memref::DimOp::create(b, loc, input, 1));
  int64_t warps = static_cast<int64_t>(op.getWarps());
  // One row per slice: no row dimensions.
  Value one = index(b, loc, 1);

  std::optional<RowStaging> staging = rowStagingOf(op, op.stagesRows());
  GateUpOperands gateUp(view);
  buildWeightStreamingKernel(
      b, loc,
      {"experts_gate_up",
       view.width,
       view.hidden,
       weightType,
       {},
       one,
       arith::MulIOp::create(b, loc, tokens, index(b, loc, view.topK)),
       warps,
       /*rowGroup=*/1,
       staging},
      gateUp);

  DownOperands down(view);
  buildWeightStreamingKernel(b, loc,
                             {"experts_down",
                              view.hidden,
                              view.width,
                              weightType,
                              {},
                              one,
                              tokens,
                              warps,
                              /*rowGroup=*/1,
                              std::nullopt},
                             down);
}

} // namespace mlir::lm::gpu_mapping
