//===- Tokenizer.cpp - Byte-level BPE from GGUF metadata ------------------===//

#include "Tokenizer.h"

#include <algorithm>
#include <climits>

namespace lmc::rt {

namespace {
std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xc0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += char(0xe0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3f));
    s += char(0x80 | (cp & 0x3f));
  } else {
    s += char(0xf0 | (cp >> 18));
    s += char(0x80 | ((cp >> 12) & 0x3f));
    s += char(0x80 | ((cp >> 6) & 0x3f));
    s += char(0x80 | (cp & 0x3f));
  }
  return s;
}

/// Decodes the code point at `i` (advancing it); invalid bytes are taken as
/// Latin-1 so that no input is lost.
uint32_t next(const std::string &s, size_t &i) {
  unsigned char c = s[i];
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return c;
  }
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < n; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += n;
  return cp;
}

enum class Class { Letter, Number, Space, Other };

/// \p{L}, \p{N} and \s for the pre-tokenizer: ASCII exactly; beyond ASCII,
/// the common punctuation, symbol and space blocks, letters otherwise.
Class classify(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
      return Class::Letter;
    if (cp >= '0' && cp <= '9')
      return Class::Number;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d))
      return Class::Space;
    return Class::Other;
  }
  if (cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
      cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000)
    return Class::Space;
  if ((cp >= 0xa1 && cp <= 0xbf && cp != 0xaa && cp != 0xb5 && cp != 0xba &&
       !(cp >= 0xb2 && cp <= 0xb3) && cp != 0xb9 && !(cp >= 0xbc && cp <= 0xbe)) ||
      cp == 0xd7 || cp == 0xf7 || (cp >= 0x2010 && cp <= 0x27bf) ||
      (cp >= 0x3001 && cp <= 0x303f) || (cp >= 0xff01 && cp <= 0xff0f) ||
      (cp >= 0x1f000 && cp <= 0x1faff))
    return Class::Other;
  if ((cp >= 0xb2 && cp <= 0xb3) || cp == 0xb9 || (cp >= 0xbc && cp <= 0xbe) ||
      (cp >= 0x660 && cp <= 0x669) || (cp >= 0xff10 && cp <= 0xff19))
    return Class::Number;
  return Class::Letter;
}

/// GPT-2's pattern, with digits split one by one (SmolLM's Digits
/// pre-tokenizer): 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+
/// |\s+(?!\S)|\s+
std::vector<std::string> preTokenize(const std::string &text) {
  std::vector<uint32_t> cps;
  std::vector<size_t> at;
  for (size_t i = 0; i < text.size();) {
    at.push_back(i);
    cps.push_back(next(text, i));
  }
  at.push_back(text.size());
  std::vector<std::string> words;
  size_t n = cps.size(), i = 0;
  auto cls = [&](size_t k) { return classify(cps[k]); };
  auto emit = [&](size_t from, size_t to) {
    words.push_back(text.substr(at[from], at[to] - at[from]));
  };
  while (i < n) {
    // Contractions.
    if (cps[i] == '\'' && i + 1 < n) {
      static const char *suffixes[] = {"s", "t", "re", "ve", "m", "ll", "d"};
      bool matched = false;
      for (const char *suffix : suffixes) {
        size_t len = std::char_traits<char>::length(suffix);
        if (i + len < n + 0 && i + 1 + len <= n) {
          bool ok = true;
          for (size_t k = 0; k < len; ++k)
            ok &= cps[i + 1 + k] == uint32_t(suffix[k]);
          if (ok) {
            emit(i, i + 1 + len);
            i += 1 + len;
            matched = true;
            break;
          }
        }
      }
      if (matched)
        continue;
    }
    size_t start = i;
    size_t j = i;
    // The optional leading space (digits are split off first, so a space
    // before a digit stays on its own).
    if (cps[j] == ' ' && j + 1 < n && cls(j + 1) != Class::Space &&
        cls(j + 1) != Class::Number)
      ++j;
    Class c = cls(j);
    if (c == Class::Letter) {
      while (j < n && cls(j) == Class::Letter)
        ++j;
      emit(start, j);
      i = j;
    } else if (c == Class::Number) {
      emit(start, j + 1);
      i = j + 1;
    } else if (c == Class::Other) {
      while (j < n && cls(j) == Class::Other)
        ++j;
      emit(start, j);
      i = j;
    } else {
      // Whitespace: all of it, but leave the last one to prefix a word.
      while (j < n && cls(j) == Class::Space)
        ++j;
      if (j < n && j - start > 1 && cls(j) != Class::Number)
        --j;
      emit(start, j);
      i = j;
    }
  }
  return words;
}
} // namespace

