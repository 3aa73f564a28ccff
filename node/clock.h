// Time as the core sees it: two readings handed in by the host on every call.
// The core never reads a clock itself (DESIGN.md); a live host passes the wall and
// monotonic clocks, the simulator passes values derived from its virtual clock.
#pragma once
#include <cstdint>

namespace herd {

struct Now {
  int64_t wall_ns = 0;  // POSIX time in nanoseconds: the AT line's time difference.
  int64_t mono_ns = 0;  // Monotonic nanoseconds: timers and latencies only.
};

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;

}  // namespace herd
