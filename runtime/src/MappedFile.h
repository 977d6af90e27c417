//===- MappedFile.h - A read-only memory-mapped file ------------*- C++ -*-===//

#ifndef LMC_RT_MAPPEDFILE_H
#define LMC_RT_MAPPEDFILE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lmc::rt {

class MappedFile {
public:
  ~MappedFile();
  /// Maps the regular file `path`; null with `error` ("PATH: cannot open:
  /// why") on failure.
  static std::unique_ptr<MappedFile> open(const std::string &path,
                                          std::string &error);
  const uint8_t *data() const { return bytes; }
  size_t size() const { return length; }

private:
  MappedFile() = default;
  const uint8_t *bytes = nullptr;
  size_t length = 0;
};

} // namespace lmc::rt

#endif // LMC_RT_MAPPEDFILE_H
