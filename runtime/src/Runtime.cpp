//===- Runtime.cpp - Models, sessions and the C API -----------------------===//
//
// A model is a verified artifact, its loaded code object and its bound
// weights; a session adds the state buffers of a batch and a context length.
// Calling an entry point builds one memref descriptor per argument, in the
// order the artifact lists them, and passes their addresses to the code
// object's packed wrapper.
//
//===----------------------------------------------------------------------===//

#include "lmc_rt/lmc_rt.h"

#include "ArtifactSeal.h"
#include "Checkpoint.h"
#include "CudaDriver.h"
#include "Gguf.h"
#include "GpuLauncher.h"
#include "LastError.h"
#include "TraceDriver.h"
#include "lmx_generated.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <limits>
#include <new>
#include <numeric>
#include <sys/mman.h>
#include <unistd.h>

using namespace lmc::rt;

namespace {
thread_local std::string lastError;
} // namespace

lmc_rt_status_t lmc::rt::fail(lmc_rt_status_t status, const std::string &message) {
  lastError = message;
  return status;
}

namespace {

std::string dtypeName(lmc::lmx::DType t) {
  return lmc::lmx::EnumNameDType(t);
}

/// A memref descriptor of rank r: {allocated, aligned, offset, sizes[r],
/// strides[r]}, stored as 64-bit words.
struct Descriptor {
  std::vector<int64_t> words;
  void set(const void *data, const std::vector<int64_t> &sizes) {
    words.assign(3 + 2 * sizes.size(), 0);
    int64_t ptr = static_cast<int64_t>(reinterpret_cast<uintptr_t>(data));
    words[0] = words[1] = ptr;
    int64_t stride = 1;
    for (size_t i = sizes.size(); i-- > 0;) {
      words[3 + i] = sizes[i];
      words[3 + sizes.size() + i] = stride;
      stride *= sizes[i];
    }
  }
};
} // namespace

struct lmc_rt_model {
  std::vector<uint8_t> buffer;       // the artifact
  const lmc::lmx::Model *artifact = nullptr;
  const lmc::lmx::Entry *forward = nullptr;
  Checkpoint checkpoint;
  std::vector<const void *> weights; // per artifact weight
  std::vector<std::vector<uint8_t>> stacked; // owned: stacked experts, dequantised weights
  std::string source; // the checkpoint the weights came from
  void *library = nullptr;
  void (*entry)(void **) = nullptr;
  // On a GPU: the device, and each weight's copy in its memory.
  std::unique_ptr<cuda::GpuDevice> gpu;
  std::vector<cuda::CUdeviceptr> deviceWeights;
  // On the trace device: the last take (lmc_rt_model_take_trace).
  bool traced = false;
  cuda::Trace trace;
  std::vector<lmc_rt_launch_t> launches;
  // The caller's reference and one per session: a session keeps its model
  // alive, so the model may be freed first.
  std::atomic<int64_t> references{1};

  ~lmc_rt_model() {
    // The code object unloads its kernels when closed: device still current.
    cuda::GpuDevice *previous = cuda::makeCurrent(gpu.get());
    if (library)
      dlclose(library);
    for (cuda::CUdeviceptr p : deviceWeights)
      gpu->release(p);
    cuda::makeCurrent(previous);
  }
};

/// Drops one reference to `model`, freeing it with the last.
static void releaseModel(lmc_rt_model *model) {
  if (model && model->references.fetch_sub(1) == 1)
    delete model;
}

struct lmc_rt_session {
  lmc_rt_model *model = nullptr;
  int64_t batch = 0, maxContext = 0;
  std::vector<int64_t> lengths; // tokens each sequence holds
  // Host state buffers, as bytes of the state's dtype (operator new's
  // alignment suits every element type).
  std::vector<std::vector<uint8_t>> states;
  std::vector<cuda::CUdeviceptr> deviceStates; // on a GPU, instead of states
  std::vector<size_t> stateBytes;
  // On a GPU, a decode step's per-call block (ids, positions, lengths) and
  // logits, at addresses fixed for the session so that a captured step
  // replays; and whether decode steps are captured and replayed.
  cuda::CUdeviceptr decodeBlock = 0, decodeLogits = 0;
  bool graphs = true;

  explicit lmc_rt_session(lmc_rt_model *model) : model(model) {
    model->references.fetch_add(1);
  }
  ~lmc_rt_session() {
    if (model->gpu) {
      model->gpu->forgetGraphs(this);
      for (cuda::CUdeviceptr p : deviceStates)
        model->gpu->release(p);
      model->gpu->release(decodeBlock);
      model->gpu->release(decodeLogits);
    }
    releaseModel(model);
  }
};

