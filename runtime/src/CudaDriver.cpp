//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "CudaDriver.h"

#include <dlfcn.h>
#include <mutex>
#include <type_traits>

namespace lmc::rt::cuda {

std::string Driver::describe(const char *call, CUresult result) const {
  const char *text = nullptr;
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    text = "unknown error";
  return std::string(call) + ": " + text + " (error " +
         std::to_string(result) + ")";
}

namespace {
/// Resolves every entry point of `driver` from `library`; the versioned
/// names are those cuda.h maps the plain names to.
bool resolve(void *library, Driver &driver, std::string &missing) {
  auto bind = [&](auto &slot, const char *symbol) {
    void *address = dlsym(library, symbol);
    if (!address && missing.empty())
      missing = symbol;
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
  bind(driver.cuInit, "cuInit");
  bind(driver.cuGetErrorString, "cuGetErrorString");
  bind(driver.cuDeviceGetCount, "cuDeviceGetCount");
  bind(driver.cuDeviceGet, "cuDeviceGet");
  bind(driver.cuDeviceGetName, "cuDeviceGetName");
  bind(driver.cuDeviceGetAttribute, "cuDeviceGetAttribute");
  bind(driver.cuDeviceTotalMem, "cuDeviceTotalMem_v2");
  bind(driver.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(driver.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  bind(driver.cuCtxSetCurrent, "cuCtxSetCurrent");
  bind(driver.cuMemAlloc, "cuMemAlloc_v2");
  bind(driver.cuMemFree, "cuMemFree_v2");
  bind(driver.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  bind(driver.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  bind(driver.cuMemcpyAsync, "cuMemcpyAsync");
  bind(driver.cuMemsetD8Async, "cuMemsetD8Async");
  bind(driver.cuModuleLoadData, "cuModuleLoadData");
  bind(driver.cuModuleUnload, "cuModuleUnload");
  bind(driver.cuModuleGetFunction, "cuModuleGetFunction");
  bind(driver.cuLaunchKernel, "cuLaunchKernel");
  bind(driver.cuStreamCreate, "cuStreamCreate");
  bind(driver.cuStreamSynchronize, "cuStreamSynchronize");
  bind(driver.cuStreamDestroy, "cuStreamDestroy_v2");
  bind(driver.cuFuncSetAttribute, "cuFuncSetAttribute");
  bind(driver.cuStreamBeginCapture, "cuStreamBeginCapture_v2");
  bind(driver.cuStreamEndCapture, "cuStreamEndCapture");
  bind(driver.cuGraphInstantiate, "cuGraphInstantiateWithFlags");
  bind(driver.cuGraphLaunch, "cuGraphLaunch");
  bind(driver.cuGraphExecDestroy, "cuGraphExecDestroy");
  bind(driver.cuGraphDestroy, "cuGraphDestroy");
  bind(driver.cuTensorMapEncodeTiled, "cuTensorMapEncodeTiled");
  return missing.empty();
}
} // namespace

const Driver *loadDriver(std::string &error) {
  // Loaded once and kept for the process: the driver is never unloaded.
  static std::once_flag once;
  static Driver driver;
  static std::string loadError;
  std::call_once(once, [] {
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *reason = dlerror();
      loadError = std::string("no CUDA driver found (") +
                  (reason ? reason : "libcuda.so.1 cannot be opened") + ")";
      return;
    }
    std::string missing;
    if (!resolve(library, driver, missing))
      loadError = "no usable CUDA driver found (libcuda.so.1 lacks " +
                  missing + ")";
  });
  if (!loadError.empty()) {
    error = loadError;
    return nullptr;
  }
  return &driver;
}

bool probeDevice(const Driver &driver, int ordinal, DeviceInfo &info,
                 std::string &error) {
  auto check = [&](const char *call, CUresult result) {
    if (result != CUDA_SUCCESS)
      error = driver.describe(call, result);
    return result == CUDA_SUCCESS;
  };
  int count = 0;
  if (!check("cuInit", driver.cuInit(0)) ||
      !check("cuDeviceGetCount", driver.cuDeviceGetCount(&count)))
    return false;
  if (ordinal < 0 || ordinal >= count) {
    error = "no CUDA device " + std::to_string(ordinal) + " (" +
            std::to_string(count) + " present)";
    return false;
  }
  char name[256] = {};
  if (!check("cuDeviceGet", driver.cuDeviceGet(&info.device, ordinal)) ||
      !check("cuDeviceGetName",
             driver.cuDeviceGetName(name, sizeof(name) - 1, info.device)) ||
      !check("cuDeviceGetAttribute",
             driver.cuDeviceGetAttribute(
                 &info.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                 info.device)) ||
      !check("cuDeviceGetAttribute",
             driver.cuDeviceGetAttribute(
                 &info.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                 info.device)) ||
      !check("cuDeviceTotalMem",
             driver.cuDeviceTotalMem(&info.memoryBytes, info.device)))
    return false;
  info.name = name;
  return true;
}

} // namespace lmc::rt::cuda
