// Deadlines for the harness's bounded waits (harness.cc, harness_client.cc): a wait
// takes a timeout, turns it into a deadline once, and polls with what is left.
#pragma once
#include <chrono>

namespace herd::e2e {

using Clock = std::chrono::steady_clock;

// Milliseconds until `deadline`; 0 once it has passed.
inline int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

inline Clock::time_point deadline_in(int timeout_ms) {
  return Clock::now() + std::chrono::milliseconds(timeout_ms);
}

}  // namespace herd::e2e