/// The cache slots a call reads: the longest sequence's tokens rounded up to
/// a class (a multiple of 16, then of 1/16 of the power of two at or below
/// it: at most 1/8 more than needed), within the session's max context.
/// Slots past a sequence's last position are masked, so the logits are the
/// same; decode steps keep their shapes for a while, so a captured step
/// replays (about 8 classes per doubling of the context).
static int64_t contextClass(int64_t context, int64_t maxContext) {
  int64_t step = 16;
  while (step * 16 <= context)
    step *= 2;
  return std::min(maxContext, (context + step - 1) / step * step);
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

static lmc_rt_status_t readArtifact(const char *path, lmc_rt_model &model) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return fail(LMC_RT_ERROR_IO, std::string(path) + ": cannot read");
  std::streamoff size = in.tellg();
  model.buffer.resize(size > 0 ? size_t(size) : 0);
  in.seekg(0);
  if (size < 0 || !in.read(reinterpret_cast<char *>(model.buffer.data()), size))
    return fail(LMC_RT_ERROR_IO, std::string(path) + ": cannot read");
  std::string error;
  model.artifact =
      lmc::rt::openArtifact(model.buffer.data(), model.buffer.size(), error);
  if (!model.artifact)
    return fail(LMC_RT_ERROR_ARTIFACT, std::string(path) + ": " + error);
  if (model.artifact->entries())
    for (const lmc::lmx::Entry *e : *model.artifact->entries())
      if (e->name()->str() == "forward")
        model.forward = e;
  if (!model.forward || !model.forward->arguments() || !model.artifact->code() ||
      model.artifact->code()->size() == 0)
    return fail(LMC_RT_ERROR_ARTIFACT,
                std::string(path) + ": no 'forward' entry or code object");
  // Every argument index must name an existing weight or state.
  size_t weights = model.artifact->weights() ? model.artifact->weights()->size() : 0;
  size_t states = model.artifact->states() ? model.artifact->states()->size() : 0;
  for (const lmc::lmx::Argument *a : *model.forward->arguments())
    if ((a->kind() == lmc::lmx::ArgumentKind::Weight && a->index() >= weights) ||
        (a->kind() == lmc::lmx::ArgumentKind::State && a->index() >= states))
      return fail(LMC_RT_ERROR_ARTIFACT,
                  std::string(path) + ": argument refers to a missing table entry");
  return LMC_RT_OK;
}

