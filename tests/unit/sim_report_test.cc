// The report says plainly what passed and what failed: every check with its figure
// and bound; converged never includes superseded updates; a run cut short by
// max_events fails; a topology that is not connected gets bounds per component.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "net/files.h"
#include "sim/report.h"
#include "sim/cli/scenario_file.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace herd {
namespace {

std::string root() {
  const char* r = std::getenv("HERD_ROOT");
  return r != nullptr && *r != '\0' ? r : ".";
}

Scenario scenario_of(const std::string& text) {
  Result<Scenario> s = parse_scenario(text, "test.json", root() + "/topologies", load_topology);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
  return s.value();
}

const Check* find_check(const Report& r, const std::string& name) {
  for (const Check& c : r.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

constexpr const char* kSplit = R"({"name": "split", "nodes": [{"name": "a", "port": 1}, {"name": "b", "port": 2},
    {"name": "c", "port": 3}, {"name": "d", "port": 4}, {"name": "e", "port": 5}],
    "links": [["a", "b"], ["c", "d"], ["d", "e"], ["c", "e"]]})";

TEST_CASE("report: no links: bounds are 0, never an underflow; the components are noted") {
  const Scenario s = scenario_of(R"({"topology": {"name": "three", "nodes": [{"name": "a", "port": 1},
      {"name": "b", "port": 2}, {"name": "c", "port": 3}], "links": []}, "duration_ms": 2000,
      "workload": {"clients": 5, "iamat_per_s": 5, "whatsat_per_s": 0}})");
  const Report r = Simulator(s, 1).run();
  REQUIRE(r.updates > 0);
  CHECK(r.components == 3);
  CHECK(r.bound_tree == 0);
  CHECK(r.bound_flood == 0);
  const std::string text = report_text(r);
  CHECK(text.find("(bounds: tree 0, flood 0)") != std::string::npos);
  CHECK(text.find("  note              topology not connected, 3 components: [a], [b], [c]: an update "
                  "reaches only its origin's component, so none converges\n") != std::string::npos);
  const std::string json = report_json(r);
  CHECK(json.find("\"links\":0,\"components\":3,") != std::string::npos);
  CHECK(json.find("\"bounds\":{\"tree\":0,\"flood\":0}") != std::string::npos);
  CHECK(r.passed());
}

TEST_CASE("report: two components: each update counts its own component's bounds") {
  const Scenario s = scenario_of(std::string(R"({"topology": )") + kSplit + R"(, "duration_ms": 3000,
      "workload": {"clients": 5000, "fresh_clients": true, "iamat_per_s": 40, "whatsat_per_s": 0},
      "links": {"delay_ms": 2}})");
  const Report r = Simulator(s, 4).run();
  REQUIRE(r.updates > 50);
  CHECK(r.components == 2);
  CHECK(r.bounds_per == r.updates);
  // No faults: flooding costs exactly the flood bound of the origin's component
  // (1 on a-b, 2*3-2 = 4 on the triangle c-d-e), so the totals agree exactly.
  CHECK(r.sends * r.bounds_per == r.bound_flood * r.updates);
  CHECK(r.bound_tree < r.bound_flood);
  CHECK(r.reached_all == 0);
}

TEST_CASE("report: every expect check is listed with figure, bound and pass, in text and JSON") {
  const Scenario s = scenario_of(R"({"topology": "ring5.json", "duration_ms": 3000,
      "workload": {"clients": 5000, "fresh_clients": true, "iamat_per_s": 20, "whatsat_per_s": 0},
      "links": {"delay_ms": 10},
      "expect": {"reached_all_min": 1.0, "reached_all_or_superseded_min": 1.0, "residue_max": 0.0,
                 "latency_max_ms": 15, "msgs_per_update_max": 6}})");
  const Report r = Simulator(s, 2).run();
  // max_events, max_memory_mb, the expectations in a fixed order, then the safety checks.
  REQUIRE(r.checks.size() == 11);
  const char* names[] = {"max_events", "max_memory_mb", "reached_all_min", "reached_all_or_superseded_min", "residue_max",
                         "latency_max_ms", "msgs_per_update_max", "stores_monotonic", "serves_held",
                         "replies_well_formed", "answered_once"};
  for (size_t i = 0; i < 11; ++i) CHECK(r.checks[i].name == names[i]);
  // Ring of 5, 10 ms links: the farthest server is 2 hops away (20 ms > 15 ms).
  const Check* latency = find_check(r, "latency_max_ms");
  CHECK(latency->figure == "20.000");
  CHECK(latency->bound == "15.000");
  CHECK_FALSE(latency->pass);
  CHECK(latency->failure == "latency max 20.000 ms above latency_max_ms 15.000");
  CHECK(find_check(r, "msgs_per_update_max")->figure == "6.000");
  CHECK(find_check(r, "msgs_per_update_max")->pass);
  CHECK(find_check(r, "reached_all_min")->figure == "1.000000");
  CHECK_FALSE(r.passed());
  const std::string json = report_json(r);
  CHECK(json.find("{\"name\":\"latency_max_ms\",\"figure\":20.000,\"bound\":15.000,\"pass\":false}") !=
        std::string::npos);
  CHECK(json.find("{\"name\":\"reached_all_min\",\"figure\":1.000000,\"bound\":1.000000,\"pass\":true}") !=
        std::string::npos);
  const std::string text = report_text(r);
  CHECK(text.find("\n  checks            max_events  ") != std::string::npos);
  CHECK(text.find("latency_max_ms                   20.000  bound 15.000     FAIL\n") != std::string::npos);
  CHECK(text.find("stores_monotonic                      0  bound 0          pass\n") != std::string::npos);
  CHECK(failure_text(r, "x.json") ==
        "herd sim: check failed: latency max 20.000 ms above latency_max_ms 15.000\n"
        "herd sim: seed 2; replay with: herd sim x.json --seed 2\n");
}

