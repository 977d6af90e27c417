//===- HostTarget.cpp - LLVM dialect -> host shared object ----------------===//

#include "lmc/Codegen/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Operator.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

/// Lets LLVM reassociate floating-point additions and multiplications (and
/// contract them), as every BLAS does: the reductions of the generated loop
/// nests (dot products, sums of squares, softmax sums) are otherwise serial
/// chains of dependent adds that the vectoriser must leave alone. The
/// goldens stay within about 1e-5 of transformers (at most 1.1e-5).
static void allowReassociation(llvm::Module &module) {
  for (llvm::Function &function : module)
    for (llvm::Instruction &inst : llvm::instructions(function))
      if (isa<llvm::BinaryOperator>(inst) && isa<llvm::FPMathOperator>(inst)) {
        inst.setHasAllowReassoc(true);
        inst.setHasAllowContract(true);
      }
}

/// `type` with bfloat elements as i16 ones, or null if it has none.
static llvm::Type *bitsOfBFloat(llvm::Type *type) {
  if (type->isBFloatTy())
    return llvm::Type::getInt16Ty(type->getContext());
  if (auto *vector = dyn_cast<llvm::VectorType>(type);
      vector && vector->getElementType()->isBFloatTy())
    return llvm::VectorType::get(llvm::Type::getInt16Ty(type->getContext()),
                                 vector->getElementCount());
  return nullptr;
}

/// Loads and stores bf16 as i16. x86-64 has no bf16 arithmetic, so code
/// generation widens every bf16 value to f32; a bf16 value loaded and
/// stored as it is (a cache write beside the widening that computes with
/// it) then rounds back through a call of __truncsfbf2, which Debian 12's
/// libgcc lacks. Done after optimisation, which would fold the casts away.
static void accessBFloatAsBits(llvm::Module &module) {
  SmallVector<llvm::Instruction *> accesses;
  for (llvm::Function &function : module)
    for (llvm::Instruction &inst : llvm::instructions(function))
      if ((isa<llvm::LoadInst>(inst) && bitsOfBFloat(inst.getType())) ||
          (isa<llvm::StoreInst>(inst) &&
           bitsOfBFloat(inst.getOperand(0)->getType())))
        accesses.push_back(&inst);
  for (llvm::Instruction *inst : accesses) {
    llvm::IRBuilder<> b(inst);
    if (auto *load = dyn_cast<llvm::LoadInst>(inst)) {
      llvm::LoadInst *bits = b.CreateAlignedLoad(
          bitsOfBFloat(load->getType()), load->getPointerOperand(),
          load->getAlign(), load->isVolatile());
      bits->copyMetadata(*load);
      load->replaceAllUsesWith(b.CreateBitCast(bits, load->getType()));
    } else {
      auto *store = cast<llvm::StoreInst>(inst);
      llvm::Value *value = store->getValueOperand();
      llvm::StoreInst *bits = b.CreateAlignedStore(
          b.CreateBitCast(value, bitsOfBFloat(value->getType())),
          store->getPointerOperand(), store->getAlign(), store->isVolatile());
      bits->copyMetadata(*store);
    }
    inst->eraseFromParent();
  }
}

/// Runs the LLVM pipeline of `level` over `module`.
static void optimize(llvm::Module &module, llvm::TargetMachine &machine,
                     llvm::OptimizationLevel level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(level).run(module, mam);
}

LogicalResult mlir::lm::emitHostSharedObject(ModuleOp module,
                                             std::string &bytes,
                                             std::string &error,
                                             HostCodeKind kind) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerBuiltinDialectTranslation(*module->getContext());
  registerLLVMDialectTranslation(*module->getContext());

  llvm::LLVMContext context;
  std::string diagnostic;
  std::unique_ptr<llvm::Module> llvmModule;
  {
    // Keep translation diagnostics in the one-line error.
    ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
      if (diagnostic.empty())
        diagnostic = d.str();
      return success();
    });
    llvmModule = translateModuleToLLVMIR(module, context, "lmc_host");
  }
  if (!llvmModule) {
    error = "translation to LLVM IR failed: " + diagnostic;
    return failure();
  }
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string lookupError;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target) {
    error = "no LLVM target for " + triple.str() + ": " + lookupError;
    return failure();
  }
  // Position-independent code for a shared object; a portable x86-64 CPU so
  // the artifact runs on any x86-64 machine.
  llvm::TargetOptions options;
  bool compute = kind == HostCodeKind::Compute;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "x86-64-v2", "", options, llvm::Reloc::PIC_, std::nullopt,
      compute ? llvm::CodeGenOptLevel::Aggressive
              : llvm::CodeGenOptLevel::None));
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(triple);
  if (compute)
    allowReassociation(*llvmModule);
  optimize(*llvmModule, *machine,
           compute ? llvm::OptimizationLevel::O2 : llvm::OptimizationLevel::O0);
  accessBFloatAsBits(*llvmModule);

  llvm::SmallString<128> objectPath, libraryPath;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("lmc", "o",
                                                              objectPath)) {
    error = "cannot create a temporary object file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeObject(objectPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec);
    if (ec) {
      error = objectPath.str().str() + ": " + ec.message();
      return failure();
    }
    llvm::legacy::PassManager pm;
    if (machine->addPassesToEmitFile(pm, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot emit object files";
      return failure();
    }
    pm.run(*llvmModule);
  }

  // Link a shared object with the system linker; libm symbols (expf, erff,
  // ...) resolve when the runtime loads it.
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("lmc", "so",
                                                              libraryPath)) {
    error = "cannot create a temporary library file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeLibrary(libraryPath);
  llvm::ErrorOr<std::string> ld = llvm::sys::findProgramByName("ld");
  if (!ld) {
    error = "no system linker 'ld' on PATH (install binutils)";
    return failure();
  }
  SmallVector<StringRef> args = {*ld, "-shared", "-o", libraryPath, objectPath};
  std::string linkError;
  if (llvm::sys::ExecuteAndWait(*ld, args, std::nullopt, {}, 0, 0,
                                &linkError) != 0) {
    error = "linking the host library failed: " + linkError;
    return failure();
  }
  auto buffer = llvm::MemoryBuffer::getFile(libraryPath, /*IsText=*/false);
  if (!buffer) {
    error = "cannot read the linked library: " + buffer.getError().message();
    return failure();
  }
  bytes = (*buffer)->getBuffer().str();
  return success();
}
