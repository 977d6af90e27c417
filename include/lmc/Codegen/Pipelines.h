//===- Pipelines.h - Pass pipelines and code emission -----------*- C++ -*-===//

#ifndef LMC_CODEGEN_PIPELINES_H
#define LMC_CODEGEN_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace mlir::lm {

/// lm IR -> LLVM dialect for the host: buildHostInterfacePipeline, then
/// buildHostLoweringPipeline. `@forward` keeps a C interface
/// (`_mlir_ciface_forward`) whose arguments the artifact describes.
void buildLMToHostPipeline(OpPassManager &pm);
/// Weights and state become arguments of `@forward`: after this its
/// signature is final (the logits become a trailing out-parameter later).
void buildHostInterfacePipeline(OpPassManager &pm);
/// lm ops become linalg on tensors, which is fused, bufferized and lowered
/// to loops and the LLVM dialect.
void buildHostLoweringPipeline(OpPassManager &pm);

/// Registers the pipelines with the pass registry (`lm-to-host`).
void registerLMPipelines();

/// Translates an LLVM-dialect module to a host shared object (bytes):
/// LLVM IR at -O2, an object for the host CPU, linked with the system
/// linker. Sets `error` and fails when a step fails.
LogicalResult emitHostSharedObject(ModuleOp module, std::string &bytes,
                                   std::string &error);

} // namespace mlir::lm

#endif // LMC_CODEGEN_PIPELINES_H