/// Loads the code object that runs the model: the host's, or on a GPU the
/// sm_90a host library that launches the kernels (its constructors load
/// the kernel module, so the device is current while it is opened).
static lmc_rt_status_t loadCode(const char *path, lmc_rt_model &model) {
  const lmc::lmx::CodeObject *code = nullptr;
  std::string target = model.gpu ? "sm_90a" : "x86_64-host";
  for (const lmc::lmx::CodeObject *c : *model.artifact->code()) {
    if (c->target()->str() != target || !c->data())
      continue;
    if (c->format()->str() == "elf-shared-object")
      code = c;
    else if (c->format()->str() == "ptx" && model.gpu)
      model.gpu->setFallbackPtx(c->data()->data());
  }
  if (!code)
    return fail(LMC_RT_ERROR_BACKEND,
                std::string(path) + ": no " + target +
                    " code object (compiled for another target?)");
  // dlopen needs a file: an anonymous memory file holds the code object.
  int fd = memfd_create("lmc-code", MFD_CLOEXEC);
  if (fd < 0)
    return fail(LMC_RT_ERROR_BACKEND, "cannot create a memory file for the code");
  const uint8_t *bytes = code->data()->data();
  size_t size = code->data()->size(), written = 0;
  while (written < size) {
    ssize_t n = write(fd, bytes + written, size - written);
    if (n <= 0) {
      close(fd);
      return fail(LMC_RT_ERROR_BACKEND, "cannot write the code object");
    }
    written += static_cast<size_t>(n);
  }
  std::string procPath = "/proc/self/fd/" + std::to_string(fd);
  cuda::GpuDevice *previous = cuda::makeCurrent(model.gpu.get());
  model.library = dlopen(procPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  cuda::makeCurrent(previous);
  close(fd);
  if (!model.library)
    return fail(LMC_RT_ERROR_BACKEND,
                std::string(path) + ": cannot load the code object: " + dlerror());
  if (model.gpu && model.gpu->failed())
    return fail(LMC_RT_ERROR_BACKEND, std::string(path) +
                                          ": cannot load the kernels: " +
                                          model.gpu->takeError());
  model.entry = reinterpret_cast<void (*)(void **)>(
      dlsym(model.library, model.forward->symbol()->c_str()));
  if (!model.entry)
    return fail(LMC_RT_ERROR_BACKEND, std::string(path) + ": entry '" +
                                          model.forward->symbol()->str() +
                                          "' missing from the code object");
  return LMC_RT_OK;
}

static std::string showShape(const flatbuffers::Vector<int64_t> *shape) {
  std::string s = "[";
  if (shape)
    for (size_t i = 0; i < shape->size(); ++i)
      s += (i ? ", " : "") + std::to_string(shape->Get(i));
  return s + "]";
}

static lmc_rt_status_t bindWeights(const std::string &source,
                                   lmc_rt_model &model) {
  std::string error;
  if (!model.checkpoint.open(source, error))
    return fail(LMC_RT_ERROR_WEIGHTS, error);
  if (!model.artifact->weights())
    return LMC_RT_OK;
  for (const lmc::lmx::Weight *w : *model.artifact->weights()) {
    std::vector<const CheckpointTensor *> parts;
    for (const lmc::lmx::TensorRef *ref : *w->parts()) {
      const CheckpointTensor *t = model.checkpoint.find(ref->name()->str());
      if (!t)
        return fail(LMC_RT_ERROR_WEIGHTS, source + ": missing tensor '" +
                                              ref->name()->str() + "'");
      std::vector<int64_t> expected(ref->shape()->begin(), ref->shape()->end());
      if (t->shape != expected || t->dtype != dtypeName(ref->dtype()))
        return fail(LMC_RT_ERROR_WEIGHTS,
                    t->file + ": tensor '" + ref->name()->str() + "' is " +
                        t->dtype + " " + [&] {
                          std::string s = "[";
                          for (size_t i = 0; i < t->shape.size(); ++i)
                            s += (i ? ", " : "") + std::to_string(t->shape[i]);
                          return s + "]";
                        }() + ", the artifact expects " +
                        dtypeName(ref->dtype()) + " " +
                        showShape(ref->shape()));
      parts.push_back(t);
    }
    // Used in place when it is one tensor of the code's dtype; otherwise
    // per-expert tensors are stacked into one [E, rows, cols] buffer and
    // quantised ones (GGUF) dequantised, once, at load.
    std::string codeType = dtypeName(w->dtype());
    bool convert = false;
    for (const CheckpointTensor *t : parts)
      convert |= t->dtype != codeType;
    if (parts.size() == 1 && !convert) {
      model.weights.push_back(parts[0]->data);
      continue;
    }
    // Conversions: GGUF block types are dequantised; f32 becomes bf16 for a
    // bf16 artifact (round to nearest even).
    bool toBF16 = codeType == "BF16";
    if (convert && codeType != "F32" && !toBF16)
      return fail(LMC_RT_ERROR_WEIGHTS, "weight '" + w->name()->str() +
                                            "': cannot convert to " + codeType);
    size_t outBytes = toBF16 ? 2 : 4;
    size_t total = 0;
    for (const CheckpointTensor *t : parts) {
      uint64_t elements = 1;
      for (int64_t d : t->shape)
        elements *= uint64_t(d);
      total += convert ? elements * outBytes : t->size;
    }
    std::vector<uint8_t> owned;
    try {
      owned.resize(total);
    } catch (const std::bad_alloc &) {
      return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                  "out of memory loading weight '" + w->name()->str() + "'");
    }
    size_t offset = 0;
    std::vector<float> widened;
    for (const CheckpointTensor *t : parts) {
      uint64_t elements = 1;
      for (int64_t d : t->shape)
        elements *= uint64_t(d);
      if (!convert) {
        std::memcpy(owned.data() + offset, t->data, t->size);
        offset += t->size;
        continue;
      }
      // An F32 tensor's bytes, read with memcpy: a checkpoint need not
      // align its tensors (the tiny Llama's are at odd offsets).
      const uint8_t *f32 = t->data;
      if (!toBF16 || t->dtype != "F32") {
        float *target = reinterpret_cast<float *>(owned.data() + offset);
        if (toBF16) {
          widened.resize(elements);
          target = widened.data();
        }
        if (!ggufDequantize(t->dtype, t->data, elements, target))
          return fail(LMC_RT_ERROR_WEIGHTS, t->file + ": cannot dequantise " +
                                                t->dtype + " tensor");
        f32 = reinterpret_cast<const uint8_t *>(target);
      }
      if (toBF16) {
        auto *out = reinterpret_cast<uint16_t *>(owned.data() + offset);
        for (uint64_t i = 0; i < elements; ++i) {
          uint32_t bits;
          std::memcpy(&bits, f32 + 4 * i, 4);
          if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN stays NaN
            out[i] = uint16_t((bits >> 16) | 0x40);
          else
            out[i] = uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
        }
      }
      offset += elements * outBytes;
    }
    model.stacked.push_back(std::move(owned));
    model.weights.push_back(model.stacked.back().data());
  }
  return LMC_RT_OK;
}

