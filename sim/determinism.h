// `herd sim --check-determinism`: runs a scenario twice with the same seed and
// compares the two streams of node inputs and outputs (each input rendered as its
// trace line, sim/trace.h, and hashed) and the two reports. On a difference it runs
// a third time to show the first run's version of the first differing event.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "sim/scenario.h"

namespace herd {

struct DeterminismResult {
  bool same = false;
  uint64_t inputs = 0;                    // Inputs in the first run.
  uint64_t digest = 0;                    // The first run's final state digest.
  std::optional<uint64_t> first_difference;  // The index of the first differing input.
  std::string run1, run2;  // That input's trace line in each run ("" when absent),
                           // or the two reports when only the reports differ.
};

DeterminismResult check_determinism(const Scenario& scenario, uint64_t seed);

}  // namespace herd
