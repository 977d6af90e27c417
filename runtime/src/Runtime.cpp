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
  // GPU code: the bytes of workspace a call needs (same arguments as
  // `entry`, the result through one more slot).
  const lmc::lmx::Entry *workspaceEntry = nullptr;
  void (*workspaceBytes)(void **) = nullptr;
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
  // Tokens per sequence one step takes (longer calls run as several).
  int64_t maxTokens = 0;
  // On a GPU, reserved at creation for the largest step, at addresses fixed
  // for the session (so that a captured step replays): the per-call block
  // (ids, positions, lengths), the logits and the activations' workspace;
  // and whether decode steps are captured and replayed.
  cuda::CUdeviceptr callBlock = 0, callLogits = 0, workspace = 0;
  uint64_t workspaceBytes = 0;
  bool graphs = true;
  // Only each sequence's last logits are asked for
  // (LMC_RT_SESSION_LAST_LOGITS).
  bool lastLogitsOnly = false;

  explicit lmc_rt_session(lmc_rt_model *model) : model(model) {
    model->references.fetch_add(1);
  }
  ~lmc_rt_session() {
    if (model->gpu) {
      model->gpu->forgetGraphs(this);
      for (cuda::CUdeviceptr p : deviceStates)
        model->gpu->release(p);
      for (cuda::CUdeviceptr p : {callBlock, callLogits, workspace})
        model->gpu->release(p);
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
    for (const lmc::lmx::Entry *e : *model.artifact->entries()) {
      if (e->name()->str() == "forward")
        model.forward = e;
      else if (e->name()->str() == "workspace_bytes")
        model.workspaceEntry = e;
    }
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
  // Each per-call value once (a call binds them by kind).
  const auto *arguments = model.forward->arguments();
  for (lmc::lmx::ArgumentKind kind :
       {lmc::lmx::ArgumentKind::InputIds, lmc::lmx::ArgumentKind::Positions,
        lmc::lmx::ArgumentKind::Lengths, lmc::lmx::ArgumentKind::Context,
        lmc::lmx::ArgumentKind::LogitRows, lmc::lmx::ArgumentKind::Logits}) {
    auto count = std::count_if(
        arguments->begin(), arguments->end(),
        [&](const lmc::lmx::Argument *a) { return a->kind() == kind; });
    if (count != 1)
      return fail(LMC_RT_ERROR_ARTIFACT,
                  std::string(path) + ": 'forward' takes " +
                      std::to_string(count) + " " +
                      lmc::lmx::EnumNameArgumentKind(kind) +
                      " arguments, not one");
  }
  // A workspace argument comes with the entry that sizes it, which takes
  // the same arguments.
  bool takesWorkspace = std::any_of(
      arguments->begin(), arguments->end(), [](const lmc::lmx::Argument *a) {
        return a->kind() == lmc::lmx::ArgumentKind::Workspace;
      });
  const lmc::lmx::Entry *sizing = model.workspaceEntry;
  if (takesWorkspace != (sizing != nullptr))
    return fail(LMC_RT_ERROR_ARTIFACT,
                std::string(path) + ": entry 'workspace_bytes' " +
                    (sizing ? "without" : "missing for") +
                    " a workspace argument of 'forward'");
  if (sizing) {
    bool same =
        sizing->arguments() && sizing->arguments()->size() == arguments->size();
    for (size_t i = 0; same && i < arguments->size(); ++i) {
      const lmc::lmx::Argument *a = arguments->Get(i),
                               *b = sizing->arguments()->Get(i);
      same = a->kind() == b->kind() && a->index() == b->index() &&
             a->rank() == b->rank();
    }
    if (!same)
      return fail(LMC_RT_ERROR_ARTIFACT,
                  std::string(path) + ": entry 'workspace_bytes' does not "
                                      "take the arguments of 'forward'");
  }
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
  if (const lmc::lmx::Entry *sizing = model.workspaceEntry) {
    model.workspaceBytes = reinterpret_cast<void (*)(void **)>(
        dlsym(model.library, sizing->symbol()->c_str()));
    if (!model.workspaceBytes)
      return fail(LMC_RT_ERROR_BACKEND, std::string(path) + ": entry '" +
                                            sizing->symbol()->str() +
                                            "' missing from the code object");
  }
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
// Steps
//===----------------------------------------------------------------------===//

namespace {
/// One step's arguments, as the entries take them: a descriptor per
/// argument (or the address of a scalar), then the address of
/// workspace_bytes' result.
struct StepArguments {
  std::vector<Descriptor> descriptors;
  std::vector<void *> packed;
  int64_t context = 0;
  int64_t workspaceBytes = 0;
};
} // namespace

/// Binds a step of `tokens` tokens per sequence over `context` cache slots
/// computing the logits of `rows` of them: the per-call block (ids,
/// positions [batch, tokens], lengths [batch], logit rows [batch, rows]) at
/// `block`, the logits [batch, rows, vocab] at `logits`. Addresses may be
/// null when only workspace_bytes is called (it reads shapes only).
static lmc_rt_status_t bindStep(const lmc_rt_session &session, int64_t tokens,
                                int64_t rows, int64_t context,
                                const int64_t *block, float *logits,
                                StepArguments &step) {
  const lmc_rt_model &model = *session.model;
  const cuda::GpuDevice *gpu = model.gpu.get();
  const int64_t batch = session.batch, vocab = model.artifact->vocab_size();
  const size_t cells = size_t(batch * tokens);
  const auto *arguments = model.forward->arguments();
  step.context = context;
  step.descriptors.assign(arguments->size(), Descriptor());
  step.packed.assign(arguments->size() + 1, nullptr);
  step.packed.back() = &step.workspaceBytes;
  auto at = [&](size_t offset) { return block ? block + offset : nullptr; };
  for (size_t i = 0; i < arguments->size(); ++i) {
    const lmc::lmx::Argument *a = arguments->Get(i);
    Descriptor &d = step.descriptors[i];
    switch (a->kind()) {
    case lmc::lmx::ArgumentKind::InputIds:
      d.set(at(0), {batch, tokens});
      break;
    case lmc::lmx::ArgumentKind::Positions:
      d.set(at(cells), {batch, tokens});
      break;
    case lmc::lmx::ArgumentKind::Lengths:
      d.set(at(2 * cells), {batch});
      break;
    case lmc::lmx::ArgumentKind::LogitRows:
      d.set(at(2 * cells + size_t(batch)), {batch, rows});
      break;
    case lmc::lmx::ArgumentKind::Context:
      // A scalar, passed by value: the slot holds its address.
      step.packed[i] = &step.context;
      continue;
    case lmc::lmx::ArgumentKind::Weight: {
      const lmc::lmx::Weight *w = model.artifact->weights()->Get(a->index());
      d.set(
          gpu ? reinterpret_cast<const void *>(model.deviceWeights[a->index()])
              : model.weights[a->index()],
          std::vector<int64_t>(w->shape()->begin(), w->shape()->end()));
      break;
    }
    case lmc::lmx::ArgumentKind::State: {
      const lmc::lmx::StateBuffer *s =
          model.artifact->states()->Get(a->index());
      std::vector<int64_t> sizes = {batch};
      if (s->per_token())
        sizes.push_back(session.maxContext);
      sizes.insert(sizes.end(), s->dims()->begin(), s->dims()->end());
      d.set(
          gpu ? reinterpret_cast<const void *>(session.deviceStates[a->index()])
              : session.states[a->index()].data(),
          sizes);
      break;
    }
    case lmc::lmx::ArgumentKind::Logits:
      d.set(logits, {batch, rows, vocab});
      break;
    case lmc::lmx::ArgumentKind::Workspace:
      d.set(reinterpret_cast<const void *>(session.workspace),
            {int64_t(session.workspaceBytes)});
      break;
    }
    if (d.words.size() != 3 + 2 * a->rank())
      return fail(LMC_RT_ERROR_ARTIFACT,
                  "argument " + std::to_string(i) + " has an unexpected rank");
    step.packed[i] = d.words.data();
  }
  return LMC_RT_OK;
}

/// The workspace a step of `tokens` tokens over `context` slots needs, with
/// the logits of as many as the session may ask for (all, or one).
static lmc_rt_status_t workspaceFor(lmc_rt_session &session, int64_t tokens,
                                    int64_t context, uint64_t &bytes) {
  StepArguments step;
  lmc_rt_status_t status =
      bindStep(session, tokens, session.lastLogitsOnly ? 1 : tokens, context,
               nullptr, nullptr, step);
  if (status != LMC_RT_OK)
    return status;
  session.model->workspaceBytes(step.packed.data());
  bytes = uint64_t(step.workspaceBytes);
  return LMC_RT_OK;
}

/// Reserves what every step of `session` uses on the GPU: the per-call
/// block and logits of batch x max_tokens tokens (the logits of all, or of
/// one per sequence), and the workspace of the largest step (max_tokens over
/// max_context slots).
static lmc_rt_status_t reserveStepBuffers(lmc_rt_session &session) {
  lmc_rt_model &model = *session.model;
  cuda::GpuDevice &gpu = *model.gpu;
  const int64_t batch = session.batch, tokens = session.maxTokens;
  // Overflow-safe products of the reservation's extents.
  auto bytesOf = [](size_t element, std::initializer_list<int64_t> extents,
                    size_t &bytes) {
    bytes = element;
    for (int64_t e : extents)
      if (__builtin_mul_overflow(bytes, size_t(e), &bytes))
        return false;
    return true;
  };
  size_t blockBytes = 0, logitBytes = 0;
  if (!bytesOf(sizeof(int64_t), {batch, 3 * tokens + 1}, blockBytes) ||
      !bytesOf(sizeof(float),
               {batch, session.lastLogitsOnly ? 1 : tokens,
                model.artifact->vocab_size()},
               logitBytes))
    return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                "steps of " + std::to_string(batch) + " x " +
                    std::to_string(tokens) + " tokens are larger than memory");
  if (model.workspaceBytes) {
    // lm-take-workspace checked that the size never shrinks as tokens or
    // context grow: the largest step's bounds every step's (each still
    // checks).
    lmc_rt_status_t status = workspaceFor(session, tokens, session.maxContext,
                                          session.workspaceBytes);
    if (status != LMC_RT_OK)
      return status;
    session.workspace =
        gpu.allocate(session.workspaceBytes, "workspace", false);
  }
  if (!gpu.failed())
    session.callBlock = gpu.allocate(blockBytes, "per-call inputs", false);
  if (!gpu.failed())
    session.callLogits = gpu.allocate(logitBytes, "logits", false);
  if (gpu.failed())
    return fail(LMC_RT_ERROR_OUT_OF_MEMORY, gpu.takeError());
  return LMC_RT_OK;
}

/// Which logits a step computes: of every token, or of each sequence's
/// last.
enum class LogitRows { All, Last };

/// One step: `tokens` tokens per sequence (ids row b at ids + b * idStride;
/// sequence b takes the first lengths[b]). Its logits go to row b at
/// logits + b * logitStride floats: every token's, or with LogitRows::Last
/// the last token's of each sequence in `last` (the rows of the others are
/// left as they are). The inputs were checked by the caller.
static lmc_rt_status_t runStep(lmc_rt_session &session, const int64_t *ids,
                               int64_t idStride, int64_t tokens,
                               const int64_t *lengths, LogitRows which,
                               const std::vector<bool> &last, float *logits,
                               int64_t logitStride) {
  lmc_rt_model &model = *session.model;
  const int64_t batch = session.batch, vocab = model.artifact->vocab_size();
  const int64_t rows = which == LogitRows::All ? tokens : 1;
  // The per-call values, in one block: ids and positions [batch, tokens],
  // lengths [batch], logit rows [batch, rows]. Padding (past a sequence's
  // length) reads token 0 at the sequence's last position, so that every
  // query sees a key.
  const size_t cells = size_t(batch * tokens);
  std::vector<int64_t> block(2 * cells + size_t(batch * (1 + rows)));
  int64_t *blockIds = block.data(), *positions = blockIds + cells,
          *blockLengths = positions + cells, *blockRows = blockLengths + batch;
  int64_t context = 1;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t held = session.lengths[b], length = lengths[b];
    context = std::max(context, held + length);
    blockLengths[b] = length;
    for (int64_t t = 0; t < tokens; ++t) {
      const int64_t i = b * tokens + t;
      blockIds[i] = t < length ? ids[b * idStride + t] : 0;
      positions[i] =
          t < length ? held + t : std::max<int64_t>(held + length - 1, 0);
    }
    for (int64_t r = 0; r < rows; ++r)
      blockRows[b * rows + r] =
          which == LogitRows::All ? r : std::max<int64_t>(length - 1, 0);
  }
  // The rows of logits the caller gets.
  auto wanted = [&](int64_t b) { return which == LogitRows::All || last[b]; };
  context = contextClass(context, session.maxContext);
  auto advance = [&] {
    for (int64_t b = 0; b < batch; ++b)
      session.lengths[b] += lengths[b];
  };

  cuda::GpuDevice *gpu = model.gpu.get();
  const size_t rowFloats = size_t(rows * vocab);
  bool contiguous = logitStride == int64_t(rowFloats);
  for (int64_t b = 0; b < batch; ++b)
    contiguous &= wanted(b);
  StepArguments step;
  lmc_rt_status_t status;
  if (!gpu) {
    // The host writes the logits in place when rows are contiguous.
    std::vector<float> staged;
    if (!contiguous)
      staged.resize(size_t(batch) * rowFloats);
    float *out = contiguous ? logits : staged.data();
    if ((status = bindStep(session, tokens, rows, context, block.data(), out,
                           step)) != LMC_RT_OK)
      return status;
    model.entry(step.packed.data());
    for (int64_t b = 0; !contiguous && b < batch; ++b)
      if (wanted(b))
        std::memcpy(logits + b * logitStride, out + b * rowFloats,
                    rowFloats * sizeof(float));
    advance();
    return LMC_RT_OK;
  }

  // On a GPU the per-call block and the logits live in the session's
  // buffers: one copy in, one out (a row per sequence when the caller's
  // rows are apart).
  if (gpu->failed())
    return fail(LMC_RT_ERROR_BACKEND, gpu->takeError());
  const auto *deviceBlock =
      reinterpret_cast<const int64_t *>(session.callBlock);
  auto *deviceLogits = reinterpret_cast<float *>(session.callLogits);
  if ((status = bindStep(session, tokens, rows, context, deviceBlock,
                         deviceLogits, step)) != LMC_RT_OK)
    return status;
  if (model.workspaceBytes) {
    model.workspaceBytes(step.packed.data());
    if (uint64_t(step.workspaceBytes) > session.workspaceBytes)
      return fail(LMC_RT_ERROR_BACKEND,
                  "internal: a step of " + std::to_string(batch) + " x " +
                      std::to_string(tokens) + " tokens over " +
                      std::to_string(context) + " cache slots needs " +
                      std::to_string(step.workspaceBytes) +
                      " bytes of workspace; the session reserved " +
                      std::to_string(session.workspaceBytes));
  }
  gpu->copyIn(session.callBlock, block.data(), block.size() * sizeof(int64_t));
  if (gpu->failed())
    return fail(LMC_RT_ERROR_BACKEND, gpu->takeError());
  cuda::GpuDevice *previous = cuda::makeCurrent(gpu);
  auto run = [&] { model.entry(step.packed.data()); };
  if (tokens == 1 && session.graphs) {
    // Captured the first time these shapes come (the generated code's
    // launches are recorded, not run), then replayed with one launch.
    const cuda::GpuDevice::GraphKey key{&session, context};
    cuda::CUgraphExec graph = gpu->graph(key);
    if (!graph)
      graph = gpu->capture(key, run);
    if (graph)
      gpu->replay(graph);
  } else {
    run();
  }
  cuda::makeCurrent(previous);
  gpu->check("cuStreamSynchronize",
             gpu->driver().cuStreamSynchronize(gpu->stream()));
  const size_t rowBytes = rowFloats * sizeof(float);
  for (int64_t b = 0; b < (contiguous ? 1 : batch); ++b)
    if (wanted(b))
      gpu->check("cuMemcpyDtoH",
                 gpu->driver().cuMemcpyDtoH(
                     logits + b * logitStride,
                     session.callLogits + b * rowBytes,
                     contiguous ? rowBytes * size_t(batch) : rowBytes));
  if (gpu->failed())
    return fail(LMC_RT_ERROR_BACKEND, gpu->takeError());
  advance();
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
  if (options->batch < 1 || options->max_context < 1 || options->max_tokens < 0)
    return fail(LMC_RT_ERROR_ARGUMENT,
                "batch and max_context must be at least 1, max_tokens at "
                "least 0");
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
  session->lastLogitsOnly = options->flags & LMC_RT_SESSION_LAST_LOGITS;
  session->maxTokens = options->max_tokens
                           ? std::min(options->max_tokens, options->max_context)
                           : options->max_context;
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
  if (model->gpu) {
    lmc_rt_status_t status = reserveStepBuffers(*session);
    if (status != LMC_RT_OK)
      return status;
  }
  *out = session.release();
  return LMC_RT_OK;
}