/// Bytes per element of a weight's code dtype; 0 for block-quantised types
/// (which are dequantised to the code's dtype at load, never bound as is).
static size_t elementBytes(lmc::lmx::DType t) {
  switch (t) {
  case lmc::lmx::DType::F64:
  case lmc::lmx::DType::I64:
    return 8;
  case lmc::lmx::DType::F32:
  case lmc::lmx::DType::I32:
    return 4;
  case lmc::lmx::DType::F16:
  case lmc::lmx::DType::BF16:
  case lmc::lmx::DType::I16:
    return 2;
  case lmc::lmx::DType::I8:
  case lmc::lmx::DType::U8:
  case lmc::lmx::DType::F8_E4M3:
  case lmc::lmx::DType::F8_E5M2:
    return 1;
  default:
    return 0;
  }
}

/// Copies every bound weight to the GPU, once.
static lmc_rt_status_t uploadWeights(lmc_rt_model &model) {
  if (!model.artifact->weights())
    return LMC_RT_OK;
  cuda::GpuDevice &gpu = *model.gpu;
  for (size_t i = 0; i < model.weights.size(); ++i) {
    const lmc::lmx::Weight *w = model.artifact->weights()->Get(i);
    size_t bytes = elementBytes(w->dtype());
    for (int64_t d : *w->shape())
      bytes *= size_t(d);
    if (bytes == 0)
      return fail(LMC_RT_ERROR_WEIGHTS, "weight '" + w->name()->str() +
                                            "': " + dtypeName(w->dtype()) +
                                            " cannot be used on the GPU");
    cuda::CUdeviceptr p = gpu.allocate(bytes, "weight '" + w->name()->str() + "'",
                                         /*zero=*/false);
    if (p)
      gpu.copyIn(p, model.weights[i], bytes);
    model.deviceWeights.push_back(p);
    if (gpu.failed())
      return fail(LMC_RT_ERROR_OUT_OF_MEMORY, gpu.takeError());
  }
  return LMC_RT_OK;
}

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

