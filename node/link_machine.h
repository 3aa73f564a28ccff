// One server's link to one neighbour, as a sans-I/O state machine: the same code
// decides, in the live herd and in the simulator, when to dial, what the handshake
// is, how long to back off, when the link is dead, what a send does while it is down
// or its queue is full. Its host only moves bytes and keeps time: it answers each
// kDial with a kDialed input, delivers lines, reports closes and backpressure, and
// fires the link's timer.
//
// Roles: of the two servers of a link, the one whose name sorts first dials and
// sends `PEER <self> <peer>`; the other accepts (the node hands it a connection whose
// first line was that hello) and answers `PEER <self> <peer>`: then the link is up on
// both sides. A hello on a newer connection replaces the current one (the newest
// wins: a neighbour only dials when its old connection is dead to it, so an old
// connection that looks alive here is half-open). The dialer reconnects with
// backoff: starting at backoff_min, doubling to backoff_max, each wait drawn
// uniformly from its upper half (seeded jitter, from the node's Rng), reset when the
// link comes up. A dial or hello that takes longer than hello_timeout is abandoned.
//
// Liveness: a link up sends `HB` when it has sent nothing for `heartbeat`; it closes
// the connection when it has received nothing for `idle_timeout` (a blackholed,
// partitioned or paused neighbour). A line that ends a silence of `suspect` or more
// is a resumption (a healed cut, a resumed pause): the node may resynchronise.
//
// Sends: a message handed to a link that is not up, or whose connection's unsent
// bytes are over the host's limit (kBackpressure), is lost at the link and counted;
// anything else becomes one kSend effect. Control messages (hello, heartbeat) are
// kControl traffic; the node's messages kProtocol.
//
// Timers: one per link (timer id = the peer index), armed lazily: only when the next
// deadline is earlier than the armed one; a timer that fires early re-arms. So a busy
// link costs no timer effect per message.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "node/effects.h"
#include "node/peer_auth.h"
#include "node/rng.h"

namespace herd {

// The kernel buffers a host sets on a peer connection's socket (SO_SNDBUF and
// SO_RCVBUF, each end), so that a peer that stops reading holds up its writer after
// a bounded number of bytes: Linux would otherwise let about 4 MB pile up on a
// loopback connection before the writer's own queue, and its limit, saw any. Linux
// doubles both for its bookkeeping, and about that much data fits: measured on
// loopback, a writer gets 193 KB into a connection whose reader has stopped. The
// simulator holds kPeerKernelBytes for such a reader.
inline constexpr int kPeerSocketSendBytes = 32 * 1024;
inline constexpr int kPeerSocketRecvBytes = 64 * 1024;
inline constexpr uint64_t kPeerKernelBytes = 2 * (kPeerSocketSendBytes + kPeerSocketRecvBytes);

struct LinkTimings {
  int64_t backoff_min_ns = 100'000'000;
  int64_t backoff_max_ns = 2'000'000'000;
  int64_t hello_timeout_ns = 3'000'000'000;
  int64_t heartbeat_ns = 1'000'000'000;
  int64_t suspect_ns = 2'500'000'000;
  int64_t idle_timeout_ns = 5'000'000'000;
  friend bool operator==(const LinkTimings&, const LinkTimings&) = default;
};

// What happened on a link, from the node's side. Messages handed to it are `sent`,
// then either written (a kSend) or lost here as `lost_down` or `lost_full`.
struct LinkStats {
  uint64_t sent = 0, written = 0, lost_down = 0, lost_full = 0;
  uint64_t heartbeats = 0;  // Sent.
  uint64_t ups = 0, downs = 0, dials = 0, dial_failures = 0, resumed = 0;
  uint64_t idle_timeouts = 0, hello_timeouts = 0;
  uint64_t auth_failures = 0;  // Handshakes or sealed lines whose proof was wrong (closed).
  uint64_t replays = 0;        // Sealed lines with a right tag and a number seen before (refused).
};

class LinkMachine {
 public:
  enum class State : uint8_t {
    kOff,       // The server is not running.
    kWaiting,   // Down: the dialer waits for its retry, the acceptor for a hello.
    kDialing,   // A kDial is out; its kDialed has not come.
    kGreeting,  // Connected (dialed); our hello is out, the answer has not come.
    kUp,
  };

  // The outcome of a line on the link's connection.
  enum class Line : uint8_t { kIgnored, kUp, kMessage };
  struct LineOutcome {
    Line kind = Line::kIgnored;
    bool resumed = false;      // kMessage or kUp after a silence of `suspect` or more.
    bool replaced = false;     // kUp: an older connection that was up was closed for it.
    std::string_view message;  // kMessage: the message (the line, or what its seal held).
    const char* refused = nullptr;  // kIgnored: why a line was refused, for the log.
  };
  // The outcome of a first line naming this link's neighbour and server.
  enum class Hello : uint8_t {
    kNotHello,  // Not a hello this link takes: the connection is a client's.
    kRefused,   // A hello without the proof the herd requires: the connection is closed.
    kPending,   // Answered; the link is up when the dialer proves the secret.
    kUp,        // Answered and up (no secret).
  };

  // REQUIRES: self != peer. With `auth` on, the handshake and every line are
  // authenticated (node/peer_auth.h).
  LinkMachine(std::string self, std::string peer, int index, const LinkTimings& timings,
              PeerAuth auth = {});

