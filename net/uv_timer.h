// A libuv timer whose handle lives on the heap and is freed in its close callback,
// so its owner may go away as soon as it has called close(). After close() the
// callback never runs again.
#pragma once
#include <cstdint>
#include <functional>

#include <uv.h>

namespace herd {

class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> fire);
  ~Timer();  // Closes the handle if close() was not called (the loop must be alive).
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(uint64_t timeout_ms, uint64_t repeat_ms = 0);
  void stop();
  void close();
  bool active() const;
  bool closed() const { return box_ == nullptr; }

 private:
  struct Box {
    uv_timer_t handle;
    std::function<void()> fire;
  };
  static void on_fire(uv_timer_t* handle) noexcept;
  static void on_close(uv_handle_t* handle) noexcept;
  Box* box_;
};

}  // namespace herd
