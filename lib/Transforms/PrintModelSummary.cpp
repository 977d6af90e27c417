//===- PrintModelSummary.cpp - Print parameters and cache sizes -----------===//

#include "lmc/Analysis/ModelSummary.h"
#include "lmc/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

#define DEBUG_TYPE "lm-print-model-summary"

namespace mlir::lm {
#define GEN_PASS_DEF_PRINTMODELSUMMARYPASS
#include "lmc/Transforms/Passes.h.inc"

namespace {
struct PrintModelSummaryPass final
    : impl::PrintModelSummaryPassBase<PrintModelSummaryPass> {
  using Base::Base;
  void runOnOperation() override {
    FailureOr<ModelSummary> summary = summarizeModel(getOperation());
    if (failed(summary)) {
      getOperation().emitError("expected a 'forward' function in the model");
      return signalPassFailure();
    }
    printModelSummary(*summary, llvm::outs());
    markAllAnalysesPreserved();
  }
};
} // namespace
} // namespace mlir::lm