bool Tokenizer::load(const std::map<std::string, GgufValue> &metadata,
                     std::string &error) {
  auto get = [&](const char *key) -> const GgufValue * {
    auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
  };
  const GgufValue *model = get("tokenizer.ggml.model");
  if (!model || model->string != "gpt2") {
    error = "metadata 'tokenizer.ggml.model': expected 'gpt2' (byte-level BPE)";
    return false;
  }
  const GgufValue *list = get("tokenizer.ggml.tokens");
  const GgufValue *merges = get("tokenizer.ggml.merges");
  if (!list || !merges) {
    error = "metadata 'tokenizer.ggml.tokens' or 'tokenizer.ggml.merges': missing";
    return false;
  }
  const GgufValue *types = get("tokenizer.ggml.token_type");
  for (size_t i = 0; i < list->array.size(); ++i) {
    tokens.push_back(list->array[i].string);
    ids[tokens.back()] = int64_t(i);
    // Control and user-defined tokens are matched before splitting.
    if (types && i < types->array.size() &&
        (types->array[i].integer == 3 || types->array[i].integer == 4))
      specials.push_back(tokens.back());
  }
  std::sort(specials.begin(), specials.end(),
            [](const std::string &a, const std::string &b) {
              return a.size() > b.size();
            });
  for (size_t i = 0; i < merges->array.size(); ++i)
    ranks[merges->array[i].string] = int(i);
  // GPT-2's bytes_to_unicode.
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) ||
                     (b >= 0xae && b <= 0xff);
    uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + extra++);
    byteToSymbol[b] = utf8(cp);
    symbolToByte[byteToSymbol[b]] = static_cast<unsigned char>(b);
  }
  if (const GgufValue *v = get("tokenizer.ggml.bos_token_id"))
    bosId = v->integer;
  if (const GgufValue *v = get("tokenizer.ggml.eos_token_id"))
    eosId = v->integer;
  if (const GgufValue *v = get("tokenizer.chat_template"))
    chatTemplate = v->string;
  return true;
}

void Tokenizer::encodeWord(const std::string &word,
                           std::vector<int64_t> &out) const {
  std::vector<std::string> parts;
  for (unsigned char c : word)
    parts.push_back(byteToSymbol[c]);
  // Merge the best-ranked adjacent pair until none is left.
  while (parts.size() > 1) {
    int best = INT_MAX;
    size_t where = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = ranks.find(parts[i] + " " + parts[i + 1]);
      if (it != ranks.end() && it->second < best) {
        best = it->second;
        where = i;
      }
    }
    if (best == INT_MAX)
      break;
    parts[where] += parts[where + 1];
    parts.erase(parts.begin() + where + 1);
  }
  for (const std::string &p : parts) {
    auto it = ids.find(p);
    if (it != ids.end()) {
      out.push_back(it->second);
      continue;
    }
    // Unknown symbol sequences fall back to their single-byte tokens.
    for (size_t i = 0; i < p.size();) {
      size_t start = i;
      next(p, i);
      auto byte = ids.find(p.substr(start, i - start));
      if (byte != ids.end())
        out.push_back(byte->second);
    }
  }
}

std::vector<int64_t> Tokenizer::encode(const std::string &text) const {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    // The next special token, if any.
    size_t found = std::string::npos;
    const std::string *special = nullptr;
    for (const std::string &s : specials) {
      size_t at = text.find(s, pos);
      if (at != std::string::npos && (at < found || (at == found && s.size() > special->size()))) {
        found = at;
        special = &s;
      }
    }
    std::string chunk = text.substr(pos, found == std::string::npos ? std::string::npos : found - pos);
    for (const std::string &word : preTokenize(chunk))
      encodeWord(word, out);
    if (!special)
      break;
    out.push_back(ids.at(*special));
    pos = found + special->size();
  }
  return out;
}

std::string Tokenizer::decode(int64_t id) const {
  if (id < 0 || id >= int64_t(tokens.size()))
    return "";
  const std::string &t = tokens[id];
  if (std::find(specials.begin(), specials.end(), t) != specials.end())
    return t;
  std::string bytes;
  for (size_t i = 0; i < t.size();) {
    size_t start = i;
    next(t, i);
    auto it = symbolToByte.find(t.substr(start, i - start));
    if (it != symbolToByte.end())
      bytes += char(it->second);
  }
  return bytes;
}

std::string Tokenizer::decode(const std::vector<int64_t> &list) const {
  std::string s;
  for (int64_t id : list)
    s += decode(id);
  return s;
}

bool Tokenizer::chatPrompt(std::string user, std::string &prompt,
                           std::string &error) const {
  if (chatTemplate.find("<|im_start|>") == std::string::npos) {
    error = "the model's chat template is not ChatML (only ChatML is supported)";
    return false;
  }
  // The default system message of the template, when it has one.
  std::string system;
  size_t s = chatTemplate.find("<|im_start|>system\n");
  if (s != std::string::npos) {
    size_t begin = s + std::string("<|im_start|>system\n").size();
    size_t end = chatTemplate.find("<|im_end|>", begin);
    if (end != std::string::npos)
      system = chatTemplate.substr(begin, end - begin);
  }
  prompt.clear();
  if (!system.empty())
    prompt += "<|im_start|>system\n" + system + "<|im_end|>\n";
  prompt += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n";
  return true;
}

} // namespace lmc::rt
