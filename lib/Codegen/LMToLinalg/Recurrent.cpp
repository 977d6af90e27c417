//===- Recurrent.cpp - Short convolutions, delta rules, selective scans ---===//
//
// The recurrent mixers are written as their defining recurrences, loops over
// buffers, with the state buffer (owned by the runtime, see lm-lower-state)
// read and updated in place. These are the ground truth forms; chunked
// prefill forms are a later optimisation with these as their reference.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lm;
using namespace mlir::lm::lowering;

namespace {
/// The runtime buffer behind a recurrent state value (lm-lower-state views
/// it through an unrealized cast).
FailureOr<Value> stateBuffer(Value state) {
  auto cast = state.getDefiningOp<UnrealizedConversionCastOp>();
  if (!cast || cast.getNumOperands() != 1 ||
      !isa<MemRefType>(cast.getOperand(0).getType()))
    return failure();
  return cast.getOperand(0);
}

Value allocLike(OpBuilder &b, Location loc, Value tensor) {
  auto t = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> dynamic;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (t.isDynamicDim(i))
      dynamic.push_back(tensor::DimOp::create(b, loc, tensor, i));
  return memref::AllocOp::create(
      b, loc, MemRefType::get(t.getShape(), b.getF32Type()), dynamic);
}

Value asTensor(OpBuilder &b, Location loc, Value buffer, Type type) {
  return bufferization::ToTensorOp::create(b, loc, type, buffer,
                                           /*restrict=*/true, /*writable=*/true);
}

Value c(OpBuilder &b, Location loc, int64_t v) { return indexConstant(b, loc, v); }

/// Emits `if (tokens == 1) decode else prefill`: the recurrent mixers step
/// their recurrence for a decode token and run the chunked form over a
/// prompt.
void decodeOrPrefill(OpBuilder &b, Location loc, Value tokens,
                     function_ref<void(OpBuilder &, Location)> decode,
                     function_ref<void(OpBuilder &, Location)> prefill) {
  Value single =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tokens, c(b, loc, 1));
  auto emit = [](function_ref<void(OpBuilder &, Location)> body) {
    return [body](OpBuilder &b, Location l) {
      body(b, l);
      scf::YieldOp::create(b, l);
    };
  };
  scf::IfOp::create(b, loc, single, emit(decode), emit(prefill));
}

/// The tokens sequence `bi` holds in this call: `lengths[bi]` in a ragged
/// batch (`lengths` a buffer), else all `tokens`.
Value sequenceLength(OpBuilder &b, Location loc, Value lengths, Value bi,
                     Value tokens) {
  if (!lengths)
    return tokens;
  Value length = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                            load(b, loc, lengths, bi));
  return arith::MinUIOp::create(b, loc, length, tokens);
}

/// Stores zero at every `out[bi, t, ...]` of a padding token (t at or past
/// sequence bi's length) of a ragged batch: a pass of its own over the
/// output, so the recurrences stay as they are (inside them, the stores
/// unroll into spills).
void zeroPadding(OpBuilder &b, Location loc, Value out, Value lengths,
                 Value tokens) {
  SmallVector<Value> extents;
  for (int64_t i = 0, e = cast<MemRefType>(out.getType()).getRank(); i < e; ++i)
    extents.push_back(memref::DimOp::create(b, loc, out, i));
  forEachParallel(
      b, loc, extents, [&](OpBuilder &b, Location l, ValueRange ivs) {
        Value padding = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::uge, ivs[1],
            sequenceLength(b, l, lengths, ivs[0], tokens));
        scf::IfOp::create(b, l, padding, [&](OpBuilder &b, Location l) {
          memref::StoreOp::create(b, l, f32Constant(b, l, 0.0), out, ivs);
          scf::YieldOp::create(b, l);
        });
      });
}

