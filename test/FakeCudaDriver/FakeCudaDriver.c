/*===- FakeCudaDriver.c - A stand-in libcuda.so.1 for the runtime's tests --===*
 *
 * Lets CI (no GPU, no driver) run the runtime's whole CUDA path: driver
 * loading, device checks, weight upload, module loading, every kernel
 * launch, the copies back and teardown. Built as libcuda.so.1 and put first
 * on LD_LIBRARY_PATH. "Device" memory is zeroed host memory, so copies and
 * memsets really happen; kernels do not run (their launches are only
 * recorded), so the logits are zeros and greedy decoding picks id 0.
 *
 * Environment:
 *   FAKE_CUDA       "no-device" (cuInit fails, as on a machine without a
 *                   GPU), "sm80" (an A100); anything else an H100.
 *   FAKE_CUDA_LOG   a file each call appends one line to: the call and what
 *                   identifies it (sizes, kernel names, launch shapes).
 *   FAKE_CUDA_FAIL  "CALL[:N[:CODE]]": the Nth call (default 1) of CALL
 *                   returns CODE (default 801, not supported), to exercise
 *                   the runtime's error paths.
 * Stream capture behaves as the driver's does for what the runtime uses:
 * between cuStreamBeginCapture and cuStreamEndCapture, launches and async
 * device copies on the capturing stream are recorded into the graph instead
 * of run (a graph launch then runs its copies), and waiting for the
 * capturing stream fails and invalidates the capture; other streams work
 * as usual.
 *
 * Built with FAKE_CUDA_INCOMPLETE it exports cuInit only, as a broken
 * install would.
 *
 * The prototypes are cuda.h's (its ABI is stable).
 *
 *===----------------------------------------------------------------------===*/

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct FakeGraph *CUgraph;
typedef struct FakeGraph *CUgraphExec;

enum {
  SUCCESS = 0,
  ERROR_INVALID_VALUE = 1,
  ERROR_OUT_OF_MEMORY = 2,
  ERROR_NO_DEVICE = 100,
  ERROR_INVALID_IMAGE = 200,
  ERROR_NO_BINARY_FOR_GPU = 209,
  ERROR_ILLEGAL_STATE = 401,
  ERROR_NOT_SUPPORTED = 801,
  ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
  ERROR_STREAM_CAPTURE_INVALIDATED = 901
};

static const char *mode(void) {
  const char *m = getenv("FAKE_CUDA");
  return m ? m : "";
}

/* Appends one line to FAKE_CUDA_LOG, when set. */
static void record(const char *format, ...) {
  const char *path = getenv("FAKE_CUDA_LOG");
  if (!path)
    return;
  FILE *log = fopen(path, "a");
  if (!log)
    return;
  va_list args;
  va_start(args, format);
  vfprintf(log, format, args);
  va_end(args);
  fputc('\n', log);
  fclose(log);
}

/* The result FAKE_CUDA_FAIL asks of this call of `call`, else SUCCESS. */
static CUresult injected(const char *call) {
  const char *spec = getenv("FAKE_CUDA_FAIL");
  size_t length = strlen(call);
  if (!spec || strncmp(spec, call, length) != 0 ||
      (spec[length] != '\0' && spec[length] != ':'))
    return SUCCESS;
  long nth = 1, code = ERROR_NOT_SUPPORTED;
  if (spec[length] == ':') {
    char *rest = NULL;
    nth = strtol(spec + length + 1, &rest, 10);
    if (*rest == ':')
      code = strtol(rest + 1, NULL, 10);
  }
  /* Calls are counted per name; one failing name per process. */
  static long calls = 0;
  return ++calls == nth ? (CUresult)code : SUCCESS;
}

/* Records the call and returns what FAKE_CUDA_FAIL asks of it. */
#define ENTER(call, ...)                                                       \
  do {                                                                         \
    record(call __VA_ARGS__);                                                  \
    CUresult result_ = injected(call);                                         \
    if (result_ != SUCCESS)                                                    \
      return result_;                                                          \
  } while (0)

CUresult cuInit(unsigned flags) {
  ENTER("cuInit");
  return strcmp(mode(), "no-device") == 0 ? ERROR_NO_DEVICE : SUCCESS;
}

