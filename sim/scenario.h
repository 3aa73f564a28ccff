// A simulation scenario: a topology, a faults file's plan (node/fault_plan.h), a
// client workload, how long to run, and optionally what to expect. Read from JSON:
//
//   {"name": "lossy", "topology": "../../topologies/ring5.json",   // or an inline
//      // topology object, or {"random": {"nodes": 1000, "degree": 4, "seed": 7}}
//    "duration_ms": 10000,       // the workload runs in [0, duration_ms)
//    "drain_ms": 60000,          // then in-flight work may finish for this long
//    "seed": 1,                  // --seed wins
//    "max_events": 100000000,    // a bound on the run, like every bound (DESIGN.md)
//    "max_memory_mb": 4096,      // the run's memory budget (sim/memory_budget.h)
//    "workload": {"clients": 100, "iamat_per_s": 50, "whatsat_per_s": 5,
//                 "moving": true, "fresh_clients": false, "client_skew_ms": 500, "server_skew_ms": 20,
//                 "places_latency_ms": 50, "places_failure": 0.01,
//                 "bursts": [{"at_ms": 2000, "duration_ms": 500, "iamat_per_s": 400}]},
//    "expect": {"reached_all_min": 1.0, "reached_all_or_superseded_min": 1.0,
//               "residue_max": 0.0, "latency_max_ms": 800, "msgs_per_update_max": 56},
//    "links": {...}, "link_overrides": [...], "timeline": [...]}   // the faults file
//
// A topology path is resolved relative to the scenario file. Unknown keys are
// errors, and so is a timeline event after the run's end (duration_ms + drain_ms).
// Every error names the file, the line and the key:
//   "sim/scenarios/x.json: line 7: workload.clients: must be an integer in 1..1000000"
//   "x.json: line 9: timeline[2].crash: unknown server 'Bob' (servers: n0, n1, n2)"
//   "x.json: line 12: timeline[3].at_ms: 90000 is after the run's end at 70000 ms
//    (duration_ms 10000 + drain_ms 60000)"
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/fault_action.h"
#include "node/link_machine.h"
#include "node/peer_auth.h"
#include "node/result.h"
#include "node/sync.h"
#include "node/topology.h"