/// lm.causal_conv1d: y[b, t, c] = act(sum_j w[c, 0, j] x'[b, t - (K-1) + j, c]
/// + bias[c]) where x' reads the carried inputs before the sequence; the
/// state becomes the last K-1 inputs.
struct LowerCausalConv1d final : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<Value> state = stateBuffer(op.getState());
    if (failed(state))
      return rewriter.notifyMatchFailure(op, "state is not a runtime buffer");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    const int64_t channels =
        cast<RankedTensorType>(op.getInput().getType()).getDimSize(2);
    const int64_t kernel =
        cast<RankedTensorType>(op.getWeight().getType()).getDimSize(2);
    const ActivationKind act = op.getActivation();
    Value x = toBuffer(b, loc, op.getInput());
    Value w = toBuffer(b, loc, op.getWeight());
    Value bias = op.getBias() ? toBuffer(b, loc, op.getBias()) : Value();
    Value lengths =
        op.getLengths() ? toBuffer(b, loc, op.getLengths()) : Value();
    Value batch = memref::DimOp::create(b, loc, x, 0);
    Value tokens = memref::DimOp::create(b, loc, x, 1);
    Value out = allocLike(b, loc, op.getInput());
    Value c0 = c(b, loc, 0), numChannels = c(b, loc, channels);
    Value past = c(b, loc, kernel - 1);
    // x'(b, tau, ch) for tau in [-(K-1), T).
    auto input = [&](OpBuilder &b, Location l, Value bi, Value tau, Value ch) {
      Value before = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, tau,
                                           c(b, l, 0));
      auto ifOp = scf::IfOp::create(
          b, l, before,
          [&](OpBuilder &nb, Location nl) {
            Value slot = arith::AddIOp::create(nb, nl, tau, past);
            scf::YieldOp::create(
                nb, nl, load(nb, nl, *state, ValueRange{bi, ch, slot}));
          },
          [&](OpBuilder &nb, Location nl) {
            scf::YieldOp::create(nb, nl,
                                 load(nb, nl, x, ValueRange{bi, tau, ch}));
          });
      return ifOp.getResult(0);
    };
    forEachParallel(
        b, loc, {batch, tokens, numChannels},
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          Value bi = ivs[0], ti = ivs[1], ch = ivs[2];
          Value init = bias ? toF32(b, l, load(b, l, bias, ch))
                            : f32Constant(b, l, 0.0);
          Value acc = reduce(
              b, l, c0, c(b, l, kernel), init,
              [&](OpBuilder &b, Location l, Value j, Value acc) {
                Value tau = arith::SubIOp::create(
                    b, l, arith::AddIOp::create(b, l, ti, j), past);
                Value wv = toF32(b, l, load(b, l, w, ValueRange{ch, c(b, l, 0), j}));
                return arith::AddFOp::create(
                    b, l, acc,
                    arith::MulFOp::create(b, l, wv, input(b, l, bi, tau, ch)));
              });
          Value y = applyActivation(b, l, act, acc);
          if (lengths) {
            Value real = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::ult, ti,
                sequenceLength(b, l, lengths, bi, tokens));
            y = arith::SelectOp::create(b, l, real, y, f32Constant(b, l, 0.0));
          }
          memref::StoreOp::create(b, l, y, out, ValueRange{bi, ti, ch});
        });
    // New state: the last K-1 inputs before the sequence's end (computed
    // aside, as it may read the old).
    if (kernel > 1) {
      Value next = memref::AllocOp::create(
          b, loc, cast<MemRefType>(state->getType()), ValueRange{batch});
      forEachParallel(
          b, loc, {batch, numChannels, past},
          [&](OpBuilder &b, Location l, ValueRange ivs) {
            Value bi = ivs[0], ch = ivs[1], i = ivs[2];
            Value end = sequenceLength(b, l, lengths, bi, tokens);
            Value tau = arith::SubIOp::create(
                b, l, arith::AddIOp::create(b, l, end, i), past);
            memref::StoreOp::create(b, l, input(b, l, bi, tau, ch), next,
                                    ValueRange{bi, ch, i});
          });
      memref::CopyOp::create(b, loc, next, *state);
    }
    rewriter.replaceOp(op, {asTensor(b, loc, out, op.getType(0)), op.getState()});
    return success();
  }
};

