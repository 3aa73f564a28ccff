// The check behind `herd bench --verify` (sim/bench_cli.h): after a run, no update was
// lost when every sampled client's newest record is current at every server named.
// WHATSAT is the client protocol's only read, and a server answers it only once its
// Places request is over (at once, a minute, or its own timeout: the herd's is 10 s),
// so the check reads just the AT line of each reply, pipelines the requests (up to
// kInFlightMax per server, so a slow Places is waited for about once, not once per
// client) and asks every server at the same time, one thread each. Clients not yet
// current are asked again until the flood timeout, since floods may still be on
// their way when the load stops; a reply is given up on after kReplyWait.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "net/bench/bench_client.h"

namespace herd::bench {

// Longer than the herd's Places timeout (net/places_client.h), so a server whose
// Places never answers still answers the check (with an UNKNOWN_ERROR body).
constexpr std::chrono::milliseconds kReplyWait{15'000};
// Below a herd connection's 1024 unanswered WHATSATs (net/client_conn.h), past which
// it stops reading from that client until half are answered.
constexpr size_t kInFlightMax = 1'000;

// What one server showed for the clients checked there.
struct Verified {
  Endpoint server;
  int64_t checked = 0, current = 0, stale = 0, missing = 0, failed = 0;
  std::string error;  // Why some were not answered, when some were not.
  bool all_current() const { return checked > 0 && current == checked; }
};

// At most about `max` clients of `rep`, evenly spaced, each of which made a request.
std::vector<int64_t> sample_clients(const BenchReport& rep, int64_t max);

// Asks each of `servers` for each client of `sample`, all servers at once, until all
// are current or `flood_timeout` passes (a round of questions already started is
// finished). One Verified per server, in the order given.
std::vector<Verified> verify_all(const std::vector<Endpoint>& servers, const BenchReport& rep,
                                 const std::vector<int64_t>& sample,
                                 std::chrono::milliseconds flood_timeout);

}  // namespace herd::bench
