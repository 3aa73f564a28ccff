// The built-in clients of `herd run --scenario`: each command is one TCP connection
// on loopback, the way the course's grading clients talk to a server: connect, send
// the line, half-close, read until the server closes. Runs on the herd's own loop.
//
// Each command owns a heap object freed in its handle's close callback; at most
// kMaxInFlight commands are open at once (past that a command is refused and
// counted, so a stalled herd cannot grow the client without bound).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <uv.h>

namespace herd {

class LiveClients {
 public:
  static constexpr uint64_t kMaxInFlight = 10'000;
  static constexpr size_t kMaxReplyBytes = 8u << 20;

  // `done(connected, reply)` runs once per command: connected false when the
  // connection was refused (a crashed server) or too many were open.
  using Done = std::function<void(bool connected, const std::string& reply)>;

  explicit LiveClients(uv_loop_t* loop) : loop_(loop) {}
  void send(int port, std::string line, Done done);
  uint64_t in_flight() const { return in_flight_; }

 private:
  struct Command;
  static void on_connect(uv_connect_t* req, int status) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* req, int status) noexcept;
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_close(uv_handle_t* handle) noexcept;
  static void finish(Command* c, bool connected);

  uv_loop_t* loop_;
  uint64_t in_flight_ = 0;
};

}  // namespace herd