  State state() const { return state_; }
  bool up() const { return state_ == State::kUp; }
  bool dials() const { return dials_; }
  ConnId conn() const { return conn_; }
  const std::string& peer_name() const { return peer_; }
  const LinkStats& stats() const { return stats_; }
  bool full() const { return full_; }
  int64_t last_recv_ns() const { return last_recv_ns_; }  // When the link last heard its peer.

  // The server (re)starts: the dialer dials at once; the acceptor waits.
  void start(int64_t now_ns, Effects* out);
  // The server crashed: everything is forgotten (its connections are gone already).
  void stop(Effects* out);

  // The answer to the kDial numbered `attempt`; `nonce` is fresh (the dialer's, when
  // the herd authenticates).
  void on_dialed(uint64_t attempt, ConnId conn, std::string_view why, const AuthNonce& nonce, int64_t now_ns,
                 Rng& rng, Effects* out);
  // The first line of an accepted connection, "PEER <peer> <self> ...", with a fresh
  // nonce (the acceptor's, when the herd authenticates).
  Hello on_hello(ConnId conn, std::string_view line, const AuthNonce& nonce, int64_t now_ns, Rng& rng,
                 Effects* out);
  // Whether `conn` is this link's: its connection, or one whose handshake is pending.
  bool owns(ConnId conn) const { return conn != 0 && (conn == conn_ || conn == pending_.conn); }
  // A line on a connection the link owns.
  LineOutcome on_line(ConnId conn, std::string_view line, int64_t now_ns, Rng& rng, Effects* out);
  // A connection closed; returns whether it was the link's (and so the link is down).
  bool on_closed(ConnId conn, std::string_view why, int64_t now_ns, Rng& rng, Effects* out);
  // The connection's queue went over its limit (full) or back under it; returns
  // true when it drained after losing messages while full (they need repair).
  bool on_backpressure(ConnId conn, bool full) {
    if (conn != conn_ || conn_ == 0 || full == full_) return false;
    full_ = full;
    if (full) lost_full_mark_ = stats_.lost_full;
    return !full && stats_.lost_full > lost_full_mark_;
  }
  // Timer `index` fired.
  void on_timer(int64_t now_ns, Rng& rng, Effects* out);

  // Hands one message to the link; false when it was lost here (counted).
  bool send(std::string message, Traffic traffic, int64_t now_ns, Effects* out);

  // A deadline the node adds to the link's timer (its sync pacing), or INT64_MAX:
  // want_timer arms the timer for it; set_extra_deadline only records it (for a
  // caller about to call on_timer, which arms).
  void want_timer(int64_t at_ns, Effects* out);
  void set_extra_deadline(int64_t at_ns) { extra_deadline_ns_ = at_ns; }

 private:
  struct Pending {  // An accepted connection whose dialer has not proved the secret yet.
    ConnId conn = 0;
    AuthNonce nd{}, na{};
    int64_t deadline_ns = INT64_MAX;
  };

  void dial(int64_t now_ns, Effects* out);
  void adopt(ConnId conn, int64_t now_ns, Rng& rng, Effects* out);
  // A handshake line, unsealed, on `conn`.
  void send_raw(ConnId conn, std::string message, int64_t now_ns, Effects* out);
  // A control message on the link's connection: sealed when authenticated.
  void send_control(std::string message, int64_t now_ns, Effects* out);
  void close_conn(ConnId conn, std::string_view why, Effects* out);
  void start_sealing(const Handshake& h);
  LineOutcome on_greeting_answer(std::string_view line, int64_t now_ns, Rng& rng, Effects* out);
  LineOutcome on_pending_line(std::string_view line, int64_t now_ns, Rng& rng, Effects* out);
  void mark_up(const char* how, int64_t now_ns, Effects* out);
  // Closes the current connection from this side and goes down.
  void drop(std::string_view why, int64_t now_ns, Rng& rng, Effects* out);
  void go_down(std::string_view why, int64_t now_ns, Rng& rng, Effects* out);
  int64_t next_deadline() const;
  void arm(Effects* out);

  std::string self_, peer_;
  int index_;
  bool dials_;
  LinkTimings t_;
  PeerAuth auth_;
  AuthNonce nd_{};          // The dialer's nonce of its current connection.
  Pending pending_;         // The acceptor's.
  // Of the current connection, when authenticated: on the heap, as a Sealer remembers
  // 4096 sequence numbers and most links of a large simulated herd never seal.
  struct Sealers {
    Sealer out, in;
  };
  std::unique_ptr<Sealers> seal_;
  Sealers& seals();
  State state_ = State::kOff;
  ConnId conn_ = 0;
  bool full_ = false;
  uint64_t lost_full_mark_ = 0;  // stats_.lost_full when the queue last filled.
  uint64_t attempt_ = 0;       // The current kDial's number.
  int64_t backoff_ns_;
  int64_t retry_at_ns_ = INT64_MAX;
  int64_t greeting_deadline_ns_ = INT64_MAX;  // kDialing and kGreeting.
  int64_t last_send_ns_ = 0, last_recv_ns_ = 0;
  int64_t extra_deadline_ns_ = INT64_MAX;
  int64_t armed_ns_ = INT64_MAX;  // The timer as last set; INT64_MAX: not armed.
  LinkStats stats_;
};

}  // namespace herd
