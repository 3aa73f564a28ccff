// The flags of `herd bench` (sim/bench_cli.h), parsed into the load generator's
// config (net/bench_client.h) and the no-loss check's settings (sim/bench_verify.h).
// Parsing never prints: an error is one line naming the flag and what was expected
// ("--pipeline: expected an integer in 1..100000, got \"0\""), which the command
// prints once, without the usage (only --help prints that).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "net/bench/bench_client.h"
#include "node/result.h"

namespace herd {

struct BenchOptions {
  bench::BenchConfig config;
  std::vector<bench::Endpoint> verify;  // --verify: each checked after the run.
  int64_t verify_max = 1'000;           // Clients checked per server.
  int64_t verify_timeout_ms = 5'000;    // For floods still on their way.
  bool json = false;
  bool help = false;
};

// `args` are the words after "bench". --target is required unless --help is given.
Result<BenchOptions> parse_bench_options(const std::vector<std::string>& args);

// What `herd bench --help` prints.
extern const char kBenchHelp[];

}  // namespace herd