namespace herd {

// The memory budget's default and range, in MiB (max_memory_mb, --max-memory-mb).
inline constexpr uint64_t kMaxMemoryMbDefault = 4096;
inline constexpr int64_t kMaxMemoryMbMin = 16;
inline constexpr int64_t kMaxMemoryMbMax = 1 << 20;

// Rates are kept as the mean interval between arrivals (a Poisson process), in ns;
// 0 means "none".
struct Burst {
  int64_t at_ns = 0;
  int64_t duration_ns = 0;
  int64_t iamat_interval_ns = 0;  // Replaces the base rate while the burst lasts.
};

struct Workload {
  int64_t clients = 100;
  int64_t iamat_interval_ns = 20'000'000;     // 50 per second.
  int64_t whatsat_interval_ns = 200'000'000;  // 5 per second.
  bool moving = false;             // Each IAMAT moves its client a little.
  bool fresh_clients = false;      // Each IAMAT from a client that has not reported yet,
                                   // while any is left (then uniformly, as usual).
  int64_t client_skew_ns = 0;      // Each client's clock is off by up to this, either way.
  int64_t server_skew_ns = 0;      // Each server's wall clock is off by up to this.
  int64_t places_latency_ns = 50'000'000;
  uint64_t places_failure_ppm = 0;  // Places answers fail this often (per million).
  std::vector<Burst> bursts;        // Sorted by at_ns, not overlapping.
};

// Checks on the report; absent ones are not checked. reached_all_min counts the
// updates that reached every server; reached_all_or_superseded_min also those
// overtaken by their client's newer update (report.h). converge_after_faults_ms is
// the liveness check: that long after the later of the last fault and the end of the
// workload, every live server must hold every client's newest record.
// monotonic_reads_max bounds the reads that went back in time.
struct Expect {
  std::optional<uint64_t> reached_all_min_ppm;  // Of updates.
  std::optional<uint64_t> reached_all_or_superseded_min_ppm;
  std::optional<uint64_t> residue_max_ppm;
  std::optional<int64_t> latency_max_ns;
  std::optional<uint64_t> msgs_per_update_max_milli;
  std::optional<int64_t> converge_after_faults_ns;
  std::optional<uint64_t> monotonic_reads_max;
};

// The "swarm" section (sim/swarm.h): ranges and probabilities from which each seed
// draws its own faults, nemesis schedule and workload rates. Integers only, so a
// draw is the same everywhere: probabilities in parts per million, rates in
// thousandths per second.
struct SwarmDraw {  // One link-fault key: with probability p_ppm, a value in [lo, hi].
  uint64_t p_ppm = 0;
  int64_t lo = 0, hi = 0;
};
struct SwarmSpec {
  int64_t events_min = 0, events_max = 3;   // Nemesis events per seed.
  int64_t window_lo_ms = 0, window_hi_ms = 0;  // Events start in here (default: the workload).
  int64_t fault_lo_ms = 500, fault_hi_ms = 3000;  // How long a fault lasts until its heal.
  // Relative weights of the kinds, in kSwarmKinds order.
  uint32_t weights[6] = {1, 1, 1, 1, 1, 1};
  std::optional<SwarmDraw> drop, duplicate;  // lo, hi in ppm.
  std::optional<SwarmDraw> delay_ms;         // lo, hi in ms.
  std::optional<SwarmDraw> bandwidth_kbps;
  std::optional<std::pair<int64_t, int64_t>> clients;
  std::optional<std::pair<int64_t, int64_t>> iamat_milli, whatsat_milli;  // Per 1000 s.
};

struct Scenario {
  std::string source;  // The scenario file's path as given ("" when inline text).
  std::string name;
  Topology topology;
  FaultPlan plan;
  int64_t duration_ns = 10'000'000'000;
  int64_t drain_ns = 60'000'000'000;
  std::optional<uint64_t> seed;
  uint64_t max_events = 100'000'000;
  Workload workload;
  Expect expect;
  SyncConfig sync;                          // "sync": every node's anti-entropy.
  LinkTimings link;                         // The link machines' timings.
  uint64_t link_queue_bytes = 16u << 20;    // A connection's send queue limit.
  // The run's memory budget (sim/memory_budget.h): refused at parse time when the
  // plan exceeds it, cut short when the run grows past it.
  uint64_t max_memory_mb = kMaxMemoryMbDefault;
  // The herd key, when the run's peers authenticate (from the command line's secret,
  // never from the file; node/peer_auth.h).
  std::optional<AuthKey> herd_key;
  // The "swarm" section, when given: the scenario is a template, and each seed runs
  // the concrete scenario sim/swarm.h draws from it.
  std::optional<SwarmSpec> swarm;
};

// Reads and parses a topology file (the host's: sim/ reads no file itself).
using TopologyLoader = std::function<Result<Topology>(const std::string& path)>;

// Parses scenario text; `source` names it in errors; a topology path is resolved
// against `base_dir` ("" = the working directory) and read with `load`. Reading the
// scenario file itself is sim/cli/scenario_file.h's. `max_memory_mb`, when given (the
// command line's --max-memory-mb), wins over the file's. A scenario whose planned
// memory (sim/memory_budget.h) exceeds the budget is refused, naming the field that
// sizes its largest part:
//   "x.json: line 9: workload.clients: the run would need about 381476 MiB, over
//    max_memory_mb 4096: 1000000 clients x 40000 servers, server-client pairs ..."
Result<Scenario> parse_scenario(std::string_view text, std::string_view source, const std::string& base_dir,
                                const TopologyLoader& load, std::optional<uint64_t> max_memory_mb = std::nullopt);

// A connected random topology: a random spanning tree plus random extra links up to
// an average degree of `degree` (at least the tree's). Names r0000.. (r00000.. past
// 10,000 nodes, r000000.. past 100,000); server i on host 127.0.(i / 40000).1, port
// 20000 + i % 40000.
// (No file is read, so the limits are the simulator's, not a topology file's.)
constexpr size_t kRandomNodesMax = 1000000;
constexpr size_t kRandomLinksMax = 4000000;
constexpr int kRandomPortsPerHost = 40000;
// REQUIRES: 1 <= nodes <= kRandomNodesMax, degree >= 0. (A scenario's random topology also has
// nodes * degree / 2 <= kRandomLinksMax.)
Topology random_topology(int nodes, int degree, uint64_t seed);

}  // namespace herd
