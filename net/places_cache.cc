#include "net/places_cache.h"

#include <tuple>

namespace herd {

bool PlacesCacheKey::operator<(const PlacesCacheKey& o) const {
  return std::tie(api, lat, lng, radius_m) < std::tie(o.api, o.lat, o.lng, o.radius_m);
}

const PlacesResult* PlacesCache::find(const PlacesCacheKey& key, int bound, uint64_t now_ms) {
  if (!enabled()) return nullptr;
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (expired(it->second, now_ms)) {
    erase(it);
    return nullptr;
  }
  if (key.api == PlacesApi::kNew && it->second.bound < bound) return nullptr;
  return &it->second.result;
}

void PlacesCache::store(const PlacesCacheKey& key, int bound, const PlacesResult& result,
                        uint64_t now_ms) {
  if (!enabled()) return;
  auto it = entries_.find(key);
  if (it != entries_.end()) erase(it);
  // Oldest first: drop what has expired, then what no longer fits.
  while (!order_.empty() && (entries_.size() >= max_entries_ ||
                             expired(entries_.at(order_.begin()->second), now_ms))) {
    erase(entries_.find(order_.begin()->second));
  }
  uint64_t seq = next_seq_++;
  entries_.emplace(key, Entry{result, bound, now_ms, seq});
  order_.emplace(seq, key);
}

void PlacesCache::erase(Entries::iterator it) {
  order_.erase(it->second.seq);
  entries_.erase(it);
}

}  // namespace herd
