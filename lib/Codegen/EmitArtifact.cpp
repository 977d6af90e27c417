//===- EmitArtifact.cpp - lm module -> .lmx artifact ----------------------===//
//
// Lowers @forward for the host in two stages: first the interface (weights
// and state become arguments), whose signature is recorded as the entry's
// argument list, then the body, down to a shared object. A packed wrapper
// `lmc_forward(void **descriptors)` lets the runtime call the entry with any
// number of arguments; GPU code has a second entry of the same arguments,
// `lmc_forward_workspace_bytes`, the bytes of its workspace.
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/Artifact.h"
#include "lmc/Codegen/GPU/TargetInfo.h"

#include "ArtifactSeal.h"
#include "lmc/Codegen/Passes.h"
#include "lmc/Codegen/Pipelines.h"
#include "lmc/Dialect/LM/ForwardAbi.h"
#include "lmc/Import/Safetensors.h"
#include "lmx_generated.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::lm;

namespace {
/// What the artifact says about one argument of @forward.
struct ArgumentInfo {
  lmc::lmx::ArgumentKind kind;
  uint32_t index = 0;
  uint32_t rank = 0;
};

/// The artifact's name for element type `t`; none for a type the runtime
/// does not know (refused, never written as another).
std::optional<lmc::lmx::DType> dtypeOf(Type t) {
  if (t.isF32())
    return lmc::lmx::DType::F32;
  if (t.isF16())
    return lmc::lmx::DType::F16;
  if (t.isBF16())
    return lmc::lmx::DType::BF16;
  if (t.isF64())
    return lmc::lmx::DType::F64;
  if (t.isInteger(64))
    return lmc::lmx::DType::I64;
  if (t.isInteger(32))
    return lmc::lmx::DType::I32;
  if (t.isInteger(16))
    return lmc::lmx::DType::I16;
  if (t.isInteger(8))
    return lmc::lmx::DType::I8;
  if (isa<Float8E4M3FNType>(t))
    return lmc::lmx::DType::F8_E4M3;
  if (isa<Float8E5M2Type>(t))
    return lmc::lmx::DType::F8_E5M2;
  return std::nullopt;
}

/// The artifact's name for a checkpoint's dtype string; none if unknown.
std::optional<lmc::lmx::DType> dtypeOf(StringRef safetensors) {
  return llvm::StringSwitch<std::optional<lmc::lmx::DType>>(safetensors)
      .Case("F32", lmc::lmx::DType::F32)
      .Case("F16", lmc::lmx::DType::F16)
      .Case("BF16", lmc::lmx::DType::BF16)
      .Case("F64", lmc::lmx::DType::F64)
      .Case("I64", lmc::lmx::DType::I64)
      .Case("I32", lmc::lmx::DType::I32)
      .Case("I16", lmc::lmx::DType::I16)
      .Case("I8", lmc::lmx::DType::I8)
      .Case("U8", lmc::lmx::DType::U8)
      .Case("F8_E4M3", lmc::lmx::DType::F8_E4M3)
      .Case("Q4_0", lmc::lmx::DType::Q4_0)
      .Case("Q4_1", lmc::lmx::DType::Q4_1)
      .Case("Q8_0", lmc::lmx::DType::Q8_0)
      .Case("F8_E5M2", lmc::lmx::DType::F8_E5M2)
      .Default(std::nullopt);
}

/// Runs `pm` and turns its first diagnostic into `error`.
LogicalResult runPipeline(ModuleOp module, OpPassManager &pm,
                          std::string &error) {
  std::string diagnostic;
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
    if (diagnostic.empty()) {
      llvm::raw_string_ostream os(diagnostic);
      os << d.getLocation() << ": " << d;
    }
    return success();
  });
  PassManager manager(module.getContext());
  static_cast<OpPassManager &>(manager) = pm;
  if (succeeded(manager.run(module)))
    return success();
  error = diagnostic.empty() ? "lowering failed" : diagnostic;
  return failure();
}

/// The packed wrapper of function `name`.
std::string packedName(StringRef name) { return ("lmc_" + name).str(); }

