//===- Gguf.cpp - Importing GGUF models -----------------------------------===//

#include "lmc/Import/Gguf.h"

#include "Printable.h"

#include "Gguf.h" // runtime/src: the plain C++ GGUF reader

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace mlir::lm;
namespace json = llvm::json;

/// GGUF (llama.cpp) tensor names -> Hugging Face names.
static std::string huggingFaceName(StringRef name) {
  static const std::pair<StringRef, StringRef> global[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"}};
  for (auto [gguf, hf] : global)
    if (name == gguf)
      return hf.str();
  static const std::pair<StringRef, StringRef> layer[] = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"}};
  static const llvm::Regex block("^blk\\.([0-9]+)\\.(.*)$");
  SmallVector<StringRef> match;
  if (block.match(name, &match))
    for (auto [gguf, hf] : layer)
      if (match[2] == gguf)
        return ("model.layers." + match[1] + "." + hf).str();
  return name.str();
}

std::unique_ptr<ModelConfig> mlir::lm::importGguf(StringRef path,
                                                  WeightIndex &weights,
                                                  std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = (path + ": cannot read: " + buffer.getError().message()).str();
    return nullptr;
  }
  lmc::rt::GgufFile gguf;
  if (!gguf.parse(path.str(),
                  reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
                  (*buffer)->getBufferSize(), error))
    return nullptr;
  const auto &meta = gguf.metadata();
  auto get = [&](const std::string &key) -> const lmc::rt::GgufValue * {
    auto it = meta.find(key);
    return it == meta.end() ? nullptr : &it->second;
  };
  const lmc::rt::GgufValue *arch = get("general.architecture");
  if (!arch || arch->kind != lmc::rt::GgufValue::Kind::String) {
    error = (path + ": metadata 'general.architecture': missing").str();
    return nullptr;
  }
  if (arch->string != "llama") {
    error = (path + ": metadata 'general.architecture': unsupported '" +
             lmc::rt::printable(arch->string) + "' (supported: llama)")
                .str();
    return nullptr;
  }
  // The llama.* keys, as the HF config fields the llama family reads.
  json::Object config;
  config["model_type"] = "llama";
  config["dtype"] = "float32"; // quantised weights are dequantised at load
  auto number = [&](const char *key, const char *field) {
    if (const lmc::rt::GgufValue *v = get(std::string("llama.") + key)) {
      if (v->kind == lmc::rt::GgufValue::Kind::Int)
        config[field] = v->integer;
      else if (v->kind == lmc::rt::GgufValue::Kind::Float)
        config[field] = v->number;
    }
  };
  number("block_count", "num_hidden_layers");
  number("embedding_length", "hidden_size");
  number("feed_forward_length", "intermediate_size");
  number("attention.head_count", "num_attention_heads");
  number("attention.head_count_kv", "num_key_value_heads");
  number("attention.layer_norm_rms_epsilon", "rms_norm_eps");
  number("rope.freq_base", "rope_theta");
  number("context_length", "max_position_embeddings");
  number("vocab_size", "vocab_size");
  if (!config.get("vocab_size"))
    if (const lmc::rt::GgufValue *tokens = get("tokenizer.ggml.tokens"))
      config["vocab_size"] = int64_t(tokens->array.size());
  // llama.cpp permutes q/k rows so RoPE pairs are adjacent channels.
  config["rope_interleave"] = true;

  bool tied = true;
  for (const lmc::rt::GgufTensor &t : gguf.tensors()) {
    TensorInfo info;
    info.name = t.name;
    info.dtype = t.dtype;
    info.shape.assign(t.shape.begin(), t.shape.end());
    info.file = path.str();
    info.offset = t.offset;
    info.size = t.size;
    std::string name = huggingFaceName(t.name);
    if (name == "lm_head.weight")
      tied = false;
    weights.add(name, std::move(info));
  }
  weights.setSource(path);
  config["tie_word_embeddings"] = tied;
  return std::make_unique<ModelConfig>(path.str(), std::move(config));
}
