// `herd shrink`'s reduction, free of I/O: delta debugging over a concrete scenario's
// text. A candidate is the scenario with less in it; `still_fails` says whether it
// still fails the check being shrunk (the caller runs it, twice, and compares).
//
// Passes, repeated until one changes nothing or the step budget is spent:
//   ddmin (Zeller's minimising delta debugging) over the timeline's events, the
//   link overrides and the workload's bursts;
//   one try each at dropping a link fault key (drop, duplicate, delay_ms,
//   bandwidth_kbps), moving clients, clock skews, Places failures, WHATSATs;
//   a bisection of workload.clients, workload.iamat_per_s (in 0.001 steps),
//   duration_ms and drain_ms down to the smallest value that still fails.
// Every candidate that does not parse, or passes, is rejected; the result always
// fails (it is the input, or a candidate that failed).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace herd {

struct ShrinkResult {
  std::string text;                  // The smallest failing scenario (compact JSON).
  uint64_t steps = 0;                // Candidates tried.
  uint64_t kept = 0;                 // Candidates that still failed.
  bool budget_spent = false;         // Stopped at max_steps.
  std::vector<std::string> changes;  // What went, for a person: "timeline: 9 -> 2 events".
};

// `text` must be a JSON object (a scenario without a swarm section).
// `log`, when set, hears one line per kept candidate.
ShrinkResult shrink_scenario(const std::string& text, const std::function<bool(const std::string&)>& still_fails,
                             uint64_t max_steps, const std::function<void(const std::string&)>& log = {});

}  // namespace herd