void lmc_rt_session_free(lmc_rt_session_t *session) { delete session; }

uint64_t lmc_rt_session_workspace_bytes(const lmc_rt_session_t *session) {
  return session ? session->workspaceBytes : 0;
}

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

/// A forward call (lmc_rt_session_forward_ragged, _last): the inputs
/// checked, then steps of at most max_tokens tokens.
static lmc_rt_status_t forwardCall(lmc_rt_session_t *session,
                                   const int64_t *ids, int64_t tokens,
                                   const int64_t *lengths, LogitRows which,
                                   float *logits) {
  if (!session || !ids || !lengths || !logits)
    return fail(LMC_RT_ERROR_ARGUMENT, "lmc_rt_session_forward: null argument");
  const int64_t batch = session->batch,
                vocab = session->model->artifact->vocab_size();
  if (tokens < 1)
    return fail(LMC_RT_ERROR_ARGUMENT, "expected at least one token");
  if (which == LogitRows::All && session->lastLogitsOnly)
    return fail(
        LMC_RT_ERROR_ARGUMENT,
        "the session asks for each sequence's last logits only "
        "(LMC_RT_SESSION_LAST_LOGITS): use lmc_rt_session_forward_last");
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
    for (int64_t t = 0; t < length; ++t) {
      const int64_t id = ids[b * tokens + t];
      if (id < 0 || id >= vocab)
        return fail(LMC_RT_ERROR_ARGUMENT, "token id " + std::to_string(id) +
                                               " at [" + std::to_string(b) +
                                               ", " + std::to_string(t) +
                                               "] is outside the vocabulary (" +
                                               std::to_string(vocab) + ")");
    }
  }
  // Steps of at most max_tokens tokens; one where none is left for any
  // sequence is not run (its padding rows are zero). The last logits of a
  // sequence that appends nothing are zero; of the others, those of the
  // step that holds its last token.
  const bool all = which == LogitRows::All;
  if (!all)
    std::fill_n(logits, batch * vocab, 0.0f);
  std::vector<int64_t> stepLengths(size_t(batch), 0);
  std::vector<bool> last(size_t(batch), false);
  for (int64_t start = 0; start < tokens; start += session->maxTokens) {
    const int64_t count = std::min(session->maxTokens, tokens - start);
    bool any = false;
    for (int64_t b = 0; b < batch; ++b) {
      stepLengths[b] = std::clamp<int64_t>(lengths[b] - start, 0, count);
      last[b] = lengths[b] > start && lengths[b] <= start + count;
      any |= stepLengths[b] > 0;
    }
    float *rows = all ? logits + start * vocab : logits;
    if (!any) {
      for (int64_t b = 0; all && b < batch; ++b)
        std::fill_n(rows + b * tokens * vocab, count * vocab, 0.0f);
      continue;
    }
    lmc_rt_status_t status =
        runStep(*session, ids + start, tokens, count, stepLengths.data(), which,
                last, rows, all ? tokens * vocab : vocab);
    if (status != LMC_RT_OK)
      return status;
  }
  return LMC_RT_OK;
}

lmc_rt_status_t lmc_rt_session_forward_ragged(lmc_rt_session_t *session,
                                              const int64_t *ids,
                                              int64_t tokens,
                                              const int64_t *lengths,
                                              float *logits) {
  return forwardCall(session, ids, tokens, lengths, LogitRows::All, logits);
}

lmc_rt_status_t lmc_rt_session_forward_last(lmc_rt_session_t *session,
                                            const int64_t *ids, int64_t tokens,
                                            const int64_t *lengths,
                                            float *logits) {
  return forwardCall(session, ids, tokens, lengths, LogitRows::Last, logits);
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
