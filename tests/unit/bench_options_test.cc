// `herd bench`'s option parsing (sim/bench_options.h): every flag lands in its field,
// and every error names the flag and what was expected, ranges included.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/cli/bench_options.h"

namespace herd {
namespace {

Result<BenchOptions> parse(std::vector<std::string> args) { return parse_bench_options(args); }

TEST_CASE("bench options: defaults and every flag") {
  Result<BenchOptions> d = parse({"--target", "7"});
  REQUIRE(d.ok());
  CHECK(d.value().config.target.text() == "127.0.0.1:7");
  CHECK(d.value().config.connections == 4);
  CHECK(d.value().verify.empty());
  CHECK(d.value().verify_timeout_ms == 5'000);
  Result<BenchOptions> all = parse(
      {"--target=127.0.0.2:9", "--connections", "0", "--pipeline", "3", "--rate", "100",
       "--duration-s", "1.5", "--warmup-s=0", "--clients", "9", "--count", "10", "--hold", "2",
       "--visibility", "11", "--visibility-samples", "4", "--visibility-interval-ms", "6",
       "--verify", "12,127.0.0.1:13", "--verify-max", "5", "--verify-timeout-s", "0.25",
       "--cpu-pids", "1,22", "--json"});
  REQUIRE_MESSAGE(all.ok(), all.error());
  const BenchOptions& o = all.value();
  CHECK(o.config.target.text() == "127.0.0.2:9");
  CHECK(o.config.connections == 0);
  CHECK(o.config.pipeline == 3);
  CHECK(o.config.rate == 100);
  CHECK(o.config.duration_ms == 1'500);
  CHECK(o.config.warmup_ms == 0);
  CHECK(o.config.clients == 9);
  CHECK(o.config.count == 10);
  CHECK(o.config.hold == 2);
  CHECK(o.config.visibility.port == 11);
  CHECK(o.config.visibility_samples == 4);
  CHECK(o.config.visibility_interval_ms == 6);
  REQUIRE(o.verify.size() == 2);
  CHECK(o.verify[1].text() == "127.0.0.1:13");
  CHECK(o.verify_max == 5);
  CHECK(o.verify_timeout_ms == 250);
  CHECK(o.config.cpu_pids == std::vector<int>{1, 22});
  CHECK(o.json);
  CHECK(parse({"--help"}).value().help);  // No --target needed.
}

TEST_CASE("bench options: errors are one line naming the flag and the range") {
  CHECK(parse({"--bogus"}).error() == "unknown option '--bogus' (see herd bench --help)");
  CHECK(parse({"--bogus=1", "--target", "1"}).error() ==
        "unknown option '--bogus' (see herd bench --help)");
  CHECK(parse({"extra"}).error() == "unexpected argument 'extra' (see herd bench --help)");
  CHECK(parse({}).error() == "--target HOST:PORT is required (see herd bench --help)");
  CHECK(parse({"--target"}).error() == "--target: missing value");
  CHECK(parse({"--target", "host:1"}).error() ==
        "--target: expected HOST:PORT or PORT (an IPv4 address, a port in 1..65535), got "
        "\"host:1\"");
  CHECK(parse({"--connections", "x"}).error() ==
        "--connections: expected an integer in 0..100000, got \"x\"");
  CHECK(parse({"--pipeline", "0"}).error() ==
        "--pipeline: expected an integer in 1..100000, got \"0\"");
  CHECK(parse({"--clients=0"}).error() ==
        "--clients: expected an integer in 1..100000000, got \"0\"");
  CHECK(parse({"--duration-s", "3601"}).error() ==
        "--duration-s: expected seconds in 0..3600, got \"3601\"");
  CHECK(parse({"--verify", "1,"}).error() ==
        "--verify: expected HOST:PORT,... (IPv4 addresses, ports in 1..65535), got \"1,\"");
  CHECK(parse({"--cpu-pids", "-4"}).error() ==
        "--cpu-pids: expected PID,... (integers in 1..2147483647), got \"-4\"");
  CHECK(parse({"--json=yes"}).error() == "--json: takes no value, got \"yes\"");
}

}  // namespace
}  // namespace herd
