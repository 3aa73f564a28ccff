// The live host's clock: the two readings every core entry point takes
// (node/clock.h). Wall time is CLOCK_REALTIME, monotonic time is uv_hrtime.
#pragma once
#include <ctime>

#include <uv.h>

#include "node/clock.h"

namespace herd {

inline Now live_now() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  Now now;
  now.wall_ns = static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
  now.mono_ns = static_cast<int64_t>(uv_hrtime());
  return now;
}

}  // namespace herd
