#include "node/check.h"
#include "net/uv_timer.h"

#include <utility>

namespace herd {

Timer::Timer(uv_loop_t* loop, std::function<void()> fire) : box_(new Box) {
  box_->fire = std::move(fire);
  int rc = uv_timer_init(loop, &box_->handle);
  HERD_ASSERT(rc == 0);
  (void)rc;
  box_->handle.data = box_;
}

Timer::~Timer() { close(); }

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms) {
  HERD_ASSERT(box_ != nullptr);
  uv_timer_start(&box_->handle, &Timer::on_fire, timeout_ms, repeat_ms);
}

void Timer::stop() {
  if (box_ != nullptr) uv_timer_stop(&box_->handle);
}

bool Timer::active() const {
  return box_ != nullptr && uv_is_active(reinterpret_cast<const uv_handle_t*>(&box_->handle));
}

void Timer::close() {
  if (box_ == nullptr) return;
  // uv_close stops the timer: `fire` (which may be running now) is never called
  // again, and it is destroyed with the box in the close callback.
  uv_close(reinterpret_cast<uv_handle_t*>(&box_->handle), &Timer::on_close);
  box_ = nullptr;
}

void Timer::on_fire(uv_timer_t* handle) noexcept {
  Box* box = static_cast<Box*>(handle->data);
  if (box->fire) box->fire();
}

void Timer::on_close(uv_handle_t* handle) noexcept { delete static_cast<Box*>(handle->data); }

}  // namespace herd
