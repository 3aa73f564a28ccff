// End-to-end: `herd bench` as a user runs it. A bad flag is one line and exit 2; its
// --verify passes against a herd whose servers all hold the newest records, fails
// (exit 1, naming the server) when one does not, and waits out a slow Places, since
// WHATSAT, the check's only way to read a record, answers after its Places request.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/e2e/faults_util.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e {
namespace {

constexpr int kBenchTimeoutMs = 60'000;

std::string endpoint(int port) { return "127.0.0.1:" + std::to_string(port); }

std::string endpoints(const HerdRun& run, const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + endpoint(run.port(name));
  return out;
}

// A short closed-loop run at Riley: 500 IAMATs over 50 clients, each client's last
// one remembered for the check, then --verify at `verify`.
std::vector<std::string> bench_args(const HerdRun& run, const std::string& verify) {
  return {"bench", "--target", endpoint(run.port("Riley")), "--connections", "2",
          "--pipeline", "4", "--clients", "50", "--count", "500", "--warmup-s", "0",
          "--duration-s", "20", "--verify", verify, "--verify-timeout-s", "1"};
}

std::string verify_line(const HerdRun& run, const std::string& name) {
  return "bench: verify " + endpoint(run.port(name)) + ": ";
}

constexpr const char* kAllCurrent = "50 checked, 50 current, 0 stale, 0 missing, 0 not answered\n";

TEST_CASE("e2e bench: a bad flag or value is one line on stderr and exit 2") {
  std::string out;
  ExitStatus st = run_to_end({"bench", "--bogus"}, 5'000, &out);
  CHECK(st.exited);
  CHECK(st.code == 2);
  CHECK(out == "herd: bench: unknown option '--bogus' (see herd bench --help)\n");
  st = run_to_end({"bench", "--target", "127.0.0.1:1", "--connections", "x"}, 5'000, &out);
  CHECK(st.code == 2);
  CHECK(out == "herd: bench: --connections: expected an integer in 0..100000, got \"x\"\n");
  st = run_to_end({"bench", "--target", "127.0.0.1:1", "--duration-s=5s"}, 5'000, &out);
  CHECK(st.code == 2);
  CHECK(out == "herd: bench: --duration-s: expected seconds in 0..3600, got \"5s\"\n");
  st = run_to_end({"bench", "--help"}, 5'000, &out);
  CHECK(st.clean());
  CHECK(out.rfind("usage: herd bench --target HOST:PORT [options]\n", 0) == 0);
}

TEST_CASE("e2e bench: nothing listening is a run-time failure, exit 1") {
  std::string out;
  ExitStatus st = run_to_end({"bench", "--target", "127.0.0.1:1", "--duration-s", "0.1",
                              "--warmup-s", "0"}, kBenchTimeoutMs, &out);
  CHECK(st.exited);
  CHECK(st.code == 1);
  CHECK(out.find("herd: bench: could not connect to 127.0.0.1:1\n") != std::string::npos);
}

TEST_CASE("e2e bench: --verify passes when every server holds every newest record") {
  HerdRun run;
  start_run(run);  // Places unreachable: every WHATSAT gets an UNKNOWN_ERROR body.
  std::string out;
  ExitStatus st = run_to_end(bench_args(run, endpoints(run, default_servers())),
                             kBenchTimeoutMs, &out);
  CHECK_MESSAGE(st.clean(), st.describe(), "\n", out);
  for (const std::string& name : default_servers()) {
    CHECK_MESSAGE(out.find(verify_line(run, name) + kAllCurrent) != std::string::npos, name,
                  "\n", out);
  }
  CHECK(out.find("herd: bench:") == std::string::npos);
  stop_clean(run);
}

TEST_CASE("e2e bench: --verify fails, naming the server, when a cut link kept the records away") {
  HerdRun run;
  run.herd.use_stdin_pipe();
  REQUIRE_MESSAGE(run.start(), run.herd.error());
  REQUIRE(run.herd.write_stdin("cut Riley Jaquez\ncut Riley Juzang\n"));
  REQUIRE(wait_until([&] { return run.herd.output().find("ok: cut Riley>Juzang") !=
                                  std::string::npos; }, 5'000));
  std::string out;
  ExitStatus st = run_to_end(bench_args(run, endpoints(run, {"Riley", "Jaquez"})),
                             kBenchTimeoutMs, &out);
  CHECK(st.exited);
  CHECK_MESSAGE(st.code == 1, out);
  CHECK(out.find(verify_line(run, "Riley") + kAllCurrent) != std::string::npos);
  CHECK(out.find(verify_line(run, "Jaquez") +
                 "50 checked, 0 current, 0 stale, 50 missing, 0 not answered\n") !=
        std::string::npos);
  CHECK_MESSAGE(out.find("herd: bench: verify failed at " + endpoint(run.port("Jaquez")) +
                         ": 50 of 50 clients not current (0 stale, 50 missing, 0 not "
                         "answered)\n") != std::string::npos, out);
  CHECK(out.find("verify failed at " + endpoint(run.port("Riley"))) == std::string::npos);
  stop_clean(run);
}

TEST_CASE("e2e bench: --verify waits for a Places slower than its flood timeout") {
  PlacesStandin places;
  REQUIRE_MESSAGE(places.ok(), places.error());
  // Why 6 s: longer than --verify-timeout-s and than the old check's 5 s, shorter
  // than the herd's Places timeout (10 s), so the answers carry the stand-in's body.
  places.respond(200, "{\"results\": [], \"status\": \"ZERO_RESULTS\"}", 6'000);
  HerdRun run;
  start_run(run, {"--places-url", places.url()});
  std::string out;
  ExitStatus st = run_to_end(bench_args(run, endpoints(run, {"Riley", "Bernard"})),
                             kBenchTimeoutMs, &out);
  CHECK_MESSAGE(st.clean(), st.describe(), "\n", out);
  CHECK(out.find(verify_line(run, "Riley") + kAllCurrent) != std::string::npos);
  CHECK(out.find(verify_line(run, "Bernard") + kAllCurrent) != std::string::npos);
  stop_clean(run);
}

}  // namespace
}  // namespace herd::e2e
