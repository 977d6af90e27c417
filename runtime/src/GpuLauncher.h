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
// A decode step can instead be captured: the generated code runs with the
// stream in capture mode, so its launches are recorded into a graph rather
// than run, and later steps of the same shapes replay that graph with one
// launch. Captured steps take their activation blocks from the same cache;
// the blocks stay valid for the graphs because blocks are only freed after
// every graph is destroyed (and replays, like everything else, run in
// stream order).
//
// The generated code cannot take errors back, so the first failing driver
// call is recorded (sticky); later calls do nothing and the runtime reports
// the error when the forward pass returns.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_GPULAUNCHER_H
#define LMC_RT_GPULAUNCHER_H

#include "CudaDriver.h"

#include <array>
#include <cstdint>
#include <functional>
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
  /// Stream-ordered: a host-to-device copy (a pageable `source` is staged
  /// before the call returns, so it may be reused at once) and zeroing.
  bool copyIn(CUdeviceptr destination, const void *source, size_t bytes);
  bool zero(CUdeviceptr destination, size_t bytes);

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
  /// Launches `function`, first raising its dynamic shared memory limit
  /// when it asks for more than the default 48 KB.
  void launch(CUfunction function, const unsigned grid[3],
              const unsigned block[3], unsigned sharedBytes, void **params,
              void **extra);

  /// What cuTensorMapEncodeTiled is asked (dimensions innermost first).
  struct TensorMapRequest {
    int dataType = 0;
    unsigned rank = 0;
    void *address = nullptr;
    unsigned long long dims[5] = {}, strides[4] = {};
    unsigned box[5] = {};
    int interleave = 0, swizzle = 0, l2Promotion = 0, oobFill = 0;
  };
  /// `request`'s tensor map in device memory, as the kernels take it;
  /// null on failure (the error is kept). Encoded and copied once per
  /// distinct request: weights and activation blocks keep their addresses,
  /// so later calls of the same shapes find theirs (and a captured step
  /// bakes in maps that stay put). A map first asked for while capturing is
  /// copied on a stream of its own, waited for, so that the graph does not
  /// replay the copy. Past 16384 maps (prompts of ever new lengths) the
  /// maps and the graphs are dropped and made again as needed.
  void *tensorMap(const TensorMapRequest &request);

  /// A captured step: the session that owns it (its buffers are baked in)
  /// and the context length its shapes were made for.
  using GraphKey = std::pair<const void *, int64_t>;
  /// `key`'s graph, or null if it has not been captured.
  CUgraphExec graph(const GraphKey &key) const;
  /// Runs `record` (a call of the generated code) with the stream captured
  /// and keeps the graph of what it launched as `key`'s; null on failure
  /// (the error is kept).
  CUgraphExec capture(const GraphKey &key, const std::function<void()> &record);
  /// Replays a captured step on the stream.
  void replay(CUgraphExec graph);
  /// Destroys the graphs `owner` captured (before its buffers are freed).
  void forgetGraphs(const void *owner);

private:
  void destroyGraphs(const void *owner /* null: all */);

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
  std::unordered_map<CUfunction, unsigned> sharedLimits; // raised above 48 KB
  std::map<GraphKey, CUgraphExec> graphs;
  bool capturing = false;
  // Tensor maps: a table of device memory taken with the device, filled in
  // order (`mapsMade` slots so far), and each request's slot.
  CUdeviceptr mapTable = 0;
  size_t mapsMade = 0;
  /// A TensorMapRequest's fields: 7 scalars, then dims, strides and box.
  using TensorMapKey = std::array<unsigned long long, 7 + 5 + 4 + 5>;
  std::map<TensorMapKey, CUdeviceptr> tensorMaps;
  CUstream copyQueue = nullptr; // created on the first map made while capturing
};

/// Makes `device` the one the mgpu* functions act on in this thread (null
/// to clear). Returns the previous one.
GpuDevice *makeCurrent(GpuDevice *device);

} // namespace lmc::rt::cuda

#endif // LMC_RT_GPULAUNCHER_H
