// The simulated clients (sim/scenario.h's Workload): who reports where and when.
// IAMATs arrive as a Poisson process (a burst replaces the rate while it lasts),
// each from a uniformly chosen client at a uniformly chosen server, with the
// client's own clock (virtual wall time plus its skew) strictly increasing per
// client. WHATSATs arrive likewise and ask about a client that has reported.
// Deterministic: separate streams per purpose, each derived from one sub-seed, so
// e.g. the WHATSAT rate does not change which IAMATs happen.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "node/clock.h"
#include "node/rng.h"
#include "sim/scenario.h"

namespace herd {

// The virtual clock's origin as wall time: 2023-11-14T22:13:20Z, a fixed instant so
// runs do not depend on when they happen.
constexpr int64_t kSimWallBaseNs = 1'700'000'000 * kNsPerSec;

struct ClientCommand {
  uint32_t client = 0;  // Index; its name is client_name(client).
  int server = 0;       // Index into the topology's nodes.
  std::string line;     // Without '\n'.
};

class ClientWorkload {
 public:
  // `wall_base_ns` is the clients' wall clock at time 0 (the simulator's fixed
  // instant; the live runner's real clock at the start).
  ClientWorkload(const Workload& workload, int servers, uint64_t seed, int64_t wall_base_ns = kSimWallBaseNs);

  // The next IAMAT (WHATSAT) arrival after `now_ns`; INT64_MAX when none ever.
  int64_t next_iamat_ns(int64_t now_ns);
  int64_t next_whatsat_ns(int64_t now_ns);
  ClientCommand iamat(int64_t now_ns);
  // Nothing to ask about until a client has reported: then `false`.
  bool whatsat(int64_t now_ns, ClientCommand* out);

  const std::string& client_name(uint32_t client) const { return names_[client]; }
  uint32_t clients() const { return static_cast<uint32_t>(names_.size()); }
  // Each server's wall-clock offset, drawn once.
  int64_t server_skew_ns(int server) const { return server_skew_ns_[static_cast<size_t>(server)]; }

 private:
  struct Client {
    int64_t skew_ns = 0;
    int64_t last_time_ns = INT64_MIN;  // Its last IAMAT's time, on its own clock.
    int64_t lat_u = 0, lng_u = 0;      // Micro-degrees.
    bool reported = false;
  };
  int64_t next_arrival(int64_t now_ns, int64_t base_interval_ns, bool bursts, Rng& rng);

  Workload w_;
  int servers_;
  int64_t wall_base_ns_;
  Rng iamat_times_, iamat_choice_, whatsat_times_, whatsat_choice_;
  std::vector<Client> clients_;
  std::vector<std::string> names_;
  std::vector<uint32_t> reported_;  // Clients that have reported, in order of first report.
  std::vector<int64_t> server_skew_ns_;
};

// "+34.068930-118.445127" from micro-degrees.
std::string location_text(int64_t lat_u, int64_t lng_u);
// POSIX seconds with nine decimals: "1700000000.000000001" (negative: "-0.5..." form).
std::string time_text(int64_t ns);

}  // namespace herd
