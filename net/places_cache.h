// PlacesCache: successful (HTTP 200) Places answers by (api, lat, lng, radius), so a
// repeated query is answered without a request. A legacy answer serves any bound (the
// whole page is cached); a New one serves bounds up to the maxResultCount it was asked
// with. Entries live ttl_ms; past max_entries the oldest stored is evicted.
// Time is the caller's monotonic milliseconds; the cache reads no clock.
// Not thread-safe: owned and used by one PlacesClient on its loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "node/places.h"

namespace herd {

struct PlacesCacheKey {
  PlacesApi api = PlacesApi::kLegacy;
  std::string lat;
  std::string lng;
  int64_t radius_m = 0;
  bool operator<(const PlacesCacheKey& o) const;
};

class PlacesCache {
 public:
  // ttl_ms <= 0 or max_entries == 0: the cache is off (find misses, store forgets).
  PlacesCache(int64_t ttl_ms, size_t max_entries) : ttl_ms_(ttl_ms), max_entries_(max_entries) {}

  // The stored answer for `key` if it is fresh and covers `bound`, else nullptr; an
  // expired entry is dropped. The pointer is valid until the next store().
  const PlacesResult* find(const PlacesCacheKey& key, int bound, uint64_t now_ms);

  // Stores `result` (REQUIRES: a 200 answer) asked with `bound`, replacing any entry
  // for `key`; drops expired entries and, past max_entries, the oldest stored.
  void store(const PlacesCacheKey& key, int bound, const PlacesResult& result, uint64_t now_ms);

 private:
  struct Entry {
    PlacesResult result;
    int bound;
    uint64_t stored_ms;
    uint64_t seq;
  };
  using Entries = std::map<PlacesCacheKey, Entry>;

  bool enabled() const { return ttl_ms_ > 0 && max_entries_ > 0; }
  bool expired(const Entry& e, uint64_t now_ms) const {
    return now_ms - e.stored_ms >= static_cast<uint64_t>(ttl_ms_);
  }
  void erase(Entries::iterator it);

  int64_t ttl_ms_;
  size_t max_entries_;
  Entries entries_;
  std::map<uint64_t, PlacesCacheKey> order_;  // Store sequence -> key: oldest first.
  uint64_t next_seq_ = 0;
};

}  // namespace herd
