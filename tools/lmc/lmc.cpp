//===- lmc.cpp - The lmc driver: import and inspect models ----------------===//
//
// Thin by design: every step lives in lib/. `lmc import` turns a Hugging
// Face folder into lm IR; `lmc inspect` summarises a model (parameters,
// active parameters per token, cache bytes per token and per sequence).
//
//===----------------------------------------------------------------------===//

#include "lmc/Analysis/ModelSummary.h"
#include "lmc/Codegen/Artifact.h"
#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Dialect/LM/LMDialect.h"
#include "lmc/Import/Importer.h"

#include "mlir/IR/AsmState.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

using namespace mlir;

namespace {
int fail(const llvm::Twine &message) {
  llvm::errs() << "lmc: error: " << message << "\n";
  return 1;
}

/// Loads a model from a Hugging Face folder (or config.json) or a .mlir
/// file; returns null after printing the error.
OwningOpRef<ModuleOp> loadModel(MLIRContext &context, StringRef input) {
  if (!llvm::sys::fs::exists(input)) {
    fail(input + ": not found");
    return nullptr;
  }
  if (input.ends_with(".mlir")) {
    std::string diagnostic;
    llvm::raw_string_ostream os(diagnostic);
    llvm::SourceMgr sourceMgr;
    SourceMgrDiagnosticHandler handler(sourceMgr, &context, os);
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(input, sourceMgr, ParserConfig(&context));
    if (!module) {
      // Keep the first line: "file:line:col: error: ...".
      fail(StringRef(diagnostic).split('\n').first.str());
      return nullptr;
    }
    return module;
  }
  std::string error;
  std::vector<std::string> warnings;
  OwningOpRef<ModuleOp> module =
      lm::importHuggingFace(&context, input, error, &warnings);
  if (!module) {
    fail(error);
    return nullptr;
  }
  for (const std::string &w : warnings)
    llvm::errs() << "lmc: warning: " << w << "\n";
  return module;
}

int printSummary(ModuleOp module) {
  FailureOr<lm::ModelSummary> summary = lm::summarizeModel(module);
  if (failed(summary))
    return fail("expected a '@forward' function in the model");
  lm::printModelSummary(*summary, llvm::outs());
  return 0;
}

int runImport(MLIRContext &context, const std::string &input,
              const std::string &output, bool summary) {
  OwningOpRef<ModuleOp> module = loadModel(context, input);
  if (!module)
    return 1;
  if (!output.empty()) {
    // ToolOutputFile deletes the file unless keep() is called, so a failed
    // write leaves nothing behind.
    std::string error;
    auto file = openOutputFile(output, &error);
    if (!file)
      return fail(output + ": " + error);
    module->print(file->os(), OpPrintingFlags().enableDebugInfo(false));
    file->os().flush();
    if (file->os().has_error())
      return fail(output + ": write failed");
    file->keep();
  } else if (!summary) {
    module->print(llvm::outs());
  }
  return summary ? printSummary(*module) : 0;
}

int runCompile(MLIRContext &context, const std::string &input,
               const std::string &output, const std::string &target,
               const std::string &dtype, const std::string &kvDtype,
               const std::string &kernels) {
  OwningOpRef<ModuleOp> module = loadModel(context, input);
  if (!module)
    return 1;
  lm::CompileOptions options;
  options.target = target;
  options.dtype = dtype;
  options.kvDtype = kvDtype;
  options.selectKernels = kernels == "selected";
  std::string artifact, error;
  if (failed(lm::compileToArtifact(*module, options, artifact, error)))
    return fail(input + ": " + error);
  auto file = openOutputFile(output, &error);
  if (!file)
    return fail(output + ": " + error);
  file->os() << artifact;
  file->os().flush();
  if (file->os().has_error())
    return fail(output + ": write failed");
  file->keep();
  return 0;
}

int inspectArtifact(const std::string &input, const std::string &dumpDir,
                    bool plan, int64_t planBatch, int64_t planPrompt) {
  if (plan) {
    std::string error;
    if (failed(
            lm::printPlan(input, planBatch, planPrompt, llvm::outs(), error)))
      return fail(error);
    return 0;
  }
  auto buffer = llvm::MemoryBuffer::getFile(input, /*IsText=*/false);
  if (!buffer)
    return fail(input + ": cannot read: " + buffer.getError().message());
  std::string error;
  LogicalResult result =
      dumpDir.empty()
          ? lm::printArtifact((*buffer)->getBuffer(), llvm::outs(), error)
          : lm::dumpArtifactCode((*buffer)->getBuffer(), dumpDir,
                                 llvm::outs(), error);
  if (failed(result))
    return fail(input + ": " + error);
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"lmc: an ahead-of-time compiler for LLM architectures"};
  app.require_subcommand(1);

