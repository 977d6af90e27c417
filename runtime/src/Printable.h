//===- Printable.h - File contents inside one-line messages -----*- C++ -*-===//
//
// Names and values read from a file (a tensor name, a dtype, a metadata key)
// end up in error messages, which are one line: a name holding a newline or
// a carriage return must not split the message, and a 100 KB name must not
// become a 100 KB message.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_PRINTABLE_H
#define LMC_RT_PRINTABLE_H

#include <cstddef>
#include <string>
#include <string_view>

namespace lmc::rt {

/// `text` with control characters written as \xNN, cut after `limit` bytes
/// with "..." appended.
std::string printable(std::string_view text, size_t limit = 80);

} // namespace lmc::rt

#endif // LMC_RT_PRINTABLE_H
