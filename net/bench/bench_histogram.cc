#include "net/bench/bench_histogram.h"

#include <algorithm>
#include <bit>

namespace herd::bench {
namespace {

constexpr int kSubBits = 6;
constexpr uint64_t kSub = uint64_t{1} << kSubBits;
constexpr size_t kBuckets = 66 * kSub;  // Covers every non-negative int64.

size_t bucket_of(int64_t value) {
  uint64_t u = value < 0 ? 0 : static_cast<uint64_t>(value);
  if (u < 2 * kSub) return u;
  int shift = (63 - std::countl_zero(u)) - kSubBits;
  return kSub * shift + (u >> shift);
}

int64_t bucket_high(size_t index) {
  if (index < 2 * kSub) return static_cast<int64_t>(index);
  int shift = static_cast<int>(index / kSub) - 1;
  uint64_t m = index - kSub * shift;
  return static_cast<int64_t>(((m + 1) << shift) - 1);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

void LatencyHistogram::record(int64_t value) {
  if (value < 0) value = 0;
  ++counts_[bucket_of(value)];
  ++count_;
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

int64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_high(i), max_);
  }
  return max_;
}

}  // namespace herd::bench
