// The load generator behind `herd bench`: a libuv client that drives one server
// that answers a line per line (a herd server, the floor server, the asyncio herd)
// with IAMATs, closed loop (a fixed number in flight per connection) or open loop (a
// fixed rate); optionally holds many idle connections and measures flood visibility
// at a far server. It runs its own loop; every phase has a deadline, so run_bench
// always returns. Latency is measured from the write of a batch to the read that
// completes each reply, over every reply (no sampling).
//
// Visibility: an IAMAT for a fresh client goes to the target, and at once the far
// server is polled, one request at a time, with `WHATSAT <id> 10 1`. A server
// answers `? ...` at once for a client it does not know; for one it knows, the AT
// line comes first (after its Places request, which the estimate does not wait for).
// The estimate is the send time of the first poll answered with the AT line, minus
// the IAMAT's send time: the record became visible between the previous poll and
// that one, so the error is below one `?` round trip (reported as poll_rtt).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/bench/bench_histogram.h"
#include "node/result.h"

namespace herd::bench {

struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: not given.
  std::string text() const { return host + ":" + std::to_string(port); }
};
// "HOST:PORT" or "PORT" (host 127.0.0.1). IPv4 literal hosts only.
bool parse_endpoint(std::string_view text, Endpoint* out);

struct BenchConfig {
  Endpoint target;               // Receives the IAMATs.
  int connections = 4;           // Load connections; 0: no load.
  int pipeline = 16;             // Closed loop: requests in flight per connection.
  int64_t rate = 0;              // Open loop: requests per second overall; 0: closed.
  int64_t duration_ms = 5'000;   // Measured time, after the warm-up.
  int64_t warmup_ms = 500;       // Load that is not measured.
  int64_t clients = 1'000;       // Distinct client ids (at least `connections`).
  int64_t count = 0;             // Requests in all; 0: as many as the duration allows.
  int hold = 0;                  // Idle connections opened (each answers one IAMAT) first.
  Endpoint visibility;           // The far server; port 0: no visibility probes.
  int visibility_samples = 200;
  int64_t visibility_interval_ms = 5;
  int64_t visibility_timeout_ms = 1'000;  // A sample not visible by then is lost.
  int64_t drain_timeout_ms = 5'000;       // Waiting for replies once sending stopped.
  int64_t connect_timeout_ms = 30'000;    // Connecting (and hold's first IAMAT).
  std::string id_prefix;                  // Empty: derived from the pid and the time.
  std::vector<int> cpu_pids;              // Processes whose CPU time in the window is summed.
};

struct BenchReport {
  std::string id_prefix;
  int64_t base_time_ns = 0;      // Load request `seq` carries request_time_ns(seq).
  int64_t clients = 0;           // After clamping to at least `connections`.
  // Load.
  uint64_t sent = 0, replies = 0, error_replies = 0;  // error: a reply starting '?'.
  uint64_t measured_replies = 0;
  double measured_s = 0;
  double server_cpu_s = -1;      // CPU (user + system) of cpu_pids in the window; -1: none.
  LatencyHistogram latency;      // Replies read in the measured window.
  LatencyHistogram send_lag;     // Open loop: actual minus scheduled send time.
  uint64_t open_loop_skipped = 0;  // Open loop: scheduled but every connection was full.
  int load_connected = 0, connect_failures = 0, closed_by_server = 0;
  uint64_t unanswered = 0;       // Still owed when the drain deadline passed.
  // Visibility.
  LatencyHistogram visibility, poll_rtt;
  int visibility_lost = 0;
  // Hold.
  int hold_connected = 0, hold_answered = 0, hold_open_at_end = 0;
  // Per client, the seq of its last request (-1: none), for a verifier.
  std::vector<int64_t> last_seq;

  // Microsecond steps: a baseline that keeps times as float seconds (the asyncio
  // herd) resolves only about 0.25 us at today's times, and must still see each
  // request as newer.
  int64_t request_time_ns(int64_t seq) const { return base_time_ns + seq * 1'000; }
};

// Client i is "<prefix>-<i>"; visibility probe k is "<prefix>-v<k>".
std::string bench_client_id(std::string_view prefix, int64_t index);
// POSIX seconds with nine decimals: "1621464827.959498503".
std::string bench_time_text(int64_t time_ns);

// Fails only when setup fails (an address, the loop, a timer).
Result<BenchReport> run_bench(const BenchConfig& config);

}  // namespace herd::bench