/// lm.decay_gate: -exp(a_log[h]) * softplus(a + dt_bias).
struct LowerDecayGate final : OpRewritePattern<DecayGateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DecayGateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getInput().getType());
    const int64_t rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
    // a_log holds one value per head, dt_bias one per trailing element:
    // index them by flat position.
    Value aLog = toBuffer(rewriter, loc, op.getALog());
    Value dtBias = toBuffer(rewriter, loc, op.getDtBias());
    auto flat = [&](OpBuilder &b, Location l, Value m) {
      auto t = cast<MemRefType>(m.getType());
      SmallVector<ReassociationIndices> all = {{}};
      for (int64_t i = 0; i < t.getRank(); ++i)
        all[0].push_back(i);
      return memref::CollapseShapeOp::create(b, l, m, all);
    };
    Value aLogFlat = flat(rewriter, loc, aLog);
    Value dtBiasFlat = flat(rewriter, loc, dtBias);
    const int64_t channels = rank == 4 ? type.getDimSize(3) : 1;
    (void)d;
    Value result = buildPointwise(
        rewriter, loc, op.getInput(), op.getInput(),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value h = linalg::IndexOp::create(b, l, 2);
          Value e = h;
          if (rank == 4)
            e = arith::AddIOp::create(
                b, l, arith::MulIOp::create(b, l, h, c(b, l, channels)),
                linalg::IndexOp::create(b, l, 3));
          Value decay = math::ExpOp::create(
              b, l, toF32(b, l, load(b, l, aLogFlat, h)));
          Value dt = softplus(
              b, l,
              arith::AddFOp::create(b, l, args[0],
                                    toF32(b, l, load(b, l, dtBiasFlat, e))));
          return arith::NegFOp::create(b, l,
                                       arith::MulFOp::create(b, l, decay, dt));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The buffers and shapes of one gated_delta_rule.
struct DeltaRuleBuffers {
  Value q, k, v, g, beta, out, state;
  bool perChannel;
  int64_t keyDim, valueDim, valueHeads, ratio;
  double scale;
};

/// Chunk scratch of the delta rule's chunked form for every (sequence, value
/// head): one buffer each, sliced per point with pointView.
struct DeltaRuleScratch {
  Value Gc, T, U, W, Vn;
};

constexpr int64_t kDeltaRuleChunk = 64;

DeltaRuleScratch deltaRuleScratch(OpBuilder &b, Location loc,
                                  const DeltaRuleBuffers &d,
                                  ValueRange points) {
  auto scratch = [&](int64_t rows, int64_t cols) {
    return scratchPerPoint(b, loc, points,
                           {b.getIndexAttr(rows), b.getIndexAttr(cols)});
  };
  constexpr int64_t chunk = kDeltaRuleChunk;
  return {scratch(chunk, d.keyDim), scratch(chunk, chunk),
          scratch(chunk, d.valueDim), scratch(chunk, d.keyDim),
          scratch(chunk, d.valueDim)};
}

/// The chunked (WY) form of the delta rule, chunk by chunk of up to 64
/// tokens, per sequence and value head, with G the within-chunk cumulative
/// log decay (per key channel, or per head broadcast over channels):
///   A[i][j] = beta_i sum_c k_i[c] k_j[c] exp(G_i[c] - G_j[c])   (j < i)
///   T = (I + A)^-1                                   (forward substitution)
///   U = T (beta v),  W = T (beta k exp(G)),  V' = U - W S
///   o_i = scale (sum_c q_i[c] exp(G_i[c]) S[c] + sum_{j<=i} a_ij V'_j),
///         a_ij = sum_c q_i[c] k_j[c] exp(G_i[c] - G_j[c])
///   S <- exp(G_last) S + sum_j (k_j exp(G_last - G_j)) V'_j^T
/// which equals the token-by-token recurrence; for the sequence and value
/// head `ivs` and its first `tokens` tokens.
void chunkedDeltaRule(OpBuilder &b, Location l, const DeltaRuleBuffers &d,
                      const DeltaRuleScratch &scratch, ValueRange ivs,
                      Value tokens) {
  constexpr int64_t chunk = kDeltaRuleChunk;
  const int64_t kdim = d.keyDim, vdim = d.valueDim;
  Value c0 = c(b, l, 0), kd = c(b, l, kdim), vd = c(b, l, vdim);
  Value zero = f32Constant(b, l, 0.0);
  auto add = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return arith::AddFOp::create(b, l, x, y);
  };
  auto mul = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return arith::MulFOp::create(b, l, x, y);
  };
  auto exp = [](OpBuilder &b, Location l, Value x) -> Value {
    return math::ExpOp::create(b, l, x);
  };
  auto sub = [](OpBuilder &b, Location l, Value x, Value y) -> Value {
    return arith::SubFOp::create(b, l, x, y);
  };
  Value S = d.state;
  Value numChunks = arith::CeilDivUIOp::create(b, l, tokens, c(b, l, chunk));
  Value bi = ivs[0], h = ivs[1];
  Value Gc = pointView(b, l, scratch.Gc, ivs),
        T = pointView(b, l, scratch.T, ivs),
        U = pointView(b, l, scratch.U, ivs),
        W = pointView(b, l, scratch.W, ivs),
        Vn = pointView(b, l, scratch.Vn, ivs);
  Value hk = arith::DivUIOp::create(b, l, h, c(b, l, d.ratio));
  forEach(
      b, l, c0, numChunks, [&](OpBuilder &b, Location l, Value ci) {
        Value t0 = arith::MulIOp::create(b, l, ci, c(b, l, chunk));
        Value n = arith::MinUIOp::create(
            b, l, c(b, l, chunk), arith::SubIOp::create(b, l, tokens, t0));
        auto tok = [&](OpBuilder &b, Location l, Value i) {
          return arith::AddIOp::create(b, l, t0, i);
        };
        auto K = [&](OpBuilder &b, Location l, Value i, Value ch) {
          return load(b, l, d.k, ValueRange{bi, tok(b, l, i), hk, ch});
        };
        auto Q = [&](OpBuilder &b, Location l, Value i, Value ch) {
          return load(b, l, d.q, ValueRange{bi, tok(b, l, i), hk, ch});
        };
        auto Beta = [&](OpBuilder &b, Location l, Value i) {
          return load(b, l, d.beta, ValueRange{bi, tok(b, l, i), h});
        };
        auto G = [&](OpBuilder &b, Location l, Value i, Value ch) {
          return load(b, l, Gc, ValueRange{i, ch});
        };
        // G: cumulative log decay within the chunk.
        forEach(b, l, c0, kd, [&](OpBuilder &b, Location l, Value ch) {
          reduce(b, l, c0, n, zero,
                 [&](OpBuilder &b, Location l, Value i, Value acc) {
                   Value gv =
                       d.perChannel
                           ? load(b, l, d.g,
                                  ValueRange{bi, tok(b, l, i), h, ch})
                           : load(b, l, d.g, ValueRange{bi, tok(b, l, i), h});
                   Value sum = add(b, l, acc, gv);
                   memref::StoreOp::create(b, l, sum, Gc, ValueRange{i, ch});
                   return sum;
                 });
        });
        // T = (I + A)^-1, row by row.
        forEach(b, l, c0, n, [&](OpBuilder &b, Location l, Value i) {
          forEach(b, l, c0, i, [&](OpBuilder &b, Location l, Value j) {
            // -(A[i][j] + sum_{j<m<i} A[i][m] T[m][j])
            auto Aim = [&](OpBuilder &b, Location l, Value m) {
              Value dot = reduce(
                  b, l, c0, kd, zero,
                  [&](OpBuilder &b, Location l, Value ch, Value acc) {
                    Value e =
                        exp(b, l, sub(b, l, G(b, l, i, ch), G(b, l, m, ch)));
                    return add(b, l, acc,
                               mul(b, l,
                                   mul(b, l, K(b, l, i, ch), K(b, l, m, ch)),
                                   e));
                  });
              return mul(b, l, Beta(b, l, i), dot);
            };
            Value jp1 = arith::AddIOp::create(b, l, j, c(b, l, 1));
            Value acc = reduce(b, l, jp1, i, Aim(b, l, j),
                               [&](OpBuilder &b, Location l, Value m,
                                   Value acc) {
                                 return add(b, l, acc,
                                            mul(b, l, Aim(b, l, m),
                                                load(b, l, T, ValueRange{m, j})));
                               });
            memref::StoreOp::create(b, l, arith::NegFOp::create(b, l, acc), T,
                                    ValueRange{i, j});
          });
          memref::StoreOp::create(b, l, f32Constant(b, l, 1.0), T,
                                  ValueRange{i, i});
        });
        // U = T (beta v), W = T (beta k exp(G)).
        forEach(b, l, c0, n, [&](OpBuilder &b, Location l, Value i) {
          Value ip1 = arith::AddIOp::create(b, l, i, c(b, l, 1));
          forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value e) {
            Value u = reduce(b, l, c0, ip1, zero,
                             [&](OpBuilder &b, Location l, Value j, Value acc) {
                               Value bv = mul(b, l, Beta(b, l, j),
                                              load(b, l, d.v, ValueRange{bi, tok(b, l, j), h, e}));
                               return add(b, l, acc,
                                          mul(b, l, load(b, l, T, ValueRange{i, j}), bv));
                             });
            memref::StoreOp::create(b, l, u, U, ValueRange{i, e});
          });
          forEach(b, l, c0, kd, [&](OpBuilder &b, Location l, Value ch) {
            Value w = reduce(b, l, c0, ip1, zero,
                             [&](OpBuilder &b, Location l, Value j, Value acc) {
                               Value bk = mul(b, l, mul(b, l, Beta(b, l, j), K(b, l, j, ch)),
                                              exp(b, l, G(b, l, j, ch)));
                               return add(b, l, acc,
                                          mul(b, l, load(b, l, T, ValueRange{i, j}), bk));
                             });
            memref::StoreOp::create(b, l, w, W, ValueRange{i, ch});
          });
        });
        // V' = U - W S; outputs (with S before this chunk's update).
        forEach(b, l, c0, n, [&](OpBuilder &b, Location l, Value i) {
          forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value e) {
            Value ws = reduce(b, l, c0, kd, zero,
                              [&](OpBuilder &b, Location l, Value ch,
                                  Value acc) {
                                return add(b, l, acc,
                                           mul(b, l, load(b, l, W, ValueRange{i, ch}),
                                               load(b, l, S, ValueRange{bi, h, ch, e})));
                              });
            memref::StoreOp::create(
                b, l, sub(b, l, load(b, l, U, ValueRange{i, e}), ws), Vn,
                ValueRange{i, e});
          });
        });
        forEach(b, l, c0, n, [&](OpBuilder &b, Location l, Value i) {
          Value ip1 = arith::AddIOp::create(b, l, i, c(b, l, 1));
          forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value e) {
            Value inter = reduce(b, l, c0, kd, zero,
                                 [&](OpBuilder &b, Location l, Value ch,
                                     Value acc) {
                                   Value qe = mul(b, l, Q(b, l, i, ch), exp(b, l, G(b, l, i, ch)));
                                   return add(b, l, acc,
                                              mul(b, l, qe, load(b, l, S, ValueRange{bi, h, ch, e})));
                                 });
            Value intra = reduce(
                b, l, c0, ip1, zero,
                [&](OpBuilder &b, Location l, Value j, Value acc) {
                  Value a = reduce(b, l, c0, kd, zero,
                                   [&](OpBuilder &b, Location l, Value ch,
                                       Value acc2) {
                                     Value e2 = exp(b, l, sub(b, l, G(b, l, i, ch), G(b, l, j, ch)));
                                     return add(b, l, acc2,
                                                mul(b, l, mul(b, l, Q(b, l, i, ch), K(b, l, j, ch)), e2));
                                   });
                  return add(b, l, acc,
                             mul(b, l, a, load(b, l, Vn, ValueRange{j, e})));
                });
            memref::StoreOp::create(
                b, l,
                mul(b, l, add(b, l, inter, intra), f32Constant(b, l, d.scale)),
                d.out, ValueRange{bi, tok(b, l, i), h, e});
          });
        });
        // S <- exp(G_last) S + sum_j (k_j exp(G_last - G_j)) V'_j^T.
        Value last = arith::SubIOp::create(b, l, n, c(b, l, 1));
        forEach(b, l, c0, kd, [&](OpBuilder &b, Location l, Value ch) {
          Value gl = G(b, l, last, ch);
          forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value e) {
            Value carried = mul(b, l, exp(b, l, gl),
                                load(b, l, S, ValueRange{bi, h, ch, e}));
            Value fresh = reduce(b, l, c0, n, zero,
                                 [&](OpBuilder &b, Location l, Value j,
                                     Value acc) {
                                   Value kj = mul(b, l, K(b, l, j, ch),
                                                  exp(b, l, sub(b, l, gl, G(b, l, j, ch))));
                                   return add(b, l, acc, mul(b, l, kj, load(b, l, Vn, ValueRange{j, e})));
                                 });
            memref::StoreOp::create(b, l, add(b, l, carried, fresh), S,
                                    ValueRange{bi, h, ch, e});
          });
        });
      });
}

