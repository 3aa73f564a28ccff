// Per-update metrics, measured at delivery (not sampled). An update is one IAMAT
// stored at its origin; the simulator tags every flood message with its update's
// id, so a delivery finds its update without parsing or hashing. Flat vectors
// indexed by update id, plus one bit per (update, server) for "has arrived".
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace herd {

constexpr uint32_t kNoUpdate = UINT32_MAX;

class UpdateTracker {
 public:
  // Bounds memory: at most `max_bits` bits of arrival state (updates * servers).
  UpdateTracker(int servers, uint64_t max_bits = uint64_t{1} << 31);

  // A new update stored at `origin` at `time_ns` (its arrival there, hop 0), or
  // kNoUpdate when the bound is reached (counted in untracked()).
  uint32_t add(int origin, int64_t time_ns, uint32_t client);
  // A flood message of update `u` handed to a link.
  void sent(uint32_t u) {
    if (u != kNoUpdate) ++msgs_[u];
  }
  // A flood message of update `u` reached `server`, having crossed `hops` links.
  void arrive(uint32_t u, int server, int64_t time_ns, int hops);

  uint32_t updates() const { return static_cast<uint32_t>(time_.size()); }
  bool converged(uint32_t u) const { return reached_[u] == static_cast<uint32_t>(servers_); }
  int64_t latency_ns(uint32_t u) const { return last_[u] - time_[u]; }
  uint32_t reached(uint32_t u) const { return reached_[u]; }
  uint32_t msgs(uint32_t u) const { return msgs_[u]; }
  uint32_t client(uint32_t u) const { return client_[u]; }
  int origin(uint32_t u) const { return static_cast<int>(origin_[u]); }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t arrivals() const { return arrivals_; }  // First arrivals past the origin.
  uint64_t hops_sum() const { return hops_sum_; }
  int hops_max() const { return hops_max_; }
  uint64_t untracked() const { return untracked_; }
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
  uint64_t duplicates_ = 0, arrivals_ = 0, hops_sum_ = 0, untracked_ = 0;
  int hops_max_ = 0;
};

}  // namespace herd
