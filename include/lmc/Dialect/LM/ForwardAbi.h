//===- ForwardAbi.h - Names on the arguments of @forward --------*- C++ -*-===//
//
// The one home of the attribute names and argument names that tie an
// imported model's @forward to the artifact's entry (lib/Codegen/
// EmitArtifact.cpp) and so to the runtime's calling convention: set by the
// importer and lm-lower-state / lm-weights-to-arguments, read by the
// artifact writer and the GPU mapping.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_DIALECT_LM_FORWARDABI_H
#define LMC_DIALECT_LM_FORWARDABI_H

#include "llvm/ADT/StringRef.h"

namespace mlir::lm::abi {

/// The entry point, and the function beside it that sizes its workspace.
inline constexpr llvm::StringLiteral kForward = "forward";
inline constexpr llvm::StringLiteral kWorkspaceBytes =
    "forward_workspace_bytes";

/// Argument attributes.
inline constexpr llvm::StringLiteral kName = "lm.name";       ///< a per-call input
inline constexpr llvm::StringLiteral kWeight = "lm.weight";   ///< a checkpoint tensor
inline constexpr llvm::StringLiteral kStackedWeight = "lm.stacked_weight";
inline constexpr llvm::StringLiteral kStackedCount = "lm.count";
inline constexpr llvm::StringLiteral kState = "lm.state";     ///< a runtime buffer
inline constexpr llvm::StringLiteral kPerSequence = "lm.per_sequence";

/// Values of `lm.name`: the per-call inputs of a (ragged) batch of B
/// sequences and T tokens.
inline constexpr llvm::StringLiteral kInputIds = "input_ids"; ///< [B, T] i64
inline constexpr llvm::StringLiteral kPositions = "positions"; ///< [B, T] i64
/// [B, L] i64: the tokens of the call whose logits it computes (row l of
/// sequence b's logits is its token logit_rows[b, l]): every token, or
/// each sequence's last.
inline constexpr llvm::StringLiteral kLogitRows = "logit_rows";
/// [B] i64: the tokens sequence b holds in this call (its first lengths[b]
/// tokens; the rest is padding that changes no state).
inline constexpr llvm::StringLiteral kLengths = "lengths";
/// index: the cache slots the call reads (at least every held token's
/// position + 1); a host value, so the GPU host code never reads it back.
inline constexpr llvm::StringLiteral kContext = "context";
/// memref<?xi8>, the last argument on the GPU: the activations' arena,
/// which the runtime reserves once per session (lm-take-workspace).
inline constexpr llvm::StringLiteral kWorkspace = "workspace";

/// On the allocation lm-plan-arena makes of its arena (a unit attribute),
/// which lm-take-workspace turns into the workspace argument.
inline constexpr llvm::StringLiteral kArena = "lm.arena";

} // namespace mlir::lm::abi

#endif // LMC_DIALECT_LM_FORWARDABI_H
