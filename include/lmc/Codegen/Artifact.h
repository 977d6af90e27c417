//===- Artifact.h - Compiling a model into a .lmx artifact ------*- C++ -*-===//

#ifndef LMC_CODEGEN_ARTIFACT_H
#define LMC_CODEGEN_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir::lm {

struct CompileOptions {
  std::string target = "host";
  /// "f32", or "bf16": f32 weights become bf16 (converted at load);
  /// activations, accumulation and statistics stay f32.
  std::string dtype = "f32";
  /// "f32", or "bf16": what the KV, latent and key caches store (rounded
  /// as written); compressed caches store f32.
  std::string kvDtype = "f32";
  /// sm_90a: kernel templates chosen on lm ops (flash decoding); false puts
  /// every op on the generic path, to compare against or to fall back to.
  bool selectKernels = true;
};

/// Compiles an imported lm module (its `@forward`) into the bytes of a .lmx
/// artifact: the code object, its entry points and their arguments, the
/// weights table resolved against the module's checkpoint (`lm.weights`)
/// and the state layout. The module is consumed (lowered in place). Sets a
/// one-line `error` and fails on any problem.
LogicalResult compileToArtifact(ModuleOp module, const CompileOptions &options,
                                std::string &artifact, std::string &error);

/// Verifies `bytes` as a .lmx artifact and prints it readably: the model,
/// the weights table, the state layout, the entry points and the code
/// objects. Sets `error` and fails when the buffer is not a valid artifact.
LogicalResult printArtifact(llvm::StringRef bytes, llvm::raw_ostream &os,
                            std::string &error);

/// Verifies `bytes` as a .lmx artifact and writes each of its code objects
/// to `dir` (created when missing) as `code<N>.<target>.<ext>`, the extension
/// following the format (`.so`, `.ptx`, `.cubin`), and prints one line per
/// file written. Sets `error` (naming the file) and fails on any problem;
/// a file that cannot be completely written is removed.
LogicalResult dumpArtifactCode(llvm::StringRef bytes, llvm::StringRef dir,
                               llvm::raw_ostream &os, std::string &error);

/// The launch plan of an sm_90a artifact, read without a GPU: its host code
/// runs against the runtime's trace driver (LMC_RT_DEVICE_TRACE) for a
/// prefill of `batch` x `promptTokens` tokens and one decode step, and each
/// phase's kernel launches (grid, block, dynamic shared memory) and device
/// memory are printed. Sets `error` (one line, naming the file) and fails
/// when the artifact cannot be traced.
LogicalResult printPlan(llvm::StringRef path, int64_t batch,
                        int64_t promptTokens, llvm::raw_ostream &os,
                        std::string &error);

} // namespace mlir::lm

#endif // LMC_CODEGEN_ARTIFACT_H
