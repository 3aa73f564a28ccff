// What `herd sim` reports: the figures of one run, as a readable table or as one
// JSON object, and the checks the run passed or failed. Every figure but wall_ms and
// the rates derived from it is a function of the scenario and the seed; numbers are
// printed from integers (json_bytes.h), so the same run prints the same bytes
// everywhere.
//
// JSON keys: seed, scenario, topology, servers, links, components (connected
// components of the topology), updates, reached_all (updates a copy of which reached
// every server at some point), superseded (updates that missed servers which all got
// a newer record of the same client; never counted in reached_all), lost (the rest:
// updates - reached_all - superseded), holds_at_end {holding, pairs, first_behind}
// (the final state: (live server, reported client) pairs where the server holds the
// client's newest record), after_faults {last_fault_ms, stale, repaired, never,
// p50_ms, max_ms} (the pairs stale at the last fault and how long each took to be
// repaired), sync {sessions, messages, bytes, records_sent, records_stored, heals,
// messages_per_update, bytes_per_update, messages_per_heal, bytes_per_heal},
// safety {store_regressions, serve_regressions, malformed_replies, answered_twice,
// monotonic_read_violations}, residue_series [[t_ms, stale pairs], ...], latency_ms {p50, p95, p99, max} (IAMAT to the last server,
// converged updates only), msgs_per_update (flood messages handed to links, per
// update), bounds {tree, flood} (what one update costs over a spanning tree and by
// flooding: n-1 and 2m-(n-1) of its origin's component; see bounds_per), residue
// (fraction of (up server, reported client) pairs whose final record is not the
// client's newest), digest (state_digest of every server), events, deliveries,
// duplicates (deliveries of an update to a server that had it already), dropped,
// cut, overflow, hops {mean, max} (at first arrival), clients {iamat, whatsat,
// replies, invalid, refused, unanswered (lost with a crashed server),
// places_failures}, sim_ms, wall_ms, compression (sim_ms / wall_ms; wall_ms times
// the event loop only), deliveries_per_s (per wall-clock second of the event loop),
// checks (every check, passed or not: [{"name", "figure", "bound", "pass"}]), notes,
// swarm (a swarm scenario's draw, sim/swarm.h; absent otherwise).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace herd {

// One check of a run: an `expect` key of the scenario (named after it), the run
// having finished within max_events ("max_events"), or a broken invariant of the
// simulator itself (listed only when it fails). `figure` and `bound` are JSON
// number text, rounded towards failing (a min's figure down, a max's up), so the
// printed figure is on the bound's failing side exactly when the check fails.
struct Check {
  std::string name;
  std::string figure;
  std::string bound;
  bool pass = false;
  std::string failure;  // When !pass: one sentence for stderr.
};

struct Report {
  std::string host = "sim";  // "sim" (herd sim) or "live" (herd run --scenario).
  std::string scenario, topology;
  uint64_t seed = 0;
  int servers = 0, links = 0, components = 1;
  uint64_t updates = 0, reached_all = 0, superseded = 0, untracked = 0;
  int64_t latency_p50_ns = 0, latency_p95_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  uint64_t sends = 0;  // Flood messages handed to links.
  // The bounds per update are bound_tree / bounds_per and bound_flood / bounds_per:
  // with one component, n-1 and 2m-(n-1) over 1. With several, an update floods only
  // its origin's component, so each update counts its own component's bounds and
  // bounds_per is the number of updates (the number of servers, each counting its
  // component's, when there is none): never the n-1 of servers it cannot reach, and
  // never below zero.
  uint64_t bound_tree = 0, bound_flood = 0, bounds_per = 1;
  uint64_t residue_stale = 0, residue_pairs = 0;  // At the end: stale pairs of all pairs.
  std::string first_behind;                      // "client c0007 at server n3", or "".
  // After the last fault (last_fault_ns -1: none): pairs stale then, repaired since,
  // never repaired, and the repair times.
  int64_t last_fault_ns = -1;
  uint64_t fault_stale = 0, fault_repaired = 0, fault_never = 0;
  int64_t repair_p50_ns = 0, repair_max_ns = 0;
  // The liveness check's moment and what it found (converge_after_faults_ms).
  bool liveness_checked = false;
  int64_t liveness_at_ns = 0;
  uint64_t liveness_stale = 0;
  std::string liveness_behind;
  // Anti-entropy, over every server.
  uint64_t sync_sessions = 0, sync_messages = 0, sync_bytes = 0, sync_records_sent = 0, sync_records_stored = 0;
  uint64_t heals = 0;  // Timeline events that end a fault: heal, heal_all, restart, resume.
  uint64_t store_regressions = 0, serve_regressions = 0, malformed_replies = 0, answered_twice = 0;
  uint64_t monotonic_read_violations = 0;
  std::vector<std::pair<int64_t, uint64_t>> residue_series;  // (sim ns, stale pairs).
  uint64_t digest = 0;
  uint64_t events = 0, deliveries = 0, duplicates = 0, dropped = 0, cut = 0, overflow = 0;
  uint64_t blackholed = 0;
  // Protocol messages lost at a link: the sum of the link being down when they were
  // sent, its queue being full, and their connection closing before they left.
  uint64_t link_lost = 0, link_lost_down = 0, link_lost_full = 0, link_lost_closed = 0;
  uint64_t arrivals = 0, hops_sum = 0;
  int hops_max = 0;
  uint64_t iamats = 0, whatsats = 0, replies = 0, invalid = 0, refused = 0, lost = 0;
  uint64_t places_failures = 0;
  int64_t sim_ns = 0;
  int64_t wall_ns = 0;  // Measured by the caller around the run; 0 when not.
  std::vector<Check> checks;       // Every check, in the order they are printed.
  std::vector<std::string> notes;  // E.g. a timeline action the fault layer refused.
  std::string swarm_json;          // A swarm scenario's draw for this seed (sim/swarm.h), or "".

  bool passed() const;  // Every check passed.
};

std::string report_text(const Report& r);
// One line, no '\n'. Without wall figures when with_wall is false (for comparing runs).
std::string report_json(const Report& r, bool with_wall = true);
// One check per `expect` key the scenario gives, in a fixed order: reached_all_min,
// reached_all_or_superseded_min, residue_max, latency_max_ms, msgs_per_update_max,
// converge_after_faults_ms, monotonic_reads_max.
std::vector<Check> expectation_checks(const Report& r, const Expect& expect);
// The safety checks every run has: stores_monotonic, serves_held,
// replies_well_formed, answered_once (figure: violations; bound 0).
std::vector<Check> safety_checks(const Report& r);
// The max_events check: `cut_short` when the run stopped with events still due.
Check max_events_check(const Report& r, uint64_t max_events, bool cut_short, int64_t end_ns);
// The memory budget's check (sim/memory_budget.h): the most the run held at a look,
// in MiB, against max_memory_mb; `cut_short` when the run stopped there.
Check max_memory_check(const Report& r, uint64_t peak_bytes, uint64_t max_memory_mb, bool cut_short, int64_t end_ns);
// What `herd sim` prints when a check failed: each failure, then the seed and the
// command that replays the run:
//   herd sim: check failed: converged 3 of 5 updates (0.600000), below reached_all_min 1.000000
//   herd sim: seed 7; replay with: herd sim sim/scenarios/x.json --seed 7
std::string failure_text(const Report& r, const std::string& scenario_path);

}  // namespace herd
