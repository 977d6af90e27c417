/*===- FakeCudaDriver.c - A stand-in libcuda.so.1 for the runtime's tests --===*
 *
 * Lets CI (no GPU, no driver) exercise the runtime's CUDA driver loading and
 * device checks: built as libcuda.so.1 and put first on LD_LIBRARY_PATH.
 * FAKE_CUDA selects what it reports: "no-device" (cuInit fails as on a
 * machine without a GPU), "sm80" (an A100), anything else an H100. Built
 * with FAKE_CUDA_INCOMPLETE it exports cuInit only, as a broken install
 * would. Calls beyond the device queries fail: nothing runs on it.
 *
 *===----------------------------------------------------------------------===*/

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum { SUCCESS = 0, ERROR_INVALID_VALUE = 1, ERROR_NOT_SUPPORTED = 801,
       ERROR_NO_DEVICE = 100 };

static const char *mode(void) {
  const char *m = getenv("FAKE_CUDA");
  return m ? m : "";
}

CUresult cuInit(unsigned flags) {
  return strcmp(mode(), "no-device") == 0 ? ERROR_NO_DEVICE : SUCCESS;
}

#ifndef FAKE_CUDA_INCOMPLETE
CUresult cuGetErrorString(CUresult error, const char **text) {
  switch (error) {
  case ERROR_NO_DEVICE: *text = "no CUDA-capable device is detected"; break;
  case ERROR_NOT_SUPPORTED: *text = "operation not supported"; break;
  default: *text = "invalid argument"; break;
  }
  return SUCCESS;
}

CUresult cuDeviceGetCount(int *count) { *count = 1; return SUCCESS; }
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? SUCCESS : ERROR_INVALID_VALUE;
}
CUresult cuDeviceGetName(char *name, int length, int device) {
  const char *n = strcmp(mode(), "sm80") == 0 ? "Fake A100" : "Fake H100";
  strncpy(name, n, (size_t)length);
  return SUCCESS;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  int ampere = strcmp(mode(), "sm80") == 0;
  if (attribute == 75) { *value = ampere ? 8 : 9; return SUCCESS; }
  if (attribute == 76) { *value = 0; return SUCCESS; }
  return ERROR_INVALID_VALUE;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int device) {
  *bytes = (size_t)80 << 30;
  return SUCCESS;
}

/* Everything that would touch a GPU. */
#define UNSUPPORTED(name) \
  CUresult name() { return ERROR_NOT_SUPPORTED; }
UNSUPPORTED(cuDevicePrimaryCtxRetain)
UNSUPPORTED(cuDevicePrimaryCtxRelease_v2)
UNSUPPORTED(cuCtxSetCurrent)
UNSUPPORTED(cuMemAlloc_v2)
UNSUPPORTED(cuMemFree_v2)
UNSUPPORTED(cuMemcpyHtoD_v2)
UNSUPPORTED(cuMemcpyDtoH_v2)
UNSUPPORTED(cuMemcpyAsync)
UNSUPPORTED(cuMemsetD8_v2)
UNSUPPORTED(cuModuleLoadData)
UNSUPPORTED(cuModuleUnload)
UNSUPPORTED(cuModuleGetFunction)
UNSUPPORTED(cuLaunchKernel)
UNSUPPORTED(cuStreamCreate)
UNSUPPORTED(cuStreamSynchronize)
UNSUPPORTED(cuStreamDestroy_v2)
#endif
