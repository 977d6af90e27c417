//===- GpuLauncher.cpp - The mgpu* functions of generated GPU host code ---===//

#include "GpuLauncher.h"

#include <algorithm>
#include <cstdint>
#include <memory>

namespace lmc::rt::cuda {

namespace {
thread_local GpuDevice *current = nullptr;
constexpr unsigned kStreamNonBlocking = 1;
constexpr CUresult kNoBinaryForGpu = 209;
constexpr CUresult kInvalidImage = 200;
/// Dynamic shared memory a kernel may use without opting in.
constexpr unsigned kDefaultSharedLimit = 48 * 1024;
/// The most tensor maps kept (2 MB of device memory, taken with the device):
/// prompts of ever new lengths ask for new maps of their activations, so
/// past this the maps are made afresh (each map 128 bytes; a Qwen3-0.6B
/// prompt asks for about 200).
constexpr size_t kMaxMaps = 16384;
} // namespace

GpuDevice *makeCurrent(GpuDevice *device) {
  GpuDevice *previous = current;
  current = device;
  return previous;
}

std::unique_ptr<GpuDevice> GpuDevice::create(const Driver &driver, int ordinal,
                                             std::string &error) {
  std::unique_ptr<GpuDevice> gpu(new GpuDevice);
  gpu->api = &driver;
  if (!gpu->check("cuDeviceGet", driver.cuDeviceGet(&gpu->device, ordinal)) ||
      !gpu->check(
          "cuDevicePrimaryCtxRetain",
          driver.cuDevicePrimaryCtxRetain(&gpu->context, gpu->device)) ||
      !gpu->check("cuCtxSetCurrent", driver.cuCtxSetCurrent(gpu->context)) ||
      !gpu->check("cuStreamCreate",
                  driver.cuStreamCreate(&gpu->queue, kStreamNonBlocking)) ||
      !(gpu->mapTable = gpu->allocate(kMaxMaps * kTensorMapBytes, "tensor maps",
                                      /*zero=*/false))) {
    error = gpu->takeError();
    return nullptr;
  }
  return gpu;
}

GpuDevice::~GpuDevice() {
  if (context)
    api->cuCtxSetCurrent(context);
  if (queue)
    api->cuStreamSynchronize(queue);
  destroyGraphs(nullptr); // they use cached blocks: gone before the blocks
  for (auto &[size, p] : freeBlocks)
    api->cuMemFree(reinterpret_cast<CUdeviceptr>(p));
  if (mapTable)
    api->cuMemFree(mapTable);
  if (copyQueue)
    api->cuStreamDestroy(copyQueue);
  if (queue)
    api->cuStreamDestroy(queue);
  if (context)
    api->cuDevicePrimaryCtxRelease(device);
}

bool GpuDevice::check(const char *call, CUresult result) {
  if (result == CUDA_SUCCESS)
    return true;
  if (firstError.empty())
    firstError = api->describe(call, result);
  return false;
}

std::string GpuDevice::takeError() {
  std::string error;
  error.swap(firstError);
  return error;
}

CUdeviceptr GpuDevice::allocate(size_t bytes, const std::string &what,
                                bool zero) {
  CUdeviceptr p = 0;
  CUresult result = api->cuMemAlloc(&p, bytes ? bytes : 1);
  if (result == CUDA_ERROR_OUT_OF_MEMORY && firstError.empty())
    firstError = "out of GPU memory allocating " + what + " (" +
                 std::to_string(bytes) + " bytes)";
  if (!check("cuMemAlloc", result) || (zero && !this->zero(p, bytes)))
    return 0;
  return p;
}

void GpuDevice::release(CUdeviceptr p) {
  if (p)
    api->cuMemFree(p);
}

bool GpuDevice::copyIn(CUdeviceptr destination, const void *source,
                       size_t bytes) {
  return check("cuMemcpyHtoDAsync",
               api->cuMemcpyHtoDAsync(destination, source, bytes, queue));
}

bool GpuDevice::zero(CUdeviceptr destination, size_t bytes) {
  return check("cuMemsetD8Async",
               api->cuMemsetD8Async(destination, 0, bytes, queue));
}

/// The size class of an allocation: four classes per power of two (at most
/// 25% unused), from 256 bytes. Buffers whose size grows a little with
/// each decode step (scores over the context) keep landing in the same
/// class, so the cache holds a few blocks per class instead of one per size.
static size_t sizeClass(size_t bytes) {
  size_t size = 256;
  while (size < bytes)
    size <<= 1;
  if (size <= 1024)
    return size;
  size_t eighth = size >> 3; // classes: 5/8, 6/8, 7/8, 8/8 of `size`
  return (bytes + eighth - 1) / eighth * eighth;
}

void *GpuDevice::allocateCached(size_t bytes) {
  bytes = sizeClass(bytes);
  auto it = freeBlocks.find(bytes);
  if (it != freeBlocks.end()) {
    void *p = it->second;
    freeBlocks.erase(it);
    return p;
  }
  CUdeviceptr p = 0;
  CUresult result = api->cuMemAlloc(&p, bytes);
  if (result == CUDA_ERROR_OUT_OF_MEMORY && !freeBlocks.empty() &&
      !capturing) {
    // Cached blocks of other sizes: give them back (once the stream no
    // longer uses them, and with the graphs that use them) and try again.
    // (Not while capturing: the stream cannot be waited for then.)
    api->cuStreamSynchronize(queue);
    destroyGraphs(nullptr);
    for (auto &[size, block] : freeBlocks) {
      api->cuMemFree(reinterpret_cast<CUdeviceptr>(block));
      blockSizes.erase(block);
    }
    freeBlocks.clear();
    result = api->cuMemAlloc(&p, bytes);
  }
  if (result == CUDA_ERROR_OUT_OF_MEMORY && firstError.empty())
    firstError = "out of GPU memory allocating activations (" +
                 std::to_string(bytes) + " bytes)";
  if (!check("cuMemAlloc", result))
    return nullptr;
  blockSizes[reinterpret_cast<void *>(p)] = bytes;
  return reinterpret_cast<void *>(p);
}

void GpuDevice::releaseCached(void *p) {
  auto it = blockSizes.find(p);
  if (it != blockSizes.end())
    freeBlocks.emplace(it->second, p);
}

void *GpuDevice::loadModule(const void *image) {
  CUmodule module = nullptr;
  CUresult result = api->cuModuleLoadData(&module, image);
  // A cubin for another chip revision: JIT the PTX kept beside it.
  if ((result == kNoBinaryForGpu || result == kInvalidImage) && fallbackPtx)
    result = api->cuModuleLoadData(&module, fallbackPtx);
  check("cuModuleLoadData", result);
  return module;
}

void GpuDevice::unloadModule(void *module) {
  if (!module)
    return;
  for (auto it = functions.begin(); it != functions.end();)
    it = it->first.first == module ? functions.erase(it) : std::next(it);
  api->cuModuleUnload(static_cast<CUmodule>(module));
}

void *GpuDevice::function(void *module, const char *name) {
  auto key = std::make_pair(module, name);
  auto it = functions.find(key);
  if (it != functions.end())
    return it->second;
  CUfunction found = nullptr;
  if (!check("cuModuleGetFunction",
             api->cuModuleGetFunction(&found, static_cast<CUmodule>(module),
                                      name)))
    return nullptr;
  functions.emplace(key, found);
  return found;
}

void GpuDevice::launch(CUfunction function, const unsigned grid[3],
                       const unsigned block[3], unsigned sharedBytes,
                       void **params, void **extra) {
  if (sharedBytes > kDefaultSharedLimit) {
    unsigned &limit = sharedLimits[function];
    if (sharedBytes > limit &&
        !check("cuFuncSetAttribute",
               api->cuFuncSetAttribute(
                   function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                   int(sharedBytes))))
      return;
    limit = std::max(limit, sharedBytes);
  }
  check("cuLaunchKernel",
        api->cuLaunchKernel(function, grid[0], grid[1], grid[2], block[0],
                            block[1], block[2], sharedBytes, queue, params,
                            extra));
}

void *GpuDevice::tensorMap(const TensorMapRequest &request) {
  // The key: every field, spelled out (the struct has padding); a fixed
  // array, so that finding a map allocates nothing.
  TensorMapKey key = {static_cast<unsigned long long>(request.dataType),
                      request.rank,
                      reinterpret_cast<uintptr_t>(request.address),
                      static_cast<unsigned long long>(request.interleave),
                      static_cast<unsigned long long>(request.swizzle),
                      static_cast<unsigned long long>(request.l2Promotion),
                      static_cast<unsigned long long>(request.oobFill)};
  auto rest = key.begin() + 7;
  rest = std::copy(std::begin(request.dims), std::end(request.dims), rest);
  rest =
      std::copy(std::begin(request.strides), std::end(request.strides), rest);
  std::copy(std::begin(request.box), std::end(request.box), rest);
  auto found = tensorMaps.find(key);
  if (found != tensorMaps.end())
    return reinterpret_cast<void *>(found->second);
  alignas(64) unsigned char encoded[kTensorMapBytes];
  const unsigned elementStrides[5] = {1, 1, 1, 1, 1};
  if (!check("cuTensorMapEncodeTiled",
             api->cuTensorMapEncodeTiled(
                 encoded, request.dataType, request.rank, request.address,
                 request.dims, request.strides, request.box, elementStrides,
                 request.interleave, request.swizzle, request.l2Promotion,
                 request.oobFill)))
    return nullptr;
  if (mapsMade == kMaxMaps && !capturing) {
    // Start over in the same table, once nothing uses it: the graphs
    // that baked in maps go too (captured again when their steps come).
    if (!check("cuStreamSynchronize", api->cuStreamSynchronize(queue)))
      return nullptr;
    destroyGraphs(nullptr);
    tensorMaps.clear();
    mapsMade = 0;
  }
  CUdeviceptr slot = mapTable + mapsMade * kTensorMapBytes;
  if (!capturing) {
    if (!copyIn(slot, encoded, kTensorMapBytes))
      return nullptr;
  } else if ((!copyQueue &&
              !check("cuStreamCreate",
                     api->cuStreamCreate(&copyQueue, kStreamNonBlocking))) ||
             !check("cuMemcpyHtoDAsync",
                    api->cuMemcpyHtoDAsync(slot, encoded, kTensorMapBytes,
                                           copyQueue)) ||
             !check("cuStreamSynchronize",
                    api->cuStreamSynchronize(copyQueue))) {
    return nullptr;
  }
  ++mapsMade;
  tensorMaps.emplace(key, slot);
  return reinterpret_cast<void *>(slot);
}

CUgraphExec GpuDevice::graph(const GraphKey &key) const {
  auto it = graphs.find(key);
  return it == graphs.end() ? nullptr : it->second;
}

CUgraphExec GpuDevice::capture(const GraphKey &key,
                               const std::function<void()> &record) {
  if (failed() ||
      !check("cuStreamBeginCapture",
             api->cuStreamBeginCapture(queue, CU_STREAM_CAPTURE_MODE_RELAXED)))
    return nullptr;
  capturing = true;
  record();
  capturing = false;
  // Capture ends even when recording failed, so that the stream is usable.
  CUgraph recorded = nullptr;
  CUresult ended = api->cuStreamEndCapture(queue, &recorded);
  CUgraphExec executable = nullptr;
  if (check("cuStreamEndCapture", ended) && !failed())
    check("cuGraphInstantiate",
          api->cuGraphInstantiate(&executable, recorded, 0));
  if (recorded)
    api->cuGraphDestroy(recorded);
  if (failed()) {
    if (executable)
      api->cuGraphExecDestroy(executable);
    return nullptr;
  }
  graphs[key] = executable;
  return executable;
}

void GpuDevice::replay(CUgraphExec graph) {
  if (!failed())
    check("cuGraphLaunch", api->cuGraphLaunch(graph, queue));
}

void GpuDevice::forgetGraphs(const void *owner) {
  if (owner)
    destroyGraphs(owner);
}

void GpuDevice::destroyGraphs(const void *owner) {
  for (auto it = graphs.begin(); it != graphs.end();) {
    if (owner && it->first.first != owner) {
      ++it;
      continue;
    }
    api->cuGraphExecDestroy(it->second);
    it = graphs.erase(it);
  }
}

} // namespace lmc::rt::cuda

