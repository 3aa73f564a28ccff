#include "sim/simulator.h"

#include "crypto/sodium_mac.h"

#include <algorithm>
#include <utility>

namespace herd {
namespace {

// The n-th sub-seed of the run, drawn in the fixed order links, workload, places.
uint64_t sub_seed(uint64_t seed, int n) {
  Rng rng(seed);
  uint64_t out = 0;
  for (int i = 0; i <= n; ++i) out = rng.draw_seed();
  return out;
}

std::vector<NodeConfig> configs_of(const Scenario& s, const TopologyIndex& index, uint64_t seed) {
  std::vector<NodeConfig> out;
  out.reserve(s.topology.nodes.size());
  for (size_t i = 0; i < s.topology.nodes.size(); ++i) {
    NodeConfig c;
    c.name = s.topology.nodes[i].name;
    c.neighbours = index.neighbour_names(static_cast<int>(i));
    c.seed = seed;
    c.link = s.link;
    c.sync = s.sync;
    if (s.herd_key) c.auth = PeerAuth{&sodium_mac(), *s.herd_key};
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

// The handshake's nonces, from the run's own stream (node/peer_auth.h): a simulated
// herd that authenticates replays like any other.
void Simulator::add_nonce(Input* in) {
  if (!scenario_.herd_key) return;
  for (size_t i = 0; i < in->nonce.size(); i += 8) {
    const uint64_t v = nonces_.draw_seed();
    for (size_t j = 0; j < 8; ++j) in->nonce[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
}

Simulator::Simulator(const Scenario& scenario, uint64_t seed)
    : scenario_(scenario),
      seed_(seed),
      n_(static_cast<int>(scenario.topology.nodes.size())),
      index_(scenario.topology),
      configs_(configs_of(scenario, index_, seed)),
      faults_(fault_topology(scenario.topology), sub_seed(seed, 0), scenario.plan),
      channel_(&faults_),
      workload_(scenario.workload, n_, sub_seed(seed, 1)),
      places_(sub_seed(seed, 2), scenario.workload.places_failure_ppm),
      metrics_(n_, workload_.clients(),
               [this](std::string_view client) {
                 auto it = client_index_.find(std::string(client));
                 return it == client_index_.end() ? kNoUpdate : it->second;
               }),
      queue_limit_bytes_(scenario.link_queue_bytes),
      nonces_(derive(seed, "handshake-nonces")) {
  const size_t n = static_cast<size_t>(n_);
  for (size_t i = 0; i < n; ++i) {
    drivers_.push_back(std::make_unique<NodeDriver>(configs_[i], static_cast<int>(i)));
    drivers_.back()->add_observer(&metrics_);
    timer_gen_.emplace_back(configs_[i].neighbours.size() + 1, 0);
    for (size_t p = 0; p < configs_[i].neighbours.size(); ++p) {
      end_node_.push_back(static_cast<int>(i));
      end_peer_.push_back(static_cast<int>(p));
    }
  }
  crashed_.assign(n, 0);
  paused_.assign(n, 0);
  epoch_.assign(n, 0);
  next_conn_.assign(n, 1);
  deferred_.resize(n);
  for (int i = 0; i < n_; ++i) skew_ns_.push_back(workload_.server_skew_ns(i));
  for (uint32_t c = 0; c < workload_.clients(); ++c) client_index_.emplace(workload_.client_name(c), c);
  // The workload's clients, their names and index; the metrics count their own.
  fixed_bytes_ = memcost::kBase + static_cast<uint64_t>(n_) * memcost::kServer +
                 scenario.topology.links.size() * memcost::kLink +
                 static_cast<uint64_t>(workload_.clients()) * memcost::kClientHost;
}

void Simulator::add_observer(InputObserver* observer) {
  for (auto& d : drivers_) d->add_observer(observer);
  observers_.push_back(observer);
}

uint64_t Simulator::memory_bytes() const {
  uint64_t bytes = fixed_bytes_ + metrics_.memory_bytes() + metrics_.records_bytes();
  for (const InputObserver* o : observers_) bytes += o->memory_bytes();
  // Messages, lines and bodies in flight: their slots, bytes, queue entries, events.
  bytes += pool_.capacity() * sizeof(std::string) + pool_heap_ + pool_heap_of_.capacity() * sizeof(uint32_t) +
           free_slots_.capacity() * sizeof(uint32_t);
  bytes += held_.capacity() * sizeof(Held) + free_held_.capacity() * sizeof(uint32_t);
  bytes += inflight_ * memcost::kMessage;
  bytes += queue_.capacity() * sizeof(SimEvent) + deferred_count_ * sizeof(SimEvent);
  bytes += conns_.capacity() * sizeof(Conn) + conns_.size() * memcost::kConn;
  bytes += conn_index_.bucket_count() * sizeof(void*) + conn_index_.size() * 32;
  return bytes;
}

TraceHeader Simulator::trace_header() const {
  TraceHeader h;
  h.source = "sim";
  h.seed = seed_;
  h.scenario = scenario_.source;
  if (scenario_.herd_key) h.auth = key_id(*scenario_.herd_key);
  h.topology = scenario_.topology;
  h.nodes = configs_;
  return h;
}

std::vector<const Node*> Simulator::nodes() const {
  std::vector<const Node*> out;
  for (const auto& d : drivers_) out.push_back(&d->node());
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

uint32_t Simulator::slot_acquire(std::string bytes) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(pool_.size());
    pool_.emplace_back();
    pool_heap_of_.push_back(0);
  }
  // Past a std::string's inline 15 bytes, a heap block in malloc's 16-byte granules.
  const uint32_t heap = bytes.size() > 15 ? static_cast<uint32_t>((bytes.size() + 1 + 8 + 15) / 16 * 16) : 0;
  pool_[slot] = std::move(bytes);
  pool_heap_of_[slot] = heap;
  pool_heap_ += heap;
  return slot;
}

void Simulator::slot_release(uint32_t slot) {
  pool_[slot] = std::string();  // Its block goes back, so the count stays true.
  pool_heap_ -= pool_heap_of_[slot];
  pool_heap_of_[slot] = 0;
  free_slots_.push_back(slot);
}

// A paused server processes nothing: what would reach it waits, in order, for resume().
bool Simulator::defer_if_paused(int node, const SimEvent& e) {
  if (!paused_[static_cast<size_t>(node)]) return false;
  deferred_[static_cast<size_t>(node)].push_back(e);
  ++deferred_count_;
  return true;
}

void Simulator::feed(int node, const Input& in) {
  NodeDriver::Step step = drivers_[static_cast<size_t>(node)]->step(in);
  apply(node, step.effects());
}

void Simulator::apply(int node, Effects& effects) {
  for (Effect& e : effects) {
    switch (e.kind) {
      case EffectKind::kReply:
        on_reply(e);
        break;
      case EffectKind::kPlacesRequest: {
        const uint32_t slot = slot_acquire(places_.body(e.query));
        ++pending_work_;
        schedule(SimEventKind::kPlaces, now_ns_ + scenario_.workload.places_latency_ns, static_cast<uint32_t>(node),
                 slot, epoch_[static_cast<size_t>(node)], e.request);
        break;
      }
      case EffectKind::kSend:
        send(node, e);
        break;
      case EffectKind::kDial:
        dial(node, e);
        break;
      case EffectKind::kClose:
        close_by(node, e.conn, "eof");
        break;
      case EffectKind::kTimer: {
        uint32_t& gen = timer_gen_[static_cast<size_t>(node)][e.timer];
        ++gen;
        if (e.at_ns >= 0) {
          schedule(SimEventKind::kTimer, std::max(e.at_ns, now_ns_), static_cast<uint32_t>(node), e.timer, gen);
        }
        break;
      }
      case EffectKind::kAdopt:
      case EffectKind::kLinkUp:
      case EffectKind::kLinkDown:
      case EffectKind::kLog:
        break;
    }
  }
}

void Simulator::on_reply(const Effect& e) {
  ++replies_;
  if (e.bytes.starts_with("? ")) ++invalid_;
}

void Simulator::places_answer(const SimEvent& e) {
  const int node = static_cast<int>(e.a);
  if (defer_if_paused(node, e)) return;
  --pending_work_;
  std::string body = std::move(pool_[e.b]);
  slot_release(e.b);
  // Asked before a crash: the answer finds nobody waiting (counted lost at the crash).
  if (crashed_[e.a] || epoch_[e.a] != e.c) return;
  const PlacesResult result = places_.answer(std::move(body));
  Input in;
  in.kind = InputKind::kPlacesResult;
  in.now = now_at(node);
  in.request = e.request;
  in.places = &result;
  feed(node, in);
}

void Simulator::client_command(int server, uint32_t, std::string line, bool iamat) {
  (iamat ? iamats_ : whatsats_)++;
  if (crashed_[static_cast<size_t>(server)]) {
    ++refused_;
    return;
  }
  const ConnId conn = next_conn_[static_cast<size_t>(server)]++;
  if (paused_[static_cast<size_t>(server)]) {
    // The client's connection is accepted by the kernel; its line waits unread.
    const uint32_t slot = slot_acquire(std::move(line));
    ++pending_work_;
    SimEvent e;
    e.time_ns = now_ns_, e.kind = SimEventKind::kClient, e.a = static_cast<uint32_t>(server), e.b = slot;
    e.request = conn;
    deferred_[static_cast<size_t>(server)].push_back(e);
    ++deferred_count_;
    return;
  }
  Input in;
  in.kind = InputKind::kLine;
  in.flags = kFirstLine;
  in.now = now_at(server);
  in.conn = conn;
  in.text = line;
  add_nonce(&in);
  feed(server, in);
}

void Simulator::iamat_tick() {
  --pending_work_;
  ClientCommand cmd = workload_.iamat(now_ns_);
  const int64_t next = workload_.next_iamat_ns(now_ns_);
  if (next < scenario_.duration_ns) {
    ++pending_work_;
    schedule(SimEventKind::kIamatTick, next);
  }
  client_command(cmd.server, cmd.client, std::move(cmd.line), true);
}

void Simulator::whatsat_tick() {
  --pending_work_;
  ClientCommand cmd;
  const bool any = workload_.whatsat(now_ns_, &cmd);
  const int64_t next = workload_.next_whatsat_ns(now_ns_);
  if (next < scenario_.duration_ns) {
    ++pending_work_;
    schedule(SimEventKind::kWhatsatTick, next);
  }
  if (any) client_command(cmd.server, cmd.client, std::move(cmd.line), false);
}

}  // namespace herd
