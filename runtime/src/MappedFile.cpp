//===- MappedFile.cpp - A read-only memory-mapped file --------------------===//

#include "MappedFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lmc::rt {

MappedFile::~MappedFile() {
  if (bytes)
    munmap(const_cast<uint8_t *>(bytes), length);
}

std::unique_ptr<MappedFile> MappedFile::open(const std::string &path,
                                             std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return nullptr;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + ": not a regular file";
    return nullptr;
  }
  std::unique_ptr<MappedFile> file(new MappedFile());
  file->length = static_cast<size_t>(st.st_size);
  if (file->length > 0) {
    void *p = mmap(nullptr, file->length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      error = path + ": cannot map: " + std::strerror(errno);
      return nullptr;
    }
    file->bytes = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
  return file;
}

} // namespace lmc::rt
