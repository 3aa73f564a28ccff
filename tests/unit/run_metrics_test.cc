// sim/run_metrics.h's safety figures and the checks built on them: each one fails on
// a run built to violate it (a fabricated reply, a server that forgets without a
// crash, a client that reads back in time) and passes on an honest one.
#include "sim/run_metrics.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/report.h"
#include "tests/unit/node_harness.h"

namespace herd {
namespace {

using test::TestNode;

constexpr int64_t kT = 1'000'000'000;

NodeConfig config_of(const std::string& name) {
  NodeConfig c;
  c.name = name;
  return c;
}

// A herd of one server ("a") and two clients, c0 and c1, observed by a RunMetrics.
struct Run {
  RunMetrics metrics{1, 2, [](std::string_view client) {
                       return client == "c0" ? 0u : client == "c1" ? 1u : kNoUpdate;
                     }};
  TestNode a{config_of("a")};
  Run() {
    a.driver().add_observer(&metrics);
    a.start(kT);
  }
  // An IAMAT from `client` sent at `seconds` (the client's clock), on its own connection.
  void iamat(TestNode& n, const std::string& client, int seconds, int64_t at) {
    n.client("IAMAT " + client + " +34.068930-118.445127 " + std::to_string(seconds) + ".000000000", at);
  }
  // A WHATSAT for `client`, answered by Places with an empty result.
  void whatsat(TestNode& n, const std::string& client, int64_t at) {
    const Effects asked = n.client("WHATSAT " + client + " 10 5", at);
    const std::vector<Effect> requests = test::only(asked, EffectKind::kPlacesRequest);
    REQUIRE(requests.size() == 1);
    n.places(requests[0].request, PlacesResult{true, 200, R"({"results": [], "status": "OK"})", ""}, at);
  }
  // The safety checks of what was seen, and the figures.
  std::vector<Check> checks(Report* r) {
    fill_report(metrics, 2, {&a.node()}, r);
    return safety_checks(*r);
  }
};

const Check& named(const std::vector<Check>& checks, const std::string& name) {
  for (const Check& c : checks) {
    if (c.name == name) return c;
  }
  FAIL("no check " << name);
  return checks.front();
}

// An input on connection `conn` of node `a` and the effects a faulty node answered with.
void fabricated(Run& run, const std::string& line, ConnId conn, std::vector<Effect> outputs) {
  Input in;
  in.kind = InputKind::kLine;
  in.flags = kFirstLine;
  in.now = test::now_at(5 * kT);
  in.conn = conn;
  in.text = line;
  run.metrics.on_input(0, in, outputs, run.a.node());
}

Effect reply(ConnId conn, std::string bytes, RequestId request = 0) {
  Effect e;
  e.kind = EffectKind::kReply;
  e.conn = conn;
  e.request = request;
  e.bytes = std::move(bytes);
  return e;
}

}  // namespace

TEST_CASE("safety: an honest run passes every check") {
  Run run;
  run.iamat(run.a, "c0", 10, 2 * kT);
  run.iamat(run.a, "c0", 11, 3 * kT);
  run.whatsat(run.a, "c0", 4 * kT);
  run.iamat(run.a, "c1", 12, 5 * kT);
  run.a.client("NONSENSE", 6 * kT);  // Answered '?': well formed.
  Report r;
  for (const Check& c : run.checks(&r)) {
    CAPTURE(c.name);
    CHECK(c.pass);
    CHECK(c.figure == "0");
  }
  CHECK(r.updates == 3);
}

TEST_CASE("safety: a malformed reply and a second answer to one request fail their checks") {
  Run run;
  fabricated(run, "IAMAT c0 +34.068930-118.445127 10.000000000", 9,
             {reply(9, "AT a +0.100000000 c0 +34.068930-118.445127 10.000000000\n"), reply(9, "garbage\n")});
  Report r;
  const std::vector<Check> checks = run.checks(&r);
  CHECK_FALSE(named(checks, "answered_once").pass);
  CHECK(named(checks, "answered_once").failure == "1 requests were answered more than once");
  CHECK_FALSE(named(checks, "replies_well_formed").pass);
  CHECK(named(checks, "replies_well_formed").failure ==
        "1 replies were neither an AT line, a '?' line, nor AT line + JSON");
  CHECK(named(checks, "stores_monotonic").pass);
}

TEST_CASE("safety: a WHATSAT answered with another record than the one held fails serves_held") {
  Run run;
  run.iamat(run.a, "c0", 10, 2 * kT);
  // The node holds c0's record of time 10; the reply shows one of time 9.
  Effect places;
  places.kind = EffectKind::kPlacesRequest;
  places.conn = 9;
  places.request = 77;
  fabricated(run, "WHATSAT c0 10 5", 9, {places});
  Input done;
  done.kind = InputKind::kPlacesResult;
  done.now = test::now_at(6 * kT);
  done.request = 77;
  run.metrics.on_input(0, done, std::vector<Effect>{reply(9, "AT a +0.100000000 c0 +34.068930-118.445127 9.000000000\n{}\n\n", 77)},
                       run.a.node());
  Report r;
  const std::vector<Check> checks = run.checks(&r);
  CHECK_FALSE(named(checks, "serves_held").pass);
  CHECK(named(checks, "serves_held").figure == "1");
}

TEST_CASE("safety: a server that forgets without a crash fails stores_monotonic; after a crash it may") {
  Run run;
  run.iamat(run.a, "c0", 10, 2 * kT);
  run.whatsat(run.a, "c0", 3 * kT);
  // The same server, index 0, in a new process nobody reported as crashed: it stores
  // an older record for c0, and a client reads it.
  TestNode forgetful(config_of("a"));
  forgetful.driver().add_observer(&run.metrics);
  forgetful.start(4 * kT);
  run.iamat(forgetful, "c0", 9, 5 * kT);
  run.whatsat(forgetful, "c0", 6 * kT);
  Report r;
  std::vector<Check> checks = run.checks(&r);
  CHECK_FALSE(named(checks, "stores_monotonic").pass);
  CHECK(named(checks, "stores_monotonic").failure ==
        "1 times a server stored a record older than one it had stored (since its last crash)");
  CHECK(r.monotonic_read_violations == 1);  // c0 read 10, then 9.
  Expect expect;
  expect.monotonic_reads_max = 0;
  const std::vector<Check> expected = expectation_checks(r, expect);
  REQUIRE(expected.size() == 1);
  CHECK_FALSE(expected[0].pass);
  CHECK(expected[0].failure ==
        "1 reads showed a client an older record than it had read before, above monotonic_reads_max 0");
  expect.monotonic_reads_max = 1;
  CHECK(expectation_checks(r, expect)[0].pass);

  // Reported as a crash, the same forgetting is no regression.
  Run honest;
  honest.iamat(honest.a, "c0", 10, 2 * kT);
  honest.a.crash(3 * kT);
  honest.a.start(4 * kT);
  honest.iamat(honest.a, "c0", 9, 5 * kT);
  Report h;
  CHECK(named(honest.checks(&h), "stores_monotonic").pass);
}

}  // namespace herd