extern "C" {

const char *lmc_rt_last_error(void) { return lastError.c_str(); }

/// Opens GPU 0 for the artifact after checking it can run it: a CUDA driver,
/// a device of compute capability 9.0, and an sm_90a code object.
static lmc_rt_status_t openCudaDevice(const char *path, lmc_rt_model &model,
                                      bool trace) {
  std::string error;
  const cuda::Driver *driver =
      trace ? &cuda::traceDriver() : cuda::loadDriver(error);
  cuda::DeviceInfo info;
  if (!driver || !cuda::probeDevice(*driver, 0, info, error))
    return fail(LMC_RT_ERROR_BACKEND, error);
  if (info.major != 9 || info.minor != 0)
    return fail(LMC_RT_ERROR_BACKEND,
                "CUDA device 0 (" + info.name + ") is sm_" +
                    std::to_string(info.major) + std::to_string(info.minor) +
                    "; lmc generates code for sm_90a (H100, H200)");
  std::string targets;
  for (const lmc::lmx::CodeObject *c : *model.artifact->code()) {
    if (c->target()->str() == "sm_90a") {
      model.gpu = cuda::GpuDevice::create(*driver, 0, error);
      return model.gpu ? LMC_RT_OK : fail(LMC_RT_ERROR_BACKEND, error);
    }
    targets += (targets.empty() ? "" : ", ") + c->target()->str();
  }
  return fail(LMC_RT_ERROR_ARTIFACT,
              std::string(path) + ": no sm_90a code object to run on " +
                  info.name + " (the artifact holds " + targets + ")");
}

lmc_rt_status_t lmc_rt_model_load(const char *artifactPath,
                                  const char *weightsPath,
                                  lmc_rt_model_t **out) {
  return lmc_rt_model_load_on(LMC_RT_DEVICE_HOST, artifactPath, weightsPath,
                              out);
}

lmc_rt_status_t lmc_rt_model_load_on(lmc_rt_device_t device,
                                     const char *artifactPath,
                                     const char *weightsPath,
                                     lmc_rt_model_t **out) {
  if (!artifactPath || !out)
    return fail(LMC_RT_ERROR_ARGUMENT, "lmc_rt_model_load: null argument");
  if (device != LMC_RT_DEVICE_HOST && device != LMC_RT_DEVICE_CUDA &&
      device != LMC_RT_DEVICE_TRACE)
    return fail(LMC_RT_ERROR_ARGUMENT,
                "lmc_rt_model_load: unknown device " + std::to_string(device));
  auto model = std::make_unique<lmc_rt_model>();
  lmc_rt_status_t status = readArtifact(artifactPath, *model);
  if (status != LMC_RT_OK)
    return status;
  model->traced = device == LMC_RT_DEVICE_TRACE;
  if (device != LMC_RT_DEVICE_HOST &&
      (status = openCudaDevice(artifactPath, *model, model->traced)) !=
          LMC_RT_OK)
    return status;
  if (model->traced) {
    // Weights are not read: each gets device addresses nobody reads.
    model->source = "(not read: traced)";
    model->weights.assign(
        model->artifact->weights() ? model->artifact->weights()->size() : 0,
        nullptr);
    if ((status = uploadWeights(*model)) != LMC_RT_OK ||
        (status = loadCode(artifactPath, *model)) != LMC_RT_OK)
      return status;
    *out = model.release();
    return LMC_RT_OK;
  }
  std::string source = weightsPath ? weightsPath
                       : model->artifact->weights_source()
                           ? model->artifact->weights_source()->str()
                           : "";
  // The artifact records the checkpoint file; load its folder (shards),
  // or the file itself for GGUF.
  if (!weightsPath && source.find(".gguf") == std::string::npos) {
    size_t slash = source.rfind('/');
    if (slash != std::string::npos)
      source = source.substr(0, slash);
  }
  model->source = source;
  if ((status = bindWeights(source, *model)) != LMC_RT_OK ||
      (model->gpu && (status = uploadWeights(*model)) != LMC_RT_OK) ||
      (status = loadCode(artifactPath, *model)) != LMC_RT_OK)
    return status;
  *out = model.release();
  return LMC_RT_OK;
}

void lmc_rt_model_free(lmc_rt_model_t *model) { releaseModel(model); }

int64_t lmc_rt_model_vocab_size(const lmc_rt_model_t *model) {
  return model->artifact->vocab_size();
}

int64_t lmc_rt_model_max_context(const lmc_rt_model_t *model) {
  return model->artifact->max_position_embeddings();
}

size_t lmc_rt_model_take_trace(lmc_rt_model_t *model,
                               const lmc_rt_launch_t **launches,
                               uint64_t *allocatedBytes) {
  if (!model || !model->traced) {
    if (launches)
      *launches = nullptr;
    if (allocatedBytes)
      *allocatedBytes = 0;
    return 0;
  }
  model->trace = cuda::takeTrace();
  model->launches.clear();
  for (const cuda::TracedLaunch &l : model->trace.launches)
    model->launches.push_back({l.kernel.c_str(),
                               {l.grid[0], l.grid[1], l.grid[2]},
                               {l.block[0], l.block[1], l.block[2]},
                               l.sharedBytes});
  if (launches)
    *launches = model->launches.data();
  if (allocatedBytes)
    *allocatedBytes = model->trace.allocatedBytes;
  return model->launches.size();
}

const char *lmc_rt_model_weights_source(const lmc_rt_model_t *model) {
  return model->source.c_str();
}

const char *lmc_rt_model_type(const lmc_rt_model_t *model) {
  return model->artifact->model_type() ? model->artifact->model_type()->c_str()
                                       : "";
}

lmc_rt_status_t lmc_rt_session_create(lmc_rt_model_t *model,
                                      const lmc_rt_session_options_t *options,
                                      lmc_rt_session_t **out) {
  if (!model || !options || !out)
    return fail(LMC_RT_ERROR_ARGUMENT, "lmc_rt_session_create: null argument");
  if (options->batch < 1 || options->max_context < 1)
    return fail(LMC_RT_ERROR_ARGUMENT,
                "batch and max_context must be at least 1");
  int64_t limit = model->artifact->max_position_embeddings();
  if (limit > 0 && options->max_context > limit)
    return fail(LMC_RT_ERROR_ARGUMENT,
                "max context " + std::to_string(options->max_context) +
                    " exceeds the model's " + std::to_string(limit) +
                    " positions");
  auto session = std::make_unique<lmc_rt_session>(model);
  session->batch = options->batch;
  session->maxContext = options->max_context;
  session->lengths.assign(size_t(options->batch), 0);
  session->graphs = !(options->flags & LMC_RT_SESSION_NO_GRAPHS);
  if (cuda::GpuDevice *gpu = model->gpu.get()) {
    // Overflow-safe: batch x vocab floats.
    size_t logitBytes = sizeof(float);
    for (int64_t e : {options->batch, model->artifact->vocab_size()})
      if (__builtin_mul_overflow(logitBytes, size_t(e), &logitBytes))
        return fail(LMC_RT_ERROR_OUT_OF_MEMORY, "a batch of " +
                                                    std::to_string(options->batch) +
                                                    " is larger than memory");
    session->decodeBlock = gpu->allocate(
        3 * size_t(options->batch) * sizeof(int64_t), "decode inputs", false);
    session->decodeLogits =
        session->decodeBlock ? gpu->allocate(logitBytes, "logits", false) : 0;
    if (!session->decodeLogits)
      return fail(LMC_RT_ERROR_OUT_OF_MEMORY, gpu->takeError());
  }
  if (model->artifact->states())
    for (const lmc::lmx::StateBuffer *s : *model->artifact->states()) {
      // [batch, (max_context,) dims...] elements of the state's dtype,
      // multiplied without overflow.
      std::string name = "state '" + s->name()->str() + "'";
      size_t bytes = elementBytes(s->dtype());
      if (!bytes)
        return fail(LMC_RT_ERROR_ARTIFACT,
                    name + " has an unsupported dtype " +
                        lmc::lmx::EnumNameDType(s->dtype()));
      std::vector<int64_t> extents = {options->batch};
      if (s->per_token())
        extents.push_back(options->max_context);
      if (s->dims())
        extents.insert(extents.end(), s->dims()->begin(), s->dims()->end());
      for (int64_t e : extents)
        if (e < 0 || __builtin_mul_overflow(bytes, size_t(e), &bytes))
          return fail(e < 0 ? LMC_RT_ERROR_ARTIFACT : LMC_RT_ERROR_OUT_OF_MEMORY,
                      name + (e < 0 ? " has a negative dimension"
                                    : " is larger than memory"));
      session->stateBytes.push_back(bytes);
      if (model->gpu) {
        cuda::CUdeviceptr p = model->gpu->allocate(
            session->stateBytes.back(), "state '" + s->name()->str() + "'",
            /*zero=*/true);
        session->deviceStates.push_back(p);
        if (!p)
          return fail(LMC_RT_ERROR_OUT_OF_MEMORY, model->gpu->takeError());
        continue;
      }
      try {
        session->states.emplace_back(bytes, uint8_t(0));
      } catch (const std::bad_alloc &) {
        return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                    "out of memory allocating state '" + s->name()->str() + "'");
      }
    }
  *out = session.release();
  return LMC_RT_OK;
}

