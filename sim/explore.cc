// `herd explore` (sim/explore.h): a depth-first search over the choices of a small
// herd. Node objects are not copied (a node's parts point at each other), so a state
// is rebuilt by running its order of choices again from a fresh herd: the search
// keeps one herd, steps it forward, and rebuilds it when it backs up to try a
// parent's next choice. The cost is the depth per backtrack, which for herds of at
// most four servers and a few updates is small.
#include "sim/explore.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <unordered_set>
#include <utility>

#include "node/driver.h"
#include "node/hash.h"
#include "node/json_where.h"
#include "node/trace_format.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace herd {
namespace {

constexpr size_t kDepthMax = 5'000;  // Choices in one order (the search recurses once a choice;
                                     // a herd of four with eight updates needs a few hundred).
constexpr int64_t kFirstUpdateNs = kSimWallBaseNs - 1'000 * kNsPerMs;  // Client times: one ms apart.

Now explore_now() { return Now{kSimWallBaseNs, 0}; }

std::vector<NodeConfig> configs_of(const Scenario& s) {
  std::vector<NodeConfig> out;
  for (const TopologyNode& node : s.topology.nodes) {
    NodeConfig c;
    c.name = node.name;
    c.neighbours = s.topology.neighbours(node.name);
    c.seed = s.seed.value_or(1);
    c.link = s.link;
    c.sync = s.sync;
    out.push_back(std::move(c));
  }
  return out;
}

// The herd at one point of an order of choices.
class World {
 public:
  World(const Scenario& scenario, const ExploreSpec& spec, const std::vector<NodeConfig>& configs,
        InputObserver* recorder)
      : spec_(spec), drops_left_(spec.drops), crashes_left_(spec.crashes) {
    const size_t n = configs.size();
    for (size_t i = 0; i < n; ++i) {
      drivers_.push_back(std::make_unique<NodeDriver>(configs[i], static_cast<int>(i)));
      if (recorder != nullptr) drivers_.back()->add_observer(recorder);
      std::vector<int>& peers = neighbour_nodes_.emplace_back();
      for (const std::string& name : configs[i].neighbours) peers.push_back(scenario.topology.index_of(name));
    }
    crashed_.assign(n, 0);
    next_conn_.assign(n, 1);
    sent_.assign(spec.updates.size(), 0);
    stored_.resize(n);
  }