using lmc::rt::cuda::current;

// The functions MLIR's gpu-to-llvm lowering calls, with its signatures
// (mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp). Exported from
// liblmc_rt.so, where the dlopen'ed code object finds them.
extern "C" {

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  return current && !current->failed() ? current->loadModule(data) : nullptr;
}

void *mgpuModuleLoadJIT(void *data, int /*optLevel*/) {
  return mgpuModuleLoad(data, 0);
}

void mgpuModuleUnload(void *module) {
  if (current)
    current->unloadModule(module);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!current || current->failed())
    return nullptr;
  return current->function(module, name);
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  // `stream` is always the device's one stream (mgpuStreamCreate).
  (void)stream;
  if (!current || current->failed())
    return;
  const unsigned grid[3] = {unsigned(gridX), unsigned(gridY), unsigned(gridZ)};
  const unsigned block[3] = {unsigned(blockX), unsigned(blockY),
                             unsigned(blockZ)};
  current->launch(static_cast<lmc::rt::cuda::CUfunction>(function), grid,
                  block, unsigned(sharedBytes), params, extra);
}

// Every stream of the generated code is the device's one stream.
void *mgpuStreamCreate() { return current ? current->stream() : nullptr; }
void mgpuStreamDestroy(void *) {}
void mgpuStreamSynchronize(void *stream) {
  if (current && !current->failed())
    current->check("cuStreamSynchronize",
                   current->driver().cuStreamSynchronize(
                       static_cast<lmc::rt::cuda::CUstream>(stream)));
}