void lmc_rt_session_free(lmc_rt_session_t *session) { delete session; }

void lmc_rt_session_reset(lmc_rt_session_t *session) {
  std::fill(session->lengths.begin(), session->lengths.end(), 0);
  // Caches are overwritten position by position; recurrent state is not.
  for (std::vector<uint8_t> &state : session->states)
    std::fill(state.begin(), state.end(), uint8_t(0));
  for (size_t i = 0; i < session->deviceStates.size(); ++i)
    session->model->gpu->zero(session->deviceStates[i], session->stateBytes[i]);
}

int64_t lmc_rt_session_length(const lmc_rt_session_t *session) {
  return *std::max_element(session->lengths.begin(), session->lengths.end());
}

int64_t lmc_rt_session_sequence_length(const lmc_rt_session_t *session,
                                       int64_t sequence) {
  if (!session || sequence < 0 || sequence >= session->batch)
    return -1;
  return session->lengths[size_t(sequence)];
}

lmc_rt_status_t lmc_rt_session_forward(lmc_rt_session_t *session,
                                       const int64_t *ids, int64_t tokens,
                                       float *logits) {
  if (!session)
    return fail(LMC_RT_ERROR_ARGUMENT, "lmc_rt_session_forward: null argument");
  std::vector<int64_t> all(size_t(session->batch), tokens);
  return lmc_rt_session_forward_ragged(session, ids, tokens, all.data(),
                                       logits);
}

