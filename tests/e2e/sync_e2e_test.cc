// Anti-entropy live on loopback (herd run --scenario): a healed partition and a
// restarted server converge with no client reporting again, within the bounds the
// simulator's tests state (tests/unit/sim_sync_test.cc); with sync off they do not.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <rapidjson/document.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

struct Live {
  BatchRun run;
  rapidjson::Document report;
};

// Runs a scenario on the repository's ring of five, live, with extra flags.
void run_live(const TempDir& dir, const std::string& body, const std::vector<std::string>& flags, Live* live) {
  const std::string path = dir.path() + "/s.json";
  std::ofstream(path) << "{\"topology\": \"" << herd_root() << "/topologies/ring5.json\",\n" << body << "}\n";
  std::vector<std::string> args = {"run", "--scenario", path, "--json", "--log-dir", dir.path() + "/logs"};
  args.insert(args.end(), flags.begin(), flags.end());
  live->run = run_herd(args, 60'000);
  live->report.Parse(live->run.out.c_str());
  REQUIRE_MESSAGE(!live->report.HasParseError(), live->run.err, live->run.out);
}

// Split {n0, n1} | {n2, n3, n4} from 1 s to 4 s, clients reporting only until the
// heal; the bound is the simulator test's: a heartbeat, a session and two hops.
const char kPartition[] = R"("duration_ms": 4000, "drain_ms": 10000,
    "workload": {"clients": 40, "iamat_per_s": 40, "whatsat_per_s": 0},
    "links": {"delay_ms": 10},
    "timeline": [{"at_ms": 1000, "partition": [["n0", "n1"]]}, {"at_ms": 4000, "heal_all": true}],
    "expect": {"converge_after_faults_ms": 1500, "residue_max": 0})";

}  // namespace

TEST_CASE("e2e sync: a healed partition converges within its bound, live, with no client reporting again") {
  TempDir dir;
  Live live;
  run_live(dir, kPartition, {}, &live);
  CHECK_MESSAGE(live.run.status.clean(), live.run.err);
  const rapidjson::Value& after = live.report["after_faults"];
  CHECK(after["stale"].GetUint64() > 0);  // Both sides had updates the other lacked.
  CHECK(after["repaired"].GetUint64() == after["stale"].GetUint64());
  CHECK(after["max_ms"].GetDouble() <= 1500.0);
  CHECK(live.report["residue"].GetDouble() == 0.0);
  CHECK(live.report["sync"]["records_stored"].GetUint64() > 0);
}

TEST_CASE("e2e sync: with --sync off the same partition stays split, and the run fails naming who is behind") {
  TempDir dir;
  Live live;
  run_live(dir, std::string(kPartition) + R"(, "sync": {"mode": "off"})", {}, &live);
  CHECK(live.run.status.exited);
  CHECK(live.run.status.code == 1);
  CHECK(live.run.err.find("herd run: check failed: ") != std::string::npos);
  CHECK(live.run.err.find("; the first: client c") != std::string::npos);
  CHECK(live.report["residue"].GetDouble() > 0.0);
  CHECK(live.report["sync"]["messages"].GetUint64() == 0);
}

TEST_CASE("e2e sync: a restarted server catches up the whole table, live") {
  TempDir dir;
  Live live;
  // Each of 60 clients reports once in the first second; n2 crashes at 1.5 s and
  // restarts empty at 2 s.
  run_live(dir, R"("duration_ms": 1200, "drain_ms": 10000,
      "workload": {"clients": 60, "iamat_per_s": 60, "whatsat_per_s": 0, "fresh_clients": true},
      "links": {"delay_ms": 5},
      "timeline": [{"at_ms": 1500, "crash": "n2"}, {"at_ms": 2000, "restart": "n2"}],
      "expect": {"converge_after_faults_ms": 3000, "residue_max": 0})", {}, &live);
  CHECK_MESSAGE(live.run.status.clean(), live.run.err);
  const uint64_t updates = live.report["updates"].GetUint64();
  CHECK(updates > 0);
  // At the restart n2 lacked every client that had reported; sync gave them all back.
  CHECK(live.report["after_faults"]["stale"].GetUint64() == live.report["holds_at_end"]["pairs"].GetUint64() / 5);
  CHECK(live.report["after_faults"]["repaired"].GetUint64() == live.report["after_faults"]["stale"].GetUint64());
  CHECK(live.report["holds_at_end"]["holding"].GetUint64() == live.report["holds_at_end"]["pairs"].GetUint64());
}

}  // namespace herd::e2e
