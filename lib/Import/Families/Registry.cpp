//===- Registry.cpp - model_type -> family importer -----------------------===//

#include "../Decoder.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::lm;

namespace {
struct Family {
  StringLiteral modelType;
  FamilyBuilder build;
};
} // namespace

static constexpr Family kFamilies[] = {
    {"deepseek_v3", importDeepSeek},   {"deepseek_v32", importDeepSeek},
    {"deepseek_v4", importDeepSeekV4}, {"gemma3_text", importGemma3},
    {"glm4_moe", importGlm4Moe},       {"gpt_oss", importGptOss},
    {"kimi_k2", importDeepSeek},       {"kimi_linear", importKimiLinear},
    {"llama", importLlama},            {"llama4_text", importLlama4},
    {"minimax_m2", importMiniMaxM2},   {"mixtral", importMixtral},
    {"nemotron_h", importNemotronH},   {"olmo2", importOlmo2},
    {"olmo3", importOlmo2},            {"qwen3", importQwen3},
    {"qwen3_moe", importQwen3},        {"qwen3_next", importQwen3Next},
    {"smollm3", importSmolLM3},
};

FamilyBuilder mlir::lm::lookupFamily(StringRef modelType) {
  for (const Family &f : kFamilies)
    if (f.modelType == modelType)
      return f.build;
  return nullptr;
}

std::string mlir::lm::listFamilies() {
  return llvm::join(llvm::map_range(kFamilies,
                                    [](const Family &f) {
                                      return StringRef(f.modelType);
                                    }),
                    ", ");
}
