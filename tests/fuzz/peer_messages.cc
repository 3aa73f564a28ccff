// Fuzz target: what neighbours send. Riley has two neighbours: Jaquez dials it (Riley
// accepts), Riley dials Zoe; a small host here answers dials, greets, closes, keeps
// timers and checks every effect. Input: a configuration byte (sync mode, small sync
// and table limits, which port Jaquez dials), then lines; each is one step:
//   j:TEXT z:TEXT   TEXT on Jaquez's / Zoe's link (when it is up)
//   r:TEXT          TEXT on Jaquez's link as raw bytes (see NeighbourWire)
//   a:TEXT p:TEXT   the first line of a fresh connection on the client / peer port
//                   (hello forms, and what else a stranger may open with)
//   n:TEXT          the next line on that fresh connection
//   t:MS            time passes (1000 ms when MS is not a number); due timers fire
//   c:j c:z         the neighbour's end closes the link (Jaquez then dials again)
//   f:j f:z         the next dial to that neighbour fails
//   b:j1 b:j0 ...   the link's send queue goes over its limit / back under it
//   x:              Riley crashes (every connection gone) and starts again
//   anything else   on Jaquez's link, like j:
// With configuration bit 32 the herd authenticates its peers (node/peer_auth.h, a
// key of the input's choosing): the neighbours here run their side of the handshake
// and seal what "j:" and "z:" send, so fuzzed messages still reach the parsers
// behind the MAC check, while "r:", "a:", "p:" and "n:" lines fuzz the check itself;
// with bit 64 too, Jaquez holds a wrong key, so every one of its handshakes must fail.
// Checks: a message sent to a neighbour is one line of the protocol, on an open
// connection that is that neighbour's link; nothing is written to a connection after
// the node closed it; a flood goes on with one more hop and never back where it came
// from; a link that is up runs on an open connection; a peer connection never gets a
// client's reply; the record table stays within its limit and holds AT lines; with
// authentication, Riley's proofs are right, a link comes up only after the
// neighbour's proof, with a wrong key never, and everything Riley sends on a link
// that is up is sealed under that connection's key, numbered in order.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crypto/sodium_mac.h"
#include "node/driver.h"
#include "node/peer_auth.h"
#include "node/peer_wire.h"
#include "node/record.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

constexpr int kJaquez = 0, kZoe = 1;

// What a neighbour puts on the wire: its side of the handshake, and its messages,
// sealed when the herd authenticates. It also opens what Riley sends on each link.
class NeighbourWire {
 public:
  NeighbourWire(bool auth, bool jaquez_wrong)
      : auth_(auth), key_(herd_key("the fuzzed herd's secret")), jaquez_key_(jaquez_wrong ? herd_key("another") : key_) {}
  bool auth() const { return auth_; }
  const AuthKey& key() const { return key_; }
  bool wrong(int peer) const { return peer == 0 && jaquez_key_ != key_; }

  // Jaquez dials: its hello.
  std::string dialer_hello(ConnId conn) {
    if (!auth_) return make_peer_hello("Jaquez", "Riley");
    Link& l = links_[0];
    l = Link{};
    l.conn = conn;
    l.nd = next_nonce();
    return make_peer_hello("Jaquez", "Riley") + " " + hex_of(l.nd.data(), l.nd.size());
  }
  // Zoe accepts Riley's dial: her answer to the hello Riley sent.
  std::string acceptor_hello(ConnId conn) {
    if (!auth_) return make_peer_hello("Zoe", "Riley");
    Link& l = links_[1];
    if (l.conn != conn) return make_peer_hello("Zoe", "Riley");  // Riley sent no hello: a wrong answer.
    l.na = next_nonce();
    const AuthKey tag = handshake_tag(auth_of(1), {"Riley", "Zoe", l.nd, l.na}, "herd-accept");
    return make_peer_hello("Zoe", "Riley") + " " + hex_of(l.na.data(), l.na.size()) + " " + hex_of(tag.data(), kTagBytes);
  }
  std::string seal(int peer, std::string_view message) {
    Link& l = links_[peer];
    return auth_ && l.sealed ? l.to_riley.seal(message) : std::string(message);
  }

