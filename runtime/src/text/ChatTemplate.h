//===- ChatTemplate.h - Hugging Face chat templates -------------*- C++ -*-===//
//
// Renders the `chat_template` of tokenizer_config.json / GGUF metadata byte
// for byte as transformers does: jinja2's ImmutableSandboxedEnvironment with
// trim_blocks and lstrip_blocks, the loop-control extension, the
// `{% generation %}` tag, transformers' `tojson` (json.dumps with
// ensure_ascii=False) and its `raise_exception` and `strftime_now` globals.
// Templates come from downloaded files, so parsing and rendering are
// bounded in depth, time and output size and report errors instead of
// crashing.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_CHATTEMPLATE_H
#define LMC_RT_CHATTEMPLATE_H

#include <cstdint>
#include <memory>
#include <string>

namespace lmc::rt {

struct Json;

namespace ct {
struct Program;
} // namespace ct

/// A parsed chat template. Rendering does not modify it, so one parsed
/// template may be rendered from several threads at once.
class ChatTemplate {
public:
  ChatTemplate();
  ~ChatTemplate();

  /// Parses a template; false with `error` = "LINE:COL: message" on a syntax
  /// error or an unsupported construct (which the message names).
  bool parse(const std::string &source, std::string &error);

  /// Renders with `context`, a JSON object whose keys become variables
  /// (messages, add_generation_prompt, bos_token, eos_token, tools, ...).
  /// False with `error` on a runtime error: raise_exception's message
  /// verbatim, otherwise "LINE:COL: message" (an undefined value used,
  /// a type error, a limit exceeded).
  bool render(const Json &context, std::string &out, std::string &error) const;

  /// strftime_now formats this time (seconds since the epoch, as UTC) when
  /// set, for reproducible output; the current local time otherwise.
  void setNow(int64_t secondsSinceEpoch);

private:
  std::shared_ptr<const ct::Program> program;
  bool hasNow = false;
  int64_t now = 0;
};

} // namespace lmc::rt

#endif // LMC_RT_CHATTEMPLATE_H
