//===- TokenizerApi.cpp - The C API of tokenizers and chat templates ------===//

#include "lmc_rt/lmc_rt.h"

#include "LastError.h"
#include "text/Tokenizer.h"

#include <algorithm>
#include <cstring>
#include <new>

using namespace lmc::rt;

struct lmc_rt_tokenizer {
  std::unique_ptr<Tokenizer> tokenizer;
};

namespace {
lmc_rt_status_t copyText(const std::string &text, char *out, size_t capacity,
                         size_t *length) {
  *length = text.size();
  if (out && capacity) {
    size_t n = std::min(capacity, text.size());
    std::memcpy(out, text.data(), n);
    if (n < capacity)
      out[n] = '\0';
  }
  return LMC_RT_OK;
}
} // namespace

lmc_rt_status_t lmc_rt_tokenizer_load(const char *path,
                                      lmc_rt_tokenizer_t **out) {
  if (!path || !out)
    return fail(LMC_RT_ERROR_ARGUMENT, "lmc_rt_tokenizer_load: null argument");
  std::string error;
  try {
    auto tokenizer = Tokenizer::load(path, error);
    if (!tokenizer)
      return fail(LMC_RT_ERROR_IO, error);
    *out = new lmc_rt_tokenizer{std::move(tokenizer)};
  } catch (const std::bad_alloc &) {
    return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                std::string(path) + ": out of memory");
  }
  return LMC_RT_OK;
}

void lmc_rt_tokenizer_free(lmc_rt_tokenizer_t *tokenizer) { delete tokenizer; }

lmc_rt_status_t lmc_rt_tokenizer_encode(const lmc_rt_tokenizer_t *tokenizer,
                                        const char *text, size_t length,
                                        int addSpecialTokens, int64_t *ids,
                                        size_t capacity, size_t *count) {
  if (!tokenizer || (!text && length) || !count || (!ids && capacity))
    return fail(LMC_RT_ERROR_ARGUMENT,
                "lmc_rt_tokenizer_encode: null argument");
  try {
    std::vector<int64_t> out = tokenizer->tokenizer->encode(
        std::string(text ? text : "", length), addSpecialTokens != 0);
    *count = out.size();
    std::copy_n(out.begin(), std::min(capacity, out.size()), ids);
  } catch (const std::bad_alloc &) {
    return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                "lmc_rt_tokenizer_encode: out of memory");
  }
  return LMC_RT_OK;
}

lmc_rt_status_t lmc_rt_tokenizer_decode(const lmc_rt_tokenizer_t *tokenizer,
                                        const int64_t *ids, size_t count,
                                        int skipSpecialTokens, char *text,
                                        size_t capacity, size_t *length) {
  if (!tokenizer || (!ids && count) || !length || (!text && capacity))
    return fail(LMC_RT_ERROR_ARGUMENT,
                "lmc_rt_tokenizer_decode: null argument");
  try {
    std::vector<int64_t> list(ids, ids + count);
    return copyText(tokenizer->tokenizer->decode(list, skipSpecialTokens != 0),
                    text, capacity, length);
  } catch (const std::bad_alloc &) {
    return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                "lmc_rt_tokenizer_decode: out of memory");
  }
}

lmc_rt_status_t lmc_rt_tokenizer_apply_chat_template(
    const lmc_rt_tokenizer_t *tokenizer, const lmc_rt_chat_message_t *messages,
    size_t count, int addGenerationPrompt, char *text, size_t capacity,
    size_t *length) {
  if (!tokenizer || (!messages && count) || !length || (!text && capacity))
    return fail(LMC_RT_ERROR_ARGUMENT,
                "lmc_rt_tokenizer_apply_chat_template: null argument");
  std::vector<ChatMessage> list;
  for (size_t i = 0; i < count; ++i) {
    if (!messages[i].role || !messages[i].content)
      return fail(LMC_RT_ERROR_ARGUMENT,
                  "lmc_rt_tokenizer_apply_chat_template: message " +
                      std::to_string(i) + " has a null role or content");
    list.push_back({messages[i].role, messages[i].content});
  }
  try {
    std::string prompt, error;
    if (!tokenizer->tokenizer->applyChatTemplate(list, addGenerationPrompt != 0,
                                                 prompt, error))
      return fail(LMC_RT_ERROR_ARGUMENT, error);
    return copyText(prompt, text, capacity, length);
  } catch (const std::bad_alloc &) {
    return fail(LMC_RT_ERROR_OUT_OF_MEMORY,
                "lmc_rt_tokenizer_apply_chat_template: out of memory");
  }
}

size_t lmc_rt_tokenizer_stop_ids(const lmc_rt_tokenizer_t *tokenizer,
                                 int64_t *ids, size_t capacity) {
  if (!tokenizer)
    return 0;
  const std::vector<int64_t> &stops = tokenizer->tokenizer->stopIds();
  if (ids)
    std::copy_n(stops.begin(), std::min(capacity, stops.size()), ids);
  return stops.size();
}
