//===- MLAPromptForm.h - MLA's expanded operands as lm ops ------*- C++ -*-===//
//
// The one home of lm.mla_attention's expanded (prompt) form up to its
// attention: the host lowering takes these operands into its attention
// generics, lm-select-gpu-kernels into flash attention, so both compute the
// same thing.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_LIB_CODEGEN_MLAPROMPTFORM_H
#define LMC_LIB_CODEGEN_MLAPROMPTFORM_H

#include "lmc/Dialect/LM/LMOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::lm {

/// Per-head queries `[B, T, H, Dn + Dr]`, keys `[B, S, H, Dn + Dr]` and
/// values `[B, S, H, Dv]`, all f32, of an MLA attention.
struct MLAPromptOperands {
  Value query, key, value;
};

/// `op`'s expanded operands at the builder: the cached latents projected
/// by kv_b in one lm.linear over every key (rounded to bf16 first under
/// `bf16_products`), read per head through lm.split_heads and lm.slice
/// (k_nope, v); each head's key `[k_nope || k_rope]` with the one rotary
/// key broadcast to every head; the query `[q_nope || q_rope]`.
MLAPromptOperands buildMLAPromptOperands(OpBuilder &b, Location loc,
                                         MLAAttentionOp op);

} // namespace mlir::lm

#endif // LMC_LIB_CODEGEN_MLAPROMPTFORM_H
