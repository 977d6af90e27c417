//===- TraceDriver.h - A CUDA driver that records, runs nothing -*- C++ -*-===//
//
// The launch plan of a GPU artifact, read without a GPU: its sm_90a host
// code runs against this driver, which executes nothing. Memory calls hand
// out addresses that nobody dereferences (the host code only computes with
// them: it never reads device memory back inside a pass), copies to the
// host write zeros, and every kernel launch is recorded with its shape.
// `lmc inspect --plan` prints what a prefill and a decode step launch.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_RT_TRACEDRIVER_H
#define LMC_RT_TRACEDRIVER_H

#include "CudaDriver.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lmc::rt::cuda {

struct TracedLaunch {
  std::string kernel;
  unsigned grid[3], block[3], sharedBytes;
};

/// What the trace driver saw since the last take.
struct Trace {
  std::vector<TracedLaunch> launches;
  uint64_t allocatedBytes = 0; ///< asked of cuMemAlloc
};

/// The process's trace driver: an sm_90 device named "trace (no GPU)".
const Driver &traceDriver();

/// The launches and allocations recorded since the last take; clears them.
Trace takeTrace();

} // namespace lmc::rt::cuda

#endif // LMC_RT_TRACEDRIVER_H
