//===- GpuLauncher.h - What generated GPU host code calls -------*- C++ -*-===//
//
// A GPU artifact's host code object is the model's orchestration: index
// arithmetic, host control flow and calls to the `mgpu*` functions that
// MLIR's gpu-to-llvm lowering emits (allocate, launch, copy, synchronise),
// which the runtime defines (GpuLauncher.cpp) on top of the driver API.
// All calls act on the GpuDevice made current on the calling thread:
// one context, one stream (so program order is stream order), and a caching
// allocator for the activations (freed blocks are reused in stream order,
// so after the first call a forward pass allocates nothing from the driver).
//
// The generated code cannot take errors back, so the first failing driver
// call is recorded (sticky); later calls do nothing and the runtime reports
// the error when the forward pass returns.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_GPULAUNCHER_H
#define LMC_RT_GPULAUNCHER_H

#include "CudaDriver.h"

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmc::rt::cuda {

class GpuDevice {
public:
  /// Retains GPU `ordinal`'s primary context and creates the stream.
  static std::unique_ptr<GpuDevice> create(const Driver &driver, int ordinal,
                                           std::string &error);
  ~GpuDevice();

  const Driver &driver() const { return *api; }
  CUstream stream() const { return queue; }

  /// The PTX to JIT when the embedded binary does not load.
  void setFallbackPtx(const void *ptx) { fallbackPtx = ptx; }

  /// Driver memory outside the activation cache (weights, state), zeroed
  /// when `zero` (state; weights are overwritten by their upload).
  CUdeviceptr allocate(size_t bytes, const std::string &what, bool zero);
  void release(CUdeviceptr p);

  /// Activation memory: cached by size, reused in stream order.
  void *allocateCached(size_t bytes);
  void releaseCached(void *p);

  /// Records `result` of `call` if it is the first failure; true if OK.
  bool check(const char *call, CUresult result);
  /// The first failure since the last take, or "" (and clears it).
  std::string takeError();
  bool failed() const { return !firstError.empty(); }

  void *loadModule(const void *image);
  void unloadModule(void *module);
  /// `name` in `module`; looked up once (generated code asks per launch,
  /// with the address of its constant name string).
  void *function(void *module, const char *name);

private:
  GpuDevice() = default;
  const Driver *api = nullptr;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream queue = nullptr;
  const void *fallbackPtx = nullptr;
  std::string firstError;
  std::multimap<size_t, void *> freeBlocks;
  std::unordered_map<void *, size_t> blockSizes;
  std::map<std::pair<void *, const char *>, CUfunction> functions;
};

/// Makes `device` the one the mgpu* functions act on in this thread (null
/// to clear). Returns the previous one.
GpuDevice *makeCurrent(GpuDevice *device);

} // namespace lmc::rt::cuda

#endif // LMC_RT_GPULAUNCHER_H