lmc_rt_status_t lmc_rt_session_forward_ragged(lmc_rt_session_t *session,
                                              const int64_t *ids,
                                              int64_t tokens,
                                              const int64_t *lengths,
                                              float *logits) {
  if (!session || !ids || !lengths || !logits)
    return fail(LMC_RT_ERROR_ARGUMENT, "lmc_rt_session_forward: null argument");
  lmc_rt_model &model = *session->model;
  const int64_t batch = session->batch, vocab = model.artifact->vocab_size();
  if (tokens < 1)
    return fail(LMC_RT_ERROR_ARGUMENT, "expected at least one token");
  // The per-call values, in one block: ids and positions [batch, tokens],
  // lengths [batch]. Padding (past a sequence's length) reads token 0 at
  // the sequence's last position, so that every query sees a key.
  const size_t cells = size_t(batch * tokens);
  std::vector<int64_t> block(2 * cells + size_t(batch));
  int64_t *blockIds = block.data(), *positions = blockIds + cells,
          *blockLengths = positions + cells;
  int64_t context = 1;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t held = session->lengths[b], length = lengths[b];
    if (length < 0 || length > tokens)
      return fail(LMC_RT_ERROR_ARGUMENT,
                  "length " + std::to_string(length) + " of sequence " +
                      std::to_string(b) + " is outside [0, " +
                      std::to_string(tokens) + "]");
    if (held + length > session->maxContext)
      return fail(LMC_RT_ERROR_ARGUMENT,
                  "sequence " + std::to_string(b) + ": " +
                      std::to_string(held + length) +
                      " tokens exceed the session's max context of " +
                      std::to_string(session->maxContext));
    context = std::max(context, held + length);
    blockLengths[b] = length;
    for (int64_t t = 0; t < tokens; ++t) {
      const int64_t i = b * tokens + t, id = ids[i];
      if (t >= length) {
        blockIds[i] = 0;
        positions[i] = std::max<int64_t>(held + length - 1, 0);
        continue;
      }
      if (id < 0 || id >= vocab)
        return fail(LMC_RT_ERROR_ARGUMENT, "token id " + std::to_string(id) +
                                               " at [" + std::to_string(b) +
                                               ", " + std::to_string(t) +
                                               "] is outside the vocabulary (" +
                                               std::to_string(vocab) + ")");
      blockIds[i] = id;
      positions[i] = held + t;
    }
  }

  context = contextClass(context, session->maxContext);

  // On a GPU the per-call block and the logits live in device buffers: one
  // copy in, one out. A decode step uses the session's (fixed addresses, so
  // that its graph replays), a longer call buffers of its own.
  cuda::GpuDevice *gpu = model.gpu.get();
  const bool decode = tokens == 1;
  const int64_t *deviceBlock = block.data();
  float *deviceLogits = logits;
  size_t blockBytes = block.size() * sizeof(int64_t);
  size_t logitBytes = cells * size_t(vocab) * sizeof(float);
  auto releaseBuffers = [&] {
    if (!gpu || decode)
      return;
    for (const void *p : {static_cast<const void *>(deviceBlock),
                          static_cast<const void *>(deviceLogits)})
      if (p)
        gpu->releaseCached(const_cast<void *>(p));
  };
  if (gpu) {
    if (gpu->failed())
      return fail(LMC_RT_ERROR_BACKEND, gpu->takeError());
    deviceBlock = reinterpret_cast<const int64_t *>(
        decode ? reinterpret_cast<void *>(session->decodeBlock)
               : gpu->allocateCached(blockBytes));
    deviceLogits = reinterpret_cast<float *>(
        decode ? reinterpret_cast<void *>(session->decodeLogits)
               : gpu->allocateCached(logitBytes));
    if (deviceBlock && deviceLogits)
      gpu->copyIn(cuda::CUdeviceptr(deviceBlock), block.data(), blockBytes);
    if (gpu->failed()) {
      releaseBuffers();
      return fail(LMC_RT_ERROR_BACKEND, gpu->takeError());
    }
  }

  const auto *arguments = model.forward->arguments();
  std::vector<Descriptor> descriptors(arguments->size());
  std::vector<void *> packed(arguments->size());
  for (size_t i = 0; i < arguments->size(); ++i) {
    const lmc::lmx::Argument *a = arguments->Get(i);
    Descriptor &d = descriptors[i];
    switch (a->kind()) {
    case lmc::lmx::ArgumentKind::InputIds:
      d.set(deviceBlock, {batch, tokens});
      break;
    case lmc::lmx::ArgumentKind::Positions:
      d.set(deviceBlock + cells, {batch, tokens});
      break;
    case lmc::lmx::ArgumentKind::Lengths:
      d.set(deviceBlock + 2 * cells, {batch});
      break;
    case lmc::lmx::ArgumentKind::Context:
      // A scalar, passed by value: the slot holds its address.
      packed[i] = &context;
      continue;
    case lmc::lmx::ArgumentKind::Weight: {
      const lmc::lmx::Weight *w = model.artifact->weights()->Get(a->index());
      d.set(gpu ? reinterpret_cast<const void *>(model.deviceWeights[a->index()])
                : model.weights[a->index()],
            std::vector<int64_t>(w->shape()->begin(), w->shape()->end()));
      break;
    }
    case lmc::lmx::ArgumentKind::State: {
      const lmc::lmx::StateBuffer *s = model.artifact->states()->Get(a->index());
      std::vector<int64_t> sizes = {batch};
      if (s->per_token())
        sizes.push_back(session->maxContext);
      sizes.insert(sizes.end(), s->dims()->begin(), s->dims()->end());
      d.set(gpu ? reinterpret_cast<const void *>(
                      session->deviceStates[a->index()])
                : session->states[a->index()].data(),
            sizes);
      break;
    }
    case lmc::lmx::ArgumentKind::Logits:
      d.set(deviceLogits, {batch, tokens, vocab});
      break;
    }
    if (d.words.size() != 3 + 2 * a->rank()) {
      releaseBuffers();
      return fail(LMC_RT_ERROR_ARTIFACT, "argument " + std::to_string(i) +
                                             " has an unexpected rank");
    }
    packed[i] = d.words.data();
  }
  auto advance = [&] {
    for (int64_t b = 0; b < batch; ++b)
      session->lengths[b] += lengths[b];
  };
  if (!gpu) {
    model.entry(packed.data());
    advance();
    return LMC_RT_OK;
  }
  cuda::GpuDevice *previous = cuda::makeCurrent(gpu);
  auto run = [&] { model.entry(packed.data()); };
  if (decode && session->graphs) {
    // Captured the first time these shapes come (the generated code's
    // launches are recorded, not run), then replayed with one launch.
    const cuda::GpuDevice::GraphKey key{session, context};
    cuda::CUgraphExec graph = gpu->graph(key);
    if (!graph)
      graph = gpu->capture(key, run);
    if (graph)
      gpu->replay(graph);
  } else {
    run();
  }
  cuda::makeCurrent(previous);
  gpu->check("cuStreamSynchronize", gpu->driver().cuStreamSynchronize(gpu->stream()));
  gpu->check("cuMemcpyDtoH", gpu->driver().cuMemcpyDtoH(
                                 logits, cuda::CUdeviceptr(deviceLogits),
                                 logitBytes));
  releaseBuffers();
  if (gpu->failed())
    return fail(LMC_RT_ERROR_BACKEND, gpu->takeError());
  advance();
  return LMC_RT_OK;
}