  // Starts every server and brings every link up; "" or why not.
  std::string setup() {
    for (size_t i = 0; i < drivers_.size(); ++i) {
      Input in;
      in.kind = InputKind::kStart;
      in.now = explore_now();
      feed(static_cast<int>(i), in);
    }
    // Round robin over the channels until nothing moves.
    for (size_t rounds = 0;; ++rounds) {
      if (rounds > 100'000) return "the links did not settle during setup";
      bool moved = false;
      for (uint32_t ch = 0; ch < conns_.size() * 2; ++ch) {
        if (!channel(ch).empty()) {
          deliver(ch);
          moved = true;
        }
      }
      if (!moved) break;
    }
    for (size_t i = 0; i < drivers_.size(); ++i) {
      const Node& node = drivers_[i]->node();
      for (size_t p = 0; p < node.config().neighbours.size(); ++p) {
        if (!node.link(static_cast<int>(p)).up()) {
          return "the link " + node.config().name + " - " + node.config().neighbours[p] +
                 " did not come up during setup";
        }
      }
    }
    return "";
  }

  std::vector<ExploreChoice> choices() const {
    std::vector<ExploreChoice> out;
    for (uint32_t u = 0; u < spec_.updates.size(); ++u) {
      if (sent_[u]) continue;
      bool earlier = false;
      for (uint32_t v = 0; v < u; ++v) earlier = earlier || (!sent_[v] && spec_.updates[v].client == spec_.updates[u].client);
      if (!earlier) out.push_back({ExploreChoice::kSend, u});
    }
    for (uint32_t ch = 0; ch < conns_.size() * 2; ++ch) {
      if (!channel(ch).empty()) out.push_back({ExploreChoice::kDeliver, ch});
    }
    if (drops_left_ > 0) {
      for (uint32_t ch = 0; ch < conns_.size() * 2; ++ch) {
        if (!channel(ch).empty() && channel(ch).front().protocol) out.push_back({ExploreChoice::kDrop, ch});
      }
    }
    if (crashes_left_ > 0 && !out.empty()) {
      for (uint32_t s = 0; s < drivers_.size(); ++s) {
        if (!crashed_[s]) out.push_back({ExploreChoice::kCrash, s});
      }
    }
    return out;
  }

  bool end() const {
    for (char s : sent_) {
      if (!s) return false;
    }
    for (uint32_t ch = 0; ch < conns_.size() * 2; ++ch) {
      if (!channel(ch).empty()) return false;
    }
    return true;
  }

  // What the choice is, for a person: "deliver n0 -> n1: <message>".
  std::string describe(const ExploreChoice& c) const {
    switch (c.kind) {
      case ExploreChoice::kSend: {
        const ExploreUpdate& u = spec_.updates[c.arg];
        return "send update " + std::to_string(c.arg) + ": " + iamat_line(c.arg) + " to " + name(u.server);
      }
      case ExploreChoice::kDeliver:
      case ExploreChoice::kDrop: {
        const Conn& k = conns_[c.arg / 2];
        const int dir = static_cast<int>(c.arg % 2);
        return std::string(c.kind == ExploreChoice::kDeliver ? "deliver " : "drop ") + name(k.node[dir]) + " -> " +
               name(k.node[1 - dir]) + ": " + channel(c.arg).front().bytes;
      }
      case ExploreChoice::kCrash:
        return "crash " + name(static_cast<int>(c.arg));
    }
    return "";
  }

  void apply(const ExploreChoice& c) {
    switch (c.kind) {
      case ExploreChoice::kSend: {
        sent_[c.arg] = 1;
        const int server = spec_.updates[c.arg].server;
        if (crashed_[static_cast<size_t>(server)]) break;  // Refused: it never counts.
        const std::string line = iamat_line(c.arg);
        Input in;
        in.kind = InputKind::kLine;
        in.flags = kFirstLine;
        in.now = explore_now();
        in.conn = next_conn_[static_cast<size_t>(server)]++;
        in.text = line;
        feed(server, in);
        const Record* r = drivers_[static_cast<size_t>(server)]->node().records().find(spec_.updates[c.arg].client);
        if (r != nullptr && r->time_ns() == update_time_ns(c.arg)) acked_.push_back(c.arg);
        break;
      }
      case ExploreChoice::kDeliver:
        deliver(c.arg);
        break;
      case ExploreChoice::kDrop:
        --drops_left_;
        channel(c.arg).pop_front();
        break;
      case ExploreChoice::kCrash: {
        --crashes_left_;
        const int server = static_cast<int>(c.arg);
        crashed_[c.arg] = 1;
        stored_[c.arg].clear();
        for (uint32_t k = 0; k < conns_.size(); ++k) {
          if (conns_[k].open && (conns_[k].node[0] == server || conns_[k].node[1] == server)) close_conn(k, "eof");
        }
        Input in;
        in.kind = InputKind::kCrash;
        in.now = explore_now();
        feed(server, in);
        run_host_events();
        break;
      }
    }
  }

  uint64_t hash() const {
    Hasher h;
    for (size_t i = 0; i < drivers_.size(); ++i) {
      const Node& node = drivers_[i]->node();
      h.u64(node.running() ? 1 : 0);
      for (size_t p = 0; p < node.config().neighbours.size(); ++p) h.u64(node.link(static_cast<int>(p)).up() ? 1 : 0);
      h.u64(node.records().size());
      node.records().for_each_sorted([&](const Record& r) { h.text(r.at_line()); });
    }
    for (uint32_t ch = 0; ch < conns_.size() * 2; ++ch) {
      h.u64(conns_[ch / 2].open ? 1 : 0);
      h.u64(channel(ch).size());
      for (const Msg& m : channel(ch)) h.text(m.bytes);
    }
    for (char s : sent_) h.u64(static_cast<uint64_t>(s));
    h.i64(drops_left_);
    h.i64(crashes_left_);
    return h.value();
  }

  // "" or the first live server that lacks a client's newest acknowledged record.
  std::string liveness() const {
    for (size_t a = acked_.size(); a-- > 0;) {
      const uint32_t u = acked_[a];
      const std::string& client = spec_.updates[u].client;
      bool newest = true;  // No later acknowledged update of the same client.
      for (size_t b = a + 1; b < acked_.size(); ++b) newest = newest && spec_.updates[acked_[b]].client != client;
      if (!newest) continue;
      for (size_t i = 0; i < drivers_.size(); ++i) {
        if (crashed_[i]) continue;
        const Record* r = drivers_[i]->node().records().find(client);
        if (r == nullptr || r->time_ns() < update_time_ns(u)) {
          return "liveness: at the end, server " + name(static_cast<int>(i)) + " holds " +
                 (r == nullptr ? std::string("no record") : "an older record (" + std::string(r->at_line()) + ")") +
                 " of client " + client + ", whose newest is update " + std::to_string(u) + " (acknowledged by " +
                 name(spec_.updates[u].server) + ")";
        }
      }
    }
    return "";
  }

  const std::string& safety() const { return safety_; }
  std::vector<const Node*> nodes() const {
    std::vector<const Node*> out;
    for (const auto& d : drivers_) out.push_back(&d->node());
    return out;
  }

 private:
  struct Msg {
    std::string bytes;
    bool protocol = false;
  };
  struct Conn {
    int node[2] = {0, 0};
    ConnId id[2] = {0, 0};
    bool open = true;
    uint64_t lines_in[2] = {0, 0};
    std::deque<Msg> q[2];  // q[d]: node[d]'s writes to node[1 - d].
  };
  struct HostEvent {
    int node = 0;
    InputKind kind = InputKind::kDialed;
    int peer = -1;
    ConnId conn = 0;
    RequestId attempt = 0;
    std::string text;
  };

  std::deque<Msg>& channel(uint32_t ch) { return conns_[ch / 2].q[ch % 2]; }
  const std::deque<Msg>& channel(uint32_t ch) const { return conns_[ch / 2].q[ch % 2]; }
  const std::string& name(int i) const { return drivers_[static_cast<size_t>(i)]->node().config().name; }

  int64_t update_time_ns(uint32_t u) const { return kFirstUpdateNs + static_cast<int64_t>(u) * kNsPerMs; }
  std::string iamat_line(uint32_t u) const {
    return "IAMAT " + spec_.updates[u].client + " +34.068930-118.445127 " + time_text(update_time_ns(u));
  }

  void deliver(uint32_t ch) {
    Conn& c = conns_[ch / 2];
    const int dir = static_cast<int>(ch % 2);
    const Msg msg = std::move(c.q[dir].front());
    c.q[dir].pop_front();
    const int reader = c.node[1 - dir];
    Input in;
    in.kind = InputKind::kLine;
    in.flags = dir == 0 && c.lines_in[dir] == 0 ? kFirstLine : 0;  // The acceptor's first line.
    ++c.lines_in[dir];
    in.now = explore_now();
    in.conn = c.id[1 - dir];
    in.text = msg.bytes;
    feed(reader, in);
  }

  void feed(int node, const Input& in) {
    {
      NodeDriver::Step step = drivers_[static_cast<size_t>(node)]->step(in);
      apply_effects(node, step.effects());
    }
    check_stores(node);
    run_host_events();
  }

  // The safety check: a client's record at this server never goes back in time.
  void check_stores(int node) {
    if (!safety_.empty() || crashed_[static_cast<size_t>(node)]) return;
    std::vector<int64_t>& seen = stored_[static_cast<size_t>(node)];
    seen.resize(spec_.updates.size(), INT64_MIN);
    const RecordTable& table = drivers_[static_cast<size_t>(node)]->node().records();
    for (size_t u = 0; u < spec_.updates.size(); ++u) {
      const Record* r = table.find(spec_.updates[u].client);
      const int64_t t = r == nullptr ? INT64_MIN : r->time_ns();
      if (t < seen[u]) {
        safety_ = "safety: server " + name(node) + " went back to an older record of client " +
                  spec_.updates[u].client + " (" + (r == nullptr ? std::string("none") : std::string(r->at_line())) + ")";
      }
      seen[u] = t;
    }
  }

  void run_host_events() {
    while (!events_.empty()) {
      HostEvent e = std::move(events_.front());
      events_.pop_front();
      if (crashed_[static_cast<size_t>(e.node)]) continue;
      Input in;
      in.kind = e.kind;
      in.peer = e.peer;
      in.conn = e.conn;
      in.request = e.attempt;
      in.now = explore_now();
      in.text = e.text;
      NodeDriver::Step step = drivers_[static_cast<size_t>(e.node)]->step(in);
      apply_effects(e.node, step.effects());
    }
  }

  void apply_effects(int node, Effects& effects) {
    for (Effect& e : effects) {
      switch (e.kind) {
        case EffectKind::kSend: {
          Conn* c = find_conn(node, e.conn);
          if (c == nullptr || !c->open) break;
          const int dir = c->node[0] == node && c->id[0] == e.conn ? 0 : 1;
          c->q[dir].push_back(Msg{std::move(e.bytes), e.traffic == Traffic::kProtocol});
          break;
        }
        case EffectKind::kDial: {
          const int target = neighbour_nodes_[static_cast<size_t>(node)][static_cast<size_t>(e.peer)];
          HostEvent ev;
          ev.node = node, ev.kind = InputKind::kDialed, ev.peer = e.peer, ev.attempt = e.request;
          if (crashed_[static_cast<size_t>(target)]) {
            ev.text = "connection refused";
          } else {
            Conn c;
            c.node[0] = node, c.node[1] = target;
            c.id[0] = next_conn_[static_cast<size_t>(node)]++;
            c.id[1] = next_conn_[static_cast<size_t>(target)]++;
            ev.conn = c.id[0];
            conns_.push_back(std::move(c));
          }
          events_.push_back(std::move(ev));
          break;
        }
        case EffectKind::kClose: {
          Conn* c = find_conn(node, e.conn);
          if (c != nullptr) close_conn(static_cast<uint32_t>(c - conns_.data()), "eof", node);
          break;
        }
        case EffectKind::kReply:
        case EffectKind::kPlacesRequest:  // No WHATSAT is sent.
        case EffectKind::kTimer:          // Time stands still: no timer fires.
        case EffectKind::kAdopt:
        case EffectKind::kLinkUp:
        case EffectKind::kLinkDown:
        case EffectKind::kLog:
          break;
      }
    }
  }

  Conn* find_conn(int node, ConnId id) {
    for (Conn& c : conns_) {
      for (int side = 0; side < 2; ++side) {
        if (c.node[side] == node && c.id[side] == id) return &c;
      }
    }
    return nullptr;
  }

  // Closes connection k: unsent messages die; each end but `closer` (and a crashed
  // one) hears kClosed.
  void close_conn(uint32_t k, const char* why, int closer = -1) {
    Conn& c = conns_[k];
    if (!c.open) return;
    c.open = false;
    c.q[0].clear();
    c.q[1].clear();
    for (int side = 0; side < 2; ++side) {
      if (c.node[side] == closer || crashed_[static_cast<size_t>(c.node[side])]) continue;
      HostEvent ev;
      ev.node = c.node[side], ev.kind = InputKind::kClosed, ev.conn = c.id[side], ev.text = why;
      events_.push_back(std::move(ev));
    }
  }

  const ExploreSpec& spec_;
  std::vector<std::unique_ptr<NodeDriver>> drivers_;
  std::vector<std::vector<int>> neighbour_nodes_;
  std::vector<char> crashed_;
  std::vector<ConnId> next_conn_;
  std::vector<Conn> conns_;
  std::deque<HostEvent> events_;
  std::vector<char> sent_;
  std::vector<uint32_t> acked_;  // Updates stored at their server, in the order sent.
  std::vector<std::vector<int64_t>> stored_;  // Per server, per update's client: its record's time.
  std::string safety_;
  int drops_left_, crashes_left_;
};

class Search {
 public:
  Search(const Scenario& scenario, const ExploreSpec& spec, uint64_t max_states)
      : scenario_(scenario), spec_(spec), configs_(configs_of(scenario)), max_states_(max_states) {}

