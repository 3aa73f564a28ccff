#include "node/check.h"
#include "sim/metrics.h"

#include <algorithm>

#include "node/node.h"
#include "node/protocol.h"

namespace herd {

UpdateTracker::UpdateTracker(int servers, uint64_t max_bits)
    : servers_(servers),
      words_(static_cast<size_t>((servers + 63) / 64)),
      max_updates_(std::max<uint64_t>(1, max_bits / (64 * words_))) {
  HERD_ASSERT(servers >= 1);
}

uint32_t UpdateTracker::add(int origin, int64_t time_ns, uint32_t client, std::string_view at_line) {
  if (time_.size() >= max_updates_ || time_.size() >= kNoUpdate) {
    ++untracked_;
    return kNoUpdate;
  }
  const auto u = static_cast<uint32_t>(time_.size());
  time_.push_back(time_ns);
  last_.push_back(time_ns);
  origin_.push_back(static_cast<uint32_t>(origin));
  client_.push_back(client);
  reached_.push_back(1);
  msgs_.push_back(0);
  bits_.resize(bits_.size() + words_, 0);
  bits_[u * words_ + static_cast<size_t>(origin) / 64] |= uint64_t{1} << (origin % 64);
  lines_.emplace_back(at_line);
  // A std::string's own 32 bytes, and past its inline 15 a heap block (malloc's
  // 16-byte granules and its 8-byte header).
  line_bytes_ += sizeof(std::string) + (at_line.size() > 15 ? (at_line.size() + 1 + 8 + 15) / 16 * 16 : 0);
  by_line_.emplace(lines_.back(), u);
  return u;
}

uint64_t UpdateTracker::memory_bytes() const {
  const uint64_t vectors = (time_.capacity() + last_.capacity()) * sizeof(int64_t) +
                           (origin_.capacity() + client_.capacity() + reached_.capacity() + msgs_.capacity()) *
                               sizeof(uint32_t) +
                           bits_.capacity() * sizeof(uint64_t);
  // An unordered_map node: the next pointer, the key and value, the cached hash.
  const uint64_t index = by_line_.bucket_count() * sizeof(void*) + by_line_.size() * 48;
  return vectors + line_bytes_ + index;
}

uint32_t UpdateTracker::find(std::string_view at_line) const {
  auto it = by_line_.find(at_line);
  return it == by_line_.end() ? kNoUpdate : it->second;
}

void UpdateTracker::arrive(uint32_t u, int server, int64_t time_ns, int hops) {
  if (u == kNoUpdate) return;
  uint64_t& word = bits_[u * words_ + static_cast<size_t>(server) / 64];
  const uint64_t bit = uint64_t{1} << (server % 64);
  if (word & bit) {
    ++duplicates_;
    return;
  }
  word |= bit;
  ++reached_[u];
  last_[u] = std::max(last_[u], time_ns);
  ++arrivals_;
  if (hops > 0) {
    ++flood_arrivals_;
    hops_sum_ += static_cast<uint64_t>(hops);
    hops_max_ = std::max(hops_max_, hops);
  }
}

uint64_t UpdateTracker::superseded(uint32_t clients) const {
  // Update ids grouped by client (a counting sort keeps each client's in id order,
  // which is time order), then each client's updates newest first, with the union
  // of the servers its later updates reached.
  std::vector<uint32_t> start(static_cast<size_t>(clients) + 1, 0);
  for (const uint32_t c : client_) ++start[c + 1];
  for (size_t c = 0; c < clients; ++c) start[c + 1] += start[c];
  std::vector<uint32_t> by_client(client_.size());
  std::vector<uint32_t> fill(start.begin(), start.end() - 1);
  for (uint32_t u = 0; u < client_.size(); ++u) by_client[fill[client_[u]]++] = u;
  uint64_t count = 0;
  std::vector<uint64_t> later(words_);
  for (size_t c = 0; c < clients; ++c) {
    std::fill(later.begin(), later.end(), 0);
    for (uint32_t i = start[c + 1]; i > start[c]; --i) {
      const uint32_t u = by_client[i - 1];
      const uint64_t* reached = &bits_[u * words_];
      if (!converged(u)) {
        bool covered = true;
        for (size_t w = 0; w < words_ && covered; ++w) {
          const uint64_t all = (w + 1 < words_ || servers_ % 64 == 0) ? ~uint64_t{0}
                                                                      : (uint64_t{1} << (servers_ % 64)) - 1;
          covered = ((reached[w] | later[w]) & all) == all;
        }
        count += covered ? 1 : 0;
      }
      for (size_t w = 0; w < words_; ++w) later[w] |= reached[w];
    }
  }
  return count;
}

}  // namespace herd
