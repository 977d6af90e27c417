//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The runtime reaches the GPU only through the driver API of libcuda.so.1,
// opened with dlopen: the runtime builds and runs its host path on machines
// without CUDA, and says clearly when a GPU was asked for and no driver is
// there. The declarations below are the few driver types the runtime needs,
// spelled as in cuda.h (whose ABI is stable); no CUDA header is included.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_CUDADRIVER_H
#define LMC_RT_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace lmc::rt::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
constexpr int CU_STREAM_CAPTURE_MODE_RELAXED = 2;
/// A TMA tensor map (CUtensorMap): opaque, 128 bytes, 64-byte aligned.
constexpr size_t kTensorMapBytes = 128;

/// The driver entry points, resolved once per process.
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  // Copies in and memsets are ordered on the runtime's stream: it does not
  // synchronise with the legacy default stream the plain calls use.
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  // Graphs: a decode step captured once, then replayed with one launch.
  CUresult (*cuStreamBeginCapture)(CUstream, int);
  CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
  CUresult (*cuGraphInstantiate)(CUgraphExec *, CUgraph, unsigned long long);
  CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec);
  CUresult (*cuGraphDestroy)(CUgraph);
  // TMA: the tensor maps the tensor-core GEMM's copies read.
  CUresult (*cuTensorMapEncodeTiled)(void *tensorMap, int dataType,
                                     unsigned rank, void *globalAddress,
                                     const unsigned long long *globalDim,
                                     const unsigned long long *globalStrides,
                                     const unsigned *boxDim,
                                     const unsigned *elementStrides,
                                     int interleave, int swizzle,
                                     int l2Promotion, int oobFill);

  /// "cuInit: no CUDA-capable device is detected (error 100)".
  std::string describe(const char *call, CUresult result) const;
};

/// The process's driver, loaded on first use; null with `error` set to a
/// one-line reason ("no CUDA driver found (...)") when libcuda.so.1 cannot
/// be opened or lacks an entry point.
const Driver *loadDriver(std::string &error);

/// What the runtime needs to know of a GPU before using it.
struct DeviceInfo {
  CUdevice device = 0;
  std::string name;
  int major = 0, minor = 0; // compute capability
  size_t memoryBytes = 0;
};

/// Initialises the driver and describes device `ordinal`; fails with a
/// one-line `error` naming the driver call that failed.
bool probeDevice(const Driver &driver, int ordinal, DeviceInfo &info,
                 std::string &error);

} // namespace lmc::rt::cuda

#endif // LMC_RT_CUDADRIVER_H
