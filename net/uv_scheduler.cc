#include "node/check.h"
#include "net/uv_scheduler.h"


#include "net/live_clock.h"

namespace herd {

UvScheduler::UvScheduler(uv_loop_t* loop) : loop_(loop), timer_(loop, [this] { fire(); }) {}

Now UvScheduler::now() {
  Now now = live_now();
  base_ns_ = now.mono_ns;
  return now;
}

void UvScheduler::after(int64_t delay_ns, std::function<void()> fn) {
  HERD_ASSERT(delay_ns >= 0);
  if (closed_) return;
  if (base_ns_ < 0) now();
  const int64_t due_ns = base_ns_ + delay_ns;
  const bool new_head = queue_.empty() || due_ns < queue_.begin()->first.first;
  queue_.emplace(std::make_pair(due_ns, next_seq_++), std::move(fn));
  if (new_head) arm();
}

void UvScheduler::arm() {
  if (closed_) return;
  if (queue_.empty()) {
    timer_.stop();
    return;
  }
  const int64_t left_ns = queue_.begin()->first.first - static_cast<int64_t>(uv_hrtime());
  // Why refresh the loop time: the timer counts from it, and inside a long callback
  // it lags the clock, which would make the timer fire late by that lag.
  uv_update_time(loop_);
  const uint64_t timeout_ms =
      left_ns <= 0 ? 0 : static_cast<uint64_t>((left_ns + kNsPerMs - 1) / kNsPerMs);
  timer_.start(timeout_ms);
}

void UvScheduler::fire() {
  while (!closed_ && !queue_.empty()) {
    auto head = queue_.begin();
    if (head->first.first > static_cast<int64_t>(uv_hrtime())) break;  // Woke early.
    std::function<void()> fn = std::move(head->second);
    queue_.erase(head);
    fn();  // May call after() (the head may change) or close().
  }
  arm();
}

void UvScheduler::close() {
  if (closed_) return;
  closed_ = true;
  queue_.clear();
  timer_.close();
}

}  // namespace herd
