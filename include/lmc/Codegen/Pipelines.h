//===- Pipelines.h - Pass pipelines and code emission -----------*- C++ -*-===//

#ifndef LMC_CODEGEN_PIPELINES_H
#define LMC_CODEGEN_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>
#include <vector>

namespace mlir::lm {

/// What the user chose that changes the passes: the arithmetic of the
/// projections, what the KV caches store, and whether GPU kernel templates
/// are chosen on lm ops. `lmc compile --dtype / --kv-dtype / --kernels`
/// and the pipelines' options (`lmc-opt --lm-to-gpu="dtype=bf16
/// kv-dtype=bf16 kernel-selection=false"`) set them alike, so lmc-opt
/// reproduces lmc compile.
enum class ArithmeticType { F32, BF16 };
struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<ArithmeticType> dtype{
      *this, "dtype", llvm::cl::desc("The projections' arithmetic"),
      llvm::cl::init(ArithmeticType::F32),
      llvm::cl::values(
          clEnumValN(ArithmeticType::F32, "f32", "f32 throughout"),
          clEnumValN(ArithmeticType::BF16, "bf16",
                     "bf16 weights and projection inputs, f32 sums "
                     "(lm-cast-to-bf16)"))};
  Option<ArithmeticType> kvDtype{
      *this, "kv-dtype",
      llvm::cl::desc("What the KV, latent and key caches store "
                     "(lm-set-cache-types)"),
      llvm::cl::init(ArithmeticType::F32),
      llvm::cl::values(clEnumValN(ArithmeticType::F32, "f32", "f32"),
                       clEnumValN(ArithmeticType::BF16, "bf16",
                                  "bf16, rounded as written"))};
  Option<bool> kernelSelection{
      *this, "kernel-selection",
      llvm::cl::desc("GPU: choose kernel templates on lm ops "
                     "(lm-select-gpu-kernels); off, every op takes the "
                     "generic path"),
      llvm::cl::init(true)};
};

/// `dtype` as `lmc compile --dtype` spells it ("f32", "bf16"); fails with
/// `error` for another.
LogicalResult parseArithmeticType(llvm::StringRef dtype, ArithmeticType &type,
                                  std::string &error);

/// lm IR -> LLVM dialect for the host: buildHostInterfacePipeline, then
/// buildHostLoweringPipeline. `@forward` keeps a C interface
/// (`_mlir_ciface_forward`) whose arguments the artifact describes.
void buildLMToHostPipeline(OpPassManager &pm, const PipelineOptions &options);
/// The weights' and caches' element types as `options` asks, then weights
/// and state become arguments of `@forward`: after this its signature is
/// final (the logits become a trailing out-parameter later).
void buildHostInterfacePipeline(OpPassManager &pm,
                                const PipelineOptions &options);
/// lm ops become linalg on tensors, which is fused, bufferized and lowered
/// to loops and the LLVM dialect.
void buildHostLoweringPipeline(OpPassManager &pm);

/// As buildHostLoweringPipeline, but parallel loops become sm_90a kernels:
/// the module ends as host LLVM dialect (control flow and launches through
/// the runtime's mgpu* functions) plus one `gpu.binary` holding the PTX.
/// `cudaToolkit` is where libdevice is linked from (math functions).
void buildGPULoweringPipeline(OpPassManager &pm, llvm::StringRef cudaToolkit,
                              const PipelineOptions &options);

/// The CUDA toolkit to link libdevice from: CUDA_HOME, CUDA_PATH, CUDA_ROOT,
/// the toolkit of the ptxas on PATH, /usr/local/cuda; the first that has
/// nvvm/libdevice/libdevice.10.bc.
std::optional<std::string> findCudaToolkit();

/// Registers the pipelines with the pass registry (`lm-to-host`, `lm-to-gpu`).
void registerLMPipelines();

/// Translates an LLVM-dialect module to a host shared object (bytes): LLVM
/// IR, optimised for `kind`, an object for the host CPU, linked with the
/// system linker. Sets `error` and fails when a step fails.
/// What the host code does: the model's arithmetic (-O2, reassociation), or
/// only launching GPU kernels: one long function of driver calls, whose time
/// is the driver's; -O0 compiles it 3x faster (Qwen3-0.6B for sm_90a: 60 s
/// -> 21 s in all) and optimisation has nothing to gain there.
enum class HostCodeKind { Compute, Launcher };
LogicalResult emitHostSharedObject(ModuleOp module, std::string &bytes,
                                   std::string &error,
                                   HostCodeKind kind = HostCodeKind::Compute);

/// Takes the PTX out of the module's one `gpu.binary` (the GPU pipeline's
/// result) and, when ptxas is found (PATH, CUDA_HOME, /usr/local/cuda),
/// assembles it for sm_90a into `cubin` and makes the binary embed the
/// cubin instead. Without ptxas `cubin` stays empty and the PTX is embedded
/// (the driver compiles it at load). Fails with `error` when ptxas rejects
/// the PTX.
LogicalResult assembleKernels(ModuleOp module, std::string &ptx,
                              std::string &cubin, std::string &error);

} // namespace mlir::lm

#endif // LMC_CODEGEN_PIPELINES_H
