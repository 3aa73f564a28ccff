// The Simulator's run loop, its fault timeline, and its report.
#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "node/check.h"
#include "sim/simulator.h"

namespace herd {
namespace {

// How long the herd may take to connect before the workload starts anyway.
constexpr int64_t kBootLimitNs = 30'000'000'000;

}  // namespace

// Whether ok(node, peer) holds at every link end. The scan starts where the last
// one failed and wraps around: after most events the end that failed last still
// fails, so checking after every event costs O(1), not O(links). A true answer has
// looked at every end in the present state, so the answer is the full scan's.
template <typename Ok>
bool Simulator::every_end(size_t* cursor, Ok ok) const {
  const size_t total = end_node_.size();
  for (size_t k = 0; k < total; ++k) {
    size_t at = *cursor + k;
    if (at >= total) at -= total;
    if (!ok(end_node_[at], end_peer_[at])) {
      *cursor = at;
      return false;
    }
  }
  return true;
}

// Every link between running servers is up.
bool Simulator::links_up() const {
  return every_end(&up_cursor_, [this](int i, int p) {
    const size_t node = static_cast<size_t>(i);
    return crashed_[node] || crashed_[static_cast<size_t>(index_.neighbours(i)[static_cast<size_t>(p)])] ||
           drivers_[node]->node().link(p).up();
  });
}

// Nothing more will happen but heartbeats: no message in flight, no work pending,
// every link between running servers up, heard from lately (a healed cut is noticed
// by a link that has not: it will sync) and not syncing; and, when sync is periodic,
// every server holds every newest record (else a coming round may repair more).
bool Simulator::quiet() const {
  if (inflight_ > 0 || pending_work_ > 0 || paused_count_ > 0 || deferred_count_ > 0) return false;
  if (!links_up()) return false;
  const int64_t heard_ns = scenario_.link.heartbeat_ns + scenario_.link.heartbeat_ns / 2;
  const bool settled = every_end(&quiet_cursor_, [&](int i, int p) {
    const size_t node = static_cast<size_t>(i);
    if (crashed_[node]) return true;
    const Node& n = drivers_[node]->node();
    const LinkMachine& link = n.link(p);
    return !link.up() || (now_ns_ - link.last_recv_ns() <= heard_ns && !n.sync_active(p));
  });
  return settled && (scenario_.sync.mode != SyncMode::kPeriodic || metrics_.stale_pairs() == 0);
}

void Simulator::start_workload() {
  ready_ns_ = now_ns_;
  int64_t last_fault_ns = 0;
  for (const TimelineEvent& event : scenario_.plan.timeline) last_fault_ns = std::max(last_fault_ns, event.at_ms * kNsPerMs);
  if (scenario_.expect.converge_after_faults_ns) {
    liveness_at_ns_ = std::max(last_fault_ns, scenario_.duration_ns) + *scenario_.expect.converge_after_faults_ns;
  }
  // A hundred points over the workload, at most one per millisecond.
  sample_every_ns_ = std::max<int64_t>(kNsPerMs, scenario_.duration_ns / 100);
  next_sample_ns_ = now_ns_;
  for (size_t i = 0; i < scenario_.plan.timeline.size(); ++i) {
    ++pending_work_;
    schedule(SimEventKind::kTimeline, std::max(now_ns_, scenario_.plan.timeline[i].at_ms * kNsPerMs),
             static_cast<uint32_t>(i));
  }
  const int64_t first_iamat = workload_.next_iamat_ns(now_ns_);
  if (first_iamat < scenario_.duration_ns) {
    ++pending_work_;
    schedule(SimEventKind::kIamatTick, first_iamat);
  }
  const int64_t first_whatsat = workload_.next_whatsat_ns(now_ns_);
  if (first_whatsat < scenario_.duration_ns) {
    ++pending_work_;
    schedule(SimEventKind::kWhatsatTick, first_whatsat);
  }
}

void Simulator::run_events() {
  HERD_ASSERT(!ran_);
  ran_ = true;
  for (int i = 0; i < n_; ++i) {
    Input in;
    in.kind = InputKind::kStart;
    in.now = now_at(i);
    feed(i, in);
  }
  if (links_up()) start_workload();
  const int64_t end_ns = scenario_.duration_ns + scenario_.drain_ns;
  uint64_t progress_in = progress_every_;
  while (!queue_.empty() && queue_.top().time_ns <= end_ns) {
    if (events_ >= scenario_.max_events) {
      hit_event_limit_ = true;
      break;
    }
    if (events_ % kMemoryCheckEvents == 0) {
      memory_peak_ = std::max(memory_peak_, memory_bytes());
      if (memory_peak_ > scenario_.max_memory_mb * kMiB) {
        hit_memory_limit_ = true;
        break;
      }
    }
    if (ready_ns_ >= 0) {
      // Before the next event's time: the state as it was up to then.
      while (next_sample_ns_ <= queue_.top().time_ns) {
        metrics_.sample(next_sample_ns_);
        next_sample_ns_ += sample_every_ns_;
      }
      if (!liveness_done_ && queue_.top().time_ns > liveness_at_ns_) {
        now_ns_ = std::max(now_ns_, liveness_at_ns_);
        check_liveness();
      }
    }
    const SimEvent e = queue_.pop();
    ++events_;
    now_ns_ = e.time_ns;
    if (progress_ && --progress_in == 0) {
      progress_in = progress_every_;
      progress_(now_ns_, events_);
    }
    const int node = static_cast<int>(e.a);
    Input in;
    switch (e.kind) {
      case SimEventKind::kDeliver: deliver(e); break;
      case SimEventKind::kDue: due(e); break;
      case SimEventKind::kPlaces: places_answer(e); break;
      case SimEventKind::kIamatTick: iamat_tick(); break;
      case SimEventKind::kWhatsatTick: whatsat_tick(); break;
      case SimEventKind::kTimeline: timeline(e.a); break;
      case SimEventKind::kDialed:
        if (crashed_[e.a] || defer_if_paused(node, e)) break;
        in.kind = InputKind::kDialed, in.peer = static_cast<int>(e.b), in.conn = e.c, in.request = e.request;
        in.now = now_at(node);
        in.text = e.c == 0 ? "connection refused" : "";
        if (e.c != 0) add_nonce(&in);
        feed(node, in);
        break;
      case SimEventKind::kClosed:
        if (!crashed_[e.a] && !defer_if_paused(node, e)) {
          in.kind = InputKind::kClosed, in.conn = e.request, in.now = now_at(node), in.text = pool_[e.b];
          feed(node, in);
        }
        if (!paused_[e.a] || crashed_[e.a]) slot_release(e.b);
        break;
      case SimEventKind::kBackpressure:
        if (crashed_[e.a] || defer_if_paused(node, e)) break;
        in.kind = InputKind::kBackpressure, in.conn = e.request, in.flags = static_cast<uint8_t>(e.b);
        in.now = now_at(node);
        feed(node, in);
        break;
      case SimEventKind::kTimer:
        if (crashed_[e.a] || timer_gen_[e.a][e.b] != e.c || defer_if_paused(node, e)) break;
        in.kind = InputKind::kTimer, in.timer = e.b, in.now = now_at(node);
        feed(node, in);
        break;
      case SimEventKind::kClient:
        --pending_work_;
        if (!crashed_[e.a]) {
          in.kind = InputKind::kLine, in.flags = kFirstLine, in.conn = e.request, in.now = now_at(node);
          in.text = pool_[e.b];
          add_nonce(&in);
          feed(node, in);
        }
        slot_release(e.b);
        break;
    }
    if (ready_ns_ < 0 && (links_up() || now_ns_ >= kBootLimitNs)) start_workload();
    if (ready_ns_ >= 0 && now_ns_ >= scenario_.duration_ns && quiet()) break;
  }
  metrics_.sample(now_ns_);
  memory_peak_ = std::max(memory_peak_, memory_bytes());
  // A herd that went quiet before the check's time holds then what it holds now.
  if (!liveness_done_ && liveness_at_ns_ != INT64_MAX && (quiet() || now_ns_ >= liveness_at_ns_)) check_liveness();
}

void Simulator::check_liveness() {
  liveness_done_ = true;
  liveness_stale_ = metrics_.stale_pairs();
  if (liveness_stale_ == 0) return;
  std::vector<std::string> servers, clients;
  for (const NodeConfig& c : configs_) servers.push_back(c.name);
  for (uint32_t c = 0; c < workload_.clients(); ++c) clients.push_back(workload_.client_name(c));
  liveness_behind_ = metrics_.first_behind(servers, clients);
}

void Simulator::timeline(size_t index) {
  --pending_work_;
  const TimelineEvent& event = scenario_.plan.timeline[index];
  const CommandOutcome outcome = faults_.apply(event.action);
  if (!outcome.ok) {
    notes_.push_back("timeline at " + std::to_string(event.at_ms) + " ms: " + outcome.answer);
    return;
  }
  host_request(outcome);
  const ActionKind kind = event.action.kind;
  if (kind == ActionKind::kHeal || kind == ActionKind::kHealAll || kind == ActionKind::kRestart ||
      kind == ActionKind::kResume) {
    ++heals_;
  }
  metrics_.fault_at(now_ns_);
}

void Simulator::host_request(const CommandOutcome& outcome) {
  const int node = outcome.server.empty() ? -1 : index_.index_of(outcome.server);
  const size_t i = static_cast<size_t>(node);
  Input in;
  switch (outcome.request) {
    case HostRequest::kCrash: {
      lost_ += drivers_[i]->node().pending_places();  // Their clients never get an answer.
      resume(node);  // What waited for a paused server dies with it.
      crashed_[i] = 1;
      ++epoch_[i];
      close_all(node);
      in.kind = InputKind::kCrash, in.now = now_at(node);
      feed(node, in);
      break;
    }
    case HostRequest::kRestart:
      crashed_[i] = 0;
      in.kind = InputKind::kStart, in.now = now_at(node);
      feed(node, in);
      break;
    case HostRequest::kReset:
      reset_link(outcome.server, outcome.peer);
      break;
    case HostRequest::kPause:
      if (!paused_[i]) ++paused_count_;
      paused_[i] = 1;
      break;
    case HostRequest::kResume:
      resume(node);
      break;
    case HostRequest::kNone:
    case HostRequest::kStatus:
      break;
  }
}

// What reached a paused server runs now, in the order it came.
void Simulator::resume(int node) {
  const size_t i = static_cast<size_t>(node);
  if (paused_[i]) --paused_count_;
  paused_[i] = 0;
  std::vector<SimEvent> waiting = std::move(deferred_[i]);
  deferred_[i].clear();
  deferred_count_ -= waiting.size();
  for (SimEvent e : waiting) {
    e.time_ns = now_ns_;
    queue_.push(e);
  }
}

Report Simulator::report() const {
  Report r;
  r.scenario = scenario_.name;
  r.topology = scenario_.topology.name;
  r.seed = seed_;
  r.servers = n_;
  r.links = static_cast<int>(scenario_.topology.links.size());
  fill_report(metrics_, workload_.clients(), nodes(), &r);
  add_bounds(scenario_.topology, metrics_.tracker(), &r);
  // The metrics' incremental count must agree with the tables themselves.
  uint64_t stale = 0;
  const std::vector<std::string>& newest_lines = metrics_.newest_lines();
  for (int s = 0; s < n_; ++s) {
    if (crashed_[static_cast<size_t>(s)]) continue;
    for (uint32_t c = 0; c < newest_lines.size(); ++c) {
      if (newest_lines[c].empty()) continue;
      const Record* record = drivers_[static_cast<size_t>(s)]->node().records().find(workload_.client_name(c));
      if (record == nullptr || record->at_line() != newest_lines[c]) ++stale;
    }
  }
  if (stale != r.residue_stale) {
    notes_consistency_ = "metrics count " + std::to_string(r.residue_stale) + " stale pairs, the tables " +
                         std::to_string(stale);
  }
  std::vector<std::string> servers, clients;
  for (const NodeConfig& c : configs_) servers.push_back(c.name);
  for (uint32_t c = 0; c < workload_.clients(); ++c) clients.push_back(workload_.client_name(c));
  r.first_behind = metrics_.first_behind(servers, clients);
  r.digest = state_digest(nodes());
  r.events = events_;
  r.deliveries = deliveries_;
  add_fault_counters(faults_, &r);
  r.heals = heals_;
  r.liveness_checked = liveness_done_;
  r.liveness_at_ns = liveness_at_ns_ == INT64_MAX ? 0 : liveness_at_ns_;
  r.liveness_stale = liveness_stale_;
  r.liveness_behind = liveness_behind_;
  r.iamats = iamats_, r.whatsats = whatsats_, r.replies = replies_, r.invalid = invalid_;
  r.refused = refused_, r.lost = lost_, r.places_failures = places_.failures();
  r.sim_ns = now_ns_;
  if (const std::string parts = components_text(scenario_.topology); !parts.empty()) {
    r.notes.push_back("topology not connected, " + parts +
                      ": an update reaches only its origin's component, so none converges");
  }
  r.notes.insert(r.notes.end(), notes_.begin(), notes_.end());
  add_checks(&r);
  return r;
}

// max_events first (a run cut short makes every other figure partial), then the
// scenario's expectations, then the simulator's own invariants when they break.
void Simulator::add_checks(Report* r) const {
  r->checks.push_back(max_events_check(*r, scenario_.max_events, hit_event_limit_,
                                       scenario_.duration_ns + scenario_.drain_ns));
  r->checks.push_back(max_memory_check(*r, memory_peak_, scenario_.max_memory_mb, hit_memory_limit_,
                                       scenario_.duration_ns + scenario_.drain_ns));
  for (Check& check : expectation_checks(*r, scenario_.expect)) r->checks.push_back(std::move(check));
  for (Check& check : safety_checks(*r)) r->checks.push_back(std::move(check));
  if (!notes_consistency_.empty()) {
    r->checks.push_back({"metrics_consistent", "1", "0", false, notes_consistency_});
  }
  uint64_t pending = 0;
  for (const auto& d : drivers_) pending += d->node().pending_places();
  const uint64_t asked = iamats_ + whatsats_ - refused_;
  if (replies_ + lost_ + pending != asked) {
    r->checks.push_back({"commands_answered", std::to_string(replies_ + lost_ + pending), std::to_string(asked), false,
                         "commands answered " + std::to_string(replies_) + " + lost " + std::to_string(lost_) +
                             " + pending " + std::to_string(pending) + " != asked " + std::to_string(asked)});
  }
}

}  // namespace herd
