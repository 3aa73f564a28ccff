// node/link_machine.h on its own: the effects a link asks for, with time handed in.
#include "node/link_machine.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/peer_wire.h"

namespace herd {
namespace {

constexpr int64_t kMs = 1'000'000;

std::vector<Effect> of(const Effects& out, EffectKind kind) {
  std::vector<Effect> kept;
  for (const Effect& e : out) {
    if (e.kind == kind) kept.push_back(e);
  }
  return kept;
}

// The last timer the link asked for, or -1.
int64_t timer_at(const Effects& out) {
  int64_t at = -1;
  for (const Effect& e : out) {
    if (e.kind == EffectKind::kTimer) at = e.at_ns;
  }
  return at;
}

struct Dialer {
  LinkTimings t;
  LinkMachine link{"A", "B", 0, t};
  Rng rng{7};
  Effects out;
  uint64_t attempt() const { return of(out, EffectKind::kDial).back().request; }
  // Starts, connects as conn 11 and receives B's answer: up.
  void up(int64_t now) {
    link.start(now, &out);
    link.on_dialed(attempt(), 11, "", {}, now, rng, &out);
    link.on_line(11, make_peer_hello("B", "A"), now, rng, &out);
  }
};

}  // namespace

TEST_CASE("link: the dialer dials, says hello on connect, and is up on the answer") {
  Dialer d;
  CHECK(d.link.dials());
  d.link.start(0, &d.out);
  REQUIRE(of(d.out, EffectKind::kDial).size() == 1);
  CHECK(of(d.out, EffectKind::kDial)[0].peer == 0);
  CHECK(d.link.state() == LinkMachine::State::kDialing);
  CHECK(timer_at(d.out) == d.t.hello_timeout_ns);  // A dial that never answers is abandoned.
  const uint64_t attempt = d.attempt();
  d.out.clear();
  d.link.on_dialed(attempt, 11, "", {}, 5 * kMs, d.rng, &d.out);
  std::vector<Effect> sent = of(d.out, EffectKind::kSend);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].bytes == "PEER A B");
  CHECK(sent[0].conn == 11);
  CHECK(sent[0].traffic == Traffic::kControl);
  CHECK(d.link.state() == LinkMachine::State::kGreeting);
  d.out.clear();
  LinkMachine::LineOutcome o = d.link.on_line(11, "PEER B A", 6 * kMs, d.rng, &d.out);
  CHECK(o.kind == LinkMachine::Line::kUp);
  CHECK(d.link.up());
  REQUIRE(of(d.out, EffectKind::kLinkUp).size() == 1);
  CHECK(of(d.out, EffectKind::kLinkUp)[0].bytes == "dialed");
  CHECK(d.link.stats().ups == 1);
}

TEST_CASE("link: a wrong answer closes the connection; the dialer retries after its backoff") {
  Dialer d;
  d.link.start(0, &d.out);
  d.link.on_dialed(d.attempt(), 11, "", {}, 0, d.rng, &d.out);
  d.out.clear();
  CHECK(d.link.on_line(11, "PEER C A", kMs, d.rng, &d.out).kind == LinkMachine::Line::kIgnored);
  REQUIRE(of(d.out, EffectKind::kClose).size() == 1);
  CHECK(of(d.out, EffectKind::kClose)[0].bytes == "bad-hello");
  CHECK(of(d.out, EffectKind::kLinkDown).empty());  // It was never up.
  CHECK(d.link.state() == LinkMachine::State::kWaiting);
  const int64_t retry = timer_at(d.out);
  CHECK(retry >= kMs + d.t.backoff_min_ns / 2);
  CHECK(retry <= kMs + d.t.backoff_min_ns);
}