  std::string importInput, importOutput;
  bool importSummary = false;
  CLI::App *import =
      app.add_subcommand("import", "Import a Hugging Face model as lm IR");
  import->add_option("input", importInput,
                     "Model folder (config.json [+ safetensors]) or config.json")
      ->required();
  import->add_option("-o,--output", importOutput,
                     "Write the IR here (default: stdout)");
  import->add_flag("--summary", importSummary,
                   "Print parameters and cache sizes");

  std::string compileInput, compileOutput, compileTarget = "host",
                             compileDType = "f32";
  CLI::App *compile = app.add_subcommand(
      "compile", "Compile a model into a .lmx artifact");
  compile->add_option("input", compileInput, "Model folder or .mlir file")
      ->required();
  compile->add_option("-o,--output", compileOutput, "The artifact to write")
      ->required();
  compile->add_option("--target", compileTarget,
                      "host (x86-64) or sm_90a (H100/H200: PTX, cubin and "
                      "the host code that launches them)")
      ->check(CLI::IsMember({std::string("host"),
                             mlir::lm::gpu_target::kChip.str()}));
  compile
      ->add_option("--dtype", compileDType,
                   "f32, or bf16: bf16 weights (converted at load), "
                   "projection inputs and attention's product operands; "
                   "f32 accumulation, norms and softmax statistics")
      ->check(CLI::IsMember({"f32", "bf16"}));
  std::string compileKvDType = "f32";
  compile
      ->add_option("--kv-dtype", compileKvDType,
                   "f32, or bf16: what the KV caches store (attention's keys "
                   "and values, MLA's latents, indexer keys; rounded as "
                   "written: half the memory and reads). Under --dtype bf16 "
                   "what they store is bf16 already, so it changes no "
                   "result there. Compressed caches store f32")
      ->check(CLI::IsMember({"f32", "bf16"}));
  std::string compileKernels = "selected";
  compile
      ->add_option("--kernels", compileKernels,
                   "sm_90a: selected (kernel templates chosen on lm ops: "
                   "flash decoding and attention, streamed projections "
                   "and experts, the warp router), or generic (every op on the generic "
                   "path: to compare, or to fall back to)")
      ->check(CLI::IsMember({"selected", "generic"}));

  std::string inspectInput, inspectDumpDir;
  CLI::App *inspect = app.add_subcommand(
      "inspect", "Summarise a model: parameters, active parameters, caches");
  inspect->add_option("input", inspectInput, "Model folder, .mlir or .lmx file")
      ->required();
  inspect->add_option("--dump-code", inspectDumpDir,
                      "Write the code objects of a .lmx artifact to this "
                      "folder (.so, .ptx, .cubin)");
  bool inspectPlan = false;
  int64_t planBatch = 1, planPrompt = 16;
  inspect->add_flag("--plan", inspectPlan,
                    "Print the kernel launches of a prefill and a decode step "
                    "of a .lmx artifact for sm_90a, traced without a GPU");
  inspect->add_option("--plan-batch", planBatch, "Sequences, for --plan")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  inspect
      ->add_option("--plan-prompt", planPrompt,
                   "Prompt tokens per sequence, for --plan")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    llvm::errs() << "lmc: error: " << e.what() << "\n";
    return 2;
  }

  DialectRegistry registry;
  lm::registerImportDialects(registry);
  // Compilation lowers through upstream dialects and their extensions.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // Kernels and host code are translated to LLVM IR.
  registerAllToLLVMIRTranslations(registry);
  registerAllPasses(); // the host pipeline is partly textual
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  if (*import)
    return runImport(context, importInput, importOutput, importSummary);
  if (*compile)
    return runCompile(context, compileInput, compileOutput, compileTarget,
                      compileDType, compileKvDType, compileKernels);
  if (StringRef(inspectInput).ends_with(".lmx"))
    return inspectArtifact(inspectInput, inspectDumpDir, inspectPlan, planBatch,
                           planPrompt);
  if (!inspectDumpDir.empty())
    return fail(inspectInput + ": --dump-code needs a .lmx artifact");
  if (inspectPlan)
    return fail(inspectInput + ": --plan needs a .lmx artifact");
  OwningOpRef<ModuleOp> module = loadModel(context, inspectInput);
  if (!module)
    return 1;
  return printSummary(*module);
}
