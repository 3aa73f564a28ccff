#include "node/check.h"
#include "node/link_machine.h"

#include <algorithm>
#include <utility>

#include "node/peer_wire.h"

namespace herd {

LinkMachine::LinkMachine(std::string self, std::string peer, int index, const LinkTimings& timings)
    : self_(std::move(self)),
      peer_(std::move(peer)),
      index_(index),
      dials_(self_ < peer_),
      t_(timings),
      backoff_ns_(timings.backoff_min_ns) {
  HERD_ASSERT(self_ != peer_);
}

void LinkMachine::start(int64_t now_ns, Effects* out) {
  HERD_ASSERT(state_ == State::kOff);
  state_ = State::kWaiting;
  backoff_ns_ = t_.backoff_min_ns;
  if (dials_) dial(now_ns, out);
}

void LinkMachine::stop(Effects* out) {
  state_ = State::kOff;
  conn_ = 0;
  full_ = false;
  retry_at_ns_ = greeting_deadline_ns_ = extra_deadline_ns_ = INT64_MAX;
  if (armed_ns_ != INT64_MAX) {
    Effect e;
    e.kind = EffectKind::kTimer;
    e.timer = static_cast<TimerId>(index_);
    e.at_ns = -1;
    out->push_back(std::move(e));
    armed_ns_ = INT64_MAX;
  }
}

void LinkMachine::dial(int64_t now_ns, Effects* out) {
  state_ = State::kDialing;
  retry_at_ns_ = INT64_MAX;
  greeting_deadline_ns_ = now_ns + t_.hello_timeout_ns;
  ++stats_.dials;
  Effect e;
  e.kind = EffectKind::kDial;
  e.peer = index_;
  e.request = ++attempt_;
  out->push_back(std::move(e));
  arm(out);
}

void LinkMachine::on_dialed(uint64_t attempt, ConnId conn, std::string_view why, int64_t now_ns,
                            Rng& rng, Effects* out) {
  if (state_ != State::kDialing || attempt != attempt_) {
    // A dial we gave up on (timed out, or replaced by an accepted hello).
    if (conn != 0) {
      Effect e;
      e.kind = EffectKind::kClose;
      e.conn = conn;
      e.bytes = "stale-dial";
      out->push_back(std::move(e));
    }
    return;
  }
  if (conn == 0) {
    ++stats_.dial_failures;
    go_down(why, now_ns, rng, out);
    return;
  }
  conn_ = conn;
  state_ = State::kGreeting;
  last_recv_ns_ = now_ns;
  send_control(make_peer_hello(self_, peer_), now_ns, out);
  arm(out);
}

void LinkMachine::adopt(ConnId conn, int64_t now_ns, Rng& rng, Effects* out) {
  HERD_ASSERT(state_ != State::kOff);
  if (conn_ != 0) drop("replaced", now_ns, rng, out);
  Effect e;
  e.kind = EffectKind::kAdopt;
  e.conn = conn;
  e.peer = index_;
  out->push_back(std::move(e));
  conn_ = conn;
  last_recv_ns_ = now_ns;
  send_control(make_peer_hello(self_, peer_), now_ns, out);
  mark_up("accepted", now_ns, out);
}

void LinkMachine::mark_up(const char* how, int64_t now_ns, Effects* out) {
  state_ = State::kUp;
  backoff_ns_ = t_.backoff_min_ns;
  retry_at_ns_ = greeting_deadline_ns_ = INT64_MAX;
  last_recv_ns_ = now_ns;
  ++stats_.ups;
  Effect e;
  e.kind = EffectKind::kLinkUp;
  e.peer = index_;
  e.conn = conn_;
  e.bytes = how;
  out->push_back(std::move(e));
  arm(out);
}

LinkMachine::LineOutcome LinkMachine::on_line(std::string_view line, int64_t now_ns, Rng& rng,
                                              Effects* out) {
  LineOutcome outcome;
  if (state_ == State::kGreeting) {
    std::optional<PeerHello> hello = parse_peer_hello(line);
    if (!hello || hello->from != peer_ || hello->to != self_) {
      drop("bad-hello", now_ns, rng, out);
      return outcome;
    }
    mark_up("dialed", now_ns, out);
    outcome.kind = Line::kUp;
    return outcome;
  }
  if (state_ != State::kUp) return outcome;
  outcome.resumed = now_ns - last_recv_ns_ >= t_.suspect_ns;
  if (outcome.resumed) ++stats_.resumed;
  last_recv_ns_ = now_ns;
  outcome.kind = Line::kMessage;
  return outcome;
}

bool LinkMachine::on_closed(ConnId conn, std::string_view why, int64_t now_ns, Rng& rng,
                            Effects* out) {
  if (conn == 0 || conn != conn_) return false;
  go_down(why, now_ns, rng, out);
  return true;
}

void LinkMachine::drop(std::string_view why, int64_t now_ns, Rng& rng, Effects* out) {
  Effect e;
  e.kind = EffectKind::kClose;
  e.conn = conn_;
  e.bytes = std::string(why);
  out->push_back(std::move(e));
  go_down(why, now_ns, rng, out);
}

void LinkMachine::go_down(std::string_view why, int64_t now_ns, Rng& rng, Effects* out) {
  if (state_ == State::kUp) {
    ++stats_.downs;
    Effect e;
    e.kind = EffectKind::kLinkDown;
    e.peer = index_;
    e.bytes = std::string(why);
    out->push_back(std::move(e));
  }
  state_ = State::kWaiting;
  conn_ = 0;
  full_ = false;
  greeting_deadline_ns_ = INT64_MAX;
  if (dials_) {
    // Equal jitter: half the backoff is fixed, half is drawn, so neighbours that
    // lost a server together do not all redial in the same millisecond.
    const int64_t half = backoff_ns_ / 2;
    retry_at_ns_ = now_ns + half + rng.uniform_i64(0, backoff_ns_ - half);
    backoff_ns_ = std::min(backoff_ns_ * 2, t_.backoff_max_ns);
  }
  arm(out);
}

void LinkMachine::on_timer(int64_t now_ns, Rng& rng, Effects* out) {
  armed_ns_ = INT64_MAX;
  switch (state_) {
    case State::kOff:
      return;
    case State::kWaiting:
      if (dials_ && now_ns >= retry_at_ns_) return dial(now_ns, out);
      break;
    case State::kDialing:
      if (now_ns >= greeting_deadline_ns_) {
        ++stats_.hello_timeouts;
        ++attempt_;  // Its kDialed, when it comes, is stale.
        go_down("connect-timeout", now_ns, rng, out);
        return;
      }
      break;
    case State::kGreeting:
      if (now_ns >= greeting_deadline_ns_) {
        ++stats_.hello_timeouts;
        return drop("hello-timeout", now_ns, rng, out);
      }
      break;
    case State::kUp:
      if (now_ns - last_recv_ns_ >= t_.idle_timeout_ns) {
        ++stats_.idle_timeouts;
        return drop("idle-timeout", now_ns, rng, out);
      }
      if (now_ns - last_send_ns_ >= t_.heartbeat_ns) {
        ++stats_.heartbeats;
        send_control(make_heartbeat(), now_ns, out);
      }
      break;
  }
  arm(out);
}

void LinkMachine::send_control(std::string message, int64_t now_ns, Effects* out) {
  Effect e;
  e.kind = EffectKind::kSend;
  e.traffic = Traffic::kControl;
  e.peer = index_;
  e.conn = conn_;
  e.bytes = std::move(message);
  out->push_back(std::move(e));
  last_send_ns_ = now_ns;
}

bool LinkMachine::send(std::string message, Traffic traffic, int64_t now_ns, Effects* out) {
  ++stats_.sent;
  if (state_ != State::kUp) {
    ++stats_.lost_down;
    return false;
  }
  if (full_) {
    ++stats_.lost_full;
    return false;
  }
  ++stats_.written;
  Effect e;
  e.kind = EffectKind::kSend;
  e.traffic = traffic;
  e.peer = index_;
  e.conn = conn_;
  e.bytes = std::move(message);
  out->push_back(std::move(e));
  last_send_ns_ = now_ns;
  return true;
}

void LinkMachine::want_timer(int64_t at_ns, Effects* out) {
  extra_deadline_ns_ = at_ns;
  arm(out);
}

int64_t LinkMachine::next_deadline() const {
  switch (state_) {
    case State::kOff:
      return INT64_MAX;
    case State::kWaiting:
      return retry_at_ns_;
    case State::kDialing:
    case State::kGreeting:
      return greeting_deadline_ns_;
    case State::kUp:
      return std::min({last_recv_ns_ + t_.idle_timeout_ns, last_send_ns_ + t_.heartbeat_ns,
                       extra_deadline_ns_});
  }
  return INT64_MAX;
}

void LinkMachine::arm(Effects* out) {
  const int64_t next = next_deadline();
  if (next >= armed_ns_) return;  // The armed timer fires first and re-arms.
  armed_ns_ = next;
  Effect e;
  e.kind = EffectKind::kTimer;
  e.timer = static_cast<TimerId>(index_);
  e.at_ns = next;
  out->push_back(std::move(e));
}

}  // namespace herd
