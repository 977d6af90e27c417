//===- MergeGPUModules.cpp - One gpu.module for all kernels ---------------===//
//
// Kernels of the same template and shapes are outlined once per launch: a
// model's layers give the same kernel once per layer. Kept once, they are
// compiled once (ptxas's time and the code object's size scale with the
// distinct kernels, not the layers).
//
//===----------------------------------------------------------------------===//

#include "lmc/Codegen/GPU/TargetInfo.h"
#include "lmc/Codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::lm {
#define GEN_PASS_DEF_MERGEGPUMODULESPASS
#include "lmc/Codegen/Passes.h.inc"

namespace {
/// The symbols `func`'s body uses, in their order of first use.
SmallVector<StringAttr> usedSymbols(gpu::GPUFuncOp func) {
  SmallVector<StringAttr> names;
  if (std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(&func.getBody()))
    for (const SymbolTable::SymbolUse &use : *uses) {
      StringAttr name = use.getSymbolRef().getRootReference();
      if (!llvm::is_contained(names, name))
        names.push_back(name);
    }
  return names;
}

/// `text` with each reference `@from` (not a longer name's prefix) spelled
/// `@to`.
std::string renameReferences(StringRef text, StringRef from, StringRef to) {
  std::string reference = ("@" + from).str(), result;
  auto inName = [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.';
  };
  size_t done = 0;
  for (size_t at = text.find(reference); at != StringRef::npos;
       at = text.find(reference, at + reference.size())) {
    size_t end = at + reference.size();
    if (end < text.size() && inName(text[end]))
      continue;
    result += text.slice(done, at);
    result += "@";
    result += to;
    done = end;
  }
  result += text.drop_front(done);
  return result;
}

/// What `func` computes from its arguments, as text: the kernel printed
/// without its name, and the symbols it uses (a kernel's own globals, as the
/// wgmma tile's mbarriers) numbered in their order of use, each with its
/// definition. Equal keys are kernels that compute the same.
std::string kernelKey(gpu::GPUFuncOp func, SymbolTable &symbols,
                      AsmState &state) {
  std::string text;
  llvm::raw_string_ostream os(text);
  StringAttr funcName = func.getNameAttr();
  func.setName("lmc.kernel");
  func->print(os, state);
  func.setName(funcName);
  SmallVector<StringAttr> used = usedSymbols(func);
  for (StringAttr name : used)
    if (Operation *definition = symbols.lookup(name)) {
      os << "\n";
      definition->print(os, state);
    }
  for (auto [index, name] : llvm::enumerate(used))
    text = renameReferences(text, name.getValue(),
                            "lmc.symbol." + std::to_string(index));
  return text;
}

struct MergeGPUModulesPass final
    : impl::MergeGPUModulesPassBase<MergeGPUModulesPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernels(module.getOps<gpu::GPUModuleOp>());
    if (kernels.empty())
      return;
    OpBuilder b(kernels.front());
    auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), "lmc_kernels");
    SymbolTable mergedSymbols(merged);
    // Each outlined module holds one kernel named after the function plus
    // the globals it uses; the kernel takes the module's (unique) name, so a
    // launch of @m::@f becomes a launch of @lmc_kernels::@m.
    for (gpu::GPUModuleOp kernel : kernels) {
      for (Operation &op : llvm::make_early_inc_range(kernel.getBody()->getOperations())) {
        if (auto func = dyn_cast<gpu::GPUFuncOp>(op)) {
          func.setName(kernel.getName());
          // The templates read shared memory with 16-byte vector loads;
          // NVVM would align a buffer to its element type only.
          for (unsigned i = 0; i < func.getNumWorkgroupAttributions(); ++i)
            func.setWorkgroupAttributionAttr(
                i, LLVM::LLVMDialect::getAlignAttrName(),
                b.getI64IntegerAttr(gpu_target::kSharedAlignment));
          op.moveBefore(merged.getBody(), merged.getBody()->end());
          continue;
        }
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (symbol && mergedSymbols.lookup(symbol.getNameAttr()))
          continue; // the same global, already moved with another kernel
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (symbol)
          mergedSymbols.insert(&op);
      }
      kernel.erase();
    }
    // A kernel identical to an earlier one goes, with the globals only it
    // used; its launches take the earlier one's name. One printer state
    // serves all kernels (a kernel's value names are its own: gpu.func is
    // isolated from above); the module was verified after the pass that
    // made it, and a printer would verify each kernel again (30x the time).
    AsmState state(merged, OpPrintingFlags().assumeVerified());
    llvm::StringMap<StringAttr> firstOfKey;
    DenseMap<StringAttr, StringAttr> sameAs;
    SetVector<Operation *> orphans;
    for (auto func :
         llvm::make_early_inc_range(merged.getOps<gpu::GPUFuncOp>())) {
      auto [first, isNew] = firstOfKey.try_emplace(
          kernelKey(func, mergedSymbols, state), func.getNameAttr());
      if (isNew)
        continue;
      sameAs[func.getNameAttr()] = first->second;
      for (StringAttr name : usedSymbols(func))
        if (Operation *global = mergedSymbols.lookup(name))
          orphans.insert(global);
      mergedSymbols.erase(func);
    }
    for (Operation *global : orphans)
      if (SymbolTable::symbolKnownUseEmpty(global, merged))
        mergedSymbols.erase(global);
    module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr name = launch.getKernelModuleName();
      if (StringAttr kept = sameAs.lookup(name))
        name = kept;
      launch.setKernelAttr(SymbolRefAttr::get(
          merged.getNameAttr(), {FlatSymbolRefAttr::get(name)}));
    });
  }
};
} // namespace
} // namespace mlir::lm
