// Per-update metrics, measured where they happen, not sampled. An update is one
// IAMAT stored at its origin; it arrives at a server when that server stores it (from
// a flood or a sync). RunMetrics (sim/run_metrics.h) sees every node step and tells
// the tracker, so both hosts measure the same way: the simulator, and the live herd
// of `herd run --scenario`. Updates are found by their AT line (one hash lookup per
// stored record, not per message); arrival state is one bit per (update, server).
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "node/input_observer.h"

namespace herd {

constexpr uint32_t kNoUpdate = UINT32_MAX;

class UpdateTracker {
 public:
  // Bounds memory: at most `max_bits` bits of arrival state (updates * servers).
  UpdateTracker(int servers, uint64_t max_bits = uint64_t{1} << 31);

  // A new update stored at `origin` at `time_ns` (its arrival there, hop 0), or
  // kNoUpdate when the bound is reached (counted in untracked()).
  uint32_t add(int origin, int64_t time_ns, uint32_t client, std::string_view at_line);
  uint32_t find(std::string_view at_line) const;  // kNoUpdate when unknown.
  // A copy of update `u` reached `server` (stored there or not: a server that holds
  // something newer has been reached too); `hops` >= 1 for a flood, 0 otherwise.
  // Counted once per server: later copies are duplicates.
  void arrive(uint32_t u, int server, int64_t time_ns, int hops);

  uint32_t updates() const { return static_cast<uint32_t>(time_.size()); }
  bool converged(uint32_t u) const { return reached_[u] == static_cast<uint32_t>(servers_); }
  int64_t latency_ns(uint32_t u) const { return last_[u] - time_[u]; }
  int64_t time_ns(uint32_t u) const { return time_[u]; }
  uint32_t reached(uint32_t u) const { return reached_[u]; }
  uint32_t msgs(uint32_t u) const { return msgs_[u]; }  // Its flood messages handed to links.
  void sent(uint32_t u) {
    if (u != kNoUpdate) ++msgs_[u];
  }
  bool reached_server(uint32_t u, int server) const {
    return (bits_[u * words_ + static_cast<size_t>(server) / 64] >> (server % 64)) & 1;
  }
  uint32_t client(uint32_t u) const { return client_[u]; }
  int origin(uint32_t u) const { return static_cast<int>(origin_[u]); }
  uint64_t arrivals() const { return arrivals_; }  // Arrivals past the origin.
  uint64_t duplicates() const { return duplicates_; }  // Copies after a server's first.
  uint64_t hops_sum() const { return hops_sum_; }  // Over flood arrivals.
  uint64_t flood_arrivals() const { return flood_arrivals_; }
  int hops_max() const { return hops_max_; }
  uint64_t untracked() const { return untracked_; }
  // What the tracker holds, in bytes (its vectors' capacities, lines and index).
  uint64_t memory_bytes() const;
  // Updates that did not reach every server, but every server they missed got a
  // later update of the same client: superseded, not lost. REQUIRES: clients bounds
  // every client id given to add().
  uint64_t superseded(uint32_t clients) const;

 private:
  int servers_;
  size_t words_;  // Per update.
  uint64_t max_updates_;
  std::vector<int64_t> time_, last_;
  std::vector<uint32_t> origin_, client_, reached_, msgs_;
  std::vector<uint64_t> bits_;
  // AT line -> update, keyed by views into lines_ (a deque: its strings never move), so
  // a lookup allocates nothing. Looked up, never iterated.
  std::deque<std::string> lines_;
  std::unordered_map<std::string_view, uint32_t> by_line_;
  uint64_t line_bytes_ = 0;  // Heap bytes of lines_'s strings.
  uint64_t arrivals_ = 0, hops_sum_ = 0, flood_arrivals_ = 0, untracked_ = 0, duplicates_ = 0;
  int hops_max_ = 0;
};

}  // namespace herd
