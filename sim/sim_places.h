// The simulated Places service: a deterministic Nearby Search. The answer is a
// function of the run's Places sub-seed and the query alone (a legacy-API body
// with 1..20 made-up places), so a replayed or repeated run gets the same bytes;
// failures, when the scenario asks for some, come from a stream drawn in event
// order. The simulator delivers the answer after the workload's Places latency.
#pragma once
#include <cstdint>
#include <string>

#include "node/effects.h"
#include "node/places.h"
#include "node/rng.h"

namespace herd {

class SimPlaces {
 public:
  SimPlaces(uint64_t seed, uint64_t failure_ppm);

  // The body Google's legacy API might send for `query`.
  std::string body(const PlacesQuery& query) const;
  // The outcome of one request whose body was made by body(): a failure with the
  // configured probability (one draw per call, whatever the settings).
  PlacesResult answer(std::string body);

  uint64_t failures() const { return failures_; }

 private:
  uint64_t seed_;
  Probability failure_;
  Rng failures_rng_;
  uint64_t failures_ = 0;
};

}  // namespace herd