TEST_CASE("report: reached_all_min counts converged updates only, never superseded ones") {
  Result<Scenario> loaded = load_scenario(root() + "/sim/scenarios/clean_flood.json");
  REQUIRE(loaded.ok());
  Scenario s = loaded.value();
  s.expect = Expect{};
  s.expect.reached_all_min_ppm = 1'000'000;
  s.expect.reached_all_or_superseded_min_ppm = 1'000'000;
  const Report r = Simulator(s, 1).run();
  REQUIRE(r.superseded > 0);  // Seed 1: 2 of 487 updates are overtaken.
  CHECK(r.reached_all + r.superseded == r.updates);
  const Check* converged = find_check(r, "reached_all_min");
  CHECK_FALSE(converged->pass);
  CHECK(converged->failure == "reached all servers: " + std::to_string(r.reached_all) + " of " + std::to_string(r.updates) +
                                  " updates (" + converged->figure + "), below reached_all_min 1.000000 (" +
                                  std::to_string(r.superseded) +
                                  " more were superseded: reached_all_or_superseded_min counts those)");
  CHECK(find_check(r, "reached_all_or_superseded_min")->pass);
  // The shipped scenario says so and passes.
  CHECK(Simulator(loaded.value(), 1).run().passed());
}

TEST_CASE("report: a run cut short by max_events fails, saying so") {
  const Scenario s = scenario_of(R"({"topology": "ring5.json", "duration_ms": 3000, "max_events": 40,
      "workload": {"clients": 10, "iamat_per_s": 20, "whatsat_per_s": 0}})");
  const Report r = Simulator(s, 1).run();
  CHECK(r.events == 40);
  const Check* limit = find_check(r, "max_events");
  REQUIRE(limit != nullptr);
  CHECK_FALSE(limit->pass);
  CHECK(limit->figure == "40");
  CHECK(limit->bound == "40");
  CHECK(limit->failure.starts_with("the run was cut short at max_events 40 (sim time "));
  CHECK(limit->failure.ends_with(" of 63000.000 ms), so its figures cover only part of it; raise max_events or "
                                 "shorten the run"));
  CHECK_FALSE(r.passed());
}

TEST_CASE("report: figures round towards failing, so what is printed agrees with pass or FAIL") {
  Report r;
  r.updates = 2'000'000;
  r.reached_all = 1'999'997;  // 0.9999985: rounded half up it would print as the bound.
  r.sends = 2'000'001 * 3;  // 3.0000015 per update.
  r.residue_pairs = 1'000'000, r.residue_stale = 1;
  Expect x;
  x.reached_all_min_ppm = 999'999;
  x.msgs_per_update_max_milli = 3000;
  x.residue_max_ppm = 1;
  const std::vector<Check> checks = expectation_checks(r, x);
  REQUIRE(checks.size() == 3);
  CHECK(checks[0].figure == "0.999998");
  CHECK_FALSE(checks[0].pass);
  CHECK(checks[1].figure == "0.000001");  // residue_max: exactly at the bound passes.
  CHECK(checks[1].pass);
  CHECK(checks[2].figure == "3.001");
  CHECK_FALSE(checks[2].pass);
}

}  // namespace
}  // namespace herd