/// lm.gated_delta_rule: decode steps the recurrence below, prefill runs the
/// chunked form (chunkedDeltaRule); per sequence and value head:
/// S <- diag(exp(g)) S; u = beta (v - S^T k); S <- S + k u^T; o = scale S^T q.
struct LowerGatedDeltaRule final : OpRewritePattern<GatedDeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedDeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<Value> state = stateBuffer(op.getState());
    if (failed(state))
      return rewriter.notifyMatchFailure(op, "state is not a runtime buffer");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto vType = cast<RankedTensorType>(op.getValue().getType());
    const int64_t keyHeads = qType.getDimSize(2), keyDim = qType.getDimSize(3);
    const int64_t valueHeads = vType.getDimSize(2), valueDim = vType.getDimSize(3);
    const int64_t ratio = valueHeads / keyHeads;
    const bool perChannel =
        cast<RankedTensorType>(op.getLogDecay().getType()).getRank() == 4;
    const double scale = op.getScale().convertToDouble();
    Value q = toBuffer(b, loc, op.getQuery()), k = toBuffer(b, loc, op.getKey());
    Value v = toBuffer(b, loc, op.getValue());
    Value g = toBuffer(b, loc, op.getLogDecay());
    Value beta = toBuffer(b, loc, op.getBeta());
    Value out = allocLike(b, loc, op.getValue());
    Value c0 = c(b, loc, 0), kd = c(b, loc, keyDim), vd = c(b, loc, valueDim);
    Value batch = memref::DimOp::create(b, loc, q, 0);
    Value tokens = memref::DimOp::create(b, loc, q, 1);
    Value S = *state;
    DeltaRuleBuffers bufs{q, k, v, g, beta, out, S, perChannel, keyDim, valueDim,
                          valueHeads, ratio, scale};
    Value lengths =
        op.getLengths() ? toBuffer(b, loc, op.getLengths()) : Value();
    SmallVector<Value> points = {batch, c(b, loc, valueHeads)};
    // Each (sequence, value head) with its own count of tokens.
    auto perSequenceAndHead =
        [&](OpBuilder &b, Location loc,
            function_ref<void(OpBuilder &, Location, ValueRange, Value)> body) {
          forEachParallel(
              b, loc, points, [&](OpBuilder &b, Location l, ValueRange ivs) {
                body(b, l, ivs, sequenceLength(b, l, lengths, ivs[0], tokens));
              });
        };
    // A decode call steps the recurrence. A prompt runs the chunked form for
    // every sequence, also one shorter than the call (it equals the
    // recurrence); the two stay separate kernels, as one holding both spills.
    auto recurrence = [&](OpBuilder &b, Location loc) {
      Value updates =
          scratchPerPoint(b, loc, points, {b.getIndexAttr(valueDim)});
      perSequenceAndHead(
          b, loc, [&](OpBuilder &b, Location l, ValueRange ivs, Value count) {
            Value bi = ivs[0], h = ivs[1];
            Value update = pointView(b, l, updates, ivs);
            Value hk = arith::DivUIOp::create(b, l, h, c(b, l, ratio));
            forEach(b, l, c0, count, [&](OpBuilder &b, Location l, Value t) {
              // Decay.
              forEach(b, l, c0, kd, [&](OpBuilder &b, Location l, Value i) {
                Value gv = perChannel ? load(b, l, g, ValueRange{bi, t, h, i})
                                      : load(b, l, g, ValueRange{bi, t, h});
                Value f = math::ExpOp::create(b, l, gv);
                forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value j) {
                  Value s = load(b, l, S, ValueRange{bi, h, i, j});
                  memref::StoreOp::create(b, l,
                                          arith::MulFOp::create(b, l, s, f), S,
                                          ValueRange{bi, h, i, j});
                });
              });
              // (S^T x)[j] for x = k or q of this token and key head.
              auto stateDot = [&](OpBuilder &b, Location l, Value x, Value j) {
                return reduce(
                    b, l, c0, kd, f32Constant(b, l, 0.0),
                    [&](OpBuilder &b, Location l, Value i, Value acc) {
                      return arith::AddFOp::create(
                          b, l, acc,
                          arith::MulFOp::create(
                              b, l, load(b, l, S, ValueRange{bi, h, i, j}),
                              load(b, l, x, ValueRange{bi, t, hk, i})));
                    });
              };
              // u = beta (v - S^T k).
              Value bv = load(b, l, beta, ValueRange{bi, t, h});
              forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value j) {
                Value read = stateDot(b, l, k, j);
                Value diff = arith::SubFOp::create(
                    b, l, load(b, l, v, ValueRange{bi, t, h, j}), read);
                memref::StoreOp::create(
                    b, l, arith::MulFOp::create(b, l, bv, diff), update, j);
              });
              // S += k u^T.
              forEach(b, l, c0, kd, [&](OpBuilder &b, Location l, Value i) {
                Value ki = load(b, l, k, ValueRange{bi, t, hk, i});
                forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value j) {
                  Value s = load(b, l, S, ValueRange{bi, h, i, j});
                  Value add =
                      arith::MulFOp::create(b, l, ki, load(b, l, update, j));
                  memref::StoreOp::create(b, l,
                                          arith::AddFOp::create(b, l, s, add),
                                          S, ValueRange{bi, h, i, j});
                });
              });
              // o = scale S^T q.
              forEach(b, l, c0, vd, [&](OpBuilder &b, Location l, Value j) {
                Value o = stateDot(b, l, q, j);
                memref::StoreOp::create(
                    b, l,
                    arith::MulFOp::create(b, l, o, f32Constant(b, l, scale)),
                    out, ValueRange{bi, t, h, j});
              });
            });
          });
    };
    decodeOrPrefill(
        b, loc, tokens, recurrence, [&](OpBuilder &b, Location loc) {
          DeltaRuleScratch scratch = deltaRuleScratch(b, loc, bufs, points);
          perSequenceAndHead(
              b, loc,
              [&](OpBuilder &b, Location l, ValueRange ivs, Value count) {
                chunkedDeltaRule(b, l, bufs, scratch, ivs, count);
              });
        });
    if (lengths)
      zeroPadding(b, loc, out, lengths, tokens);
    rewriter.replaceOp(op, {asTensor(b, loc, out, op.getType(0)), op.getState()});
    return success();
  }
};

