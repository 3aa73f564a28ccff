#include "sim/memory_budget.h"

#include <algorithm>
#include <cmath>

#include "node/clock.h"
#include "node/node.h"
#include "sim/metrics.h"

namespace herd {
namespace {

double rate_of(int64_t interval_ns) { return interval_ns <= 0 ? 0 : 1e9 / static_cast<double>(interval_ns); }

uint64_t bytes_of(double v) {
  if (!(v > 0)) return 0;
  if (v >= 1.8e19) return UINT64_MAX;
  return static_cast<uint64_t>(v);
}

uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// IAMATs over [0, duration): the base rate, replaced by each burst's while it lasts.
double expected_updates(const Scenario& s) {
  const Workload& w = s.workload;
  const double base = rate_of(w.iamat_interval_ns);
  double n = base * static_cast<double>(s.duration_ns) / 1e9;
  for (const Burst& b : w.bursts) {
    const int64_t from = std::min(b.at_ns, s.duration_ns);
    const int64_t to = std::min(b.at_ns + b.duration_ns, s.duration_ns);
    n += (rate_of(b.iamat_interval_ns) - base) * static_cast<double>(to - from) / 1e9;
  }
  return std::max(0.0, n);
}

}  // namespace

uint64_t at_line_bytes(const Scenario& s) {
  size_t origin = 1;
  for (const TopologyNode& node : s.topology.nodes) origin = std::max(origin, node.name.size());
  // "c" and at least four digits (sim/workload.cc).
  const size_t client = 1 + std::max<size_t>(4, std::to_string(std::max<int64_t>(0, s.workload.clients - 1)).size());
  // "AT " origin " +0.000000000 " client " +34.068930-118.445127 " "1700000000.000000000"
  return 3 + origin + 1 + 12 + 1 + client + 1 + 22 + 1 + 20;
}

std::string mib_text(uint64_t bytes) { return std::to_string(bytes / kMiB + (bytes % kMiB != 0 ? 1 : 0)) + " MiB"; }

MemoryPlan plan_memory(const Scenario& s) {
  MemoryPlan plan;
  const double n = static_cast<double>(s.topology.nodes.size());
  const double m = static_cast<double>(s.topology.links.size());
  const double clients = static_cast<double>(s.workload.clients);
  const double line = static_cast<double>(at_line_bytes(s));
  plan.updates = expected_updates(s);
  plan.reported = s.workload.fresh_clients ? std::min(clients, plan.updates)
                                           : clients * (1 - std::exp(-plan.updates / clients));
  // The tracker keeps at most this many updates (sim/metrics.h); later ones are untracked.
  const double words = std::ceil(n / 64);
  const double tracked = std::min(plan.updates, std::max(1.0, std::floor(2147483648.0 / (64 * words))));
  // Every server holds every reported client's record, within its table's bounds.
  const NodeConfig defaults;
  const double per_server = std::min({plan.reported * (line + memcost::kRecord),
                                      static_cast<double>(defaults.max_records) * (line + memcost::kRecord),
                                      static_cast<double>(defaults.max_record_bytes) * 1.25});
  auto count = [](double v) { return std::to_string(std::llround(v)); };
  plan.parts.push_back({"server-client pairs", "workload.clients",
                        count(clients) + " clients x " + count(n) + " servers",
                        bytes_of(n * clients * memcost::kPair + clients * memcost::kClient)});
  plan.parts.push_back({"records held", "workload.clients",
                        "about " + count(plan.reported) + " reporting clients' records at each of " + count(n) +
                            " servers",
                        bytes_of(n * per_server + plan.reported * 2 * (line + 32))});
  plan.parts.push_back({"updates", "workload.iamat_per_s",
                        "about " + count(plan.updates) + " updates (iamat_per_s x duration_ms)",
                        bytes_of(tracked * (memcost::kUpdate + line + 8 * words))});
  plan.parts.push_back({"servers and links", "topology", count(n) + " servers and " + count(m) + " links",
                        bytes_of(n * memcost::kServer + m * (memcost::kLink + memcost::kConn))});
  plan.parts.push_back({"the process", "", "code and libraries", memcost::kBase});
  std::stable_sort(plan.parts.begin(), plan.parts.end(),
                   [](const MemoryPart& a, const MemoryPart& b) { return a.bytes > b.bytes; });
  for (const MemoryPart& p : plan.parts) plan.total = add_sat(plan.total, p.bytes);
  return plan;
}

}  // namespace herd