  // A message Riley sent on `peer`'s connection `conn`: the handshake's lines move it
  // on (an AUTH for Jaquez to send goes to *reply); a sealed one is opened. Returns
  // the message inside, or nullopt for a handshake line.
  std::optional<std::string> from_riley(int peer, ConnId conn, const std::string& m, std::string* reply) {
    if (!auth_) return m;
    Link& l = links_[peer];
    if (peer == 1 && m.starts_with("PEER Riley Zoe ")) {  // Riley dials Zoe.
      l = Link{};
      l.conn = conn;
      FUZZ_CHECK(bytes_of_hex(m.substr(15), l.nd.data(), l.nd.size()), "Riley's hello without its nonce: " + shown(m));
      return std::nullopt;
    }
    if (peer == 1 && m.starts_with("AUTH ")) {
      const Handshake h{"Riley", "Zoe", l.nd, l.na};
      const AuthKey want = handshake_tag(auth_of(1), h, "herd-dial");
      FUZZ_CHECK(l.conn == conn && m == "AUTH " + hex_of(want.data(), kTagBytes), "Riley's proof is wrong: " + shown(m));
      start(&l, h, 'A');
      return std::nullopt;
    }
    if (peer == 0 && m.starts_with("PEER Riley Jaquez ")) {  // Riley answers a hello.
      FUZZ_CHECK(m.size() == 18 + 32 + 1 + 2 * kTagBytes, "Riley's answer is malformed: " + shown(m));
      if (l.conn != conn) return std::nullopt;  // A stranger's hello ("a:", "p:"): it cannot prove.
      FUZZ_CHECK(bytes_of_hex(m.substr(18, 32), l.na.data(), l.na.size()), "Riley's answer without its nonce");
      const Handshake h{"Jaquez", "Riley", l.nd, l.na};
      const AuthKey tag = handshake_tag(auth_of(0), h, "herd-accept");
      if (!wrong(0)) FUZZ_CHECK(m.substr(51) == hex_of(tag.data(), kTagBytes), "Riley's proof is wrong: " + shown(m));
      const AuthKey proof = handshake_tag(auth_of(0), h, "herd-dial");
      *reply = "AUTH " + hex_of(proof.data(), kTagBytes);
      start(&l, h, 'D');
      return std::nullopt;
    }
    FUZZ_CHECK(l.sealed && l.conn == conn, "a message on a link whose handshake did not finish: " + shown(m));
    FUZZ_CHECK(!wrong(peer), "a link came up with a neighbour holding a wrong key");
    bool replayed = false;
    std::optional<std::string_view> inner = l.from_riley.open(m, &replayed);
    FUZZ_CHECK(inner.has_value() && !replayed, "a message Riley sent does not open: " + shown(m));
    return std::string(*inner);
  }

 private:
  struct Link {
    ConnId conn = 0;
    AuthNonce nd{}, na{};
    bool sealed = false;
    Sealer to_riley, from_riley;
  };
  PeerAuth auth_of(int peer) const { return PeerAuth{&sodium_mac(), peer == 0 ? jaquez_key_ : key_}; }
  // The neighbour's side `dir` ('D' dialer, 'A' acceptor) of the connection's seals.
  void start(Link* l, const Handshake& h, char dir) {
    const AuthKey session = handshake_tag(auth_of(dir == 'D' ? 0 : 1), h, "herd-session");
    l->to_riley = Sealer(&sodium_mac(), session, dir);
    l->from_riley = Sealer(&sodium_mac(), session, dir == 'D' ? 'A' : 'D');
    l->sealed = true;
  }
  AuthNonce next_nonce() {
    AuthNonce n{};
    const uint64_t v = ++nonces_;
    for (size_t i = 0; i < 8; ++i) n[i] = static_cast<uint8_t>(v >> (8 * i));
    return n;
  }

  bool auth_;
  AuthKey key_, jaquez_key_;
  Link links_[2];
  uint64_t nonces_ = 0;
};

