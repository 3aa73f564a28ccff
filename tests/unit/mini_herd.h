// A herd in miniature for the core's tests, through the same NodeDriver as every
// host: connections between its nodes are FIFO queues of lines, delivered in order
// by drain(), each input 1.2 ms after the previous one; timers fire when run_until()
// reaches them; client connection ids are whatever the test says; crashed nodes get
// nothing. Not the simulator: no fault layer, no workload, a handful of nodes.
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/driver.h"
#include "node/topology.h"

namespace herd {

class MiniHerd {
 public:
  // `tune` adjusts each node's configuration (sync mode, timings); `observer` (may
  // be null) sees every input.
  MiniHerd(const Topology& t, InputObserver* observer, std::function<void(NodeConfig&)> tune = {}) : t_(t) {
    for (const TopologyNode& n : t.nodes) {
      NodeConfig c;
      c.name = n.name;
      c.neighbours = t.neighbours(n.name);
      if (tune) tune(c);
      drivers_.push_back(std::make_unique<NodeDriver>(c, static_cast<int>(drivers_.size())));
      if (observer != nullptr) drivers_.back()->add_observer(observer);
    }
    up_.assign(drivers_.size(), true);
  }
  void start_all() {
    for (size_t i = 0; i < drivers_.size(); ++i) feed(static_cast<int>(i), input(InputKind::kStart));
    drain();
  }
  void client(int node, ConnId conn, std::string_view line) {
    Input in = input(InputKind::kLine);
    in.conn = conn, in.text = line, in.flags = kFirstLine;
    feed(node, in);
    drain();
  }
  void places(int node, RequestId request, const PlacesResult& r) {
    Input in = input(InputKind::kPlacesResult);
    in.request = request, in.places = &r;
    feed(node, in);
  }
  // A line on node's link to its peer (e.g. one the core must ignore).
  void peer(int node, int peer, std::string_view msg) {
    Input in = input(InputKind::kLine);
    in.conn = drivers_[static_cast<size_t>(node)]->node().link(peer).conn(), in.text = msg;
    feed(node, in);
    drain();
  }
  // Closes node's connection to its peer, as a reset would: both ends hear.
  void reset(int node, int peer) {
    const ConnId mine = drivers_[static_cast<size_t>(node)]->node().link(peer).conn();
    for (Pipe& p : pipes_) {
      for (int side = 0; side < 2; ++side) {
        if (p.node[side] != node || p.id[side] != mine || !p.open) continue;
        p.open = false;
        for (int end = 0; end < 2; ++end) {
          Input in = input(InputKind::kClosed);
          in.conn = p.id[end], in.text = "reset";
          if (up_[static_cast<size_t>(p.node[end])]) feed(p.node[end], in);
        }
      }
    }
    drain();
  }
  void crash(int node) {
    up_[static_cast<size_t>(node)] = false;
    for (Pipe& p : pipes_) {
      if (!p.open || (p.node[0] != node && p.node[1] != node)) continue;
      p.open = false;
      const int other = p.node[0] == node ? 1 : 0;
      Input in = input(InputKind::kClosed);
      in.conn = p.id[other], in.text = "eof";
      if (up_[static_cast<size_t>(p.node[other])]) feed(p.node[other], in);
    }
    feed(node, input(InputKind::kCrash));
  }
  void restart(int node) {
    up_[static_cast<size_t>(node)] = true;
    feed(node, input(InputKind::kStart));
    drain();
  }
  // Moves time forward to `until_ns` (mono), firing due timers in time order and
  // delivering what they cause.
  void run_until(int64_t until_ns) {
    for (;;) {
      auto next = timers_.begin();
      if (next == timers_.end() || next->first.first > until_ns) break;
      const auto [node, timer] = next->second;
      const int64_t at = next->first.first;
      timers_.erase(next);
      armed_.erase({node, timer});
      if (at > now_.mono_ns) wait(at - now_.mono_ns);
      if (!up_[static_cast<size_t>(node)]) continue;
      Input in = input(InputKind::kTimer);
      in.timer = timer;
      feed(node, in);
      drain();
    }
    if (until_ns > now_.mono_ns) wait(until_ns - now_.mono_ns);
  }
  void wait(int64_t ns) { now_.wall_ns += ns, now_.mono_ns += ns; }
  int64_t now_ns() const { return now_.mono_ns; }
  const Node& node(int i) const { return drivers_[static_cast<size_t>(i)]->node(); }
  std::vector<const Node*> all() const {
    std::vector<const Node*> out;
    for (const auto& d : drivers_) out.push_back(&d->node());
    return out;
  }
  // Lines written to node `to` by node `from` so far, in order.
  const std::vector<std::string>& lines_to(int from, int to) { return written_[{from, to}]; }

