#include "sim/simulator.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "node/faulty_link.h"

namespace herd {
namespace {

// The n-th sub-seed of the run, drawn in the fixed order links, workload, places.
uint64_t sub_seed(uint64_t seed, int n) {
  Rng rng(seed);
  uint64_t out = 0;
  for (int i = 0; i <= n; ++i) out = rng.draw_seed();
  return out;
}

std::vector<NodeConfig> configs_of(const Topology& t) {
  std::vector<NodeConfig> out;
  for (const TopologyNode& node : t.nodes) {
    NodeConfig c;
    c.name = node.name;
    c.neighbours = t.neighbours(node.name);
    out.push_back(std::move(c));
  }
  return out;
}

// The hop count of "FLOOD <hops> ...", 0 when the message is not a flood.
int flood_hops(std::string_view message) {
  constexpr std::string_view kPrefix = "FLOOD ";
  if (!message.starts_with(kPrefix)) return 0;
  int hops = 0;
  for (size_t i = kPrefix.size(); i < message.size() && i < kPrefix.size() + 7; ++i) {
    if (message[i] < '0' || message[i] > '9') break;
    hops = hops * 10 + (message[i] - '0');
  }
  return hops;
}

}  // namespace

Simulator::Simulator(const Scenario& scenario, uint64_t seed)
    : scenario_(scenario),
      seed_(seed),
      n_(static_cast<int>(scenario.topology.nodes.size())),
      configs_(configs_of(scenario.topology)),
      faults_(fault_topology(scenario.topology), sub_seed(seed, 0), scenario.plan),
      workload_(scenario.workload, n_, sub_seed(seed, 1)),
      places_(sub_seed(seed, 2), scenario.workload.places_failure_ppm),
      tracker_(n_),
      newest_(static_cast<size_t>(scenario.workload.clients)) {
  nodes_.reserve(static_cast<size_t>(n_));
  for (const NodeConfig& c : configs_) nodes_.emplace_back(c);
  up_.assign(static_cast<size_t>(n_), 1);
  epoch_.assign(static_cast<size_t>(n_), 0);
  for (int i = 0; i < n_; ++i) skew_ns_.push_back(workload_.server_skew_ns(i));
  link_end_.resize(static_cast<size_t>(faults_.link_count()));
  held_.assign(static_cast<size_t>(faults_.link_count()), 0);
  for (int from = 0; from < n_; ++from) {
    link_base_.push_back(static_cast<int>(link_of_.size()));
    const std::vector<std::string>& peers = configs_[static_cast<size_t>(from)].neighbours;
    for (size_t p = 0; p < peers.size(); ++p) {
      const int to = scenario.topology.index_of(peers[p]);
      const int link = faults_.link_id(configs_[static_cast<size_t>(from)].name, peers[p]);
      assert(to >= 0 && link >= 0);
      link_of_.push_back(link);
      LinkEnd& end = link_end_[static_cast<size_t>(link)];
      end.from = from;
      end.from_peer = static_cast<int>(p);
      end.to = to;
      end.to_peer = nodes_[static_cast<size_t>(to)].peer_index(configs_[static_cast<size_t>(from)].name);
    }
  }
}

TraceHeader Simulator::trace_header() const {
  TraceHeader h;
  h.source = "sim";
  h.seed = seed_;
  h.scenario = scenario_.source;
  h.topology = scenario_.topology;
  h.nodes = configs_;
  return h;
}

std::vector<const Node*> Simulator::nodes() const {
  std::vector<const Node*> out;
  for (const Node& node : nodes_) out.push_back(&node);
  return out;
}

Now Simulator::now_at(int node) const {
  return Now{kSimWallBaseNs + now_ns_ + skew_ns_[static_cast<size_t>(node)], now_ns_};
}

void Simulator::schedule(SimEventKind kind, int64_t time_ns, uint32_t a, uint32_t b, uint32_t c,
                         uint64_t request) {
  SimEvent e;
  e.time_ns = time_ns;
  e.kind = kind;
  e.a = a, e.b = b, e.c = c;
  e.request = request;
  queue_.push(e);
}

uint32_t Simulator::slot_acquire() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  pool_.emplace_back();
  return static_cast<uint32_t>(pool_.size() - 1);
}

void Simulator::observe(InputKind kind, int node, int peer, ConnId conn, RequestId request,
                        std::string_view text, const PlacesResult* places) {
  if (observer_ == nullptr) return;
  TraceInput in;
  in.kind = kind, in.node = node, in.now = now_at(node), in.peer = peer, in.conn = conn;
  in.request = request, in.text = text, in.places = places;
  observer_->on_input(in, out_);
}

void Simulator::apply_effects(int node, uint32_t update) {
  for (Effect& e : out_) {
    switch (e.kind) {
      case EffectKind::kSendPeer:
        send(node, e.peer, e.bytes, update);
        break;
      case EffectKind::kReply:
        on_reply(node, e);
        break;
      case EffectKind::kPlacesRequest: {
        const uint32_t slot = slot_acquire();
        pool_[slot] = places_.body(e.query);
        schedule(SimEventKind::kPlaces, now_ns_ + scenario_.workload.places_latency_ns,
                 static_cast<uint32_t>(node), slot, epoch_[static_cast<size_t>(node)], e.request);
        break;
      }
      case EffectKind::kLog:
        break;
    }
  }
}