/// lm.selective_scan (Mamba-2): decode steps the recurrence
/// dt' = clamp(softplus(dt + bias)); S <- exp(dt' A) S + dt' x B^T;
/// y = S C + D x; prefill runs the equivalent chunked (SSD) form.
struct LowerSelectiveScan final : OpRewritePattern<SelectiveScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<Value> state = stateBuffer(op.getState());
    if (failed(state))
      return rewriter.notifyMatchFailure(op, "state is not a runtime buffer");
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto xType = cast<RankedTensorType>(op.getInput().getType());
    auto bType = cast<RankedTensorType>(op.getB().getType());
    const int64_t heads = xType.getDimSize(2), headDim = xType.getDimSize(3);
    const int64_t groups = bType.getDimSize(2), stateDim = bType.getDimSize(3);
    const double dtMin = op.getDtMin().convertToDouble();
    std::optional<double> dtMax;
    if (op.getDtMax())
      dtMax = op.getDtMax()->convertToDouble();
    Value x = toBuffer(b, loc, op.getInput()), dt = toBuffer(b, loc, op.getDt());
    Value dtBias = toBuffer(b, loc, op.getDtBias());
    Value aLog = toBuffer(b, loc, op.getALog());
    Value bm = toBuffer(b, loc, op.getB()), cm = toBuffer(b, loc, op.getC());
    Value dSkip = toBuffer(b, loc, op.getD());
    Value lengths =
        op.getLengths() ? toBuffer(b, loc, op.getLengths()) : Value();
    Value out = allocLike(b, loc, op.getInput());
    Value S = *state;
    Value c0 = c(b, loc, 0);
    Value batch = memref::DimOp::create(b, loc, x, 0);
    Value tokens = memref::DimOp::create(b, loc, x, 1);
    // The chunked (SSD) form for prefill, chunk by chunk of up to 64
    // tokens, with L the within-chunk cumulative log decay (dt A):
    //   y_i = sum_{j<=i} exp(L_i - L_j) dt_j (C_i . B_j) x_j
    //         + exp(L_i) S C_i + D x_i
    //   S  <- exp(L_last) S + sum_j exp(L_last - L_j) dt_j x_j B_j^T
    constexpr int64_t chunk = 64;
    // Every (sequence, head) in parallel, each with its own chunk scratch.
    SmallVector<Value> points = {batch, c(b, loc, heads)};
    Value allLc = scratchPerPoint(b, loc, points, {b.getIndexAttr(chunk)});
    Value allSteps = scratchPerPoint(b, loc, points, {b.getIndexAttr(chunk)});
    Value zero = f32Constant(b, loc, 0.0);
    auto chunkedScan = [&](OpBuilder &b, Location l, Value bi, Value h, Value g,
                           Value a, Value tokens, auto stepAt) {
      Value Lc = pointView(b, l, allLc, {bi, h});
      Value steps = pointView(b, l, allSteps, {bi, h});
      Value numChunks = arith::CeilDivUIOp::create(b, l, tokens, c(b, l, chunk));
      Value skip = toF32(b, l, load(b, l, dSkip, h));
      forEach(b, l, c0, numChunks, [&](OpBuilder &b, Location l, Value ci) {
        Value t0 = arith::MulIOp::create(b, l, ci, c(b, l, chunk));
        Value n = arith::MinUIOp::create(b, l, c(b, l, chunk),
                                         arith::SubIOp::create(b, l, tokens, t0));
        auto tok = [&](OpBuilder &b, Location l, Value i) -> Value {
          return arith::AddIOp::create(b, l, t0, i);
        };
        reduce(b, l, c0, n, zero, [&](OpBuilder &b, Location l, Value i, Value acc) {
          Value step = stepAt(b, l, tok(b, l, i));
          memref::StoreOp::create(b, l, step, steps, i);
          Value sum = arith::AddFOp::create(b, l, acc, arith::MulFOp::create(b, l, step, a));
          memref::StoreOp::create(b, l, sum, Lc, i);
          return sum;
        });
        forEach(b, l, c0, n, [&](OpBuilder &b, Location l, Value i) {
          Value ti = tok(b, l, i);
          Value ip1 = arith::AddIOp::create(b, l, i, c(b, l, 1));
          Value li = load(b, l, Lc, i);
          forEach(b, l, c0, c(b, l, headDim), [&](OpBuilder &b, Location l, Value p) {
            Value intra = reduce(b, l, c0, ip1, zero,
                                 [&](OpBuilder &b, Location l, Value j, Value acc) {
              Value tj = tok(b, l, j);
              Value cb = reduce(b, l, c0, c(b, l, stateDim), zero,
                                [&](OpBuilder &b, Location l, Value nn, Value acc2) {
                                  return arith::AddFOp::create(
                                      b, l, acc2,
                                      arith::MulFOp::create(
                                          b, l, load(b, l, cm, ValueRange{bi, ti, g, nn}),
                                          load(b, l, bm, ValueRange{bi, tj, g, nn})));
                                });
              Value w = arith::MulFOp::create(
                  b, l,
                  math::ExpOp::create(b, l, arith::SubFOp::create(b, l, li, load(b, l, Lc, j))),
                  arith::MulFOp::create(b, l, load(b, l, steps, j), cb));
              return arith::AddFOp::create(
                  b, l, acc, arith::MulFOp::create(b, l, w, load(b, l, x, ValueRange{bi, tj, h, p})));
            });
            Value inter = reduce(b, l, c0, c(b, l, stateDim), zero,
                                 [&](OpBuilder &b, Location l, Value nn, Value acc) {
                                   return arith::AddFOp::create(
                                       b, l, acc,
                                       arith::MulFOp::create(
                                           b, l, load(b, l, S, ValueRange{bi, h, p, nn}),
                                           load(b, l, cm, ValueRange{bi, ti, g, nn})));
                                 });
            inter = arith::MulFOp::create(b, l, math::ExpOp::create(b, l, li), inter);
            Value y = arith::AddFOp::create(
                b, l, arith::AddFOp::create(b, l, intra, inter),
                arith::MulFOp::create(b, l, skip, load(b, l, x, ValueRange{bi, ti, h, p})));
            memref::StoreOp::create(b, l, y, out, ValueRange{bi, ti, h, p});
          });
        });
        Value last = load(b, l, Lc, arith::SubIOp::create(b, l, n, c(b, l, 1)));
        forEach(b, l, c0, c(b, l, headDim), [&](OpBuilder &b, Location l, Value p) {
          forEach(b, l, c0, c(b, l, stateDim), [&](OpBuilder &b, Location l, Value nn) {
            Value carried = arith::MulFOp::create(
                b, l, math::ExpOp::create(b, l, last), load(b, l, S, ValueRange{bi, h, p, nn}));
            Value fresh = reduce(b, l, c0, n, zero,
                                 [&](OpBuilder &b, Location l, Value j, Value acc) {
              Value tj = tok(b, l, j);
              Value w = arith::MulFOp::create(
                  b, l,
                  math::ExpOp::create(b, l, arith::SubFOp::create(b, l, last, load(b, l, Lc, j))),
                  load(b, l, steps, j));
              Value xb = arith::MulFOp::create(b, l, load(b, l, x, ValueRange{bi, tj, h, p}),
                                               load(b, l, bm, ValueRange{bi, tj, g, nn}));
              return arith::AddFOp::create(b, l, acc, arith::MulFOp::create(b, l, w, xb));
            });
            memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, carried, fresh), S,
                                    ValueRange{bi, h, p, nn});
          });
        });
      });
    };
    forEachParallel(
        b, loc, points, [&](OpBuilder &b, Location l, ValueRange ivs) {
          Value bi = ivs[0], h = ivs[1];
          Value count = sequenceLength(b, l, lengths, bi, tokens);
          Value g = arith::DivUIOp::create(b, l, h, c(b, l, heads / groups));
          Value a = arith::NegFOp::create(
              b, l,
              math::ExpOp::create(b, l, toF32(b, l, load(b, l, aLog, h))));
          // The processed step size of token t.
          auto stepAt = [&](OpBuilder &b, Location l, Value t) {
            Value step =
                softplus(b, l,
                         arith::AddFOp::create(
                             b, l, load(b, l, dt, ValueRange{bi, t, h}),
                             toF32(b, l, load(b, l, dtBias, h))));
            step =
                arith::MaximumFOp::create(b, l, step, f32Constant(b, l, dtMin));
            if (dtMax)
              step = arith::MinimumFOp::create(b, l, step,
                                               f32Constant(b, l, *dtMax));
            return step;
          };
          auto recurrence = [&](OpBuilder &b, Location l) {
            forEach(b, l, c0, count, [&](OpBuilder &b, Location l, Value t) {
              Value step = stepAt(b, l, t);
              Value decay = math::ExpOp::create(
                  b, l, arith::MulFOp::create(b, l, step, a));
              Value skip = toF32(b, l, load(b, l, dSkip, h));
              forEach(b, l, c0, c(b, l, headDim),
                      [&](OpBuilder &b, Location l, Value p) {
                        Value xv = load(b, l, x, ValueRange{bi, t, h, p});
                        Value dx = arith::MulFOp::create(b, l, step, xv);
                        Value y = reduce(
                            b, l, c0, c(b, l, stateDim), f32Constant(b, l, 0.0),
                            [&](OpBuilder &b, Location l, Value n, Value acc) {
                              Value s = load(b, l, S, ValueRange{bi, h, p, n});
                              s = arith::AddFOp::create(
                                  b, l, arith::MulFOp::create(b, l, s, decay),
                                  arith::MulFOp::create(
                                      b, l, dx,
                                      load(b, l, bm, ValueRange{bi, t, g, n})));
                              memref::StoreOp::create(b, l, s, S,
                                                      ValueRange{bi, h, p, n});
                              return arith::AddFOp::create(
                                  b, l, acc,
                                  arith::MulFOp::create(
                                      b, l, s,
                                      load(b, l, cm, ValueRange{bi, t, g, n})));
                            });
                        y = arith::AddFOp::create(
                            b, l, y, arith::MulFOp::create(b, l, skip, xv));
                        memref::StoreOp::create(b, l, y, out,
                                                ValueRange{bi, t, h, p});
                      });
            });
          };
          decodeOrPrefill(b, l, count, recurrence,
                          [&](OpBuilder &b, Location l) {
                            chunkedScan(b, l, bi, h, g, a, count, stepAt);
                          });
        });
    if (lengths)
      zeroPadding(b, loc, out, lengths, tokens);
    rewriter.replaceOp(op, {asTensor(b, loc, out, op.getType(0)), op.getState()});
    return success();
  }
};

