//===- Gguf.cpp - GGUF files: metadata, tensors, dequantisation -----------===//

#include "Gguf.h"

#include "Printable.h"

#include <cmath>
#include <cstring>

namespace lmc::rt {

namespace {
// ggml type ids of the tensor types lmc reads.
std::string ggmlTypeName(uint32_t type) {
  switch (type) {
  case 0: return "F32";
  case 1: return "F16";
  case 2: return "Q4_0";
  case 3: return "Q4_1";
  case 8: return "Q8_0";
  case 30: return "BF16";
  default: return "";
  }
}

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else { // subnormal
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Bounds-checked little-endian reader over the header.
class Reader {
public:
  Reader(const uint8_t *data, size_t size) : data(data), size(size) {}
  bool ok() const { return good; }
  size_t position() const { return pos; }
  size_t remaining() const { return size - pos; }
  template <typename T> T read() {
    T v{};
    if (pos + sizeof(T) > size) {
      good = false;
      return v;
    }
    std::memcpy(&v, data + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string string() {
    uint64_t n = read<uint64_t>();
    if (!good || n > size - pos || n > (1u << 24)) {
      good = false;
      return {};
    }
    std::string s(reinterpret_cast<const char *>(data + pos), n);
    pos += n;
    return s;
  }

private:
  const uint8_t *data;
  size_t size, pos = 0;
  bool good = true;
};

bool readValue(Reader &r, uint32_t type, GgufValue &out, int depth) {
  switch (type) {
  case 0: out.integer = r.read<uint8_t>(); break;
  case 1: out.integer = r.read<int8_t>(); break;
  case 2: out.integer = r.read<uint16_t>(); break;
  case 3: out.integer = r.read<int16_t>(); break;
  case 4: out.integer = r.read<uint32_t>(); break;
  case 5: out.integer = r.read<int32_t>(); break;
  case 10: out.integer = int64_t(r.read<uint64_t>()); break;
  case 11: out.integer = r.read<int64_t>(); break;
  case 6:
    out.kind = GgufValue::Kind::Float;
    out.number = r.read<float>();
    break;
  case 12:
    out.kind = GgufValue::Kind::Float;
    out.number = r.read<double>();
    break;
  case 7:
    out.kind = GgufValue::Kind::Bool;
    out.boolean = r.read<uint8_t>() != 0;
    break;
  case 8:
    out.kind = GgufValue::Kind::String;
    out.string = r.string();
    break;
  case 9: {
    if (depth > 2)
      return false;
    out.kind = GgufValue::Kind::Array;
    uint32_t elementType = r.read<uint32_t>();
    uint64_t n = r.read<uint64_t>();
    // Every element takes at least a byte: a count the file cannot hold
    // would only make a huge allocation before failing.
    if (!r.ok() || n > (1u << 24) || n > r.remaining())
      return false;
    out.array.resize(n);
    for (GgufValue &e : out.array)
      if (!readValue(r, elementType, e, depth + 1))
        return false;
    break;
  }
  default:
    return false;
  }
  if (out.kind == GgufValue::Kind::Int)
    out.number = double(out.integer);
  return r.ok();
}
} // namespace

uint64_t ggufBytes(const std::string &dtype, uint64_t elements) {
  if (dtype == "F32")
    return elements * 4;
  if (dtype == "F16" || dtype == "BF16")
    return elements * 2;
  if (elements % 32)
    return 0;
  uint64_t blocks = elements / 32;
  if (dtype == "Q4_0")
    return blocks * 18;
  if (dtype == "Q4_1")
    return blocks * 20;
  if (dtype == "Q8_0")
    return blocks * 34;
  return 0;
}

bool GgufFile::parse(const std::string &path, const uint8_t *data, size_t size,
                     std::string &error) {
  Reader r(data, size);
  auto fail = [&](const std::string &why) {
    error = path + ": " + why;
    return false;
  };
  if (size < 24 || std::memcmp(data, "GGUF", 4) != 0)
    return fail("not a GGUF file (bad magic)");
  r.read<uint32_t>();
  uint32_t version = r.read<uint32_t>();
  if (version != 2 && version != 3)
    return fail("unsupported GGUF version " + std::to_string(version));
  uint64_t tensorCount = r.read<uint64_t>(), kvCount = r.read<uint64_t>();
  if (tensorCount > (1u << 20) || kvCount > (1u << 20))
    return fail("implausible tensor or metadata count (corrupt header?)");
  for (uint64_t i = 0; i < kvCount; ++i) {
    std::string key = r.string();
    uint32_t type = r.read<uint32_t>();
    GgufValue v;
    if (!r.ok() || !readValue(r, type, v, 0))
      return fail("truncated or malformed metadata" +
                  (key.empty() ? std::string()
                               : " at '" + printable(key) + "'"));
    values[key] = std::move(v);
  }
  uint64_t alignment = 32;
  auto it = values.find("general.alignment");
  if (it != values.end()) {
    int64_t a = it->second.integer;
    if (it->second.kind != GgufValue::Kind::Int || a <= 0 || a > 65536 ||
        (a & (a - 1)))
      return fail("general.alignment must be a power of two up to 65536");
    alignment = uint64_t(a);
  }
  std::vector<uint64_t> relative;
  for (uint64_t i = 0; i < tensorCount; ++i) {
    GgufTensor t;
    t.name = r.string();
    uint32_t dims = r.read<uint32_t>();
    if (!r.ok() || dims == 0 || dims > 4)
      return fail("malformed tensor info" +
                  (t.name.empty() ? std::string()
                                  : " for '" + printable(t.name) + "'"));
    std::vector<int64_t> ne(dims);
    for (int64_t &d : ne)
      d = int64_t(r.read<uint64_t>());
    uint32_t type = r.read<uint32_t>();
    relative.push_back(r.read<uint64_t>());
    if (!r.ok())
      return fail("truncated tensor info for '" + printable(t.name) + "'");
    t.dtype = ggmlTypeName(type);
    if (t.dtype.empty())
      return fail("tensor '" + printable(t.name) + "': unsupported ggml type " +
                  std::to_string(type) + " (supported: F32, F16, BF16, Q4_0, Q4_1, Q8_0)");
    // At most 2^48 values, so that bytes and offsets cannot overflow.
    uint64_t elements = 1;
    for (int64_t d : ne) {
      if (d <= 0 || uint64_t(d) > (uint64_t(1) << 48) / elements)
        return fail("tensor '" + printable(t.name) + "': malformed shape");
      elements *= uint64_t(d);
    }
    t.shape.assign(ne.rbegin(), ne.rend());
    t.size = ggufBytes(t.dtype, elements);
    if (!t.size)
      return fail("tensor '" + printable(t.name) + "': " +
                  std::to_string(elements) +
                  " values are not whole " + t.dtype + " blocks");
    infos.push_back(std::move(t));
  }
  uint64_t dataStart = (r.position() + alignment - 1) / alignment * alignment;
  for (size_t i = 0; i < infos.size(); ++i) {
    if (dataStart > size || relative[i] > size - dataStart ||
        infos[i].size > size - dataStart - relative[i])
      return fail("tensor '" + printable(infos[i].name) +
                  "': data lies past the end of the file (truncated?)");
    infos[i].offset = dataStart + relative[i];
  }
  return true;
}

bool ggufDequantize(const std::string &dtype, const uint8_t *data,
                    uint64_t elements, float *out) {
  auto half = [&](const uint8_t *p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return halfToFloat(h);
  };
  if (dtype == "F32") {
    std::memcpy(out, data, elements * 4);
  } else if (dtype == "F16") {
    for (uint64_t i = 0; i < elements; ++i)
      out[i] = half(data + 2 * i);
  } else if (dtype == "BF16") {
    for (uint64_t i = 0; i < elements; ++i) {
      uint32_t bits = uint32_t(data[2 * i] | (data[2 * i + 1] << 8)) << 16;
      std::memcpy(&out[i], &bits, 4);
    }
  } else if (dtype == "Q8_0") {
    for (uint64_t b = 0; b < elements / 32; ++b) {
      const uint8_t *block = data + b * 34;
      float d = half(block);
      for (int j = 0; j < 32; ++j)
        out[b * 32 + j] = d * float(int8_t(block[2 + j]));
    }
  } else if (dtype == "Q4_0" || dtype == "Q4_1") {
    // Low nibbles are values 0..15 of a block, high nibbles 16..31.
    const bool offset = dtype == "Q4_1";
    const uint64_t stride = offset ? 20 : 18;
    for (uint64_t b = 0; b < elements / 32; ++b) {
      const uint8_t *block = data + b * stride;
      float d = half(block), m = offset ? half(block + 2) : 0.0f;
      const uint8_t *q = block + (offset ? 4 : 2);
      for (int j = 0; j < 16; ++j) {
        int lo = q[j] & 0x0f, hi = q[j] >> 4;
        out[b * 32 + j] = offset ? d * lo + m : d * (lo - 8);
        out[b * 32 + j + 16] = offset ? d * hi + m : d * (hi - 8);
      }
    }
  } else {
    return false;
  }
  return true;
}

} // namespace lmc::rt
