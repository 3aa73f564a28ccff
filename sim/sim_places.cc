#include "sim/sim_places.h"

#include <utility>

#include "node/hash.h"
#include "node/json_bytes.h"

namespace herd {

SimPlaces::SimPlaces(uint64_t seed, uint64_t failure_ppm)
    : seed_(seed),
      failure_(failure_ppm >= 1'000'000 ? Probability::always()
                                         : Probability::of(static_cast<double>(failure_ppm) / 1e6)),
      failures_rng_(derive(seed, "places-failures")) {}

std::string SimPlaces::body(const PlacesQuery& query) const {
  Hasher h;
  h.u64(seed_);
  h.text(query.lat);
  h.text(query.lng);
  h.i64(query.radius_m);
  const uint64_t key = h.value();
  const int count = 1 + static_cast<int>(key % 20);
  // Google's own layout: three-space indent, " : " after keys.
  std::string out = "{\n   \"html_attributions\" : [],\n   \"results\" : [\n";
  for (int i = 0; i < count; ++i) {
    const uint64_t id = mix64(key + static_cast<uint64_t>(i));
    out += "      {\n         \"name\" : \"Sim Place " + std::to_string(i + 1) + "\",\n";
    out += "         \"place_id\" : \"sim" + hex16(id) + "\",\n";
    out += "         \"rating\" : " + fixed_point(static_cast<int64_t>(10 + id % 41), 1) + ",\n";
    out += "         \"vicinity\" : \"" + std::to_string(1 + id % 999) + " Sim Street, near " +
           query.lat + "," + query.lng + "\"\n      }";
    out += i + 1 < count ? ",\n" : "\n";
  }
  out += "   ],\n   \"status\" : \"OK\"\n}\n";
  return out;
}

PlacesResult SimPlaces::answer(std::string body) {
  PlacesResult result;
  if (failures_rng_.bernoulli(failure_)) {
    ++failures_;
    result.failure = "timed out after 10 s (simulated)";
    return result;
  }
  result.transport_ok = true;
  result.http_status = 200;
  result.body = std::move(body);
  return result;
}

}  // namespace herd
