//===- ChatTemplateFuzzer.cpp - Any bytes as a chat template --------------===//
//
// A chat template comes with a downloaded model; parsing and rendering it
// must finish within the engine's limits with output or a message.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"
#include "Json.h"
#include "text/ChatTemplate.h"

/// What transformers passes a template: a conversation with a tool call,
/// the tools, the special tokens.
static const lmc::rt::Json &context() {
  static const lmc::rt::Json json = [] {
    lmc::rt::Json value;
    std::string error;
    if (!lmc::rt::parseJson(R"({
      "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Z\u00fcrich? \u65e5\u672c"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"type": "function", "function":
           {"name": "weather", "arguments": {"city": "Z\u00fcrich"}}}]},
        {"role": "tool", "content": "{\"c\": 21}"},
        {"role": "assistant", "content": "21 C."},
        {"role": "user", "content": "Thanks"}],
      "tools": [{"type": "function", "function": {"name": "weather",
        "parameters": {"type": "object", "properties":
          {"city": {"type": "string"}}}}}],
      "documents": null,
      "add_generation_prompt": true,
      "bos_token": "<s>", "eos_token": "</s>"})",
                            value, error))
      std::abort();
    return value;
  }();
  return json;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lmc::rt::ChatTemplate chat;
  std::string error;
  if (!chat.parse(std::string(reinterpret_cast<const char *>(data), size),
                  error)) {
    LMC_FUZZ_CHECK(!error.empty(), "a refusal says why");
    return 0;
  }
  chat.setNow(1700000000);
  std::string out;
  if (!chat.render(context(), out, error))
    LMC_FUZZ_CHECK(!error.empty(), "a failed render says why");
  return 0;
}