void Simulator::send(int node, int peer, std::string& bytes, uint32_t update) {
  const int link = link_of_[static_cast<size_t>(link_base_[static_cast<size_t>(node)] + peer)];
  ++sends_;
  tracker_.sent(update);
  const Decision d = faults_.decide(link, now_ns_);
  for (int i = 0; i < d.copies; ++i) {
    uint32_t& held = held_[static_cast<size_t>(link)];
    if (held >= kMaxHeldPerLink) {
      faults_.count_overflow(link);
      continue;
    }
    ++held;
    const uint32_t slot = slot_acquire();
    // The last copy takes the effect's bytes; an earlier one (a duplicate) copies.
    if (i + 1 < d.copies) {
      pool_[slot] = bytes;
    } else {
      pool_[slot].swap(bytes);
    }
    schedule(SimEventKind::kDeliver, now_ns_ + d.delay_ns[i], static_cast<uint32_t>(link), slot, update);
  }
}

void Simulator::on_reply(int, const Effect& e) {
  ++replies_;
  if (e.bytes.starts_with("? ")) {
    ++invalid_;
  } else if (!e.bytes.starts_with("AT ") || e.bytes.back() != '\n') {
    ++bad_replies_;
  }
}

void Simulator::deliver(const SimEvent& e) {
  const int link = static_cast<int>(e.a);
  --held_[e.a];
  if (faults_.blocked(link)) {
    faults_.count_cut(link);
    free_slots_.push_back(e.b);
    return;
  }
  faults_.count_delivered(link);
  ++deliveries_;
  const LinkEnd& end = link_end_[e.a];
  const std::string& message = pool_[e.b];
  if (e.c != kNoUpdate) tracker_.arrive(e.c, end.to, now_ns_, flood_hops(message));
  out_.clear();
  nodes_[static_cast<size_t>(end.to)].on_peer_message(end.to_peer, message, now_at(end.to), &out_);
  observe(InputKind::kPeerMessage, end.to, end.to_peer, 0, 0, message, nullptr);
  free_slots_.push_back(e.b);
  apply_effects(end.to, e.c);
}

void Simulator::places_answer(const SimEvent& e) {
  const int node = static_cast<int>(e.a);
  std::string body = std::move(pool_[e.b]);
  free_slots_.push_back(e.b);
  // Asked before a crash: the answer finds nobody waiting (counted lost at the crash).
  if (!up_[e.a] || epoch_[e.a] != e.c) return;
  const PlacesResult result = places_.answer(std::move(body));
  out_.clear();
  nodes_[e.a].on_places_result(e.request, result, now_at(node), &out_);
  observe(InputKind::kPlacesResult, node, -1, 0, e.request, {}, &result);
  apply_effects(node, kNoUpdate);
}

void Simulator::iamat_tick() {
  const ClientCommand cmd = workload_.iamat(now_ns_);
  const int64_t next = workload_.next_iamat_ns(now_ns_);
  if (next < scenario_.duration_ns) schedule(SimEventKind::kIamatTick, next);
  ++iamats_;
  if (!up_[static_cast<size_t>(cmd.server)]) {
    ++refused_;
    return;
  }
  Node& node = nodes_[static_cast<size_t>(cmd.server)];
  const ConnId conn = next_conn_++;
  out_.clear();
  node.on_client_line(conn, cmd.line, now_at(cmd.server), &out_);
  observe(InputKind::kClientLine, cmd.server, -1, conn, 0, cmd.line, nullptr);
  // Stored (an update) when the table now holds exactly the AT line of the reply.
  uint32_t update = kNoUpdate;
  const Record* record = node.records().find(workload_.client_name(cmd.client));
  for (const Effect& e : out_) {
    if (e.kind != EffectKind::kReply || record == nullptr) continue;
    const std::string_view at = record->at_line();
    if (e.bytes.size() == at.size() + 1 && std::string_view(e.bytes).starts_with(at)) {
      update = tracker_.add(cmd.server, now_ns_, cmd.client);
      newest_[cmd.client] = std::string(at);
    }
  }
  apply_effects(cmd.server, update);
}

void Simulator::whatsat_tick() {
  ClientCommand cmd;
  const bool any = workload_.whatsat(now_ns_, &cmd);
  const int64_t next = workload_.next_whatsat_ns(now_ns_);
  if (next < scenario_.duration_ns) schedule(SimEventKind::kWhatsatTick, next);
  if (!any) return;
  ++whatsats_;
  if (!up_[static_cast<size_t>(cmd.server)]) {
    ++refused_;
    return;
  }
  const ConnId conn = next_conn_++;
  out_.clear();
  nodes_[static_cast<size_t>(cmd.server)].on_client_line(conn, cmd.line, now_at(cmd.server), &out_);
  observe(InputKind::kClientLine, cmd.server, -1, conn, 0, cmd.line, nullptr);
  apply_effects(cmd.server, kNoUpdate);
}

}  // namespace herd