  Result<ExploreResult> run() {
    std::unique_ptr<World> w = fresh(nullptr);
    if (const std::string error = w->setup(); !error.empty()) return Error{"explore: " + error};
    visit(std::move(w));
    r_.complete = !cut_ && !r_.violated;
    return r_;
  }

  const std::vector<ExploreChoice>& violating() const { return violating_; }

  // Runs `order` again from a fresh herd with `recorder` on every node.
  std::unique_ptr<World> rerun(const std::vector<ExploreChoice>& order, InputObserver* recorder) const {
    std::unique_ptr<World> w = fresh(recorder);
    w->setup();
    for (const ExploreChoice& c : order) w->apply(c);
    return w;
  }
  std::vector<NodeConfig> configs() const { return configs_; }

 private:
  std::unique_ptr<World> fresh(InputObserver* recorder) const {
    return std::make_unique<World>(scenario_, spec_, configs_, recorder);
  }

  // Explores the state `w` is in (reached by path_); true to stop.
  bool visit(std::unique_ptr<World> w) {
    if (path_.size() > kDepthMax) {
      cut_ = true;
      return true;
    }
    if (!seen_.insert(w->hash()).second) {
      ++r_.revisits;
      return false;
    }
    ++r_.states;
    r_.max_depth = std::max(r_.max_depth, path_.size());
    std::string violation = w->safety();
    if (violation.empty() && w->end()) {
      ++r_.end_states;
      violation = w->liveness();
    }
    if (!violation.empty()) {
      r_.violated = true;
      r_.violation = violation;
      violating_ = path_;
      return true;
    }
    if (r_.states >= max_states_) {
      cut_ = true;
      return true;
    }
    const std::vector<ExploreChoice> choices = w->choices();
    for (size_t i = 0; i < choices.size(); ++i) {
      if (i > 0) w = rerun(path_, nullptr);
      w->apply(choices[i]);
      ++r_.transitions;
      path_.push_back(choices[i]);
      const bool stop = visit(std::move(w));
      path_.pop_back();
      if (stop) return true;
      w = nullptr;
    }
    return false;
  }

