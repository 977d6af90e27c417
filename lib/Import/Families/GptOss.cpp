//===- GptOss.cpp - GPT-OSS -----------------------------------------------===//
//
// Learned attention sinks, alternating sliding / full layers, biases on
// every projection, YaRN RoPE, and a softmax-over-top-k router feeding
// clamped SwiGLU experts with interleaved gate/up channels (MODELS.md 5).
//
//===----------------------------------------------------------------------===//

#include "../Decoder.h"

using namespace mlir;
using namespace mlir::lm;

Value mlir::lm::importGptOss(ModelBuilder &mb) {
  ModelConfig &config = mb.config;
  CommonConfig common = readCommonConfig(config);
  DecoderSpec spec = makeDecoderSpec(common);
  std::vector<std::string> types = readLayerTypes(
      config, "layer_types", common.layers,
      {"full_attention", "sliding_attention"}, [](int64_t i) {
        return i % 2 == 0 ? "sliding_attention" : "full_attention";
      });
  int64_t experts = config.getPositive("num_local_experts");
  int64_t topK = config.getPositive("num_experts_per_tok");
  checkRouting(config, "num_experts_per_tok", topK, experts);
  double limit = config.getNumber("swiglu_limit", 7.0);
  RopeSpec rope = readRope(mb, common.headDim, "", 150000.0);

  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    AttentionSpec &attn = layer.attention;
    attn.qkvBias = attn.outputBias = config.getBool("attention_bias", true);
    attn.sinks = true;
    attn.rope = rope;
    if (types[i] == "sliding_attention")
      attn.slidingWindow = config.getPositive("sliding_window");
    layer.ffn = FFNKind::MoE;
    RouterSpec &router = layer.moe.router;
    // softmax over the selected logits == softmax over all, renormalised.
    router.scoring = ScoringKind::softmax;
    router.topK = topK;
    router.normalize = true;
    router.logitBias = true;
    router.gate = "router";
    ExpertsSpec &ex = layer.moe.experts;
    ex.experts = experts;
    ex.intermediate = common.intermediate;
    ex.kind = ExpertKind::gpt_oss_swiglu;
    ex.alpha = 1.702; // hard-coded in the model code
    ex.limit = limit;
    ex.layout = ExpertLayout::FusedInOut;
    ex.biases = true;
    ex.interleavedGateUp = true;
  }
  return buildDecoder(mb, spec);
}
