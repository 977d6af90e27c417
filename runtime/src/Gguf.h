//===- Gguf.h - GGUF files: metadata, tensors, dequantisation ---*- C++ -*-===//
//
// Plain C++ (no MLIR/LLVM): the runtime maps GGUF weights with it, and the
// importer reads GGUF metadata with it.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_GGUF_H
#define LMC_RT_GGUF_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace lmc::rt {

/// A metadata value: a number, a bool, a string, or an array of those.
struct GgufValue {
  enum class Kind { Int, Float, Bool, String, Array } kind = Kind::Int;
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<GgufValue> array;
};

struct GgufTensor {
  std::string name;
  std::string dtype;          ///< F32, F16, BF16, Q4_0, Q4_1, Q8_0
  std::vector<int64_t> shape; ///< PyTorch order (GGUF lists dims reversed)
  uint64_t offset = 0;        ///< absolute byte offset of the data
  uint64_t size = 0;          ///< bytes
};

/// The header of a GGUF file (versions 2 and 3), validated against the file
/// size; tensor data is not read.
class GgufFile {
public:
  /// Parses `data` (`size` bytes of `path`); on failure returns false with
  /// `error` naming the file and what is wrong.
  bool parse(const std::string &path, const uint8_t *data, size_t size,
             std::string &error);

  const std::map<std::string, GgufValue> &metadata() const { return values; }
  const std::vector<GgufTensor> &tensors() const { return infos; }

private:
  std::map<std::string, GgufValue> values;
  std::vector<GgufTensor> infos;
};

/// Bytes of `elements` values of a GGUF dtype, 0 when unsupported or when
/// `elements` is not a whole number of blocks.
uint64_t ggufBytes(const std::string &dtype, uint64_t elements);

/// Dequantises `elements` values of `dtype` at `data` into f32.
bool ggufDequantize(const std::string &dtype, const uint8_t *data,
                    uint64_t elements, float *out);

} // namespace lmc::rt

#endif // LMC_RT_GGUF_H