NodeConfig riley(uint8_t config) {
  NodeConfig c;
  c.name = "Riley";
  c.neighbours = {"Jaquez", "Zoe"};
  static const SyncMode kModes[] = {SyncMode::kOff, SyncMode::kLinkUp, SyncMode::kPeriodic, SyncMode::kLinkUp};
  c.sync.mode = kModes[config & 3];
  if (config & 4) {  // Limits small enough to be reached.
    c.sync.keys_per_message = 2;
    c.sync.keys_max = 6;
    c.sync.queue_bytes_max = 600;
    c.sync.bytes_per_s = 2000;
  }
  c.max_records = (config & 8) ? 4 : 1000;
  if (config & 32) c.auth = PeerAuth{&sodium_mac(), herd_key("the fuzzed herd's secret")};
  return c;
}

class PeerHost {
 public:
  explicit PeerHost(uint8_t config)
      : driver_(riley(config), 0), wire_(config & 32, (config & 96) == 96), peer_port_(config & 16) {
    Input in = input(InputKind::kStart);
    step(in, -1);
    jaquez_dials();
  }

  void op(std::string_view line) {
    now_.wall_ns += 1'000'000, now_.mono_ns += 1'000'000;
    const bool has_op = line.size() >= 2 && line[1] == ':';
    const char op = has_op ? line[0] : 'j';
    const std::string_view text = has_op ? line.substr(2) : line;
    const int peer = !text.empty() && text[0] == 'z' ? kZoe : kJaquez;
    switch (op) {
      case 'j': return on_link(kJaquez, wire_.seal(kJaquez, text));
      case 'z': return on_link(kZoe, wire_.seal(kZoe, text));
      case 'r': return on_link(kJaquez, std::string(text));
      case 'a': return first_line(text, kFirstLine);
      case 'p': return first_line(text, kFirstLine | kPeerPort);
      case 'n': return next_line(text);
      case 't': return advance(text);
      case 'c': return close_link(peer);
      case 'f': fail_next_[peer] = true; return;
      case 'b': return backpressure(peer, text.size() > 1 && text[1] == '1');
      case 'x': return crash_and_restart();
      default: return on_link(kJaquez, wire_.seal(kJaquez, line));
    }
  }

 private:
  Input input(InputKind kind) {
    Input in;
    in.kind = kind;
    in.now = now_;
    // Riley's nonces (taken with a dial's answer and a first line): fresh ones.
    const uint64_t v = ++riley_nonces_;
    for (size_t i = 0; i < 8; ++i) in.nonce[15 - i] = static_cast<uint8_t>(v >> (8 * i));
    return in;
  }
  const Node& node() const { return driver_.node(); }

  void line(ConnId conn, std::string_view text, uint8_t flags, int from_peer) {
    Input in = input(InputKind::kLine);
    in.conn = conn, in.text = text, in.flags = flags;
    step(in, from_peer);
  }
  void on_link(int peer, const std::string& text) {
    const ConnId conn = node().link(peer).conn();
    if (conn == 0 || !node().link(peer).up()) return;  // Nothing reaches a link that is down.
    line(conn, text, 0, peer);
  }
  void first_line(std::string_view text, uint8_t flags) {
    fresh_ = next_conn_++;
    open_.insert(fresh_);
    line(fresh_, text, flags, -1);
  }
  void next_line(std::string_view text) {
    if (open_.count(fresh_) == 0) return;
    const int peer = link_on(fresh_);
    line(fresh_, peer >= 0 ? wire_.seal(peer, text) : std::string(text), 0, peer);
  }
  // Jaquez (re)connects: a fresh connection that opens with its side of the handshake.
  void jaquez_dials() {
    const ConnId conn = next_conn_++;
    open_.insert(conn);
    line(conn, wire_.dialer_hello(conn), kFirstLine | (peer_port_ ? kPeerPort : 0), -1);
  }
  void close_link(int peer) {
    const ConnId conn = node().link(peer).conn();
    if (conn == 0 || open_.erase(conn) == 0) return;
    Input in = input(InputKind::kClosed);
    in.conn = conn, in.text = "eof";
    step(in, -1);
    if (peer == kJaquez) jaquez_dials();
  }
  void backpressure(int peer, bool full) {
    const ConnId conn = node().link(peer).conn();
    if (conn == 0) return;
    Input in = input(InputKind::kBackpressure);
    in.conn = conn, in.flags = full ? 1 : 0;
    step(in, -1);
  }
  // The process dies: its connections with it (the neighbours see them close), its
  // timers too; then it starts again, dials Zoe, and Jaquez dials it.
  void crash_and_restart() {
    open_.clear();
    owner_.clear();
    timers_.clear();
    step(input(InputKind::kCrash), -1);
    FUZZ_CHECK(node().records().size() == 0 && node().pending_places() == 0, "a crash kept memory");
    step(input(InputKind::kStart), -1);
    jaquez_dials();
  }
  void advance(std::string_view text) {
    int64_t ms = 1000;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || ms < 0 || ms > 10'000'000) ms = 1000;
    const int64_t until = now_.mono_ns + ms * 1'000'000;
    // Due timers in time order; each may set others.
    for (int fired = 0; fired < 1000; ++fired) {
      auto next = std::min_element(timers_.begin(), timers_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
      if (next == timers_.end() || next->second > until) break;
      const TimerId id = next->first;
      const int64_t at = std::max(next->second, now_.mono_ns);
      timers_.erase(next);
      now_.wall_ns += at - now_.mono_ns, now_.mono_ns = at;
      Input in = input(InputKind::kTimer);
      in.timer = id;
      step(in, -1);
    }
    now_.wall_ns += until - now_.mono_ns, now_.mono_ns = until;
  }