int64_t lmc_rt_sample(const float *logits, int64_t vocab,
                      const lmc_rt_sampler_t *sampler, uint64_t *state) {
  int64_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best])
      best = i;
  if (!sampler || sampler->temperature <= 0)
    return best;
  // Candidates by decreasing logit, cut by top-k, softmax at temperature,
  // cut by top-p, then one draw.
  std::vector<int64_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t k = sampler->top_k > 0 ? std::min<int64_t>(sampler->top_k, vocab) : vocab;
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  order.resize(k);
  std::vector<double> p(k);
  double sum = 0;
  for (int64_t i = 0; i < k; ++i)
    sum += p[i] = std::exp((logits[order[i]] - logits[order[0]]) /
                           sampler->temperature);
  double keep = sampler->top_p > 0 && sampler->top_p < 1 ? sampler->top_p : 1.0;
  double cumulative = 0, kept = 0;
  int64_t n = 0;
  while (n < k && (n == 0 || cumulative < keep)) {
    cumulative += p[n] / sum;
    kept += p[n];
    ++n;
  }
  // xorshift64*
  uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  double u = double((x * 0x2545F4914F6CDD1Dull) >> 11) / double(1ull << 53);
  double target = u * kept, acc = 0;
  for (int64_t i = 0; i < n; ++i)
    if ((acc += p[i]) >= target)
      return order[i];
  return order[n - 1];
}

} // extern "C"
