//===- Common.h - Helpers of the lm -> linalg lowering ----------*- C++ -*-===//
//
// Internal to lib/Codegen/LMToLinalg: builders for the linalg.generics every
// pattern of the lowering emits, and the populate functions of each file.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_LIB_CODEGEN_LMTOLINALG_COMMON_H
#define LMC_LIB_CODEGEN_LMTOLINALG_COMMON_H

#include "../ScalarFunctions.h"
#include "lmc/Codegen/Passes.h"
#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::lm::lowering {

/// The sizes of a ranked tensor as static attributes or tensor.dim values.
SmallVector<OpFoldResult> sizesOf(OpBuilder &b, Location loc, Value tensor);
/// A tensor.empty of `sizes` (f32 unless `element` says otherwise).
Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type element = {});
/// A tensor of `sizes` filled with `value`.
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   double value);
Value indexConstant(OpBuilder &b, Location loc, int64_t value);
/// Converts a float scalar to f32.
Value toF32(OpBuilder &b, Location loc, Value scalar);
/// The body of a contraction generic: acc + f32(a) * f32(b) for
/// (a, b, acc) block arguments of any float type.
Value multiplyAccumulate(OpBuilder &b, Location loc, ValueRange args);
/// 1 / sqrt(sum / count + eps): the normaliser of RMSNorm and LayerNorm
/// from a sum of squares (or of squared deviations) over `count` elements.
Value inverseRootMean(OpBuilder &b, Location loc, Value sum, int64_t count,
                      double eps);

SmallVector<utils::IteratorType> iterators(int64_t parallel,
                                           int64_t reduction = 0);

/// The body of a generic: scalar block arguments (inputs then output) in,
/// the value to yield out.
using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A linalg.generic over `init` with the given indexing maps (inputs, then
/// the output) and iterators.
Value buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                   ArrayRef<AffineMap> maps, Value init,
                   ArrayRef<utils::IteratorType> iterators, BodyFn body);

/// An elementwise generic over the shape of `like`; each input either has
/// that shape or is rank 1 (broadcast along the last dimension).
Value buildPointwise(OpBuilder &b, Location loc, ValueRange inputs, Value like,
                     BodyFn body);

/// Sums (or takes the maximum, with `max`) over the last dimension.
Value reduceLast(OpBuilder &b, Location loc, Value x, bool max = false);

//===--- Loops over buffers (for ops with data-dependent control flow) ---===//

/// for i in [lb, ub): body(i).
void forEach(OpBuilder &b, Location loc, Value lb, Value ub,
             function_ref<void(OpBuilder &, Location, Value)> body);
/// for ivs in [0, ubs[0]) x [0, ubs[1]) x ..., in parallel (`scf.parallel`:
/// one GPU thread per point): body(ivs). An iteration may only write what
/// belongs to its point.
void forEachParallel(
    OpBuilder &b, Location loc, ValueRange ubs,
    function_ref<void(OpBuilder &, Location, ValueRange)> body);
/// forEachParallel over [0, batch) x [0, tokens): body(bi, ti).
void forEachToken(OpBuilder &b, Location loc, Value batch, Value tokens,
                  function_ref<void(OpBuilder &, Location, Value, Value)> body);
/// f32 scratch of `shape` for every point of a forEachParallel over
/// `extents`: one [extents..., shape...] buffer, sliced with pointView.
Value scratchPerPoint(OpBuilder &b, Location loc, ValueRange extents,
                      ArrayRef<OpFoldResult> shape);
/// The scratch of point `ivs` (a scratchPerPoint buffer's trailing dims).
Value pointView(OpBuilder &b, Location loc, Value scratch, ValueRange ivs);
/// acc = init; for i in [lb, ub): acc = body(i, acc); returns acc.
Value reduce(OpBuilder &b, Location loc, Value lb, Value ub, Value init,
             function_ref<Value(OpBuilder &, Location, Value, Value)> body);
/// A read-only buffer of a tensor.
Value toBuffer(OpBuilder &b, Location loc, Value tensor);
Value load(OpBuilder &b, Location loc, Value memref, ValueRange indices);
Value load(OpBuilder &b, Location loc, Value memref, Value index);
/// Index of the largest element of a 1-D buffer in [0, n) (first on ties).
Value argmax(OpBuilder &b, Location loc, Value scores, Value n);

/// The scores a router gives the experts of one token, from the token's
/// logits row in a buffer [B, T, E]; softmax needs the row's max and sum,
/// computed once at construction.
class RouterScores {
public:
  RouterScores(OpBuilder &b, Location loc, ScoringKind scoring, Value logits,
               Value bi, Value ti, int64_t experts);
  Value logit(OpBuilder &b, Location loc, Value expert) const;
  Value score(OpBuilder &b, Location loc, Value expert) const;

private:
  ScoringKind scoring;
  Value logits, bi, ti, max, sum;
};

/// Buffers for routing results: weights [B, T, k] f32, indices [B, T, k] i64.
std::pair<Value, Value> allocRouting(OpBuilder &b, Location loc, Value batch,
                                     Value tokens, int64_t topK);
/// weights[b, t, :] = weights[b, t, :] / total * scaling.
void scaleRouting(OpBuilder &b, Location loc, Value weights, Value bi,
                  Value ti, int64_t topK, Value total, double scaling);

/// DeepSeek-V4 compressed entries [B, S / ratio, dim] and their positions
/// [B, S / ratio] from the projected rows [B, S, width] of every token.
std::pair<Value, Value> buildCompressedEntries(OpBuilder &b, Location loc,
                                               Value kvRows, Value gateRows,
                                               Value ape, int64_t ratio,
                                               bool overlap, int64_t dim);

void populatePointwisePatterns(RewritePatternSet &patterns);
void populateNormPatterns(RewritePatternSet &patterns);
void populateProjectionPatterns(RewritePatternSet &patterns);
void populateRopePatterns(RewritePatternSet &patterns);
void populateAttentionPatterns(RewritePatternSet &patterns);
void populateMoEPatterns(RewritePatternSet &patterns);
void populateRecurrentPatterns(RewritePatternSet &patterns);
void populateHyperConnectionPatterns(RewritePatternSet &patterns);

} // namespace mlir::lm::lowering

#endif // LMC_LIB_CODEGEN_LMTOLINALG_COMMON_H
