// End-to-end: what `herd run`, `herd node` and `herd` itself say and exit with when
// a flag, a value or a file is wrong (2), when a port is taken (1), and the
// version and help (0). Each case runs build/herd to its end and checks stderr,
// stdout and the exit code exactly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/cli/version.h"
#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

// A `herd run` on the default topology with its own log directory: `extra` last.
std::vector<std::string> run_args(const TempDir& logs, std::vector<std::string> extra) {
  std::vector<std::string> args = {"run", "--topology", default_topology(), "--log-dir", logs.path()};
  for (const std::string& a : places_unreachable_args()) args.push_back(a);
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void check_usage_error(const BatchRun& r, const std::string& err) {
  CHECK_MESSAGE(r.status.exited, r.status.describe());
  CHECK(r.status.code == 2);
  CHECK(r.err == err);
  CHECK(r.out == "");  // Nothing was started, nothing bound: no "listening on".
}

// A listening socket on 127.0.0.1:port, closed on destruction.
class Squatter {
 public:
  explicit Squatter(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0 &&
          ::listen(fd_, 1) == 0;
  }
  ~Squatter() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

TEST_CASE("e2e cli: a flag whose value is missing or is the next flag says so, exit 2") {
  TempDir logs;
  check_usage_error(run_herd({"run", "--topology", "--port-base", "14200"}),
                    "herd: --topology: expected a value (see herd run --help)\n");
  check_usage_error(run_herd({"run", "--port-base"}),
                    "herd: --port-base: expected a value (see herd run --help)\n");
  check_usage_error(run_herd({"run", "--seed", "-h"}),
                    "herd: --seed: expected a value (see herd run --help)\n");
  check_usage_error(run_herd({"node", "Riley", "--log-dir", "--host", "127.0.0.1"}),
                    "herd: --log-dir: expected a value (see herd node --help)\n");
  check_usage_error(run_herd({"sim", "x.json", "--seed", "--json"}), "herd: --seed: expected a value\n");
  check_usage_error(run_herd({"sim", "x.json", "--output"}), "herd: --output: expected a value\n");
  check_usage_error(run_herd({"sim", "--record", "--json", "x.json"}),
                    "herd: --record: expected a value\n");
  check_usage_error(run_herd({"replay", "t.jsonl", "--record"}), "herd: --record: expected a value\n");
  check_usage_error(run_herd({"replay", "--record", "--help"}), "herd: --record: expected a value\n");
  // A value that looks like a negative number is a value, refused for its range.
  check_usage_error(run_herd({"run", "--port-base", "-5"}),
                    "herd: --port-base: expected an integer in 0..65535, got \"-5\" (see herd run "
                    "--help)\n");
}

TEST_CASE("e2e cli: no usage after an error; sim and replay without a file say what is missing") {
  check_usage_error(run_herd({"sim"}), "herd: sim: expected a SCENARIO file (see herd sim --help)\n");
  check_usage_error(run_herd({"replay"}), "herd: replay: expected a TRACE file (see herd replay --help)\n");
  check_usage_error(run_herd({"sim", "--frob"}), "herd: sim: unknown option '--frob' (see herd sim --help)\n");
  check_usage_error(run_herd({"run", "--frob"}), "herd: unknown option --frob (see herd run --help)\n");
  check_usage_error(run_herd({"help", "frob"}),
                    "herd: help: unknown command \"frob\" (commands: run, node, sim, sweep, shrink, explore, replay, report, compare, admin, bench, help)\n");
}

TEST_CASE("e2e cli: bad values and files exit 2, naming the flag or file, before binding") {
  TempDir logs;
  const std::string file = logs.path() + "/plain-file";
  REQUIRE(write_text_file(file, "not a directory\n"));
  check_usage_error(run_herd(run_args(logs, {"--port-base", "0", "--log-dir", file})),
                    "herd: --log-dir " + file + ": not a directory\n");
  check_usage_error(run_herd(run_args(logs, {"--port-base", "0", "--log-dir", file + "/sub"})),
                    "herd: --log-dir " + file + "/sub: cannot create " + file + "/sub: Not a directory\n");
  check_usage_error(run_herd(run_args(logs, {"--port-base", "0", "--host", "999.1.1.1"})),
                    "herd: --host: expected an IPv4 or IPv6 address or a host name, got \"999.1.1.1\" "
                    "(see herd run --help)\n");
  check_usage_error(run_herd(run_args(logs, {"--port-base", "0", "--host", "a..b"})),
                    "herd: --host: expected an IPv4 or IPv6 address or a host name, got \"a..b\" "
                    "(see herd run --help)\n");
  check_usage_error(run_herd(run_args(logs, {"--port-base", "0", "--places-url", "ftp://example.com/x"})),
                    "herd: --places-url: expected an http:// or https:// URL with a host, got "
                    "\"ftp://example.com/x\" (see herd run --help)\n");
  check_usage_error(run_herd(run_args(logs, {"--port-base", "0", "--drop", "2"})),
                    "herd: --drop: bad drop '2' (a probability in [0, 1]) (see herd run --help)\n");
  check_usage_error(run_herd(run_args(logs, {"--port-base", "65534"})),
                    "herd: --port-base: 65534 + 4 servers exceeds 65535 (at most 65531 for 5 servers)\n");
  check_usage_error(run_herd({"node", "Bob", "--topology", default_topology()}),
                    "herd: node: no server named \"Bob\" in " + default_topology() +
                        " (servers: Riley, Jaquez, Juzang, Campbell, Bernard)\n");
}

TEST_CASE("e2e cli: --admin-port on a server's port names that server, exit 2") {
  TempDir logs;
  check_usage_error(run_herd(run_args(logs, {"--admin-port", "12000"})),
                    "herd: --admin-port 12000: used by server Riley\n");
  const int base = find_free_port_range(5);
  REQUIRE(base > 0);
  check_usage_error(
      run_herd(run_args(logs, {"--port-base", std::to_string(base), "--admin-port", std::to_string(base + 3)})),
      "herd: --admin-port " + std::to_string(base + 3) + ": used by server Campbell\n");
}

TEST_CASE("e2e cli: a port in use is a run-time failure, exit 1") {
  TempDir logs;
  const int base = find_free_port_range(5);
  REQUIRE(base > 0);
  Squatter squatter(base + 2);
  REQUIRE(squatter.ok());
  const BatchRun r = run_herd(run_args(logs, {"--port-base", std::to_string(base), "--host", "127.0.0.1"}));
  CHECK(r.status.exited);
  CHECK(r.status.code == 1);
  CHECK_MESSAGE(r.err.find("herd: Juzang: cannot listen on 127.0.0.1:" + std::to_string(base + 2) +
                           ": address already in use\n") != std::string::npos,
                r.err);
}

TEST_CASE("e2e cli: --version and help --help exit 0") {
  BatchRun r = run_herd({"--version"});
  CHECK(r.status.clean());
  CHECK(r.out == std::string("herd ") + kHerdVersion + "\n");
  CHECK(r.err == "");
  for (const char* flag : {"--help", "-h"}) {
    r = run_herd({"help", flag});
    CHECK(r.status.clean());
    CHECK(r.out.rfind("usage: herd help [COMMAND]\n", 0) == 0);
    CHECK(r.err == "");
  }
  r = run_herd({"--help"});
  CHECK(r.status.clean());
  CHECK(r.out.find("herd --version") != std::string::npos);
}

TEST_CASE("e2e cli: herd run warns at start when the topology is not connected") {
  TempDir dir;
  const std::string topology = dir.path() + "/split.json";
  REQUIRE(write_text_file(topology,
                          "{\"name\": \"split\", \"nodes\": [{\"name\": \"a\", \"port\": 1},\n"
                          " {\"name\": \"b\", \"port\": 2}, {\"name\": \"c\", \"port\": 3}],\n"
                          " \"links\": [[\"a\", \"c\"]]}\n"));
  HerdProcess herd;
  REQUIRE_MESSAGE(herd.start({"run", "--topology", topology, "--log-dir", dir.path(), "--port-base", "0"}),
                  herd.error());
  CHECK(herd.output().find("herd: warning: topology split is not connected (2 components: [a, c], [b]): "
                           "an update reaches only its origin's component\n") != std::string::npos);
  CHECK(herd.stop().clean());
  REQUIRE(write_text_file(topology,
                          "{\"name\": \"three\", \"nodes\": [{\"name\": \"a\", \"port\": 1},\n"
                          " {\"name\": \"b\", \"port\": 2}, {\"name\": \"c\", \"port\": 3}], \"links\": []}\n"));
  REQUIRE_MESSAGE(herd.start({"run", "--topology", topology, "--log-dir", dir.path(), "--port-base", "0"}),
                  herd.error());
  CHECK(herd.output().find("herd: warning: topology three has no links (3 components: [a], [b], [c])") !=
        std::string::npos);
  CHECK(herd.stop().clean());
}

}  // namespace
}  // namespace herd::e2e
