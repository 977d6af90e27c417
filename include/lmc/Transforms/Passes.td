//===- Passes.td - Graph passes on the lm dialect -----------*- tablegen -*-===//

#ifndef LMC_TRANSFORMS_PASSES_TD
#define LMC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def PrintModelSummaryPass : Pass<"lm-print-model-summary", "mlir::ModuleOp"> {
  let summary = "Print parameter counts and cache sizes of an lm model";
  let description = [{
    Reads the `@forward` function of an imported model and prints, as
    remarks-free text on stdout, its total parameters, the parameters active
    per token (routed experts count `top_k / experts` of their weights) and
    the bytes of inference state per token and per sequence, read off the
    state types of the function signature. The IR is left unchanged.

    ```
    model: llama (4 layers, hidden 64, vocab 256)
    parameters: 180800 total (180.80 K), 164480 active per token (164.48 K)
    cache per token: 256.0 values, 1024.0 bytes (layers that attend to the whole context)
    ```
  }];
}

#endif // LMC_TRANSFORMS_PASSES_TD