/// Adds `lmc_<name>(ptr)` calling `_mlir_ciface_<name>` with the pointers
/// stored in its argument array: a memref's is passed on, a scalar's is
/// read; a scalar result is stored through the pointer in the slot after
/// the arguments.
LogicalResult addPackedWrapper(ModuleOp module, StringRef name,
                               std::string &error) {
  auto callee =
      module.lookupSymbol<LLVM::LLVMFuncOp>(("_mlir_ciface_" + name).str());
  if (!callee) {
    error = ("internal: no C interface for @" + name).str();
    return failure();
  }
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module.getBody());
  Location loc = callee.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto wrapper = LLVM::LLVMFuncOp::create(
      b, loc, packedName(name),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr}));
  Block *entry = wrapper.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  SmallVector<Value> args;
  for (unsigned i = 0, e = callee.getNumArguments(); i < e; ++i) {
    Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, entry->getArgument(0),
                                     ArrayRef<LLVM::GEPArg>{int32_t(i)});
    Value pointer = LLVM::LoadOp::create(b, loc, ptr, slot);
    Type type = callee.getArgumentTypes()[i];
    args.push_back(type == ptr ? pointer
                               : LLVM::LoadOp::create(b, loc, type, pointer));
  }
  auto call = LLVM::CallOp::create(b, loc, callee, args);
  if (call.getNumResults() == 1) {
    Value slot = LLVM::GEPOp::create(
        b, loc, ptr, ptr, entry->getArgument(0),
        ArrayRef<LLVM::GEPArg>{int32_t(callee.getNumArguments())});
    LLVM::StoreOp::create(b, loc, call.getResult(),
                          LLVM::LoadOp::create(b, loc, ptr, slot));
  }
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  return success();
}
} // namespace

