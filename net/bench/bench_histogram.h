// LatencyHistogram: the latency figures of `herd bench` (net/bench_client.h), after
// HdrHistogram: logarithmic buckets, each split into 64 linear ones, so every value is
// counted with a relative error below 1/64. Values are non-negative ns; a negative one
// counts as 0. Fixed size (66 * 64 counters), whatever is recorded.
#pragma once
#include <cstdint>
#include <vector>

namespace herd::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();
  void record(int64_t value);
  uint64_t count() const { return count_; }
  // The highest value of the bucket holding the q-quantile (0 <= q <= 1); 0 if empty.
  int64_t quantile(double q) const;
  int64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace herd::bench
