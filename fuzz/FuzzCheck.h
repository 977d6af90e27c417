//===- FuzzCheck.h - What every fuzz target asserts -------------*- C++ -*-===//
//
// A fuzz target fails on a crash or a sanitizer report, and also when a
// parser breaks its contract without crashing: it refused without saying
// why, or accepted something its own checks should have refused.
//
//===----------------------------------------------------------------------===//

#ifndef LMC_FUZZ_FUZZCHECK_H
#define LMC_FUZZ_FUZZCHECK_H

#include <cstdio>
#include <cstdlib>

/// Aborts (a libFuzzer finding) with `what` when `condition` is false.
#define LMC_FUZZ_CHECK(condition, what)                                        \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "fuzz contract broken: %s (%s)\n", what,            \
                   #condition);                                                \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

#endif // LMC_FUZZ_FUZZCHECK_H
