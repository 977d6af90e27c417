//===- WarpRouter.cpp - lm.router with a warp per token -------------------===//
//
// An MoE layer's router: scores, (group-limited) top-k, weights. The
// generic path routes each token in one thread, serially, through scratch
// buffers in global memory; here a warp routes a token from registers:
// lane l holds experts l, l + 32, ... (up to eight), maxima and sums cross
// the warp by xor shuffles, and each choice (a kept group, then each of the
// top-k experts) is a warp-wide arg-max.
//
// The choices are lm.router's, bit for bit where the arithmetic allows: an
// arg-max takes the largest value and, among equal ones, the lowest index
// (the serial scan's strict `>` from index 0; NaN never wins, and when
// nothing beats -inf index 0 does); a group's score is the sum of its two
// best choices; the experts of groups not kept choose with 0 (as
// transformers masks them); weights are the uncorrected scores of the
// chosen experts, in the order chosen, normalised by their sum in that order.
// Only softmax's sum is added in another order (across lanes).
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "../../ScalarFunctions.h"
#include "../MappingUtils.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

namespace mlir::lm::gpu_mapping {

namespace {
using gpu_target::kWarpSize;
using gpu_target::kWarpsPerBlock;

/// A value and the expert it belongs to, as an arg-max carries them.
struct Candidate {
  Value value, expert;
};

class WarpRouter {
public:
  explicit WarpRouter(WarpRouterOp op)
      : op(op),
        experts(cast<ShapedType>(op.getLogits().getType()).getDimSize(2)) {}

  void build(OpBuilder &b, Location loc) {
    Value logits = op.getLogits();
    Value batch = memref::DimOp::create(b, loc, logits, 0);
    Value tokens = memref::DimOp::create(b, loc, logits, 1);
    Value total = arith::MulIOp::create(b, loc, batch, tokens);
    Value blocks = arith::MaxUIOp::create(
        b, loc,
        arith::CeilDivUIOp::create(b, loc, total,
                                   index(b, loc, kWarpsPerBlock)),
        index(b, loc, 1));
    gpu::LaunchOp launch = createLinearLaunch(
        b, loc, blocks, index(b, loc, kWarpsPerBlock * kWarpSize));
    nameKernel(launch, "warp_router");
    Value tid = launch.getThreadIds().x;
    lane = arith::RemUIOp::create(b, loc, tid, index(b, loc, kWarpSize));
    Value token = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, launch.getBlockIds().x,
                              index(b, loc, kWarpsPerBlock)),
        arith::DivUIOp::create(b, loc, tid, index(b, loc, kWarpSize)));
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, token, total);
    auto guard = scf::IfOp::create(b, loc, inside, /*withElse=*/false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
    SmallVector<Value> at = delinearize(b, loc, token, {batch, tokens});
    route(b, loc, at[0], at[1]);
  }

private:
  int64_t perLane() const { return llvm::divideCeil(experts, kWarpSize); }

  /// Expert of this lane's j-th value.
  Value expertOf(OpBuilder &b, Location loc, int64_t j) {
    return arith::AddIOp::create(b, loc, lane, index(b, loc, j * kWarpSize));
  }

