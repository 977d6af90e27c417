//===- LastError.h - The C API's per-thread error message -------*- C++ -*-===//

#ifndef LMC_RT_LASTERROR_H
#define LMC_RT_LASTERROR_H

#include "lmc_rt/lmc_rt.h"

#include <string>

namespace lmc::rt {

/// Keeps `message` for lmc_rt_last_error() on this thread; returns `status`.
lmc_rt_status_t fail(lmc_rt_status_t status, const std::string &message);

} // namespace lmc::rt

#endif // LMC_RT_LASTERROR_H
