// The fault layer's scheduler on the live loop (the simulator's is its event queue):
// the live clock and one libuv timer over an ordered queue of (due time in ns,
// sequence number).
//
// Why one timer over a queue rather than a uv timer per callback: libuv timers count
// whole milliseconds from a loop time cached at the start of each iteration, so two
// delays that differ by less than a millisecond, or are started in different
// iterations, could fire in either order. The queue keeps the contract exactly:
// callbacks run in due-time order to the nanosecond, equal due times in the order
// after() was called, and never before they are due (the timer only wakes the loop;
// on waking, the queue is compared with uv_hrtime and the timer re-armed, rounded
// up to the next millisecond, if the head is not due yet).
//
// A delay counts from the last now() reading: the fault layer reads now() when it
// decides a message and schedules the message's copies right after, so a copy's due
// time is exactly the one the link model computed (which keeps constant-delay links
// FIFO).
//
// Owned by its user (LiveFaults); close() before the loop's end drops every pending
// callback without running it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include <uv.h>

#include "net/uv_timer.h"
#include "node/clock.h"

namespace herd {

class UvScheduler {
 public:
  // No limit of its own: its users bound what waits (the fault channel holds at
  // most kMaxHeldPerLink copies per link, a faults file at most kMaxPlanEntries
  // events), and a callback it dropped would leave the channel's held count wrong.
  explicit UvScheduler(uv_loop_t* loop);
  UvScheduler(const UvScheduler&) = delete;
  UvScheduler& operator=(const UvScheduler&) = delete;

  Now now();
  // Runs fn once, delay_ns (>= 0) from the last now(); equal due times in call order.
  void after(int64_t delay_ns, std::function<void()> fn);

  // Drops every pending callback and closes the timer. Idempotent; after() is then
  // ignored.
  void close();
  size_t pending() const { return queue_.size(); }

 private:
  void fire();
  void arm();

  uv_loop_t* loop_;
  Timer timer_;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> queue_;
  uint64_t next_seq_ = 0;
  int64_t base_ns_ = -1;  // The last now().mono_ns; -1 before the first reading.
  bool closed_ = false;
};

}  // namespace herd
