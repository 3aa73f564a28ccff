// The Simulator's run loop, its fault timeline, and its report.
#include <algorithm>
#include <cassert>
#include <string_view>
#include <unordered_map>

#include "sim/simulator.h"

namespace herd {
namespace {

// How long the herd may take to connect before the workload starts anyway.
constexpr int64_t kBootLimitNs = 30'000'000'000;

}  // namespace

bool Simulator::links_up() const {
  for (int i = 0; i < n_; ++i) {
    if (crashed_[static_cast<size_t>(i)]) continue;
    const Node& node = drivers_[static_cast<size_t>(i)]->node();
    for (size_t p = 0; p < configs_[static_cast<size_t>(i)].neighbours.size(); ++p) {
      if (!crashed_[static_cast<size_t>(neighbour_nodes_[static_cast<size_t>(i)][p])] && !node.link(static_cast<int>(p)).up()) {
        return false;
      }
    }
  }
  return true;
}

bool Simulator::quiet() const {
  if (inflight_ > 0 || pending_work_ > 0) return false;
  for (int i = 0; i < n_; ++i) {
    if (paused_[static_cast<size_t>(i)] || !deferred_[static_cast<size_t>(i)].empty()) return false;
  }
  return links_up();
}

void Simulator::start_workload() {
  ready_ns_ = now_ns_;
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
  assert(!ran_);
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
          feed(node, in);
        }
        slot_release(e.b);
        break;
    }
    if (ready_ns_ < 0 && (links_up() || now_ns_ >= kBootLimitNs)) start_workload();
    if (ready_ns_ >= 0 && now_ns_ >= scenario_.duration_ns && quiet()) break;
  }
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
}

void Simulator::host_request(const CommandOutcome& outcome) {
  const int node = outcome.server.empty() ? -1 : scenario_.topology.index_of(outcome.server);
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
  paused_[i] = 0;
  std::vector<SimEvent> waiting = std::move(deferred_[i]);
  deferred_[i].clear();
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
  r.updates = tracker_.updates();
  r.untracked = tracker_.untracked();
  std::vector<int64_t> latencies;
  for (uint32_t u = 0; u < tracker_.updates(); ++u) {
    if (tracker_.converged(u)) latencies.push_back(tracker_.latency_ns(u));
  }
  r.converged = latencies.size();
  r.superseded = tracker_.superseded(workload_.clients());
  std::sort(latencies.begin(), latencies.end());
  // Nearest rank: the smallest value with at least q% of the values at or below it.
  auto rank = [&](uint64_t q) {
    return latencies.empty() ? 0 : latencies[(q * latencies.size() + 99) / 100 - 1];
  };
  r.latency_p50_ns = rank(50), r.latency_p95_ns = rank(95), r.latency_p99_ns = rank(99);
  r.latency_max_ns = latencies.empty() ? 0 : latencies.back();
  r.sends = watcher_.flood_messages();
  add_bounds(&r);
  const std::vector<std::string>& newest = watcher_.newest();
  for (int s = 0; s < n_; ++s) {
    if (crashed_[static_cast<size_t>(s)]) continue;
    for (uint32_t c = 0; c < newest.size(); ++c) {
      if (newest[c].empty()) continue;
      ++r.residue_pairs;
      const Record* record = drivers_[static_cast<size_t>(s)]->node().records().find(workload_.client_name(c));
      if (record == nullptr || record->at_line() != newest[c]) ++r.residue_stale;
    }
  }
  r.digest = state_digest(nodes());
  r.events = events_;
  r.deliveries = deliveries_;
  r.duplicates = tracker_.duplicates();
  for (int link = 0; link < faults_.link_count(); ++link) {
    const LinkCounters& c = faults_.counters(link);
    r.dropped += c.dropped, r.cut += c.cut, r.overflow += c.overflow, r.blackholed += c.blackholed;
    r.link_lost += c.lost;
  }
  for (const auto& d : drivers_) {
    for (size_t p = 0; p < d->node().config().neighbours.size(); ++p) {
      const LinkStats& st = d->node().link(static_cast<int>(p)).stats();
      r.link_lost += st.lost_down + st.lost_full;
    }
  }
  r.arrivals = tracker_.flood_arrivals(), r.hops_sum = tracker_.hops_sum(), r.hops_max = tracker_.hops_max();
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

// Bounds per update over its origin's component (report.h): one component gives
// the classic n-1 and 2m-(n-1).
void Simulator::add_bounds(Report* r) const {
  const std::vector<std::vector<int>> parts = scenario_.topology.components();
  r->components = static_cast<int>(parts.size());
  const auto links = static_cast<uint64_t>(scenario_.topology.links.size());
  if (parts.size() <= 1) {
    r->bound_tree = static_cast<uint64_t>(n_ > 0 ? n_ - 1 : 0);
    r->bound_flood = 2 * links - r->bound_tree;
    r->bounds_per = 1;
    return;
  }
  std::vector<int> part_of(static_cast<size_t>(n_));
  for (size_t c = 0; c < parts.size(); ++c) {
    for (int node : parts[c]) part_of[static_cast<size_t>(node)] = static_cast<int>(c);
  }
  std::unordered_map<std::string_view, int> index;  // Looked up, never iterated.
  for (int s = 0; s < n_; ++s) index.emplace(scenario_.topology.nodes[static_cast<size_t>(s)].name, s);
  std::vector<uint64_t> part_links(parts.size(), 0);
  for (const auto& link : scenario_.topology.links) {
    ++part_links[static_cast<size_t>(part_of[static_cast<size_t>(index.at(link.first))])];
  }
  r->bound_tree = r->bound_flood = 0;
  auto count = [&](int origin) {
    const auto c = static_cast<size_t>(part_of[static_cast<size_t>(origin)]);
    const uint64_t tree = parts[c].size() - 1;
    r->bound_tree += tree;
    r->bound_flood += 2 * part_links[c] - tree;
  };
  for (uint32_t u = 0; u < tracker_.updates(); ++u) count(tracker_.origin(u));
  r->bounds_per = tracker_.updates();
  if (r->bounds_per == 0) {
    for (int s = 0; s < n_; ++s) count(s);
    r->bounds_per = static_cast<uint64_t>(n_);
  }
}

// max_events first (a run cut short makes every other figure partial), then the
// scenario's expectations, then the simulator's own invariants when they break.
void Simulator::add_checks(Report* r) const {
  r->checks.push_back(max_events_check(*r, scenario_.max_events, hit_event_limit_,
                                       scenario_.duration_ns + scenario_.drain_ns));
  for (Check& check : expectation_checks(*r, scenario_.expect)) r->checks.push_back(std::move(check));
  if (bad_replies_ > 0) {
    r->checks.push_back({"replies_well_formed", std::to_string(bad_replies_), "0", false,
                         std::to_string(bad_replies_) + " replies were neither AT nor '?' lines"});
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
