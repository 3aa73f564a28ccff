// The herd command line's option parsing (sim/cli.h).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/cli.h"

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
  CHECK(parse({"--log-dir"}).error() == "--log-dir: missing value");
  CHECK(parse({"--log-dir="}).error() == "--log-dir: expected a value, got \"\"");
  CHECK(parse({"--frob", "1"}).error() == "unknown option --frob");
}

}  // namespace
}  // namespace herd
