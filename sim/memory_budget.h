// A run's memory budget (scenario key `max_memory_mb`, `herd sim --max-memory-mb`).
//
// The simulator holds everything in memory, so a scenario can ask for more than the
// machine has: a million clients at 40,000 servers are 4e10 server-client pairs, and
// a million IAMATs a second for a day are 8.6e10 updates. The budget is enforced
// twice, with the same per-item costs (below), so an impossible run is refused
// before it starts and a run that grows past it stops cut short, never an OOM:
//
//   - at parse time, plan_memory() estimates from what the scenario plans: the
//     servers and links, the clients at every server (the metrics' per-pair state
//     and each server's record table), and the expected updates (rates x duration,
//     bursts included) with their per-update state. Over the budget the scenario is
//     refused, naming its largest part's field and the estimate.
//   - during the run, the simulator counts what it holds as it grows (the event
//     queue, messages in flight and link queues, connections, record tables, the
//     metrics per update, what observers keep in memory) every kMemoryCheckEvents
//     events; past the budget the run stops there and its max_memory_mb check fails,
//     as max_events does.
//
// The counts are deterministic (sizes and capacities, not the process's RSS), so a
// run cut short is cut short at the same event every time. They are estimates of
// RSS, within a factor of about two (README, Limits).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace herd {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;

// Per-item costs in bytes, measured against RSS (README, Limits), shared by the
// plan and the run's accounting.
namespace memcost {
inline constexpr uint64_t kBase = 10 * kMiB;      // The process: code, libraries, heap.
inline constexpr uint64_t kServer = 4096;         // A Node, its driver, configs, timers, table digests.
inline constexpr uint64_t kLink = 1792;           // Two link machines, fault state, names.
inline constexpr uint64_t kConn = 512;            // A simulated connection and its four queues.
inline constexpr uint64_t kPair = 10;             // RunMetrics per (server, client): 1 + 1 + 8.
inline constexpr uint64_t kClientHost = 176;      // A workload client, its name and index.
inline constexpr uint64_t kClient = kClientHost + 72;  // With the metrics' per-client state.
inline constexpr uint64_t kRecord = 72;           // A stored record beyond its AT line: block, slot.
inline constexpr uint64_t kUpdate = 176;          // UpdateTracker per update beyond its line and bits.
inline constexpr uint64_t kMessage = 16;          // A message in flight, in its queue (its bytes apart).
}  // namespace memcost

// Events between two looks at the run's memory.
inline constexpr uint64_t kMemoryCheckEvents = 1024;

struct MemoryPart {
  std::string what;    // "server-client pairs"
  std::string field;   // The scenario key that sizes it: "workload.clients".
  std::string detail;  // "1000000 clients x 40000 servers"
  uint64_t bytes = 0;
};

struct MemoryPlan {
  uint64_t total = 0;
  std::vector<MemoryPart> parts;  // Largest first.
  double updates = 0;             // Expected IAMATs over the run.
  double reported = 0;            // Expected clients that report.
};

// What the scenario's run is expected to hold at its largest.
MemoryPlan plan_memory(const Scenario& s);

// The expected length of an AT line of this scenario (origin, client and times).
uint64_t at_line_bytes(const Scenario& s);

// "4096 MiB" (rounded up).
std::string mib_text(uint64_t bytes);

}  // namespace herd
