// The check behind `herd bench --verify` (sim/bench_cli.h): after a run, no update was
// lost when every sampled client's newest record is current at a server. Each server is
// asked with pipelined `WHATSAT <id> 10 1` over blocking loopback sockets, every read
// bounded by poll(); clients not yet current are asked again until a timeout, since
// floods may still be on their way when the load stops.
#pragma once
#include <chrono>
#include <cstdint>
#include <vector>

#include "net/bench_client.h"

namespace herd::bench {

// What one server showed for the clients checked there.
struct Verified {
  Endpoint server;
  int64_t checked = 0, current = 0, stale = 0, missing = 0, failed = 0;
};

// At most about `max` clients of `rep`, evenly spaced, each of which made a request.
std::vector<int64_t> sample_clients(const BenchReport& rep, int64_t max);

// Asks `server` for each client of `todo` until all are current or `timeout` passes.
Verified verify(const Endpoint& server, const BenchReport& rep, std::vector<int64_t> todo,
                std::chrono::milliseconds timeout);

}  // namespace herd::bench
