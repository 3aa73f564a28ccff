// What `herd sim` reports: the figures of one run, as a readable table or as one
// JSON object. Every figure but wall_ms and the rates derived from it is a function
// of the scenario and the seed; numbers are printed from integers (json_bytes.h), so
// the same run prints the same bytes everywhere.
//
// JSON keys: seed, scenario, topology, servers, links, updates, converged,
// superseded (updates that missed servers which all got a newer record of the
// same client), lost (the rest: updates - converged - superseded),
// latency_ms {p50, p95, p99, max} (IAMAT to the last server, converged updates only),
// msgs_per_update (flood messages handed to links, per update), bounds {tree: n-1,
// flood: 2m-(n-1)}, residue (fraction of (up server, reported client) pairs whose
// final record is not the client's newest), digest (state_digest of every server),
// events, deliveries, duplicates (deliveries of an update to a server that had it
// already), dropped, cut, hops {mean, max} (at first arrival), clients {iamat,
// whatsat, replies, invalid, refused, unanswered (lost with a crashed server), places_failures}, sim_ms, wall_ms,
// compression (sim_ms / wall_ms; wall_ms times the event loop only), deliveries_per_s
// (per wall-clock second of the event loop), checks
// (failed expectations, empty when all held), notes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace herd {

struct Report {
  std::string scenario, topology;
  uint64_t seed = 0;
  int servers = 0, links = 0;
  uint64_t updates = 0, converged = 0, superseded = 0, untracked = 0;
  int64_t latency_p50_ns = 0, latency_p95_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  uint64_t sends = 0;  // Flood messages handed to links.
  uint64_t bound_tree = 0, bound_flood = 0;
  uint64_t residue_stale = 0, residue_pairs = 0;
  uint64_t digest = 0;
  uint64_t events = 0, deliveries = 0, duplicates = 0, dropped = 0, cut = 0, overflow = 0;
  uint64_t blackholed = 0;
  uint64_t link_lost = 0;  // Protocol messages lost at a link: down, queue full, connection gone.
  uint64_t arrivals = 0, hops_sum = 0;
  int hops_max = 0;
  uint64_t iamats = 0, whatsats = 0, replies = 0, invalid = 0, refused = 0, lost = 0;
  uint64_t places_failures = 0;
  int64_t sim_ns = 0;
  int64_t wall_ns = 0;  // Measured by the caller around the run; 0 when not.
  std::vector<std::string> checks;  // Failed expectations and broken invariants.
  std::vector<std::string> notes;   // E.g. a timeline action the fault layer refused.
};

std::string report_text(const Report& r);
// One line, no '\n'. Without wall figures when with_wall is false (for comparing runs).
std::string report_json(const Report& r, bool with_wall = true);
// The scenario's expectations that the report misses, one sentence each.
std::vector<std::string> failed_expectations(const Report& r, const Expect& expect);
// What `herd sim` prints when r.checks is not empty: each failed check, then the
// seed and the command that replays the run:
//   herd sim: check failed: converged 3 of 5 updates, below converged_min 1.000000
//   herd sim: seed 7; replay with: herd sim sim/scenarios/x.json --seed 7
std::string failure_text(const Report& r, const std::string& scenario_path);

}  // namespace herd