  int link_on(ConnId conn) const {
    for (int p = 0; p < 2; ++p) {
      if (conn != 0 && node().link(p).conn() == conn) return p;
    }
    return -1;
  }

  // One input, its effects applied in order and checked; then the dials it asked for.
  void step(const Input& in, int from_peer) {
    const std::optional<Flood> flood_in = from_peer >= 0 ? parse_flood(in.text) : std::nullopt;
    std::vector<std::pair<int, uint64_t>> dials;
    bool jaquez_lost = false;
    {
      NodeDriver::Step s = driver_.step(in);
      for (const Effect& e : s.effects()) {
        if (e.kind == EffectKind::kClose && owner(e.conn) == kJaquez) jaquez_lost = true;
        apply(e, from_peer, flood_in, &dials);
      }
    }
    check_state();
    // Jaquez's proof, when Riley answered its hello.
    if (!auth_reply_.empty()) {
      const std::string proof = std::exchange(auth_reply_, "");
      if (open_.count(auth_conn_) == 1) line(auth_conn_, proof, 0, -1);
    }
    for (const auto& [peer, attempt] : dials) answer_dial(peer, attempt);
    // Riley closed Jaquez's link (not to replace it): Jaquez dials again.
    // (Not with a wrong key: it would fail again at once, and again.)
    if (jaquez_lost && !node().link(kJaquez).up() && !wire_.wrong(kJaquez)) jaquez_dials();
  }

  // The neighbour a connection was opened with or for, or -1.
  int owner(ConnId conn) const {
    auto it = owner_.find(conn);
    return it == owner_.end() ? -1 : it->second;
  }

  void apply(const Effect& e, int from_peer, const std::optional<Flood>& flood_in,
             std::vector<std::pair<int, uint64_t>>* dials) {
    switch (e.kind) {
      case EffectKind::kDial:
        dials->emplace_back(e.peer, e.request);
        break;
      case EffectKind::kClose:
        open_.erase(e.conn);
        break;
      case EffectKind::kTimer:
        if (e.at_ns < 0) {
          timers_.erase(e.timer);
        } else {
          timers_[e.timer] = e.at_ns;
        }
        break;
      case EffectKind::kSend:
        check_send(e, from_peer, flood_in);
        break;
      case EffectKind::kReply:
        FUZZ_CHECK(open_.count(e.conn) == 1 && owner(e.conn) < 0, "a reply on a peer's or a closed connection");
        FUZZ_CHECK(!e.bytes.empty() && e.bytes.back() == '\n', "a reply without its newline");
        break;
      case EffectKind::kAdopt:
        FUZZ_CHECK(open_.count(e.conn) == 1 && owner(e.conn) < 0, "adopted a closed or a linked connection");
        owner_[e.conn] = e.peer;
        break;
      case EffectKind::kLinkUp:
        FUZZ_CHECK(open_.count(e.conn) == 1 && owner(e.conn) == e.peer, "a link up on a closed or another's connection");
        FUZZ_CHECK(!wire_.wrong(e.peer), "a link came up with a neighbour holding a wrong key");
        break;
      default:
        break;
    }
  }