TEST_CASE("link: backoff doubles to its maximum, each wait drawn from its upper half, seeded") {
  auto schedule = [](uint64_t seed, const std::string& self) {
    LinkTimings t;
    LinkMachine link(self, "Z", 0, t);
    Rng rng(seed);
    Effects out;
    std::vector<int64_t> waits;
    int64_t now = 0;
    link.start(now, &out);
    for (int i = 0; i < 8; ++i) {
      const uint64_t attempt = of(out, EffectKind::kDial).back().request;
      out.clear();
      link.on_dialed(attempt, 0, "connection refused", {}, now, rng, &out);
      const int64_t at = timer_at(out);
      waits.push_back(at - now);
      now = at;
      out.clear();
      link.on_timer(now, rng, &out);  // Dials again.
    }
    return waits;
  };
  const std::vector<int64_t> waits = schedule(1, "A");
  int64_t cap = 100 * kMs;
  for (int64_t w : waits) {
    CHECK(w >= cap / 2);
    CHECK(w <= cap);
    cap = std::min<int64_t>(cap * 2, 2'000 * kMs);
  }
  CHECK(waits.back() >= 1'000 * kMs);  // At the 2 s cap by then.
  CHECK(schedule(1, "A") == waits);
  CHECK(schedule(2, "A") != waits);
}

TEST_CASE("link: the acceptor adopts a hello, answers it, and a newer connection replaces the old") {
  LinkTimings t;
  LinkMachine link("B", "A", 3, t);
  Rng rng(1);
  Effects out;
  link.start(0, &out);
  CHECK_FALSE(link.dials());
  CHECK(of(out, EffectKind::kDial).empty());
  CHECK(link.on_hello(21, "PEER A B", {}, kMs, rng, &out) == LinkMachine::Hello::kUp);
  REQUIRE(of(out, EffectKind::kAdopt).size() == 1);
  CHECK(of(out, EffectKind::kAdopt)[0].conn == 21);
  CHECK(of(out, EffectKind::kSend)[0].bytes == "PEER B A");
  CHECK(link.up());
  CHECK(link.conn() == 21);
  out.clear();
  CHECK(link.on_hello(22, "PEER A B", {}, 2 * kMs, rng, &out) == LinkMachine::Hello::kUp);
  REQUIRE(of(out, EffectKind::kClose).size() == 1);
  CHECK(of(out, EffectKind::kClose)[0].conn == 21);
  CHECK(of(out, EffectKind::kClose)[0].bytes == "replaced");
  CHECK(of(out, EffectKind::kLinkDown).size() == 1);
  CHECK(of(out, EffectKind::kLinkUp).size() == 1);
  CHECK(link.conn() == 22);
  // The old connection's close, when it comes, is not the link's.
  out.clear();
  CHECK_FALSE(link.on_closed(21, "eof", 3 * kMs, rng, &out));
  CHECK(out.empty());
  CHECK(link.up());
}

TEST_CASE("link: heartbeats when idle; silence past the idle timeout closes the connection") {
  Dialer d;
  d.up(0);
  d.out.clear();
  // Nothing sent for a heartbeat interval: the timer fires and a heartbeat goes.
  d.link.on_timer(d.t.heartbeat_ns, d.rng, &d.out);
  std::vector<Effect> sent = of(d.out, EffectKind::kSend);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].bytes == "HB");
  CHECK(sent[0].traffic == Traffic::kControl);
  // A timer that fires early does nothing but re-arm.
  d.out.clear();
  d.link.on_timer(d.t.heartbeat_ns + kMs, d.rng, &d.out);
  CHECK(of(d.out, EffectKind::kSend).empty());
  CHECK(timer_at(d.out) > d.t.heartbeat_ns + kMs);
  // Received nothing since the handshake: at idle_timeout it is dead.
  d.out.clear();
  d.link.on_timer(d.t.idle_timeout_ns, d.rng, &d.out);
  REQUIRE(of(d.out, EffectKind::kClose).size() == 1);
  CHECK(of(d.out, EffectKind::kClose)[0].bytes == "idle-timeout");
  CHECK(of(d.out, EffectKind::kLinkDown)[0].bytes == "idle-timeout");
  CHECK(d.link.stats().idle_timeouts == 1);
  CHECK(d.link.state() == LinkMachine::State::kWaiting);
}

TEST_CASE("link: a line after a long silence is a resumption; busy links arm no timer per message") {
  Dialer d;
  d.up(0);
  CHECK_FALSE(d.link.on_line(11, "HB", d.t.heartbeat_ns, d.rng, &d.out).resumed);
  CHECK(d.link.on_line(11, "HB", d.t.heartbeat_ns + d.t.suspect_ns, d.rng, &d.out).resumed);
  CHECK(d.link.stats().resumed == 1);
  d.out.clear();
  for (int i = 0; i < 100; ++i) {
    CHECK(d.link.send("FLOOD 1 x", Traffic::kProtocol, d.t.heartbeat_ns * 3 + i, &d.out));
  }
  CHECK(of(d.out, EffectKind::kTimer).empty());
  CHECK(of(d.out, EffectKind::kSend).size() == 100);
}

TEST_CASE("link: sends while down or over the queue limit are lost at the link and counted") {
  Dialer d;
  d.link.start(0, &d.out);
  CHECK_FALSE(d.link.send("FLOOD 1 x", Traffic::kProtocol, 0, &d.out));
  CHECK(d.link.stats().lost_down == 1);
  d.link.on_dialed(d.attempt(), 11, "", {}, 0, d.rng, &d.out);
  d.link.on_line(11, "PEER B A", 0, d.rng, &d.out);
  CHECK_FALSE(d.link.on_backpressure(11, true));
  d.out.clear();
  CHECK_FALSE(d.link.send("FLOOD 1 y", Traffic::kProtocol, 0, &d.out));
  CHECK(d.link.stats().lost_full == 1);
  CHECK(of(d.out, EffectKind::kSend).empty());
  CHECK_FALSE(d.link.on_backpressure(12, false));  // Another connection's: changes nothing.
  CHECK(d.link.full());
  CHECK(d.link.on_backpressure(11, false));  // Drained after a loss: repair it.
  CHECK(d.link.send("FLOOD 1 z", Traffic::kProtocol, 0, &d.out));
  CHECK(d.link.stats().sent == 3);
  CHECK(d.link.stats().written == 1);
  // Full and drained again without a loss: nothing to repair.
  CHECK_FALSE(d.link.on_backpressure(11, true));
  CHECK_FALSE(d.link.on_backpressure(11, false));
}

TEST_CASE("link: a dial answered after it was given up on is closed; stop forgets everything") {
  Dialer d;
  d.link.start(0, &d.out);
  const uint64_t first = d.attempt();
  d.out.clear();
  d.link.on_timer(d.t.hello_timeout_ns, d.rng, &d.out);  // The dial timed out.
  CHECK(d.link.stats().hello_timeouts == 1);
  CHECK(d.link.state() == LinkMachine::State::kWaiting);
  d.out.clear();
  d.link.on_dialed(first, 31, "", {}, d.t.hello_timeout_ns + kMs, d.rng, &d.out);
  REQUIRE(of(d.out, EffectKind::kClose).size() == 1);
  CHECK(of(d.out, EffectKind::kClose)[0].conn == 31);
  CHECK(of(d.out, EffectKind::kClose)[0].bytes == "stale-dial");
  d.out.clear();
  d.link.stop(&d.out);
  CHECK(d.link.state() == LinkMachine::State::kOff);
  REQUIRE(of(d.out, EffectKind::kTimer).size() == 1);
  CHECK(of(d.out, EffectKind::kTimer)[0].at_ns == -1);
}

}  // namespace herd