  const Scenario& scenario_;
  const ExploreSpec& spec_;
  std::vector<NodeConfig> configs_;
  uint64_t max_states_;
  std::unordered_set<uint64_t> seen_;
  std::vector<ExploreChoice> path_, violating_;
  ExploreResult r_;
  bool cut_ = false;
};

}  // namespace

Result<ExploreSpec> parse_explore_spec(const std::string& text, const std::string& source, const Scenario& scenario) {
  if (scenario.topology.nodes.size() > kExploreServersMax) {
    return Error{source + ": topology: " + std::to_string(scenario.topology.nodes.size()) +
                 " servers; herd explore takes at most " + std::to_string(kExploreServersMax)};
  }
  ExploreSpec spec;
  Result<JsonDoc> doc = parse_json(text, source);
  if (!doc.ok()) return Error{doc.error()};
  JsonField root = doc.value().root();
  std::optional<JsonField> section = root.value().IsObject() ? root.optional("explore") : std::nullopt;
  if (!section) {
    spec.updates.push_back({"c0", 0});
    return spec;
  }
  if (auto e = section->expect_object({"updates", "drops", "crashes"})) return *e;
  if (std::optional<JsonField> updates = section->optional("updates")) {
    Result<size_t> n = updates->expect_array(1, kExploreUpdatesMax);
    if (!n.ok()) return Error{n.error()};
    for (size_t i = 0; i < n.value(); ++i) {
      JsonField u = updates->element(i);
      if (auto e = u.expect_object({"client", "server"})) return *e;
      Result<JsonField> client = u.required("client");
      if (!client.ok()) return Error{client.error()};
      Result<std::string> c = client.value().expect_word(64);
      if (!c.ok()) return Error{c.error()};
      Result<JsonField> server = u.required("server");
      if (!server.ok()) return Error{server.error()};
      Result<std::string> s = server.value().expect_word(200);
      if (!s.ok()) return Error{s.error()};
      const int index = scenario.topology.index_of(s.value());
      if (index < 0) return Error{server.value().error("no server \"" + s.value() + "\" in the topology")};
      spec.updates.push_back({c.value(), index});
    }
  } else {
    spec.updates.push_back({"c0", 0});
  }
  if (std::optional<JsonField> drops = section->optional("drops")) {
    Result<int64_t> v = drops->expect_int(0, kExploreDropsMax);
    if (!v.ok()) return Error{v.error()};
    spec.drops = static_cast<int>(v.value());
  }
  if (std::optional<JsonField> crashes = section->optional("crashes")) {
    const int64_t most = static_cast<int64_t>(scenario.topology.nodes.size()) - 1;
    Result<int64_t> v = crashes->expect_int(0, most);
    if (!v.ok()) return Error{v.error()};
    spec.crashes = static_cast<int>(v.value());
  }
  return spec;
}

Result<ExploreResult> explore(const Scenario& scenario, const ExploreSpec& spec, uint64_t max_states,
                              const std::string& trace_path) {
  Search search(scenario, spec, max_states);
  Result<ExploreResult> result = search.run();
  if (!result.ok() || !result.value().violated) return result;
  ExploreResult& r = result.value();
  std::unique_ptr<World> described = search.rerun({}, nullptr);
  for (const ExploreChoice& c : search.violating()) {
    r.order.push_back(described->describe(c));
    described->apply(c);
  }
  if (trace_path.empty()) return result;
  TraceHeader header;
  header.source = "sim";
  header.seed = scenario.seed.value_or(1);
  header.scenario = scenario.source;
  header.topology = scenario.topology;
  header.nodes = search.configs();
  Result<std::unique_ptr<TraceWriter>> writer = TraceWriter::open(trace_path, header);
  if (!writer.ok()) {
    r.trace_error = writer.error();
    return result;
  }
  std::unique_ptr<World> traced = search.rerun(search.violating(), writer.value().get());
  r.trace_error = writer.value()->close(traced->nodes());
  return result;
}

}  // namespace herd