  void check_send(const Effect& e, int from_peer, const std::optional<Flood>& flood_in) {
    const std::string& wire = e.bytes;  // As sent: sealed, with authentication.
    FUZZ_CHECK(!wire.empty() && wire.find('\n') == std::string::npos, "a message that is not one line: " + shown(wire));
    FUZZ_CHECK(open_.count(e.conn) == 1, "a message on a closed connection: " + shown(wire));
    FUZZ_CHECK(e.peer >= 0 && owner(e.conn) == e.peer, "a message on a connection that is not its link's: " + shown(wire));
    std::string reply;
    const std::optional<std::string> opened = wire_.from_riley(e.peer, e.conn, wire, &reply);
    if (!reply.empty()) auth_reply_ = reply, auth_conn_ = e.conn;
    if (!opened) return;  // A line of the handshake, checked there.
    const std::string& m = *opened;
    if (e.traffic == Traffic::kControl) {
      FUZZ_CHECK(m == "HB" || (!wire_.auth() && m.starts_with("PEER ")), "a control message " + shown(m));
      return;
    }
    if (m.starts_with("SYNC ")) return;
    std::optional<Flood> flood = parse_flood(m);
    FUZZ_CHECK(flood && parse_at_line(flood->at_line), "a bad protocol message: " + shown(m));
    FUZZ_CHECK(e.peer != from_peer, "a flood sent back to where it came from: " + shown(m));
    if (flood_in) {
      FUZZ_CHECK(flood->hops == flood_in->hops + 1 && flood->at_line == flood_in->at_line,
                 "a flood passed on changed: " + shown(m));
    }
  }

  void check_state() const {
    for (int p = 0; p < 2; ++p) {
      if (node().link(p).up()) FUZZ_CHECK(open_.count(node().link(p).conn()) == 1, "a link up on a closed connection");
    }
    const RecordTable& records = node().records();
    FUZZ_CHECK(records.size() <= records.max_records(), "the table past its limit");
    if (records.size() <= 64) {
      records.for_each_sorted([](const Record& r) {
        FUZZ_CHECK(parse_at_line(r.at_line()).has_value(), "a stored record that is no AT line: " + shown(r.at_line()));
      });
    }
  }

  // A dial reaches Zoe (unless told to fail), who answers the hello with hers.
  void answer_dial(int peer, uint64_t attempt) {
    Input in = input(InputKind::kDialed);
    in.peer = peer, in.request = attempt;
    if (fail_next_[peer]) {
      fail_next_[peer] = false;
      in.text = "connection refused";
      step(in, -1);
      return;
    }
    const ConnId conn = next_conn_++;
    open_.insert(conn);
    owner_[conn] = peer;
    in.conn = conn;
    step(in, -1);
    if (open_.count(conn) == 1) line(conn, peer == kZoe ? wire_.acceptor_hello(conn) : "PEER Jaquez Riley", 0, peer);
  }

  NodeDriver driver_;
  NeighbourWire wire_;
  bool peer_port_;
  Now now_{1'621'464'827'000'000'000, 88'000'000'123};
  std::set<ConnId> open_;
  std::map<ConnId, int> owner_;  // Connections opened with or for a neighbour.
  std::map<TimerId, int64_t> timers_;
  ConnId next_conn_ = 100;
  ConnId fresh_ = 0;
  bool fail_next_[2] = {false, false};
  uint64_t riley_nonces_ = 0;
  std::string auth_reply_;  // Jaquez's AUTH, to send after the step that asked for it.
  ConnId auth_conn_ = 0;
};

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd::fuzz;
  Bytes in(data, size);
  PeerHost host(in.take());
  for (std::string_view line : lines_of(in.rest())) host.op(line);
  return 0;
}