  /// Whether the lane's j-th value is an expert (the last slot of a count
  /// that is not a multiple of 32 is not, for the upper lanes).
  Value holds(OpBuilder &b, Location loc, int64_t j) {
    if ((j + 1) * kWarpSize <= experts)
      return arith::ConstantIntOp::create(b, loc, 1, 1);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                 expertOf(b, loc, j), index(b, loc, experts));
  }

  Value shuffleXor(OpBuilder &b, Location loc, Value value, int64_t offset) {
    return gpu::ShuffleOp::create(
               b, loc, value, arith::ConstantIntOp::create(b, loc, offset, 32),
               arith::ConstantIntOp::create(b, loc, kWarpSize, 32),
               gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }

  Value shuffleFrom(OpBuilder &b, Location loc, Value value, Value source) {
    Value from = arith::IndexCastUIOp::create(b, loc, b.getI32Type(), source);
    return gpu::ShuffleOp::create(
               b, loc, value, from,
               arith::ConstantIntOp::create(b, loc, kWarpSize, 32),
               gpu::ShuffleMode::IDX)
        .getShuffleResult();
  }

  Value warpMax(OpBuilder &b, Location loc, Value value) {
    for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2)
      value = arith::MaximumFOp::create(b, loc, value,
                                        shuffleXor(b, loc, value, offset));
    return value;
  }

  /// The warp's arg-max over every lane's candidates: the largest value,
  /// the lowest expert among equal ones; NaN counts as -inf.
  Candidate argmax(OpBuilder &b, Location loc, ArrayRef<Candidate> values) {
    Value negInf = lowering::f32Constant(b, loc, -INFINITY);
    auto clean = [&](Value v) {
      Value isNaN =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v, v);
      return arith::SelectOp::create(b, loc, isNaN, negInf, v).getResult();
    };
    // Within the lane, experts rise with j: a strict `>` keeps the lowest.
    Candidate best{clean(values[0].value), values[0].expert};
    for (const Candidate &c : values.drop_front()) {
      Value v = clean(c.value);
      Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v,
                                           best.value);
      best = {arith::SelectOp::create(b, loc, better, v, best.value),
              arith::SelectOp::create(b, loc, better, c.expert, best.expert)};
    }
    for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
      Value otherValue = shuffleXor(b, loc, best.value, offset);
      Value otherExpert = arith::IndexCastUIOp::create(
          b, loc, b.getIndexType(),
          shuffleXor(
              b, loc,
              arith::IndexCastUIOp::create(b, loc, b.getI32Type(), best.expert),
              offset));
      Value greater = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                            otherValue, best.value);
      Value tie = arith::AndIOp::create(
          b, loc,
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, otherValue,
                                best.value),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, otherExpert,
                                best.expert));
      Value take = arith::OrIOp::create(b, loc, greater, tie);
      best = {arith::SelectOp::create(b, loc, take, otherValue, best.value),
              arith::SelectOp::create(b, loc, take, otherExpert, best.expert)};
    }
    return best;
  }

  void route(OpBuilder &b, Location loc, Value bi, Value ti) {
    Value logits = op.getLogits();
    Value bias = op.getCorrectionBias();
    Value negInf = lowering::f32Constant(b, loc, -INFINITY);
    int64_t slots = perLane();
    // The lane's logits; -inf where it holds no expert.
    SmallVector<Value> held, x;
    for (int64_t j = 0; j < slots; ++j) {
      held.push_back(holds(b, loc, j));
      Value e = arith::MinUIOp::create(b, loc, expertOf(b, loc, j),
                                       index(b, loc, experts - 1));
      Value logit =
          toF32(b, loc,
                memref::LoadOp::create(b, loc, logits, ValueRange{bi, ti, e}));
      x.push_back(arith::SelectOp::create(b, loc, held[j], logit, negInf));
    }
    // Scores (lm.router's formulas).
    SmallVector<Value> scores;
    switch (op.getScoring()) {
    case ScoringKind::softmax: {
      Value max = x[0];
      for (Value v : ArrayRef(x).drop_front())
        max = arith::MaximumFOp::create(b, loc, max, v);
      max = warpMax(b, loc, max);
      Value sum = lowering::f32Constant(b, loc, 0.0);
      SmallVector<Value> exps;
      for (int64_t j = 0; j < slots; ++j) {
        exps.push_back(math::ExpOp::create(
            b, loc, arith::SubFOp::create(b, loc, x[j], max)));
        sum = arith::AddFOp::create(
            b, loc, sum,
            arith::SelectOp::create(b, loc, held[j], exps[j],
                                    lowering::f32Constant(b, loc, 0.0)));
      }
      sum = warpSum(b, loc, sum);
      for (Value e : exps)
        scores.push_back(arith::DivFOp::create(b, loc, e, sum));
      break;
    }
    case ScoringKind::sigmoid:
      for (Value v : x)
        scores.push_back(lowering::sigmoid(b, loc, v));
      break;
    case ScoringKind::sqrtsoftplus:
      for (Value v : x)
        scores.push_back(
            math::SqrtOp::create(b, loc, lowering::softplus(b, loc, v)));
      break;
    }
    // What the selection compares: score + correction bias; -inf where the
    // lane holds no expert.
    SmallVector<Candidate> choices;
    for (int64_t j = 0; j < slots; ++j) {
      Value e = expertOf(b, loc, j);
      Value c = scores[j];
      if (bias) {
        Value at =
            arith::MinUIOp::create(b, loc, e, index(b, loc, experts - 1));
        c = arith::AddFOp::create(
            b, loc, c, toF32(b, loc, memref::LoadOp::create(b, loc, bias, at)));
      }
      choices.push_back(
          {arith::SelectOp::create(b, loc, held[j], c, negInf), e});
    }
    if (op.getNumGroups() > 1)
      keepGroups(b, loc, choices, held);
    chooseExperts(b, loc, bi, ti, scores, choices);
  }

  /// Group-limited routing: each group's score is the sum of its two best
  /// choices (its best alone for groups of one); the `top_k_groups` best
  /// groups stay, the choices of the others become 0.
  void keepGroups(OpBuilder &b, Location loc, SmallVector<Candidate> &choices,
                  ArrayRef<Value> held) {
    int64_t groups = op.getNumGroups(), width = experts / groups;
    Value negInf = lowering::f32Constant(b, loc, -INFINITY);
    SmallVector<Value> groupOf;
    for (const Candidate &c : choices)
      groupOf.push_back(
          arith::DivUIOp::create(b, loc, c.expert, index(b, loc, width)));
    SmallVector<Value> groupScores;
    for (int64_t g = 0; g < groups; ++g) {
      Value first = negInf, second = negInf;
      for (auto [j, c] : llvm::enumerate(choices)) {
        Value in = arith::AndIOp::create(
            b, loc, held[j],
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, groupOf[j],
                                  index(b, loc, g)));
        Value v = arith::SelectOp::create(b, loc, in, c.value, negInf);
        second = arith::MaximumFOp::create(
            b, loc, second, arith::MinimumFOp::create(b, loc, first, v));
        first = arith::MaximumFOp::create(b, loc, first, v);
      }
      // The two best of two lanes' two best.
      for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
        Value otherFirst = shuffleXor(b, loc, first, offset);
        Value otherSecond = shuffleXor(b, loc, second, offset);
        second = arith::MaximumFOp::create(
            b, loc, arith::MaximumFOp::create(b, loc, second, otherSecond),
            arith::MinimumFOp::create(b, loc, first, otherFirst));
        first = arith::MaximumFOp::create(b, loc, first, otherFirst);
      }
      Value score =
          width > 1 ? arith::AddFOp::create(b, loc, first, second).getResult()
                    : first;
      groupScores.push_back(score);
    }
    // Every lane holds every group's score: the kept groups are chosen in
    // each lane alike (a serial arg-max, strict `>` from group 0).
    SmallVector<Value> kept(groups, arith::ConstantIntOp::create(b, loc, 0, 1));
    for (int64_t round = 0, rounds = op.getTopKGroups(); round < rounds;
         ++round) {
      Value bestValue = negInf, bestGroup = index(b, loc, 0);
      for (auto [g, score] : llvm::enumerate(groupScores)) {
        Value better = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                             score, bestValue);
        bestValue = arith::SelectOp::create(b, loc, better, score, bestValue);
        bestGroup = arith::SelectOp::create(b, loc, better, index(b, loc, g),
                                            bestGroup);
      }
      for (int64_t g = 0; g < groups; ++g) {
        Value picked = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             bestGroup, index(b, loc, g));
        kept[g] = arith::OrIOp::create(b, loc, kept[g], picked);
        groupScores[g] =
            arith::SelectOp::create(b, loc, picked, negInf, groupScores[g]);
      }
    }
    Value zero = lowering::f32Constant(b, loc, 0.0);
    for (auto [j, c] : llvm::enumerate(choices)) {
      Value keep = arith::ConstantIntOp::create(b, loc, 0, 1);
      for (int64_t g = 0; g < groups; ++g)
        keep = arith::OrIOp::create(
            b, loc, keep,
            arith::AndIOp::create(
                b, loc, kept[g],
                arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      groupOf[j], index(b, loc, g))));
      // Upper lanes' empty slots stay -inf: they are no expert.
      Value masked = arith::SelectOp::create(b, loc, keep, c.value, zero);
      c.value = arith::SelectOp::create(b, loc, held[j], masked, negInf);
    }
  }

  /// The top-k, one warp-wide arg-max each (the chosen expert's choice then
  /// -inf); lane 0 writes the chosen scores, normalised and scaled, and
  /// their experts.
  void chooseExperts(OpBuilder &b, Location loc, Value bi, Value ti,
                     ArrayRef<Value> scores, SmallVector<Candidate> &choices) {
    Value negInf = lowering::f32Constant(b, loc, -INFINITY);
    SmallVector<Value> weights, chosen;
    for (int64_t k = 0; k < int64_t(op.getTopK()); ++k) {
      Candidate best = argmax(b, loc, choices);
      Value owner =
          arith::RemUIOp::create(b, loc, best.expert, index(b, loc, kWarpSize));
      Value slot =
          arith::DivUIOp::create(b, loc, best.expert, index(b, loc, kWarpSize));
      // The owner's score of the chosen expert, to every lane.
      Value score = scores[0];
      for (int64_t j = 1; j < int64_t(scores.size()); ++j)
        score = arith::SelectOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, slot,
                                  index(b, loc, j)),
            scores[j], score);
      weights.push_back(shuffleFrom(b, loc, score, owner));
      chosen.push_back(best.expert);
      for (Candidate &c : choices) {
        Value taken = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            c.expert, best.expert);
        c.value = arith::SelectOp::create(b, loc, taken, negInf, c.value);
      }
    }
    Value total = lowering::f32Constant(b, loc, 1.0);
    if (op.getNormalize()) {
      Value sum = lowering::f32Constant(b, loc, 0.0);
      for (Value w : weights)
        sum = arith::AddFOp::create(b, loc, sum, w);
      total = arith::AddFOp::create(
          b, loc, sum,
          lowering::f32Constant(b, loc,
                                op.getNormalizeEpsilon().convertToDouble()));
    }
    Value scaling =
        lowering::f32Constant(b, loc, op.getRoutedScaling().convertToDouble());
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                        index(b, loc, 0));
    auto writer = scf::IfOp::create(b, loc, first, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&writer.getThenRegion().front());
    for (auto [k, w] : llvm::enumerate(weights)) {
      SmallVector<Value> at = {bi, ti, index(b, loc, k)};
      Value scaled = arith::MulFOp::create(
          b, loc, arith::DivFOp::create(b, loc, w, total), scaling);
      memref::StoreOp::create(b, loc, scaled, op.getWeightsInit(), at);
      memref::StoreOp::create(
          b, loc,
          arith::IndexCastUIOp::create(b, loc, b.getI64Type(), chosen[k]),
          op.getIndicesInit(), at);
    }
  }

  WarpRouterOp op;
  int64_t experts;
  Value lane;
};

} // namespace

void buildWarpRouter(OpBuilder &b, WarpRouterOp op) {
  WarpRouter(op).build(b, op.getLoc());
}

} // namespace mlir::lm::gpu_mapping