/// lm.gated_rms_norm over groups of the last dimension:
/// norm_before_gate: w * rms(x) * act(z); otherwise w * rms(x * act(z)).
struct LowerGatedRMSNorm final : OpRewritePattern<GatedRMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedRMSNormOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    auto type = cast<RankedTensorType>(op.getInput().getType());
    const int64_t rank = type.getRank(), channels = type.getDimSize(rank - 1);
    const int64_t group = op.getGroupSize() ? int64_t(op.getGroupSize()) : channels;
    const int64_t groups = channels / group;
    const double eps = op.getEpsilon().convertToDouble();
    const bool before = op.getNormBeforeGate();
    const ActivationKind act = op.getGateActivation();
    Value x = op.getInput();
    if (!before)
      x = buildPointwise(b, loc, {x, op.getGate()}, x,
                         [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                           return arith::MulFOp::create(
                               nb, l, args[0], applyActivation(nb, l, act, args[1]));
                         });
    // [..., C] -> [..., groups, group]
    SmallVector<OpFoldResult> shape = sizesOf(b, loc, x);
    shape.pop_back();
    shape.push_back(b.getIndexAttr(groups));
    shape.push_back(b.getIndexAttr(group));
    SmallVector<int64_t> staticShape(type.getShape());
    staticShape.pop_back();
    staticShape.push_back(groups);
    staticShape.push_back(group);
    SmallVector<ReassociationIndices> split;
    for (int64_t i = 0; i + 1 < rank; ++i)
      split.push_back({i});
    split.push_back({rank - 1, rank});
    auto splitType = RankedTensorType::get(staticShape, b.getF32Type());
    Value xs = tensor::ExpandShapeOp::create(b, loc, splitType, x, split, shape);
    Value squares = buildPointwise(b, loc, xs, xs,
                                   [](OpBuilder &nb, Location l, ValueRange args) -> Value {
                                     return arith::MulFOp::create(nb, l, args[0],
                                                                  args[0]);
                                   });
    Value sums = reduceLast(b, loc, squares);
    MLIRContext *ctx = b.getContext();
    int64_t loops = rank + 1;
    SmallVector<AffineExpr> rowExprs;
    for (int64_t i = 0; i + 1 < loops; ++i)
      rowExprs.push_back(getAffineDimExpr(i, ctx));
    AffineExpr channel = getAffineDimExpr(loops - 2, ctx) * group +
                         getAffineDimExpr(loops - 1, ctx);
    Value normed = buildGeneric(
        b, loc, {xs, sums, op.getWeight()},
        {b.getMultiDimIdentityMap(loops), AffineMap::get(loops, 0, rowExprs, ctx),
         AffineMap::get(loops, 0, channel), b.getMultiDimIdentityMap(loops)},
        emptyTensor(b, loc, shape), iterators(loops),
        [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
          Value inv = inverseRootMean(nb, l, args[1], group, eps);
          return arith::MulFOp::create(
              nb, l, arith::MulFOp::create(nb, l, args[0], inv),
              toF32(nb, l, args[2]));
        });
    Value y = tensor::CollapseShapeOp::create(b, loc, normed, split);
    if (before)
      y = buildPointwise(b, loc, {y, op.getGate()}, y,
                         [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
                           return arith::MulFOp::create(
                               nb, l, args[0], applyActivation(nb, l, act, args[1]));
                         });
    rewriter.replaceOp(op, y);
    return success();
  }
};
} // namespace

void lowering::populateRecurrentPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerCausalConv1d, LowerDecayGate, LowerGatedDeltaRule,
               LowerGatedRMSNorm, LowerSelectiveScan>(patterns.getContext());
}
