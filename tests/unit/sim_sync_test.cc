// Anti-entropy in the simulator (node/sync.h through sim/simulator.h): a healed
// partition, a restarted server and a lossy herd converge with no client reporting
// again; with sync off they do not, and the course protocol's figures are as they
// always were. Bounds are stated from the link delays and the link timings.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "node/hash.h"
#include "node/json_bytes.h"
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

// A ring of five with 10 ms links, split {n0, n1} | {n2, n3, n4} from 1 s to 4 s;
// clients report only until the heal. After it, a link notices within one heartbeat
// (1 s) plus a delay that its peer is back, and a session takes at most about six
// one-way delays before its records flood on over at most two more hops: 1 s + 80 ms.
// The check allows 1.5 s.
const char kPartition[] = R"({"topology": "ring5.json", "duration_ms": 4000, "drain_ms": 10000,
    "workload": {"clients": 40, "iamat_per_s": 40, "whatsat_per_s": 0},
    "links": {"delay_ms": 10},
    "timeline": [{"at_ms": 1000, "partition": [["n0", "n1"]]}, {"at_ms": 4000, "heal_all": true}],
    "expect": {"converge_after_faults_ms": 1500, "residue_max": 0}})";

}  // namespace

TEST_CASE("sim sync: a healed partition converges within its bound, with no client reporting again") {
  const Report r = Simulator(scenario_of(kPartition), 1).run();
  CHECK(r.passed());
  CHECK(r.residue_stale == 0);
  const Check* live = find_check(r, "converge_after_faults_ms");
  REQUIRE(live != nullptr);
  CHECK(live->pass);
  CHECK(r.fault_stale > 0);  // Both sides had updates the other lacked at the heal.
  CHECK(r.fault_repaired == r.fault_stale);
  CHECK(r.repair_max_ns <= 1'500'000'000);
  CHECK(r.sync_records_stored > 0);
  CHECK(r.heals == 1);
}

TEST_CASE("sim sync: with sync off the same partition stays split, and the check names who is behind") {
  Scenario s = scenario_of(kPartition);
  s.sync.mode = SyncMode::kOff;
  const Report r = Simulator(s, 1).run();
  CHECK_FALSE(r.passed());
  const Check* live = find_check(r, "converge_after_faults_ms");
  REQUIRE(live != nullptr);
  CHECK_FALSE(live->pass);
  CHECK(r.liveness_stale > 0);
  CHECK(live->failure.find(" server-client pairs behind 1500.000 ms after the last fault") != std::string::npos);
  CHECK(live->failure.find("; the first: client c") != std::string::npos);
  CHECK(r.residue_stale > 0);
  CHECK(r.sync_messages == 0);
}

TEST_CASE("sim sync: a restarted server catches up the whole table") {
  // Clients report for 2 s, each once at first; n2 crashes at 2.5 s and restarts
  // empty at 3 s.
  const char text[] = R"({"topology": "ring5.json", "duration_ms": 2000, "drain_ms": 10000,
      "workload": {"clients": 60, "iamat_per_s": 60, "whatsat_per_s": 0, "fresh_clients": true},
      "links": {"delay_ms": 5},
      "timeline": [{"at_ms": 2500, "crash": "n2"}, {"at_ms": 3000, "restart": "n2"}],
      "expect": {"converge_after_faults_ms": 3000, "residue_max": 0}})";
  const Report r = Simulator(scenario_of(text), 3).run();
  CHECK(r.passed());
  CHECK(r.residue_pairs == 5 * 60);
  CHECK(r.residue_stale == 0);
  CHECK(r.fault_stale == 60);  // At the restart, n2 lacked every client.
  CHECK(r.fault_repaired == 60);
  Scenario off = scenario_of(text);
  off.sync.mode = SyncMode::kOff;
  const Report r_off = Simulator(off, 3).run();
  CHECK(r_off.residue_stale == 60);
  CHECK_FALSE(r_off.passed());
}

TEST_CASE("sim sync: with 30% message drop, periodic sync leaves no residue; link-up alone does") {
  const char text[] = R"({"topology": "ring5.json", "duration_ms": 5000, "drain_ms": 30000,
      "workload": {"clients": 50, "iamat_per_s": 50, "whatsat_per_s": 0},
      "links": {"drop": 0.3, "delay_ms": 5},
      "sync": {"mode": "periodic", "interval_ms": 500}})";
  const Report periodic = Simulator(scenario_of(text), 4).run();
  CHECK(periodic.residue_stale == 0);
  CHECK(periodic.dropped > 0);
  CHECK(periodic.sync_records_stored > 0);
  Scenario link_up = scenario_of(text);
  link_up.sync.mode = SyncMode::kLinkUp;
  CHECK(Simulator(link_up, 4).run().residue_stale > 0);
}

TEST_CASE("sim sync: tables that agree cost ROOT and DONE and no record") {
  const char text[] = R"({"topology": "cs131-spring21.json", "duration_ms": 3000,
      "workload": {"clients": 20, "iamat_per_s": 20, "whatsat_per_s": 0}, "links": {"delay_ms": 2},
      "sync": {"mode": "periodic", "interval_ms": 200}})";
  const Report r = Simulator(scenario_of(text), 1).run();
  CHECK(r.sync_sessions > 20);
  CHECK(r.sync_records_sent == 0);
  CHECK(r.residue_stale == 0);
}

TEST_CASE("sim sync: off keeps the course protocol's published figures") {
  Result<Scenario> loaded = load_scenario(root() + "/sim/scenarios/lossy.json");
  REQUIRE(loaded.ok());
  Scenario s = loaded.value();
  s.sync.mode = SyncMode::kOff;
  const Report r = Simulator(s, 1).run();
  // The figures the first wave published for lossy.json, seed 1.
  CHECK(r.updates == 965);
  CHECK(r.reached_all == 887);
  CHECK(r.superseded == 67);
  CHECK(r.sends == 5600);  // 5.803 messages per update.
  CHECK(r.duplicates == 1460);
  CHECK(r.dropped == 527);
  CHECK(r.residue_stale == 23);
  CHECK(ms3(r.latency_max_ns) == "166.093");
  CHECK(hex16(r.digest) == "a2f631d49526b76d");
}

}  // namespace herd