void *mgpuMemAlloc(uint64_t bytes, void * /*stream*/, bool /*hostShared*/) {
  return current && !current->failed() ? current->allocateCached(bytes)
                                       : nullptr;
}

void mgpuMemFree(void *p, void * /*stream*/) {
  if (current)
    current->releaseCached(p);
}

/// A TMA tensor map over the memref `descriptor` describes (rank `rank`,
/// element type `dataType` as CUtensorMapDataType numbers it), boxes of
/// `box` (outermost first, as the memref), in device memory.
void *mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor,
                                     int64_t dataType, int64_t interleave,
                                     int64_t swizzle, int64_t l2Promotion,
                                     int64_t oobFill, int64_t *box) {
  if (!current || current->failed())
    return nullptr;
  // Bytes per element, by CUtensorMapDataType: u8, u16, u32, s32, u64,
  // s64, f16, f32, f64, bf16, f32 ftz, tf32, tf32 ftz.
  static constexpr unsigned kElementBytes[] = {1, 2, 4, 4, 8, 8, 2,
                                               4, 8, 2, 4, 4, 4};
  if (rank < 1 || rank > 5 || dataType < 0 || dataType >= 13) {
    current->check("cuTensorMapEncodeTiled", 1 /* invalid value */);
    return nullptr;
  }
  // A ranked memref descriptor: allocated and aligned pointers, offset,
  // then `rank` sizes and `rank` strides (in elements).
  struct Ranked {
    char *allocated, *aligned;
    int64_t offset, sizesAndStrides[];
  };
  const auto *memref = static_cast<const Ranked *>(descriptor);
  const int64_t *sizes = memref->sizesAndStrides;
  const int64_t *strides = sizes + rank;
  unsigned elementBytes = kElementBytes[dataType];
  lmc::rt::cuda::GpuDevice::TensorMapRequest request;
  request.dataType = int(dataType);
  request.rank = unsigned(rank);
  request.address = memref->aligned + memref->offset * elementBytes;
  for (int64_t i = 0; i < rank; ++i) {
    request.dims[i] = uint64_t(sizes[rank - 1 - i]);
    request.box[i] = unsigned(box[rank - 1 - i]);
    if (i + 1 < rank)
      request.strides[i] = uint64_t(strides[rank - 2 - i]) * elementBytes;
  }
  request.interleave = int(interleave);
  request.swizzle = int(swizzle);
  request.l2Promotion = int(l2Promotion);
  request.oobFill = int(oobFill);
  return current->tensorMap(request);
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream) {
  if (current && !current->failed())
    current->check("cuMemcpyAsync",
                   current->driver().cuMemcpyAsync(
                       reinterpret_cast<lmc::rt::cuda::CUdeviceptr>(dst),
                       reinterpret_cast<lmc::rt::cuda::CUdeviceptr>(src), bytes,
                       static_cast<lmc::rt::cuda::CUstream>(stream)));
}

} // extern "C"
