// The live host's clock: the two readings every core entry point takes
// (node/clock.h). Wall time is CLOCK_REALTIME, monotonic time is uv_hrtime.
//
// Reading the clock per line and per log event was a visible share of the herd's
// CPU, so a read batch (the lines of one read from a socket, LineStream::on_read)
// holds a LiveClockBatch: inside it live_now() returns one reading taken when the
// batch began, refreshed every kLiveClockLinesPerReading lines. Outside a batch
// (timers, accepts, closes, Places results) live_now() reads the clock.
#pragma once
#include <ctime>

#include <uv.h>

#include "node/clock.h"

namespace herd {

inline Now read_live_clock() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  Now now;
  now.wall_ns = static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
  now.mono_ns = static_cast<int64_t>(uv_hrtime());
  return now;
}

namespace live_clock_detail {
inline thread_local int batch_depth = 0;
inline thread_local Now batch_now;
}  // namespace live_clock_detail

// Lines handled on one reading inside a batch before the clock is read again.
constexpr int kLiveClockLinesPerReading = 32;

inline Now live_now() {
  if (live_clock_detail::batch_depth > 0) return live_clock_detail::batch_now;
  return read_live_clock();
}

// While one exists (on this thread), live_now() returns the reading taken by the
// outermost one, or by the latest refresh().
class LiveClockBatch {
 public:
  LiveClockBatch() {
    if (live_clock_detail::batch_depth++ == 0) live_clock_detail::batch_now = read_live_clock();
  }
  ~LiveClockBatch() { --live_clock_detail::batch_depth; }
  LiveClockBatch(const LiveClockBatch&) = delete;
  LiveClockBatch& operator=(const LiveClockBatch&) = delete;
  static void refresh() {
    if (live_clock_detail::batch_depth > 0) live_clock_detail::batch_now = read_live_clock();
  }
};

}  // namespace herd