 private:
  struct Pipe {
    int node[2];
    ConnId id[2];
    bool open = true;
    uint64_t lines_to_acceptor = 0;
  };
  struct Line {
    size_t pipe;
    int to_side;
    std::string text;
  };
  Input input(InputKind kind) {
    wait(1'234'567);
    Input in;
    in.kind = kind;
    in.now = now_;
    return in;
  }
  void feed(int node, const Input& in) {
    NodeDriver::Step step = drivers_[static_cast<size_t>(node)]->step(in);
    for (const Effect& e : step.effects()) apply(node, e);
  }
  void apply(int node, const Effect& e) {
    if (e.kind == EffectKind::kDial) {
      const int to = t_.index_of(drivers_[static_cast<size_t>(node)]->node().config().neighbours[static_cast<size_t>(e.peer)]);
      Input in = input(InputKind::kDialed);
      in.peer = e.peer, in.request = e.request;
      if (up_[static_cast<size_t>(to)]) {
        pipes_.push_back(Pipe{{node, to}, {next_conn_, next_conn_ + 1}});
        next_conn_ += 2;
        in.conn = pipes_.back().id[0];
      } else {
        in.text = "connection refused";
      }
      pending_dials_.push_back({node, in});
    } else if (e.kind == EffectKind::kSend) {
      for (size_t i = 0; i < pipes_.size(); ++i) {
        const Pipe& p = pipes_[i];
        if (!p.open) continue;
        if (p.node[0] == node && p.id[0] == e.conn) lines_.push_back({i, 1, e.bytes});
        if (p.node[1] == node && p.id[1] == e.conn) lines_.push_back({i, 0, e.bytes});
      }
    } else if (e.kind == EffectKind::kClose) {
      for (Pipe& p : pipes_) {
        for (int side = 0; side < 2; ++side) {
          if (!p.open || p.node[side] != node || p.id[side] != e.conn) continue;
          p.open = false;
          Input in = input(InputKind::kClosed);
          in.conn = p.id[1 - side], in.text = "eof";
          pending_dials_.push_back({p.node[1 - side], in});
        }
      }
    } else if (e.kind == EffectKind::kTimer) {
      auto key = std::make_pair(node, e.timer);
      if (auto it = armed_.find(key); it != armed_.end()) {
        timers_.erase(it->second);
        armed_.erase(it);
      }
      if (e.at_ns >= 0) armed_[key] = timers_.emplace(std::make_pair(e.at_ns, seq_++), key);
    }
  }
  void drain() {
    while (!pending_dials_.empty() || !lines_.empty()) {
      if (!pending_dials_.empty()) {
        auto [node, in] = pending_dials_.front();
        pending_dials_.pop_front();
        if (up_[static_cast<size_t>(node)]) feed(node, in);
        continue;
      }
      const Line l = lines_.front();
      lines_.pop_front();
      Pipe& p = pipes_[l.pipe];
      const int to = p.node[l.to_side];
      if (!p.open || !up_[static_cast<size_t>(to)]) continue;
      written_[{p.node[1 - l.to_side], to}].push_back(l.text);
      Input in = input(InputKind::kLine);
      in.conn = p.id[l.to_side], in.text = l.text;
      if (l.to_side == 1 && p.lines_to_acceptor++ == 0) in.flags = kFirstLine;
      feed(to, in);
    }
  }
  using TimerKey = std::pair<int, TimerId>;
  using TimerQueue = std::multimap<std::pair<int64_t, uint64_t>, TimerKey>;
  const Topology& t_;
  std::vector<std::unique_ptr<NodeDriver>> drivers_;
  std::vector<bool> up_;
  std::vector<Pipe> pipes_;
  std::deque<std::pair<int, Input>> pending_dials_;  // Dial answers and closes, in order.
  std::deque<Line> lines_;
  TimerQueue timers_;
  std::map<TimerKey, TimerQueue::iterator> armed_;
  std::map<std::pair<int, int>, std::vector<std::string>> written_;
  uint64_t seq_ = 0;
  ConnId next_conn_ = 1'000'000'000'000ull;
  Now now_{1'621'464'827'000'000'000, 88'000'000'123};
};

}  // namespace herd
