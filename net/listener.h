// A listening TCP socket on the loop, accepting by itself rather than through
// uv_listen: out of descriptors (EMFILE, ENFILE) libuv accepts and closes every
// waiting connection and tells nobody, so a herd out of descriptors reset new
// connections with nothing logged. Here a failed accept is the owner's to hear,
// and out of descriptors the listener stops accepting for kBackoffMs: connections
// wait in the kernel's backlog meanwhile (or are refused once it is full) instead of
// waking the loop for each. At most kAcceptsPerWakeup connections are accepted per
// wakeup, so a flood of connects cannot keep the loop from other work.
//
// Owns its socket, a uv_poll_t and a backoff timer, freed in their close callbacks:
// the Listener object itself may be destroyed at once after close().
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <uv.h>

#include "node/result.h"

namespace herd {

class Listener {
 public:
  static constexpr uint64_t kBackoffMs = 100;
  static constexpr int kAcceptsPerWakeup = 128;

  struct Events {
    // A connection: `fd` is the caller's (non-blocking, close-on-exec).
    std::function<void(int fd)> accepted;
    // An accept failed with libuv error `status`; `backing_off` when out of
    // descriptors (the listener pauses for kBackoffMs).
    std::function<void(int status, bool backing_off)> failed;
  };

  Listener(uv_loop_t* loop, Events events);
  ~Listener();  // Closes the socket if still open.
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds (SO_REUSEADDR, as uv_tcp_bind does) and listens. Errors: libuv's text,
  // "address already in use". Once.
  Result<bool> listen(const struct sockaddr* address, int backlog);
  // The bound address (its real port, when 0 was asked).
  const struct sockaddr_storage& address() const { return bound_; }
  void close();

 private:
  struct Handles;
  void on_readable();

  uv_loop_t* loop_;
  Events events_;
  Handles* handles_ = nullptr;  // Freed by its close callbacks.
  struct sockaddr_storage bound_{};
};

}  // namespace herd
