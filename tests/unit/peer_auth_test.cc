// node/peer_auth.h and the link machine's authenticated handshake, on their own: two
// links wired by hand (their effects carried across as lines), with libsodium's MAC.
#include "node/peer_auth.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "crypto/sodium_mac.h"
#include "node/clock.h"
#include "node/link_machine.h"

namespace herd {
namespace {

AuthNonce nonce_of(uint8_t fill) {
  AuthNonce n;
  n.fill(fill);
  return n;
}

PeerAuth auth_of(std::string_view secret) { return PeerAuth{&sodium_mac(), herd_key(secret)}; }

std::vector<Effect> of(const Effects& out, EffectKind kind) {
  std::vector<Effect> kept;
  for (const Effect& e : out) {
    if (e.kind == kind) kept.push_back(e);
  }
  return kept;
}

// The lines sent on `conn`, in order.
std::vector<std::string> sent_on(const Effects& out, ConnId conn) {
  std::vector<std::string> lines;
  for (const Effect& e : out) {
    if (e.kind == EffectKind::kSend && e.conn == conn) lines.push_back(e.bytes);
  }
  return lines;
}

bool closed(const Effects& out, ConnId conn, const std::string& why) {
  for (const Effect& e : out) {
    if (e.kind == EffectKind::kClose && e.conn == conn && e.bytes == why) return true;
  }
  return false;
}

// A dialer A and an acceptor B, each with its own secret; A's connection is 11, B's
// end of it 21.
struct Pair {
  LinkTimings t;
  LinkMachine a, b;
  Rng rng{3};
  Effects out_a, out_b;
  Pair(std::string_view secret_a, std::string_view secret_b)
      : a("A", "B", 0, t, auth_of(secret_a)), b("B", "A", 0, t, auth_of(secret_b)) {
    a.start(0, &out_a);
    b.start(0, &out_b);
  }
  uint64_t attempt() const { return of(out_a, EffectKind::kDial).back().request; }
  // A connects; its hello reaches B; B's answer reaches A; A's proof reaches B.
  void handshake(uint8_t na_fill = 2) {
    a.on_dialed(attempt(), 11, "", nonce_of(1), 0, rng, &out_a);
    const std::string hello = sent_on(out_a, 11).back();
    if (b.on_hello(21, hello, nonce_of(na_fill), 0, rng, &out_b) != LinkMachine::Hello::kPending) return;
    a.on_line(11, sent_on(out_b, 21).back(), 0, rng, &out_a);
    if (!a.up()) return;
    b.on_line(21, sent_on(out_a, 11).back(), 0, rng, &out_b);
  }
};

}  // namespace

TEST_CASE("seal: a sealed line opens once; altered, replayed or too old it does not") {
  const AuthKey key = herd_key("a secret of sixteen bytes");
  Sealer send(&sodium_mac(), key, 'D'), recv(&sodium_mac(), key, 'D');
  const std::string one = send.seal("FLOOD 1 AT x");
  CHECK(one.starts_with("M 1 "));
  CHECK(sealed_message(one) == "FLOOD 1 AT x");
  bool replayed = true;
  REQUIRE(recv.open(one, &replayed));
  CHECK(*recv.open(send.seal("HB"), &replayed) == "HB");
  CHECK_FALSE(replayed);
  // The same line again: a right tag, a number seen before.
  CHECK_FALSE(recv.open(one, &replayed));
  CHECK(replayed);
  // One byte changed, in the message or the number: a wrong tag.
  std::string altered = send.seal("FLOOD 1 AT y");
  altered.back() = 'z';
  CHECK_FALSE(recv.open(altered, &replayed));
  CHECK_FALSE(replayed);
  std::string renumbered = send.seal("HB");
  renumbered[2] = '9';
  CHECK_FALSE(recv.open(renumbered, &replayed));
  CHECK_FALSE(replayed);
  // The other direction's key stream does not open here.
  Sealer other(&sodium_mac(), key, 'A');
  CHECK_FALSE(recv.open(other.seal("HB"), &replayed));
  CHECK_FALSE(recv.open("FLOOD 1 AT x", &replayed));  // Not sealed at all.
}

TEST_CASE("seal: reordering within the window passes once; older than the window is refused") {
  const AuthKey key = herd_key("a secret of sixteen bytes");
  Sealer send(&sodium_mac(), key, 'A'), recv(&sodium_mac(), key, 'A');
  std::vector<std::string> lines;
  for (int i = 0; i < 5000; ++i) lines.push_back(send.seal("HB"));
  bool replayed = false;
  CHECK(recv.open(lines[10], &replayed));
  CHECK(recv.open(lines[3], &replayed));   // Late, inside the window.
  CHECK(recv.open(lines[4999], &replayed));
  CHECK_FALSE(recv.open(lines[11], &replayed));  // 4988 behind the highest: outside.
  CHECK(replayed);
  CHECK(recv.open(lines[4990], &replayed));
  CHECK_FALSE(recv.open(lines[4990], &replayed));
  CHECK(replayed);
}

TEST_CASE("peer auth: the same secret links, and every later line is sealed and opened") {
  Pair p("the herd's secret, 24 b", "the herd's secret, 24 b");
  p.handshake();
  REQUIRE(p.a.up());
  REQUIRE(p.b.up());
  CHECK(p.b.conn() == 21);
  const std::vector<std::string> a_lines = sent_on(p.out_a, 11);
  REQUIRE(a_lines.size() == 2);
  CHECK(a_lines[0].starts_with("PEER A B 01010101"));
  CHECK(a_lines[1].starts_with("AUTH "));
  CHECK(sent_on(p.out_b, 21)[0].starts_with("PEER B A 02020202"));
  // A flood from A is sealed; B opens it to the message.
  p.out_a.clear();
  REQUIRE(p.a.send("FLOOD 1 AT x", Traffic::kProtocol, kNsPerMs, &p.out_a));
  const Effect sent = of(p.out_a, EffectKind::kSend).back();
  CHECK(sent.bytes.starts_with("M 1 "));
  CHECK(sent.message() == "FLOOD 1 AT x");
  LinkMachine::LineOutcome o = p.b.on_line(21, sent.bytes, kNsPerMs, p.rng, &p.out_b);
  CHECK(o.kind == LinkMachine::Line::kMessage);
  CHECK(o.message == "FLOOD 1 AT x");
  // Replayed into the connection: refused, the connection stays.
  o = p.b.on_line(21, sent.bytes, kNsPerMs, p.rng, &p.out_b);
  CHECK(o.kind == LinkMachine::Line::kIgnored);
  CHECK(o.refused != nullptr);
  CHECK(p.b.stats().replays == 1);
  CHECK(p.b.up());
  // Injected (no seal) or altered: the connection is closed.
  p.b.on_line(21, "FLOOD 1 AT forged", kNsPerMs, p.rng, &p.out_b);
  CHECK_FALSE(p.b.up());
  CHECK(closed(p.out_b, 21, "auth-failed"));
  CHECK(p.b.stats().auth_failures == 1);
}

TEST_CASE("peer auth: a wrong secret never links; the dialer closes on the acceptor's proof") {
  Pair p("the herd's secret, 24 b", "another herd's secret!!");
  p.handshake();
  CHECK_FALSE(p.a.up());
  CHECK_FALSE(p.b.up());
  CHECK(closed(p.out_a, 11, "auth-failed"));
  CHECK(p.a.stats().auth_failures == 1);
  CHECK(sent_on(p.out_a, 11).size() == 1);  // No AUTH: A proves nothing to a stranger.
}

TEST_CASE("peer auth: a hello without the herd's proof is refused; a replayed handshake fails") {
  Pair p("the herd's secret, 24 b", "the herd's secret, 24 b");
  // An impersonator that knows only the course protocol.
  CHECK(p.b.on_hello(31, "PEER A B", {}, 0, p.rng, &p.out_b) == LinkMachine::Hello::kRefused);
  CHECK(closed(p.out_b, 31, "auth-required"));
  // A real handshake, recorded.
  p.handshake();
  REQUIRE(p.b.up());
  const std::string hello = sent_on(p.out_a, 11)[0], proof = sent_on(p.out_a, 11)[1];
  // Replayed on a new connection: B answers with a fresh nonce, so the old proof fails,
  // and the link that is up stays up on its own connection.
  CHECK(p.b.on_hello(32, hello, nonce_of(9), kNsPerMs, p.rng, &p.out_b) == LinkMachine::Hello::kPending);
  CHECK(p.b.up());
  CHECK(p.b.conn() == 21);
  p.b.on_line(32, proof, kNsPerMs, p.rng, &p.out_b);
  CHECK(closed(p.out_b, 32, "auth-failed"));
  CHECK(p.b.up());
  CHECK(p.b.conn() == 21);
}

TEST_CASE("peer auth: a pending handshake times out, and a newer proven one replaces the old connection") {
  Pair p("the herd's secret, 24 b", "the herd's secret, 24 b");
  p.handshake();
  REQUIRE(p.b.up());
  // A hello that never proves anything is closed after the hello timeout.
  CHECK(p.b.on_hello(41, "PEER A B 0303030303030303030303030303030" "3", nonce_of(4), 0, p.rng, &p.out_b) ==
        LinkMachine::Hello::kPending);
  p.b.on_timer(p.t.hello_timeout_ns, p.rng, &p.out_b);
  CHECK(closed(p.out_b, 41, "hello-timeout"));
  CHECK(p.b.up());
  // A redials (its old connection is dead to it) and proves the secret: the newest wins.
  p.a.on_closed(11, "eof", kNsPerMs, p.rng, &p.out_a);
  p.a.on_timer(p.t.backoff_max_ns, p.rng, &p.out_a);
  p.a.on_dialed(p.attempt(), 12, "", nonce_of(5), p.t.backoff_max_ns, p.rng, &p.out_a);
  REQUIRE(p.b.on_hello(22, sent_on(p.out_a, 12).back(), nonce_of(6), p.t.backoff_max_ns, p.rng, &p.out_b) ==
          LinkMachine::Hello::kPending);
  p.a.on_line(12, sent_on(p.out_b, 22).back(), p.t.backoff_max_ns, p.rng, &p.out_a);
  REQUIRE(p.a.up());
  const LinkMachine::LineOutcome o = p.b.on_line(22, sent_on(p.out_a, 12).back(), p.t.backoff_max_ns, p.rng, &p.out_b);
  CHECK(o.kind == LinkMachine::Line::kUp);
  CHECK(o.replaced);
  CHECK(closed(p.out_b, 21, "replaced"));
  CHECK(p.b.conn() == 22);
}

TEST_CASE("peer auth: a herd key depends on every byte of the secret; its id reveals nothing of it") {
  CHECK(herd_key("the herd's secret, 24 b") == herd_key("the herd's secret, 24 b"));
  CHECK(herd_key("the herd's secret, 24 b") != herd_key("the herd's secret, 24 c"));
  CHECK(key_id(herd_key("the herd's secret, 24 b")).size() == 16);
  CHECK(key_id(herd_key("the herd's secret, 24 b")) != key_id(herd_key("the herd's secret, 24 c")));
  CHECK(random_nonce() != random_nonce());
}

}  // namespace herd
