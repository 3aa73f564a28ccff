// The herd command line's option parsing (sim/cli.h).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/fault_model.h"
#include "sim/cli/cli.h"
#include "sim/cli/sim_cli.h"

namespace herd {
namespace {

Result<ServeOptions> parse(std::vector<std::string> args) { return parse_serve_options(args); }

TEST_CASE("cli: defaults and every option") {
  Result<ServeOptions> d = parse({});
  REQUIRE(d.ok());
  CHECK(d.value().topology_path.empty());
  CHECK(d.value().host.log_dir == "logs");
  CHECK(d.value().host.port_base == -1);
  CHECK(d.value().host.max_clients == 20'000);
  Result<ServeOptions> all =
      parse({"Riley", "--topology", "t.json", "--log-dir=l", "--port-base", "0", "--host",
             "::1", "--max-clients", "5", "--places-url", "http://x/", "--places-api", "new",
             "--places-cache-s=60", "-h"});
  REQUIRE(all.ok());
  const ServeOptions& o = all.value();
  CHECK(o.positional == std::vector<std::string>{"Riley"});
  CHECK(o.topology_path == "t.json");
  CHECK(o.host.log_dir == "l");
  CHECK(o.host.port_base == 0);
  CHECK(o.host.host == "::1");
  CHECK(o.host.max_clients == 5);
  CHECK(o.host.places.url == "http://x/");
  CHECK(o.host.places.api == PlacesApi::kNew);
  CHECK(o.host.places.cache_s == 60);
  CHECK(o.help);
}

TEST_CASE("cli: --log LEVEL: all (the default), events, off; anything else is refused") {
  CHECK(parse({}).value().host.log_level == LogLevel::kAll);
  CHECK(parse({"--log", "events"}).value().host.log_level == LogLevel::kEvents);
  CHECK(parse({"--log=off"}).value().host.log_level == LogLevel::kOff);
  CHECK(parse({"--log", "off", "--log", "all"}).value().host.log_level == LogLevel::kAll);
  CHECK(parse({"--log", "ALL"}).error() == "--log: expected all, events or off, got \"ALL\"");
  CHECK(parse({"--log"}).error() == "--log: expected a value");
  CHECK(parse({"--log="}).error() == "--log: expected all, events or off, got \"\"");
}

TEST_CASE("cli: the limits' flags, their defaults and ranges") {
  Result<ServeOptions> d = parse({});
  REQUIRE(d.ok());
  CHECK(d.value().host.max_record_bytes == 256u << 20);
  CHECK(d.value().host.max_clock_skew_ns == 86'400'000'000'000);
  CHECK(d.value().host.client_idle_ms == 60'000);
  CHECK(d.value().host.log_max_bytes == 256u << 20);
  Result<ServeOptions> set = parse({"--max-record-mb", "4", "--max-clock-skew-s=0", "--client-idle-s", "0",
                                    "--log-max-mb", "1"});
  REQUIRE(set.ok());
  CHECK(set.value().host.max_record_bytes == 4u << 20);
  CHECK(set.value().host.max_clock_skew_ns == 0);
  CHECK(set.value().host.client_idle_ms == 0);
  CHECK(set.value().host.log_max_bytes == 1u << 20);
  CHECK(parse({"--client-idle-s", "x"}).error() == "--client-idle-s: expected an integer in 0..604800, got \"x\"");
  CHECK(parse({"--log-max-mb", "-1"}).error() == "--log-max-mb: expected an integer in 0..1048576, got \"-1\"");
  CHECK(parse({"--max-record-mb", "0"}).error() == "--max-record-mb: expected an integer in 1..1048576, got \"0\"");
  CHECK(parse({"--max-clock-skew-s", "-1"}).error() ==
        "--max-clock-skew-s: expected an integer in 0..3153600000, got \"-1\"");
}

TEST_CASE("cli: errors name the flag and what was expected") {
  CHECK(parse({"--port-base", "x"}).error() ==
        "--port-base: expected an integer in 0..65535, got \"x\"");
  CHECK(parse({"--port-base=65536"}).error() ==
        "--port-base: expected an integer in 0..65535, got \"65536\"");
  CHECK(parse({"--port-base", "1x"}).error() ==
        "--port-base: expected an integer in 0..65535, got \"1x\"");
  CHECK(parse({"--max-clients", "0"}).error() ==
        "--max-clients: expected an integer in 1..10000000, got \"0\"");
  CHECK(parse({"--places-api", "v2"}).error() ==
        "--places-api: expected legacy or new, got \"v2\"");
  CHECK(parse({"--log-dir"}).error() == "--log-dir: expected a value");
  CHECK(parse({"--log-dir="}).error() == "--log-dir: expected a value, got \"\"");
  CHECK(parse({"--frob", "1"}).error() == "unknown option --frob");
}

}  // namespace
}  // namespace herd

namespace herd {
namespace {

TEST_CASE("cli: a missing value, or the next option taken for one, is 'expected a value'") {
  CHECK(parse({"--topology", "--port-base", "14200"}).error() == "--topology: expected a value");
  CHECK(parse({"--port-base"}).error() == "--port-base: expected a value");
  CHECK(parse({"--host", "-h"}).error() == "--host: expected a value");
  CHECK(parse({"--delay", "--seed=2"}).error() == "--delay: expected a value");
  // "-" and negative numbers are values, refused or taken on their own terms.
  CHECK(parse({"--port-base", "-1"}).error() == "--port-base: expected an integer in 0..65535, got \"-1\"");
  CHECK(parse({"--log-dir", "-"}).value().host.log_dir == "-");
  CHECK(parse_sim_flags({"x.json", "--seed", "--json"}).error() == "--seed: expected a value");
  CHECK(parse_sim_flags({"x.json", "--record"}).error() == "--record: expected a value");
  CHECK(parse_sim_flags({"--output", "--quiet", "x.json"}).error() == "--output: expected a value");
  CHECK(parse_sim_flags({"x.json", "--seed", "-1"}).error() ==
        "--seed: expected an integer in 0..18446744073709551615, got \"-1\"");
  CHECK(parse_replay_flags({"t.jsonl", "--record"}).error() == "--record: expected a value");
  CHECK(parse_replay_flags({"--record", "-h", "t.jsonl"}).error() == "--record: expected a value");
}

TEST_CASE("cli: sim and replay flags") {
  Result<SimFlags> f = parse_sim_flags({"x.json", "--seed=7", "--json", "--record", "r.jsonl",
                                        "--output", "o.json", "--check-determinism", "--quiet"});
  REQUIRE(f.ok());
  CHECK(f.value().scenario_path == "x.json");
  CHECK(f.value().seed == 7u);
  CHECK(f.value().json);
  CHECK(f.value().record == "r.jsonl");
  CHECK(f.value().output == "o.json");
  CHECK(f.value().check_determinism);
  CHECK(f.value().progress == SimFlags::Progress::kOff);
  CHECK(parse_sim_flags({"x.json", "--progress"}).value().progress == SimFlags::Progress::kOn);
  CHECK(parse_sim_flags({"x.json"}).value().progress == SimFlags::Progress::kAuto);
  CHECK(parse_sim_flags({"--help"}).value().help);
  CHECK(parse_sim_flags({}).error() == "sim: expected a SCENARIO file (see herd sim --help)");
  CHECK(parse_sim_flags({"a.json", "b.json"}).error() == "sim: one scenario only (got 'a.json' and 'b.json')");
  CHECK(parse_sim_flags({"a.json", "--progress", "--quiet"}).error() == "--progress and --quiet: give one of them");
  CHECK(parse_sim_flags({"a.json", "--output="}).error() == "--output: expected a file name");
  CHECK(parse_sim_flags({"a.json", "--record=x", "--output=x"}).error() == "--record and --output: the same file x");
  CHECK(parse_sim_flags({"a.json", "-x"}).error() == "sim: unknown option '-x' (see herd sim --help)");
  Result<ReplayFlags> r = parse_replay_flags({"t.jsonl", "--record=o.jsonl"});
  REQUIRE(r.ok());
  CHECK(r.value().trace == "t.jsonl");
  CHECK(r.value().record == "o.jsonl");
  CHECK(parse_replay_flags({}).error() == "replay: expected a TRACE file (see herd replay --help)");
  CHECK(parse_replay_flags({"t", "--record", "t"}).error() == "--record t: would overwrite the trace being replayed");
}

TEST_CASE("cli: --places-url must be http or https with a host") {
  CHECK(parse({"--places-url", "https://places.googleapis.com/v1/places:searchNearby"}).ok());
  CHECK(parse({"--places-url", "http://127.0.0.1:8080/x?y=1"}).ok());
  CHECK(parse({"--places-url", "http://[::1]:80/"}).ok());
  const std::string expected = "--places-url: expected an http:// or https:// URL with a host, got ";
  CHECK(parse({"--places-url", "ftp://example.com/"}).error() == expected + "\"ftp://example.com/\"");
  CHECK(parse({"--places-url", "file:///etc/passwd"}).error().starts_with(expected + "\"file:///etc/passwd\""));
  CHECK(parse({"--places-url", "example.com/x"}).error().starts_with(expected + "\"example.com/x\" ("));
  CHECK(parse({"--places-url", "http://"}).error().starts_with(expected + "\"http://\" ("));
  CHECK(parse({"--places-url", "http://host:99999/"}).error().starts_with(expected + "\"http://host:99999/\" ("));
  CHECK(parse({"--places-url="}).error() == "--places-url: expected a value, got \"\"");
}

TEST_CASE("cli: --host is an address or a host name") {
  for (const char* good : {"127.0.0.1", "::1", "fe80::1", "localhost", "a-b.example.com", "herd_1", "x."}) {
    CAPTURE(good);
    CHECK(parse({"--host", good}).ok());
  }
  for (const char* bad : {"999.1.1.1", "1.2.3", "::zz", "a..b", "a-", "a b", "a/b", ".", "x.-y"}) {
    CAPTURE(bad);
    CHECK(parse({"--host", bad}).error() ==
          "--host: expected an IPv4 or IPv6 address or a host name, got \"" + std::string(bad) + "\"");
  }
}

TEST_CASE("cli: --admin-port may not be a server's port") {
  Topology t;
  t.nodes = {{"Riley", "127.0.0.1", 12000}, {"Jaquez", "127.0.0.1", 12001}};
  ServeOptions o = parse({"--admin-port", "12001"}).value();
  CHECK(check_admin_port(o, t).error() == "--admin-port 12001: used by server Jaquez");
  o = parse({"--admin-port", "12001", "--port-base", "13000"}).value();
  CHECK(check_admin_port(o, t).ok());
  o = parse({"--admin-port", "13000", "--port-base", "13000"}).value();
  CHECK(check_admin_port(o, t).error() == "--admin-port 13000: used by server Riley");
  o = parse({"--admin-port", "12000", "--port-base", "0"}).value();  // Ephemeral servers.
  CHECK(check_admin_port(o, t).ok());
  o = parse({"--admin-port", "0"}).value();
  CHECK(check_admin_port(o, t).ok());
}

TEST_CASE("cli: --drop, --dup and --delay take numbers as a faults file writes them") {
  Result<ServeOptions> o = parse({"--drop", "1e-3", "--dup=2.5E-1", "--delay", "1e1-2.5e1"});
  REQUIRE_MESSAGE(o.ok(), (o.ok() ? "" : o.error()));
  CHECK(o.value().link_faults.drop->value() == 0.001);
  CHECK(o.value().link_faults.duplicate->value() == 0.25);
  CHECK(*o.value().link_faults.delay == DelayDist::uniform(10'000'000, 25'000'000));
  CHECK(*parse({"--delay", "1e-3-5"}).value().link_faults.delay == DelayDist::uniform(1'000, 5'000'000));
  CHECK(*parse({"--delay", "exp:0:2e1"}).value().link_faults.delay == DelayDist::exponential(0, 20'000'000));
  CHECK(parse({"--drop", ".5"}).error() == "--drop: bad drop '.5' (a probability in [0, 1])");
  CHECK(parse({"--drop", "1e1"}).error() == "--drop: bad drop '1e1' (a probability in [0, 1])");
  CHECK(parse({"--dup", "0x1"}).error() == "--dup: bad dup '0x1' (a probability in [0, 1])");
}

}  // namespace
}  // namespace herd
