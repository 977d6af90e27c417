//===- KernelBinary.cpp - PTX out of gpu.binary, cubin through ptxas ------===//

#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"

using namespace mlir;

std::optional<std::string> mlir::lm::findCudaToolkit() {
  SmallVector<std::string> candidates;
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH", "CUDA_ROOT"})
    if (auto root = llvm::sys::Process::GetEnv(variable))
      candidates.push_back(*root);
  // The toolkit that holds the ptxas on PATH.
  if (auto ptxas = llvm::sys::findProgramByName("ptxas"))
    candidates.push_back(
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(*ptxas))
            .str());
  candidates.push_back("/usr/local/cuda");
  for (const std::string &root : candidates) {
    llvm::SmallString<128> libdevice(root);
    llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
    if (llvm::sys::fs::exists(libdevice))
      return root;
  }
  return std::nullopt;
}

/// ptxas of the toolkit, else from PATH.
static std::optional<std::string> findPtxas() {
  if (std::optional<std::string> root = mlir::lm::findCudaToolkit()) {
    llvm::SmallString<128> path(*root);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  if (auto onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  return std::nullopt;
}

/// Runs ptxas on `ptx`; the cubin's bytes, or an error.
static LogicalResult runPtxas(StringRef ptxas, StringRef ptx,
                              std::string &cubin, std::string &error) {
  llvm::SmallString<128> input, output;
  if (llvm::sys::fs::createTemporaryFile("lmc", "ptx", input) ||
      llvm::sys::fs::createTemporaryFile("lmc", "cubin", output)) {
    error = "cannot create temporary files for ptxas";
    return failure();
  }
  llvm::FileRemover removeInput(input), removeOutput(output);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(input, ec);
    if (ec) {
      error = input.str().str() + ": " + ec.message();
      return failure();
    }
    os << ptx;
  }
  llvm::SmallString<128> log;
  llvm::sys::fs::createTemporaryFile("lmc", "log", log);
  llvm::FileRemover removeLog(log);
  std::string arch = ("-arch=" + lm::gpu_target::kChip).str();
  SmallVector<StringRef> args = {ptxas, arch, "-O3", input, "-o", output};
  std::optional<StringRef> redirects[] = {std::nullopt, log.str(), log.str()};
  if (llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects) != 0) {
    auto text = llvm::MemoryBuffer::getFile(log);
    error = "ptxas rejected the generated PTX: " +
            (text ? StringRef((*text)->getBuffer()).trim().split('\n').first.str()
                  : std::string("(no log)"));
    return failure();
  }
  auto buffer = llvm::MemoryBuffer::getFile(output, /*IsText=*/false);
  if (!buffer) {
    error = "cannot read the cubin ptxas wrote";
    return failure();
  }
  cubin = (*buffer)->getBuffer().str();
  return success();
}

LogicalResult mlir::lm::assembleKernels(ModuleOp module, std::string &ptx,
                                        std::string &cubin,
                                        std::string &error) {
  SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
  if (binaries.size() != 1 || binaries.front().getObjects().size() != 1) {
    error = "internal: expected one kernel binary with one object";
    return failure();
  }
  gpu::BinaryOp binary = binaries.front();
  auto object = cast<gpu::ObjectAttr>(binary.getObjects()[0]);
  if (object.getFormat() != gpu::CompilationTarget::Assembly) {
    error = "internal: the kernel binary does not hold PTX";
    return failure();
  }
  ptx = object.getObject().getValue().str();
  std::optional<std::string> ptxas = findPtxas();
  if (!ptxas)
    return success(); // the PTX is embedded and JIT-compiled at load
  if (failed(runPtxas(*ptxas, ptx, cubin, error)))
    return failure();
  // Embed the cubin: the driver loads it without compiling.
  binary.setObjectsAttr(ArrayAttr::get(
      module.getContext(),
      {gpu::ObjectAttr::get(module.getContext(), object.getTarget(),
                            gpu::CompilationTarget::Binary,
                            StringAttr::get(module.getContext(), cubin),
                            object.getProperties(), object.getKernels())}));
  return success();
}