LogicalResult mlir::lm::compileToArtifact(ModuleOp module,
                                          const CompileOptions &options,
                                          std::string &artifact,
                                          std::string &error) {
  bool gpu = options.target == gpu_target::kChip;
  if (options.target != "host" && !gpu) {
    error = "unsupported target '" + options.target +
            "' (supported: host, " + gpu_target::kChip.str() + ")";
    return failure();
  }
  module.getContext()->loadDialect<LLVM::LLVMDialect>();
  auto intAttr = [&](StringRef name) -> int64_t {
    auto a = module->getAttrOfType<IntegerAttr>(name);
    return a ? a.getInt() : 0;
  };
  std::string modelType, source;
  if (auto a = module->getAttrOfType<StringAttr>("lm.model_type"))
    modelType = a.getValue().str();
  if (auto a = module->getAttrOfType<StringAttr>("lm.weights"))
    source = a.getValue().str();
  if (source.empty()) {
    error = "the model has no weights (imported from a config only)";
    return failure();
  }
  // The checkpoint: a GGUF file, or the folder of a safetensors file/index.
  WeightIndex weights;
  if (failed(weights.load(StringRef(source).ends_with(".gguf")
                              ? StringRef(source)
                              : llvm::sys::path::parent_path(source),
                          error)))
    return failure();

  // Stage 1: the interface.
  OpPassManager interface(ModuleOp::getOperationName());
  PipelineOptions pipelineOptions;
  ArithmeticType arithmetic, kvStorage;
  if (failed(parseArithmeticType(options.dtype, arithmetic, error)) ||
      failed(parseArithmeticType(options.kvDtype, kvStorage, error)))
    return failure();
  pipelineOptions.dtype = arithmetic;
  pipelineOptions.kvDtype = kvStorage;
  pipelineOptions.kernelSelection = options.selectKernels;
  buildHostInterfacePipeline(interface, pipelineOptions);
  if (failed(runPipeline(module, interface, error)))
    return failure();
  auto forward = module.lookupSymbol<func::FuncOp>(abi::kForward);

  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<lmc::lmx::Weight>> weightTable;
  std::vector<flatbuffers::Offset<lmc::lmx::StateBuffer>> stateTable;
  std::vector<ArgumentInfo> arguments;
  auto tensorRef = [&](StringRef name) -> flatbuffers::Offset<lmc::lmx::TensorRef> {
    const TensorInfo *info = weights.lookup(name);
    if (!info) {
      error = (source + ": missing tensor '" + name + "'").str();
      return 0;
    }
    std::optional<lmc::lmx::DType> dtype = dtypeOf(info->dtype);
    if (!dtype) {
      error = (source + ": tensor '" + name + "': unsupported dtype '" +
               info->dtype + "'")
                  .str();
      return 0;
    }
    return lmc::lmx::CreateTensorRef(
        fbb, fbb.CreateString(info->name), *dtype,
        fbb.CreateVector(std::vector<int64_t>(info->shape.begin(),
                                              info->shape.end())),
        fbb.CreateString(info->file), info->offset);
  };
  for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i) {
    auto name = forward.getArgAttrOfType<StringAttr>(i, abi::kName);
    if (name && name.getValue() == abi::kContext) {
      arguments.push_back({lmc::lmx::ArgumentKind::Context, 0, 0});
      continue;
    }
    auto type = dyn_cast<ShapedType>(forward.getArgument(i).getType());
    if (!type) {
      error = "internal: argument #" + std::to_string(i) +
              " of @forward is neither a tensor nor the context";
      return failure();
    }
    std::optional<lmc::lmx::DType> elementType = dtypeOf(type.getElementType());
    if (!elementType) {
      llvm::raw_string_ostream os(error);
      os << "argument #" << i << " of @forward: element type "
         << type.getElementType() << " has no artifact dtype";
      return failure();
    }
    ArgumentInfo info;
    info.rank = type.getRank();
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    if (name) {
      auto kind = llvm::StringSwitch<std::optional<lmc::lmx::ArgumentKind>>(
                      name.getValue())
                      .Case(abi::kInputIds, lmc::lmx::ArgumentKind::InputIds)
                      .Case(abi::kPositions, lmc::lmx::ArgumentKind::Positions)
                      .Case(abi::kLengths, lmc::lmx::ArgumentKind::Lengths)
                      .Case(abi::kLogitRows, lmc::lmx::ArgumentKind::LogitRows)
                      .Default(std::nullopt);
      if (!kind) {
        error = "internal: argument #" + std::to_string(i) +
                " of @forward has the unknown name '" + name.getValue().str() +
                "'";
        return failure();
      }
      info.kind = *kind;
    } else if (auto name =
                   forward.getArgAttrOfType<StringAttr>(i, abi::kWeight)) {
      auto ref = tensorRef(name.getValue());
      if (!error.empty())
        return failure();
      info.kind = lmc::lmx::ArgumentKind::Weight;
      info.index = weightTable.size();
      weightTable.push_back(lmc::lmx::CreateWeight(
          fbb, fbb.CreateString(name.getValue().str()),
          *elementType, fbb.CreateVector(shape),
          fbb.CreateVector(std::vector<flatbuffers::Offset<lmc::lmx::TensorRef>>{
              ref})));
    } else if (auto patterns = forward.getArgAttrOfType<ArrayAttr>(
                   i, abi::kStackedWeight)) {
      int64_t count =
          forward.getArgAttrOfType<IntegerAttr>(i, abi::kStackedCount).getInt();
      std::vector<flatbuffers::Offset<lmc::lmx::TensorRef>> parts;
      for (int64_t expert = 0; expert < count; ++expert)
        for (Attribute p : patterns) {
          std::string name = cast<StringAttr>(p).getValue().str();
          name.replace(name.find("{}"), 2, std::to_string(expert));
          parts.push_back(tensorRef(name));
          if (!error.empty())
            return failure();
        }
      info.kind = lmc::lmx::ArgumentKind::Weight;
      info.index = weightTable.size();
      weightTable.push_back(lmc::lmx::CreateWeight(
          fbb, fbb.CreateString(cast<StringAttr>(patterns[0]).getValue().str()),
          *elementType, fbb.CreateVector(shape),
          fbb.CreateVector(parts)));
    } else if (auto name =
                   forward.getArgAttrOfType<StringAttr>(i, abi::kState)) {
      info.kind = lmc::lmx::ArgumentKind::State;
      info.index = stateTable.size();
      bool perToken = !forward.getArgAttr(i, abi::kPerSequence);
      std::vector<int64_t> dims(shape.begin() + (perToken ? 2 : 1), shape.end());
      stateTable.push_back(lmc::lmx::CreateStateBuffer(
          fbb, fbb.CreateString(name.getValue().str()),
          *elementType, fbb.CreateVector(dims), perToken));
    } else {
      error = "internal: argument #" + std::to_string(i) + " of @forward is unnamed";
      return failure();
    }
    arguments.push_back(info);
  }
  // The logits become a trailing out-parameter [B, L, V].
  arguments.push_back({lmc::lmx::ArgumentKind::Logits, 0, 3});

  // Stage 2: the body, then the code object.
  OpPassManager lowering(ModuleOp::getOperationName());
  if (gpu) {
    std::optional<std::string> toolkit = findCudaToolkit();
    if (!toolkit) {
      error = "no CUDA toolkit found for " + gpu_target::kChip.str() +
              " (libdevice): set CUDA_HOME";
      return failure();
    }
    buildGPULoweringPipeline(lowering, *toolkit, pipelineOptions);
  } else
    buildHostLoweringPipeline(lowering);
  std::string ptx, cubin;
  if (failed(runPipeline(module, lowering, error)) ||
      (gpu && failed(assembleKernels(module, ptx, cubin, error))) ||
      failed(addPackedWrapper(module, abi::kForward, error)))
    return failure();
  // GPU code takes its arena as a trailing workspace argument
  // (lm-take-workspace), sized by a function of the same arguments.
  if (gpu) {
    arguments.push_back({lmc::lmx::ArgumentKind::Workspace, 0, 1});
    if (failed(addPackedWrapper(module, abi::kWorkspaceBytes, error)))
      return failure();
  }
  std::string code;
  if (failed(emitHostSharedObject(
          module, code, error,
          gpu ? HostCodeKind::Launcher : HostCodeKind::Compute)))
    return failure();

  std::vector<flatbuffers::Offset<lmc::lmx::Argument>> argumentTable;
  for (const ArgumentInfo &a : arguments)
    argumentTable.push_back(
        lmc::lmx::CreateArgument(fbb, a.kind, a.index, a.rank));
  auto argumentVector = fbb.CreateVector(argumentTable);
  std::vector<flatbuffers::Offset<lmc::lmx::Entry>> entries = {
      lmc::lmx::CreateEntry(fbb, fbb.CreateString(abi::kForward.str()),
                            fbb.CreateString(packedName(abi::kForward)),
                            argumentVector)};
  if (gpu)
    entries.push_back(lmc::lmx::CreateEntry(
        fbb, fbb.CreateString("workspace_bytes"),
        fbb.CreateString(packedName(abi::kWorkspaceBytes)), argumentVector));
  // Host: one shared object. sm_90a: the shared object that launches the
  // kernels (it embeds the cubin, or the PTX without ptxas) and the PTX
  // (kept NUL-terminated: the runtime JITs it when the cubin does not
  // load). The cubin is not stored a second time on its own.
  std::vector<flatbuffers::Offset<lmc::lmx::CodeObject>> objects;
  // sealArtifact fills the digests in once the buffer is complete.
  auto digestPlaceholder = [&] {
    return fbb.CreateVector(std::vector<uint8_t>(32, 0));
  };
  auto addObject = [&](StringRef format, StringRef bytes) {
    objects.push_back(lmc::lmx::CreateCodeObject(
        fbb, fbb.CreateString(gpu ? gpu_target::kChip.str() : "x86_64-host"),
        fbb.CreateString(format.str()),
        fbb.CreateVector(reinterpret_cast<const uint8_t *>(bytes.data()),
                         bytes.size()),
        digestPlaceholder()));
  };
  addObject("elf-shared-object", code);
  if (gpu) {
    addObject("ptx", StringRef(ptx.c_str(), ptx.size() + 1));
  }
  auto model = lmc::lmx::CreateModel(
      fbb, lmc::rt::kArtifactVersion, fbb.CreateString(modelType),
      intAttr("lm.vocab_size"), intAttr("lm.hidden_size"),
      intAttr("lm.num_layers"), intAttr("lm.max_position_embeddings"),
      fbb.CreateString(source), fbb.CreateVector(weightTable),
      fbb.CreateVector(stateTable), fbb.CreateVector(entries),
      fbb.CreateVector(objects), digestPlaceholder());
  lmc::lmx::FinishModelBuffer(fbb, model);
  artifact.assign(reinterpret_cast<const char *>(fbb.GetBufferPointer()),
                  fbb.GetSize());
  return success(lmc::rt::sealArtifact(
      reinterpret_cast<uint8_t *>(artifact.data()), artifact.size(), error));
}
