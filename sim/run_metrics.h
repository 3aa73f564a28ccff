// What a run did, measured where it happened (not sampled), the same way in both
// hosts: RunMetrics is an InputObserver on every NodeDriver of the herd (the
// simulator's, or the live herd's of `herd run --scenario`) and sees every input
// with its effects and the node after it. From that it keeps:
//   - per update (an IAMAT stored at its origin): which servers a copy reached, when,
//     over how many hops, and how many flood messages it cost (UpdateTracker);
//   - per (server, client): whether the server holds the client's newest record now,
//     so residue, its series over time and the state at the end are exact, and the
//     liveness check can name the first pair that is behind;
//   - after each fault the host reports (fault_at), the pairs that were stale then
//     and when each was repaired;
//   - safety: a server that stores a record older than one it stored before (since
//     its last crash), a reply that is not well formed, a request answered twice, a
//     WHATSAT whose AT line is not the record the server held when it was asked, and
//     monotonic reads (a client that reads a record older than one it read before).
// Memory: 10 bytes per (server, client) pair, and an AT line per update; memory_bytes()
// counts it for the run's budget (sim/memory_budget.h), with the servers' record
// tables, which it follows input by input.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "node/input_observer.h"
#include "node/topology.h"
#include "sim/metrics.h"

namespace herd {

struct SafetyFigures {
  uint64_t store_regressions = 0;  // A server stored a record older than its previous one.
  uint64_t serve_regressions = 0;  // A WHATSAT served another record than the one held when asked.
  uint64_t malformed_replies = 0;  // Neither "AT ...\n", "? ...\n", nor AT line + JSON + "\n\n".
  uint64_t answered_twice = 0;     // A second answer to one request.
  uint64_t monotonic_read_violations = 0;  // A client read a record older than one it had read.
};

struct AfterFaults {
  int64_t last_fault_ns = -1;  // -1: no fault.
  uint64_t stale = 0;          // Pairs stale at the last fault.
  uint64_t repaired = 0;       // Of those, repaired since.
  std::vector<int64_t> repair_ns;  // Each repaired pair's time from the fault.
};

class RunMetrics final : public InputObserver {
 public:
  // `client_index` maps a client id to its index (< clients), or kNoUpdate for a
  // client that is not the workload's (not tracked).
  RunMetrics(int servers, uint32_t clients, std::function<uint32_t(std::string_view)> client_index);

  void on_input(int node_index, const Input& input, std::span<const Effect> outputs,
                const Node& node) override;

  // The host applied a fault (a timeline event) at `now_ns`.
  void fault_at(int64_t now_ns);
  // Adds a point to the residue series.
  void sample(int64_t now_ns) { series_.push_back({now_ns, stale_pairs()}); }

  const UpdateTracker& tracker() const { return tracker_; }
  uint64_t flood_messages() const { return flood_messages_; }
  uint64_t deliveries() const { return deliveries_; }  // Flood messages read by their receiver.
  uint64_t inputs() const { return inputs_; }          // Node inputs seen.
  // (server, client) pairs over live servers and reported clients, and the stale ones.
  uint64_t pairs() const { return static_cast<uint64_t>(live_count_) * reported_; }
  uint64_t stale_pairs() const { return pairs() - holding_live_; }
  // The first pair behind, by client then server, as "client c0007 at server n3"; "".
  std::string first_behind(const std::vector<std::string>& servers, const std::vector<std::string>& clients) const;
  const SafetyFigures& safety() const { return safety_; }
  const AfterFaults& after_faults() const { return after_; }
  uint64_t never_repaired() const;  // Pairs stale at the last fault, on live servers, still stale.
  const std::vector<std::pair<int64_t, uint64_t>>& series() const { return series_; }
  uint64_t outstanding() const { return outstanding_total_; }  // Requests not answered yet.
  // Each client's newest AT line ("" before its first update).
  const std::vector<std::string>& newest_lines() const { return newest_lines_; }
  // The bytes these metrics hold (InputObserver), and those of every server's record
  // table as of its last input (RecordTable::bytes() and its slots).
  uint64_t memory_bytes() const override;
  uint64_t records_bytes() const { return records_bytes_; }

 private:
  size_t pair(int server, uint32_t client) const { return static_cast<size_t>(server) * clients_ + client; }
  void on_offer(int server, int64_t now, const Node& node);
  void on_new_update(int origin, uint32_t client, int64_t now, std::string_view at_line);
  void set_holding(int server, uint32_t client, bool holds, int64_t now);
  void on_client_line(int server, const Input& in, std::span<const Effect> outputs, const Node& node);
  void on_replies(int server, std::span<const Effect> outputs);
  void on_crash(int server);

  int servers_;
  uint32_t clients_;
  std::function<uint32_t(std::string_view)> client_index_;
  UpdateTracker tracker_;
  std::vector<uint64_t> offers_seen_;       // Per server.
  std::vector<uint32_t> newest_update_;     // Per client: kNoUpdate before its first.
  std::vector<uint8_t> holds_;              // Per pair: holds the client's newest.
  std::vector<uint8_t> waiting_;            // Per pair: stale at the last fault, not repaired.
  std::vector<int64_t> stored_ns_;          // Per pair: time of its last stored record.
  std::vector<char> live_;                  // Per server.
  std::vector<uint64_t> table_bytes_;       // Per server: its record table at its last input.
  uint64_t records_bytes_ = 0;              // Their sum.
  uint64_t line_bytes_ = 0;                 // Heap bytes of newest_lines_ and last_read_.
  int live_count_ = 0;
  uint64_t reported_ = 0;
  uint64_t holding_live_ = 0;
  uint64_t flood_messages_ = 0;
  uint64_t deliveries_ = 0;
  uint64_t inputs_ = 0;
  SafetyFigures safety_;
  AfterFaults after_;
  std::vector<std::pair<int64_t, uint64_t>> series_;
  // Requests in flight: (server << 40 | conn) -> answers owed; looked up, never iterated.
  std::unordered_map<uint64_t, int64_t> owed_;
  uint64_t outstanding_total_ = 0;
  // WHATSATs waiting for Places: (server << 40 | request) -> the AT line held when asked.
  std::unordered_map<uint64_t, std::string> asked_;
  uint64_t asked_bytes_ = 0;  // Heap bytes of asked_'s lines.
  std::vector<std::string> last_read_;  // Per client: the newest AT line a reply showed.
  std::vector<std::string> newest_lines_;
};

struct Report;
class FaultState;
// The figures a RunMetrics measured, into a report: updates, reached_all,
// superseded, latency, msgs, duplicates, hops, holds_at_end and residue, after_faults,
// the residue series, safety, and sync (summed over `nodes`). Times in the report
// count from `origin_ns` (the herd's ready, in the nodes' monotonic time).
void fill_report(const RunMetrics& metrics, uint32_t clients, const std::vector<const Node*>& nodes, Report* r,
                 int64_t origin_ns = 0);
// The fault layer's counters, summed over its links, into a report: dropped, cut,
// overflow, blackholed, and what died in closed connections.
void add_fault_counters(const FaultState& faults, Report* r);
// The bounds per update (report.h), over each update's origin's component.
void add_bounds(const Topology& topology, const UpdateTracker& tracker, Report* r);

}  // namespace herd
