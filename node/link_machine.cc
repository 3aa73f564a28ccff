#include "node/check.h"
#include "node/link_machine.h"

#include <algorithm>
#include <utility>

#include "node/peer_wire.h"
#include "node/protocol.h"

namespace herd {

namespace {

std::string nonce_hex(const AuthNonce& n) { return hex_of(n.data(), n.size()); }

bool parse_nonce(std::string_view hex, AuthNonce* n) { return bytes_of_hex(hex, n->data(), n->size()); }

}  // namespace

LinkMachine::LinkMachine(std::string self, std::string peer, int index, const LinkTimings& timings,
                         PeerAuth auth)
    : self_(std::move(self)),
      peer_(std::move(peer)),
      index_(index),
      dials_(self_ < peer_),
      t_(timings),
      auth_(auth),
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
  pending_ = Pending{};
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

void LinkMachine::on_dialed(uint64_t attempt, ConnId conn, std::string_view why, const AuthNonce& nonce,
                            int64_t now_ns, Rng& rng, Effects* out) {
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
  std::string hello = make_peer_hello(self_, peer_);
  if (auth_.on()) {
    nd_ = nonce;
    hello.append(" ").append(nonce_hex(nd_));
  }
  send_raw(conn_, std::move(hello), now_ns, out);
  arm(out);
}

LinkMachine::Hello LinkMachine::on_hello(ConnId conn, std::string_view line, const AuthNonce& nonce,
                                         int64_t now_ns, Rng& rng, Effects* out) {
  HERD_ASSERT(state_ != State::kOff);
  const Fields f = split_fields(line, 4);
  if (f.size() < 3 || f[0] != "PEER" || f[1] != peer_ || f[2] != self_) return Hello::kNotHello;
  if (!auth_.on()) {
    if (f.size() != 3) return Hello::kNotHello;  // An authenticating dialer: it hears "? PEER ...".
    adopt(conn, now_ns, rng, out);
    return Hello::kUp;
  }
  AuthNonce nd;
  if (f.size() != 4 || !parse_nonce(f[3], &nd)) {
    ++stats_.auth_failures;
    close_conn(conn, "auth-required", out);
    return Hello::kRefused;
  }
  // One handshake at a time: a newer hello replaces one still pending.
  if (pending_.conn != 0) close_conn(pending_.conn, "replaced-pending", out);
  pending_ = Pending{conn, nd, nonce, now_ns + t_.hello_timeout_ns};
  Effect e;
  e.kind = EffectKind::kAdopt;
  e.conn = conn;
  e.peer = index_;
  out->push_back(std::move(e));
  const AuthKey tag = handshake_tag(auth_, {peer_, self_, nd, nonce}, "herd-accept");
  send_raw(conn, make_peer_hello(self_, peer_) + " " + nonce_hex(nonce) + " " + hex_of(tag.data(), kTagBytes),
           now_ns, out);
  arm(out);
  return Hello::kPending;
}

void LinkMachine::adopt(ConnId conn, int64_t now_ns, Rng& rng, Effects* out) {
  if (conn_ != 0) drop("replaced", now_ns, rng, out);
  Effect e;
  e.kind = EffectKind::kAdopt;
  e.conn = conn;
  e.peer = index_;
  out->push_back(std::move(e));
  conn_ = conn;
  last_recv_ns_ = now_ns;
  send_raw(conn_, make_peer_hello(self_, peer_), now_ns, out);
  mark_up("accepted", now_ns, out);
}

void LinkMachine::start_sealing(const Handshake& h) {
  const AuthKey session = handshake_tag(auth_, h, "herd-session");
  const bool dialed = h.dialer == self_;  // This connection's role, whatever the names' order.
  seals().out = Sealer(auth_.mac, session, dialed ? 'D' : 'A');
  seals().in = Sealer(auth_.mac, session, dialed ? 'A' : 'D');
}

LinkMachine::Sealers& LinkMachine::seals() {
  if (!seal_) seal_ = std::make_unique<Sealers>();
  return *seal_;
}

void LinkMachine::close_conn(ConnId conn, std::string_view why, Effects* out) {
  Effect e;
  e.kind = EffectKind::kClose;
  e.conn = conn;
  e.bytes = std::string(why);
  out->push_back(std::move(e));
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

LinkMachine::LineOutcome LinkMachine::on_line(ConnId conn, std::string_view line, int64_t now_ns, Rng& rng,
                                              Effects* out) {
  if (conn != conn_) return conn == pending_.conn ? on_pending_line(line, now_ns, rng, out) : LineOutcome{};
  if (state_ == State::kGreeting) return on_greeting_answer(line, now_ns, rng, out);
  LineOutcome outcome;
  if (state_ != State::kUp) return outcome;
  outcome.message = line;
  if (auth_.on()) {
    bool replayed = false;
    const std::optional<std::string_view> message = seals().in.open(line, &replayed);
    if (replayed) {
      ++stats_.replays;
      outcome.refused = "a replayed message";
      return outcome;
    }
    if (!message) {
      ++stats_.auth_failures;
      drop("auth-failed", now_ns, rng, out);
      return outcome;
    }
    outcome.message = *message;
  }
  outcome.resumed = now_ns - last_recv_ns_ >= t_.suspect_ns;
  if (outcome.resumed) ++stats_.resumed;
  last_recv_ns_ = now_ns;
  outcome.kind = Line::kMessage;
  return outcome;
}

LinkMachine::LineOutcome LinkMachine::on_greeting_answer(std::string_view line, int64_t now_ns, Rng& rng,
                                                         Effects* out) {
  LineOutcome outcome;
  if (line.starts_with("? PEER ")) {  // An acceptor without the secret took us for a client.
    ++stats_.auth_failures;
    drop("peer-has-no-secret", now_ns, rng, out);
    outcome.refused = "to link: the acceptor does not authenticate";
    return outcome;
  }
  const Fields f = split_fields(line, auth_.on() ? 5 : 3);
  const bool named = f.size() >= 3 && f[0] == "PEER" && f[1] == peer_ && f[2] == self_;
  if (!auth_.on()) {
    if (!named || f.size() != 3) {
      drop("bad-hello", now_ns, rng, out);
      return outcome;
    }
    mark_up("dialed", now_ns, out);
    outcome.kind = Line::kUp;
    return outcome;
  }
  AuthNonce na;
  uint8_t tag[kTagBytes];
  if (!named || f.size() != 5 || !parse_nonce(f[3], &na) || !bytes_of_hex(f[4], tag, kTagBytes)) {
    ++stats_.auth_failures;
    drop(named && f.size() == 3 ? "peer-without-secret" : "bad-hello", now_ns, rng, out);
    outcome.refused = named && f.size() == 3 ? "to link: the acceptor does not authenticate"
                                             : "to link: the acceptor's answer is not a hello";
    return outcome;
  }
  const Handshake h{self_, peer_, nd_, na};
  const AuthKey want = handshake_tag(auth_, h, "herd-accept");
  if (!auth_.mac->same(tag, want.data(), kTagBytes)) {
    ++stats_.auth_failures;
    drop("auth-failed", now_ns, rng, out);
    outcome.refused = "to link: the acceptor's proof of the herd secret was wrong";
    return outcome;
  }
  const AuthKey proof = handshake_tag(auth_, h, "herd-dial");
  send_raw(conn_, "AUTH " + hex_of(proof.data(), kTagBytes), now_ns, out);
  start_sealing(h);
  mark_up("dialed", now_ns, out);
  outcome.kind = Line::kUp;
  return outcome;
}

LinkMachine::LineOutcome LinkMachine::on_pending_line(std::string_view line, int64_t now_ns, Rng& rng,
                                                      Effects* out) {
  LineOutcome outcome;
  const Pending p = pending_;
  pending_ = Pending{};
  const Handshake h{peer_, self_, p.nd, p.na};
  const AuthKey want = handshake_tag(auth_, h, "herd-dial");
  uint8_t tag[kTagBytes];
  if (!line.starts_with("AUTH ") || !bytes_of_hex(line.substr(5), tag, kTagBytes) ||
      !auth_.mac->same(tag, want.data(), kTagBytes)) {
    ++stats_.auth_failures;
    close_conn(p.conn, "auth-failed", out);
    arm(out);
    outcome.refused = "a connection whose proof of the herd secret was wrong";
    return outcome;
  }
  // Proven: the newest connection wins, as without a secret.
  outcome.replaced = state_ == State::kUp;
  if (conn_ != 0) drop("replaced", now_ns, rng, out);
  conn_ = p.conn;
  last_recv_ns_ = now_ns;
  start_sealing(h);
  mark_up("accepted", now_ns, out);
  outcome.kind = Line::kUp;
  return outcome;
}

bool LinkMachine::on_closed(ConnId conn, std::string_view why, int64_t now_ns, Rng& rng,
                            Effects* out) {
  if (conn != 0 && conn == pending_.conn) {
    pending_ = Pending{};
    arm(out);
    return false;
  }
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
  if (pending_.conn != 0 && now_ns >= pending_.deadline_ns) {
    ++stats_.hello_timeouts;
    close_conn(pending_.conn, "hello-timeout", out);
    pending_ = Pending{};
  }
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

void LinkMachine::send_raw(ConnId conn, std::string message, int64_t now_ns, Effects* out) {
  Effect e;
  e.kind = EffectKind::kSend;
  e.traffic = Traffic::kControl;
  e.peer = index_;
  e.conn = conn;
  e.bytes = std::move(message);
  out->push_back(std::move(e));
  if (conn == conn_) last_send_ns_ = now_ns;
}

void LinkMachine::send_control(std::string message, int64_t now_ns, Effects* out) {
  if (auth_.on()) {
    const size_t body = message.size();
    std::string sealed = seals().out.seal(message);
    send_raw(conn_, std::move(sealed), now_ns, out);
    out->back().body = static_cast<uint32_t>(out->back().bytes.size() - body);
    return;
  }
  send_raw(conn_, std::move(message), now_ns, out);
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
  if (auth_.on()) {
    const size_t body = message.size();
    e.bytes = seals().out.seal(message);
    e.body = static_cast<uint32_t>(e.bytes.size() - body);
  } else {
    e.bytes = std::move(message);
  }
  out->push_back(std::move(e));
  last_send_ns_ = now_ns;
  return true;
}

void LinkMachine::want_timer(int64_t at_ns, Effects* out) {
  extra_deadline_ns_ = at_ns;
  arm(out);
}

int64_t LinkMachine::next_deadline() const {
  const int64_t pending = pending_.conn != 0 ? pending_.deadline_ns : INT64_MAX;
  switch (state_) {
    case State::kOff:
      return INT64_MAX;
    case State::kWaiting:
      return std::min(retry_at_ns_, pending);
    case State::kDialing:
    case State::kGreeting:
      return std::min(greeting_deadline_ns_, pending);
    case State::kUp:
      return std::min({last_recv_ns_ + t_.idle_timeout_ns, last_send_ns_ + t_.heartbeat_ns,
                       extra_deadline_ns_, pending});
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
