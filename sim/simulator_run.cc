// The Simulator's run loop, its fault timeline, and its report.
#include <algorithm>
#include <cassert>
#include <string_view>
#include <unordered_map>

#include "sim/simulator.h"

namespace herd {

void Simulator::start_links() {
  for (int from = 0; from < n_; ++from) {
    const size_t peers = configs_[static_cast<size_t>(from)].neighbours.size();
    for (size_t p = 0; p < peers; ++p) {
      const int link = link_of_[static_cast<size_t>(link_base_[static_cast<size_t>(from)]) + p];
      if (faults_.blocked(link)) continue;
      out_.clear();
      nodes_[static_cast<size_t>(from)].on_link_up(static_cast<int>(p), now_at(from), &out_);
      observe(InputKind::kLinkUp, from, static_cast<int>(p), 0, 0, {}, nullptr);
      apply_effects(from, kNoUpdate);
    }
  }
}

// Tells each sending node whose outgoing link changed state (cut, healed, an end
// crashed or restarted), in link order; crashed nodes hear nothing.
void Simulator::notify_links(const std::vector<char>& blocked_before) {
  for (int link = 0; link < faults_.link_count(); ++link) {
    const bool blocked = faults_.blocked(link);
    if (blocked == static_cast<bool>(blocked_before[static_cast<size_t>(link)])) continue;
    const LinkEnd& end = link_end_[static_cast<size_t>(link)];
    if (!up_[static_cast<size_t>(end.from)]) continue;
    Node& node = nodes_[static_cast<size_t>(end.from)];
    out_.clear();
    if (blocked) {
      node.on_link_down(end.from_peer, now_at(end.from), &out_);
    } else {
      node.on_link_up(end.from_peer, now_at(end.from), &out_);
    }
    observe(blocked ? InputKind::kLinkDown : InputKind::kLinkUp, end.from, end.from_peer, 0, 0, {}, nullptr);
    apply_effects(end.from, kNoUpdate);
  }
}

void Simulator::timeline(size_t index) {
  std::vector<char> blocked_before(static_cast<size_t>(faults_.link_count()));
  for (int link = 0; link < faults_.link_count(); ++link) {
    blocked_before[static_cast<size_t>(link)] = faults_.blocked(link) ? 1 : 0;
  }
  const TimelineEvent& event = scenario_.plan.timeline[index];
  const CommandOutcome outcome = faults_.apply(event.action);
  if (!outcome.ok) {
    notes_.push_back("timeline at " + std::to_string(event.at_ms) + " ms: " + outcome.answer);
  }
  const int node = outcome.server.empty() ? -1 : scenario_.topology.index_of(outcome.server);
  if (outcome.request == HostRequest::kCrash && node >= 0) {
    Node& n = nodes_[static_cast<size_t>(node)];
    lost_ += n.pending_places();  // Their clients never get an answer.
    n.crash();
    up_[static_cast<size_t>(node)] = 0;
    ++epoch_[static_cast<size_t>(node)];
    out_.clear();
    observe(InputKind::kCrash, node, -1, 0, 0, {}, nullptr);
  } else if (outcome.request == HostRequest::kRestart && node >= 0) {
    // A restarted server is a fresh process: a new Node, as the live host does.
    nodes_[static_cast<size_t>(node)] = Node(configs_[static_cast<size_t>(node)]);
    up_[static_cast<size_t>(node)] = 1;
    out_.clear();
    observe(InputKind::kRestart, node, -1, 0, 0, {}, nullptr);
  }
  notify_links(blocked_before);
}

void Simulator::run_events() {
  assert(!ran_);
  ran_ = true;
  start_links();
  for (size_t i = 0; i < scenario_.plan.timeline.size(); ++i) {
    schedule(SimEventKind::kTimeline, scenario_.plan.timeline[i].at_ms * kNsPerMs, static_cast<uint32_t>(i));
  }
  const int64_t first_iamat = workload_.next_iamat_ns(0);
  if (first_iamat < scenario_.duration_ns) schedule(SimEventKind::kIamatTick, first_iamat);
  const int64_t first_whatsat = workload_.next_whatsat_ns(0);
  if (first_whatsat < scenario_.duration_ns) schedule(SimEventKind::kWhatsatTick, first_whatsat);
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
    switch (e.kind) {
      case SimEventKind::kDeliver: deliver(e); break;
      case SimEventKind::kPlaces: places_answer(e); break;
      case SimEventKind::kIamatTick: iamat_tick(); break;
      case SimEventKind::kWhatsatTick: whatsat_tick(); break;
      case SimEventKind::kTimeline: timeline(e.a); break;
    }
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
  r.sends = sends_;
  add_bounds(&r);
  for (int s = 0; s < n_; ++s) {
    if (!up_[static_cast<size_t>(s)]) continue;
    for (uint32_t c = 0; c < newest_.size(); ++c) {
      if (newest_[c].empty()) continue;
      ++r.residue_pairs;
      const Record* record = nodes_[static_cast<size_t>(s)].records().find(workload_.client_name(c));
      if (record == nullptr || record->at_line() != newest_[c]) ++r.residue_stale;
    }
  }
  r.digest = state_digest(nodes());
  r.events = events_;
  r.deliveries = deliveries_;
  r.duplicates = tracker_.duplicates();
  for (int link = 0; link < faults_.link_count(); ++link) {
    const LinkCounters& c = faults_.counters(link);
    r.dropped += c.dropped, r.cut += c.cut, r.overflow += c.overflow;
  }
  r.arrivals = tracker_.arrivals(), r.hops_sum = tracker_.hops_sum(), r.hops_max = tracker_.hops_max();
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
  for (const Node& node : nodes_) pending += node.pending_places();
  const uint64_t asked = iamats_ + whatsats_ - refused_;
  if (replies_ + lost_ + pending != asked) {
    r->checks.push_back({"commands_answered", std::to_string(replies_ + lost_ + pending), std::to_string(asked), false,
                         "commands answered " + std::to_string(replies_) + " + lost " + std::to_string(lost_) +
                             " + pending " + std::to_string(pending) + " != asked " + std::to_string(asked)});
  }
}

}  // namespace herd
