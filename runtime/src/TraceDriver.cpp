//===- TraceDriver.cpp - A CUDA driver that runs nothing and records ------===//

#include "TraceDriver.h"

#include <cstring>
#include <mutex>
#include <set>

namespace lmc::rt::cuda {

namespace {
std::mutex mutex; // one trace per process: the entry points have no context
Trace recorded;
// Addresses handed out: above anything a host pointer could be confused
// with, 256-byte aligned like the driver's.
CUdeviceptr next = CUdeviceptr(1) << 44;
bool capturing = false;
std::vector<TracedLaunch> captured;
char handle; // a context, stream, module or graph: never read

CUresult ok() { return CUDA_SUCCESS; }

CUresult init(unsigned) { return ok(); }
CUresult errorString(CUresult, const char **text) {
  *text = "unknown error";
  return ok();
}
CUresult deviceCount(int *count) {
  *count = 1;
  return ok();
}
CUresult deviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return ok();
}
CUresult deviceName(char *name, int length, CUdevice) {
  std::strncpy(name, "trace (no GPU)", size_t(length));
  return ok();
}
CUresult deviceAttribute(int *value, int attribute, CUdevice) {
  *value = attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR ? 9 : 0;
  return ok();
}
CUresult totalMemory(size_t *bytes, CUdevice) {
  *bytes = size_t(1) << 40;
  return ok();
}
CUresult retainContext(CUcontext *context, CUdevice) {
  *context = reinterpret_cast<CUcontext>(&handle);
  return ok();
}
CUresult releaseContext(CUdevice) { return ok(); }
CUresult setContext(CUcontext) { return ok(); }
CUresult allocate(CUdeviceptr *pointer, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  *pointer = next;
  next += (bytes + 255) / 256 * 256 + 256;
  recorded.allocatedBytes += bytes;
  return ok();
}
CUresult release(CUdeviceptr) { return ok(); }
CUresult copyIn(CUdeviceptr, const void *, size_t, CUstream) { return ok(); }
CUresult copyOut(void *dst, CUdeviceptr, size_t bytes) {
  std::memset(dst, 0, bytes);
  return ok();
}
CUresult copyAsync(CUdeviceptr, CUdeviceptr, size_t, CUstream) { return ok(); }
CUresult memset8(CUdeviceptr, unsigned char, size_t, CUstream) { return ok(); }
CUresult loadModule(CUmodule *module, const void *) {
  *module = reinterpret_cast<CUmodule>(&handle);
  return ok();
}
CUresult unloadModule(CUmodule) { return ok(); }
CUresult getFunction(CUfunction *function, CUmodule, const char *name) {
  // A function is its interned name.
  static std::set<std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  *function = reinterpret_cast<CUfunction>(
      const_cast<char *>(names.insert(name).first->c_str()));
  return ok();
}
CUresult launch(CUfunction function, unsigned gx, unsigned gy, unsigned gz,
                unsigned bx, unsigned by, unsigned bz, unsigned shared,
                CUstream, void **, void **) {
  std::lock_guard<std::mutex> lock(mutex);
  // A captured launch is recorded when its graph is launched.
  (capturing ? captured : recorded.launches)
      .push_back({reinterpret_cast<const char *>(function),
                  {gx, gy, gz},
                  {bx, by, bz},
                  shared});
  return ok();
}
CUresult createStream(CUstream *stream, unsigned) {
  *stream = reinterpret_cast<CUstream>(&handle);
  return ok();
}
CUresult synchronize(CUstream) { return ok(); }
CUresult destroyStream(CUstream) { return ok(); }
CUresult setAttribute(CUfunction, int, int) { return ok(); }
// A graph is the launches captured into it; launching it records them.
using Graph = std::vector<TracedLaunch>;
CUresult beginCapture(CUstream, int) {
  std::lock_guard<std::mutex> lock(mutex);
  capturing = true;
  captured.clear();
  return ok();
}
CUresult endCapture(CUstream, CUgraph *graph) {
  std::lock_guard<std::mutex> lock(mutex);
  capturing = false;
  *graph = reinterpret_cast<CUgraph>(new Graph(std::move(captured)));
  captured.clear();
  return ok();
}
CUresult instantiate(CUgraphExec *executable, CUgraph graph,
                     unsigned long long) {
  *executable = reinterpret_cast<CUgraphExec>(
      new Graph(*reinterpret_cast<Graph *>(graph)));
  return ok();
}
CUresult launchGraph(CUgraphExec executable, CUstream) {
  std::lock_guard<std::mutex> lock(mutex);
  const Graph &graph = *reinterpret_cast<Graph *>(executable);
  recorded.launches.insert(recorded.launches.end(), graph.begin(), graph.end());
  return ok();
}
CUresult destroyExecutable(CUgraphExec executable) {
  delete reinterpret_cast<Graph *>(executable);
  return ok();
}
CUresult destroyGraph(CUgraph graph) {
  delete reinterpret_cast<Graph *>(graph);
  return ok();
}
CUresult encodeTensorMap(void *tensorMap, int, unsigned, void *,
                         const unsigned long long *, const unsigned long long *,
                         const unsigned *, const unsigned *, int, int, int,
                         int) {
  std::memset(tensorMap, 0, kTensorMapBytes);
  return ok();
}
} // namespace

const Driver &traceDriver() {
  static const Driver driver = [] {
    Driver d;
    d.cuInit = init;
    d.cuGetErrorString = errorString;
    d.cuDeviceGetCount = deviceCount;
    d.cuDeviceGet = deviceGet;
    d.cuDeviceGetName = deviceName;
    d.cuDeviceGetAttribute = deviceAttribute;
    d.cuDeviceTotalMem = totalMemory;
    d.cuDevicePrimaryCtxRetain = retainContext;
    d.cuDevicePrimaryCtxRelease = releaseContext;
    d.cuCtxSetCurrent = setContext;
    d.cuMemAlloc = allocate;
    d.cuMemFree = release;
    d.cuMemcpyHtoDAsync = copyIn;
    d.cuMemcpyDtoH = copyOut;
    d.cuMemcpyAsync = copyAsync;
    d.cuMemsetD8Async = memset8;
    d.cuModuleLoadData = loadModule;
    d.cuModuleUnload = unloadModule;
    d.cuModuleGetFunction = getFunction;
    d.cuLaunchKernel = launch;
    d.cuStreamCreate = createStream;
    d.cuStreamSynchronize = synchronize;
    d.cuStreamDestroy = destroyStream;
    d.cuFuncSetAttribute = setAttribute;
    d.cuStreamBeginCapture = beginCapture;
    d.cuStreamEndCapture = endCapture;
    d.cuGraphInstantiate = instantiate;
    d.cuGraphLaunch = launchGraph;
    d.cuGraphExecDestroy = destroyExecutable;
    d.cuGraphDestroy = destroyGraph;
    d.cuTensorMapEncodeTiled = encodeTensorMap;
    return d;
  }();
  return driver;
}

Trace takeTrace() {
  std::lock_guard<std::mutex> lock(mutex);
  Trace taken = std::move(recorded);
  recorded = Trace();
  return taken;
}

} // namespace lmc::rt::cuda