#ifndef FAKE_CUDA_INCOMPLETE
CUresult cuGetErrorString(CUresult error, const char **text) {
  switch (error) {
  case ERROR_OUT_OF_MEMORY: *text = "out of memory"; break;
  case ERROR_NO_DEVICE: *text = "no CUDA-capable device is detected"; break;
  case ERROR_INVALID_IMAGE: *text = "device kernel image is invalid"; break;
  case ERROR_NO_BINARY_FOR_GPU:
    *text = "no kernel image is available for execution on the device";
    break;
  case ERROR_NOT_SUPPORTED: *text = "operation not supported"; break;
  case ERROR_STREAM_CAPTURE_UNSUPPORTED:
    *text = "operation not permitted when stream is capturing";
    break;
  case ERROR_STREAM_CAPTURE_INVALIDATED:
    *text = "operation failed due to a previous error during capture";
    break;
  default: *text = "invalid argument"; break;
  }
  return SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  ENTER("cuDeviceGetCount");
  *count = 1;
  return SUCCESS;
}
CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  ENTER("cuDeviceGet", " %d", ordinal);
  *device = ordinal;
  return ordinal == 0 ? SUCCESS : ERROR_INVALID_VALUE;
}
CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  ENTER("cuDeviceGetName");
  const char *n = strcmp(mode(), "sm80") == 0 ? "Fake A100" : "Fake H100";
  strncpy(name, n, (size_t)length);
  return SUCCESS;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
  int ampere = strcmp(mode(), "sm80") == 0;
  if (attribute == 75) { *value = ampere ? 8 : 9; return SUCCESS; }
  if (attribute == 76) { *value = 0; return SUCCESS; }
  return ERROR_INVALID_VALUE;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
  *bytes = (size_t)80 << 30;
  return SUCCESS;
}

/* Handles: distinct non-null addresses whose contents nobody reads. */
static char contextHandle, streamHandles[8];
static unsigned streamsCreated;

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  ENTER("cuDevicePrimaryCtxRetain");
  *context = (CUcontext)&contextHandle;
  return SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  ENTER("cuDevicePrimaryCtxRelease");
  return SUCCESS;
}
CUresult cuCtxSetCurrent(CUcontext context) {
  ENTER("cuCtxSetCurrent");
  return SUCCESS;
}

/* A graph: how many nodes it has, and its copies (run at each launch). */
struct Copy {
  CUdeviceptr dst, src;
  size_t bytes;
};
struct FakeGraph {
  unsigned nodes, copies;
  struct Copy *copy;
};
/* The capture in progress, if any, and its stream. */
static struct FakeGraph *capture;
static CUstream capturing;
static int captureInvalid;

/* Adds a node to the capture when `stream` is capturing; false otherwise. */
static int captured(CUstream stream, const struct Copy *copy) {
  if (!capture || stream != capturing)
    return 0;
  ++capture->nodes;
  if (copy) {
    capture->copy = realloc(capture->copy,
                            (capture->copies + 1) * sizeof(struct Copy));
    capture->copy[capture->copies++] = *copy;
  }
  return 1;
}

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  ENTER("cuMemAlloc", " %zu", bytes);
  /* Zeroed: kernels never write it, and values the host code reads back
   * (the start position) must not be garbage. */
  void *memory = calloc(1, bytes ? bytes : 1);
  if (!memory)
    return ERROR_OUT_OF_MEMORY;
  *pointer = (CUdeviceptr)memory;
  return SUCCESS;
}
CUresult cuMemFree_v2(CUdeviceptr pointer) {
  ENTER("cuMemFree");
  free((void *)pointer);
  return SUCCESS;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes,
                              CUstream stream) {
  ENTER("cuMemcpyHtoDAsync", " %zu", bytes);
  /* A copy from pageable memory cannot be part of a graph: the runtime
   * copies in before a capture, or on another stream. Staged at once, as
   * the driver does with pageable memory. */
  if (capture && stream == capturing) {
    captureInvalid = 1;
    return ERROR_STREAM_CAPTURE_UNSUPPORTED;
  }
  memcpy((void *)dst, src, bytes);
  return SUCCESS;
}
CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  ENTER("cuMemcpyDtoH", " %zu", bytes);
  memcpy(dst, (const void *)src, bytes);
  return SUCCESS;
}
CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                       CUstream stream) {
  ENTER("cuMemcpyAsync", " %zu", bytes);
  struct Copy copy = {dst, src, bytes};
  if (!captured(stream, &copy))
    memmove((void *)dst, (const void *)src, bytes);
  return SUCCESS;
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t bytes,
                         CUstream stream) {
  ENTER("cuMemsetD8Async", " %zu", bytes);
  memset((void *)dst, value, bytes);
  return SUCCESS;
}

/* A module is its image's first bytes ("\x7fELF" for a cubin, ".version"
 * or a comment for PTX); a function is its name. */
CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  const char *bytes = image;
  int elf = memcmp(bytes, "\x7f" "ELF", 4) == 0;
  ENTER("cuModuleLoadData", " %s", elf ? "cubin" : "ptx");
  *module = (CUmodule)malloc(1);
  return SUCCESS;
}
CUresult cuModuleUnload(CUmodule module) {
  ENTER("cuModuleUnload");
  free(module);
  return SUCCESS;
}
CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  ENTER("cuModuleGetFunction", " %s", name);
  /* Names are interned in a table that lives as long as the process. */
  static char *names[4096];
  static size_t count = 0;
  size_t i = 0;
  while (i < count && strcmp(names[i], name) != 0)
    ++i;
  if (i == count) {
    if (count == sizeof(names) / sizeof(names[0]))
      return ERROR_OUT_OF_MEMORY;
    names[count++] = strdup(name);
  }
  *function = (CUfunction)names[i];
  return SUCCESS;
}
CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, CUstream stream,
                        void **params, void **extra) {
  ENTER("cuLaunchKernel", " %s grid=%ux%ux%u block=%ux%ux%u shared=%u",
        (const char *)function, gridX, gridY, gridZ, blockX, blockY, blockZ,
        sharedBytes);
  if (!params && !extra)
    return ERROR_INVALID_VALUE;
  captured(stream, NULL);
  return SUCCESS;
}
CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
  ENTER("cuFuncSetAttribute", " %s attribute=%d value=%d",
        (const char *)function, attribute, value);
  return SUCCESS;
}

CUresult cuStreamCreate(CUstream *stream, unsigned flags) {
  ENTER("cuStreamCreate");
  *stream = (CUstream)&streamHandles[streamsCreated++ % 8];
  return SUCCESS;
}
CUresult cuStreamSynchronize(CUstream stream) {
  ENTER("cuStreamSynchronize");
  if (capture && stream == capturing) {
    captureInvalid = 1;
    return ERROR_STREAM_CAPTURE_UNSUPPORTED;
  }
  return SUCCESS;
}

CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
  ENTER("cuStreamBeginCapture", " mode=%d", mode);
  if (capture)
    return ERROR_ILLEGAL_STATE;
  capture = calloc(1, sizeof(struct FakeGraph));
  capturing = stream;
  captureInvalid = 0;
  return SUCCESS;
}
CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph) {
  ENTER("cuStreamEndCapture");
  if (!capture)
    return ERROR_ILLEGAL_STATE;
  struct FakeGraph *done = capture;
  capture = NULL;
  capturing = NULL;
  if (captureInvalid) {
    free(done->copy);
    free(done);
    *graph = NULL;
    return ERROR_STREAM_CAPTURE_INVALIDATED;
  }
  *graph = done;
  return SUCCESS;
}
CUresult cuGraphInstantiateWithFlags(CUgraphExec *executable, CUgraph graph,
                                     unsigned long long flags) {
  ENTER("cuGraphInstantiate", " nodes=%u", graph->nodes);
  struct FakeGraph *copy = malloc(sizeof(struct FakeGraph));
  *copy = *graph;
  copy->copy = malloc(graph->copies * sizeof(struct Copy) + 1);
  if (graph->copies)
    memcpy(copy->copy, graph->copy, graph->copies * sizeof(struct Copy));
  *executable = copy;
  return SUCCESS;
}
CUresult cuGraphLaunch(CUgraphExec executable, CUstream stream) {
  ENTER("cuGraphLaunch", " nodes=%u", executable->nodes);
  for (unsigned i = 0; i < executable->copies; ++i)
    memmove((void *)executable->copy[i].dst,
            (const void *)executable->copy[i].src, executable->copy[i].bytes);
  return SUCCESS;
}
CUresult cuGraphExecDestroy(CUgraphExec executable) {
  ENTER("cuGraphExecDestroy");
  free(executable->copy);
  free(executable);
  return SUCCESS;
}
CUresult cuGraphDestroy(CUgraph graph) {
  ENTER("cuGraphDestroy");
  free(graph->copy);
  free(graph);
  return SUCCESS;
}
/* A tensor map records what it maps (dimensions innermost first) in its
 * first bytes, as the driver's opaque encoding would. */
CUresult cuTensorMapEncodeTiled(void *tensorMap, int dataType, unsigned rank,
                                void *address,
                                const unsigned long long *globalDim,
                                const unsigned long long *globalStrides,
                                const unsigned *boxDim,
                                const unsigned *elementStrides, int interleave,
                                int swizzle, int l2Promotion, int oobFill) {
  ENTER("cuTensorMapEncodeTiled",
        " type=%d rank=%u dims=%llux%llu box=%ux%u swizzle=%d", dataType, rank,
        globalDim[0], rank > 1 ? globalDim[1] : 1ull, boxDim[0],
        rank > 1 ? boxDim[1] : 1u, swizzle);
  /* cuda.h's checks of what lmc relies on: 16-byte aligned address and
   * strides, boxes of at most 256 elements per dimension. */
  if (rank < 1 || rank > 5 || ((unsigned long long)address & 15))
    return ERROR_INVALID_VALUE;
  for (unsigned i = 0; i < rank; ++i)
    if (boxDim[i] == 0 || boxDim[i] > 256 || elementStrides[i] != 1 ||
        (i + 1 < rank && globalStrides[i] % 16 != 0))
      return ERROR_INVALID_VALUE;
  memset(tensorMap, 0, 128);
  memcpy(tensorMap, &address, sizeof(address));
  return SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
  ENTER("cuStreamDestroy");
  return SUCCESS;
}
#endif
