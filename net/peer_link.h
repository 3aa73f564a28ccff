// The live TCP link to one neighbour (node/link.h), as one server sees it: at most
// one current connection, dialed by the server whose name sorts first (it sends
// `PEER <self> <peer>` and waits for `PEER <peer> <self>`) or accepted by the other
// (ServerHost hands over a connection whose first line was the peer's hello, and
// the link answers it). A newer connection replaces an older one. The dialing side
// reconnects with backoff (100 ms doubling to 2 s) when the connection drops, a dial
// fails, or the answer does not come within 5 s.
//
// send() buffers the message and '\n' when the link is up and fewer than
// `max_queued_bytes` are queued (otherwise the message is dropped and logged);
// flush() writes the buffer.
//
// Fault injection (net/live_faults.h) can suspend a link while its server is
// crashed: the connection closes, nothing is dialed or adopted until resume(), which
// dials again at once (when this side dials) with the backoff reset.
// Owned by its ServerHost; must outlive every stream it handled (the host is
// destroyed only after the loop has closed every handle).
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "net/line_stream.h"
#include "net/uv_timer.h"
#include "node/link.h"

namespace herd {

class LogWriter;

struct PeerLinkConfig {
  std::string self;        // This server's name.
  std::string peer;        // The neighbour's name.
  int index = 0;           // The neighbour's index in the node's sorted list.
  bool dials = false;      // self < peer.
  struct sockaddr_storage address{};  // Where the neighbour listens (when dials).
  size_t max_queued_bytes = 16u << 20;
  size_t max_line_bytes = 256 * 1024;  // An AT line from a 64 KiB IAMAT, plus framing.
  uint64_t backoff_min_ms = 100;
  uint64_t backoff_max_ms = 2000;
  uint64_t hello_timeout_ms = 5000;
};

class PeerLink final : public Link, private LineStream::Handler {
 public:
  // What the link reports to its server (which tells the core).
  class Events {
   public:
    virtual ~Events() = default;
    virtual void on_peer_up(int index) = 0;
    virtual void on_peer_down(int index) = 0;
    virtual void on_peer_message(int index, std::string_view message) = 0;
  };

  PeerLink(uv_loop_t* loop, PeerLinkConfig config, LogWriter* log, Events* events);
  ~PeerLink() override;

  void set_address(const struct sockaddr* address);
  void start();  // Dials when this side dials; otherwise waits to adopt.

  // A connection whose first line was this neighbour's valid hello.
  void adopt(LineStream* stream);

  // Closes the connection and the timer; no reconnect, no further events.
  void close();

  // Closes the connection (logged as `reason`) and stops dialing and adopting, until
  // resume(). Both are idempotent and ignored after close().
  void suspend(std::string_view reason);
  void resume();

  void send(std::string_view message) override;
  // Writes what send() buffered, in one write. Its server calls this at the end of
  // every read batch and loop iteration, and before writing any reply.
  void flush();
  bool up() const override { return up_; }
  const PeerLinkConfig& config() const { return config_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t sent() const { return sent_; }  // Messages written to a connection.
  bool suspended() const { return suspended_; }

 private:
  void dial();
  void schedule_retry();
  void on_timer();
  void mark_up(const char* how, std::string_view detail);

  void on_line(LineStream* stream, std::string_view line) override;
  void on_eof(LineStream* stream) override;
  void on_connected(LineStream* stream, int status) override;
  void on_closed(LineStream* stream) override;

  uv_loop_t* loop_;
  PeerLinkConfig config_;
  LogWriter* log_;
  Events* events_;
  Timer timer_;             // Retry, or the wait for the answer to our hello.
  LineStream* stream_ = nullptr;  // Current connection (connecting, greeting or up).
  bool up_ = false;
  bool stopped_ = false;
  bool suspended_ = false;
  uint64_t backoff_ms_;
  uint64_t dropped_ = 0;
  uint64_t sent_ = 0;
  std::string last_down_;  // The last reason logged while down.
};

}  // namespace herd
