// A node driven the way a host drives it, without a host: its links brought up by
// answering its dials and greeting it, its connections numbered here, time handed in.
// For the core's unit tests (no sockets, no clock).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "node/driver.h"
#include "node/peer_wire.h"

namespace herd::test {

inline Now now_at(int64_t ns) { return Now{ns, ns}; }

class TestNode {
 public:
  explicit TestNode(NodeConfig config) : driver_(std::move(config), 0) {}

  NodeDriver& driver() { return driver_; }
  const Node& node() const { return driver_.node(); }

  Effects feed(const Input& in) {
    NodeDriver::Step step = driver_.step(in);
    return step.effects();
  }
  Effects start(int64_t t) {
    Input in;
    in.kind = InputKind::kStart;
    in.now = now_at(t);
    return feed(in);
  }
  // Starts the node and brings every link up; returns nothing (the effects of the
  // handshakes are not what the tests look at).
  void start_linked(int64_t t) {
    Effects dials = start(t);
    const std::vector<std::string>& peers = node().config().neighbours;
    for (size_t p = 0; p < peers.size(); ++p) link_up(static_cast<int>(p), dials, t);
  }
  // The connection the node's link to `peer` runs on (after start_linked).
  ConnId conn_of(int peer) const { return node().link(peer).conn(); }

  Effects line(ConnId conn, std::string_view text, int64_t t, uint8_t flags = 0) {
    Input in;
    in.kind = InputKind::kLine;
    in.flags = flags;
    in.now = now_at(t);
    in.conn = conn;
    in.text = text;
    return feed(in);
  }
  // A client line on connection 7 (its first line, as a host says).
  Effects client(std::string_view text, int64_t t) { return line(7, text, t, kFirstLine); }
  Effects peer(int peer, std::string_view message, int64_t t) { return line(conn_of(peer), message, t); }
  Effects places(RequestId request, const PlacesResult& result, int64_t t) {
    Input in;
    in.kind = InputKind::kPlacesResult;
    in.now = now_at(t);
    in.request = request;
    in.places = &result;
    return feed(in);
  }
  Effects crash(int64_t t) {
    Input in;
    in.kind = InputKind::kCrash;
    in.now = now_at(t);
    return feed(in);
  }
  Effects closed(ConnId conn, int64_t t) {
    Input in;
    in.kind = InputKind::kClosed;
    in.now = now_at(t);
    in.conn = conn;
    in.text = "eof";
    return feed(in);
  }
  Effects timer(TimerId timer, int64_t t) {
    Input in;
    in.kind = InputKind::kTimer;
    in.now = now_at(t);
    in.timer = timer;
    return feed(in);
  }
  Effects dialed(int peer, uint64_t attempt, ConnId conn, int64_t t) {
    Input in;
    in.kind = InputKind::kDialed;
    in.now = now_at(t);
    in.peer = peer;
    in.request = attempt;
    in.conn = conn;
    in.text = conn == 0 ? "connection refused" : "";
    return feed(in);
  }

 private:
  // Dialer: answer its dial, then greet back. Acceptor: greet it on a fresh connection.
  void link_up(int p, const Effects& dials, int64_t t) {
    const std::string& self = node().config().name;
    const std::string& peer = node().config().neighbours[static_cast<size_t>(p)];
    const ConnId conn = 1000 + static_cast<ConnId>(p);
    if (self < peer) {
      for (const Effect& e : dials) {
        if (e.kind == EffectKind::kDial && e.peer == p) dialed(p, e.request, conn, t);
      }
      line(conn, make_peer_hello(peer, self), t);
    } else {
      line(conn, make_peer_hello(peer, self), t, kFirstLine);
    }
  }

  NodeDriver driver_;
};

// The effects of one kind.
inline std::vector<Effect> only(const Effects& out, EffectKind kind) {
  std::vector<Effect> kept;
  for (const Effect& e : out) {
    if (e.kind == kind) kept.push_back(e);
  }
  return kept;
}

}  // namespace herd::test
