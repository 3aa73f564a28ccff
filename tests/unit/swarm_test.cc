// Swarm scenarios, sweep shards and shrinking, without processes: the "swarm"
// section's errors name file, line and key; a seed's draw is reproducible and
// differs between seeds; the concrete scenario is plain scenario text whose run
// has the same digest every time; shards partition a range; ddmin finds the
// smallest failing subset of a timeline.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "net/files.h"
#include "sim/cli/scenario_file.h"
#include "sim/cli/sweep_cli.h"
#include "sim/scenario.h"
#include "sim/shrink.h"
#include "sim/simulator.h"
#include "sim/swarm.h"

namespace herd {
namespace {

const char* kRing =
    "{\"name\":\"ring4\",\"nodes\":[{\"name\":\"a\",\"port\":1},{\"name\":\"b\",\"port\":2},"
    "{\"name\":\"c\",\"port\":3},{\"name\":\"d\",\"port\":4}],"
    "\"links\":[[\"a\",\"b\"],[\"b\",\"c\"],[\"c\",\"d\"],[\"d\",\"a\"]]}";

std::string scenario_text(const std::string& swarm) {
  return std::string("{\"topology\": ") + kRing +
         ",\n \"duration_ms\": 4000, \"drain_ms\": 10000,\n"
         " \"workload\": {\"clients\": 10, \"iamat_per_s\": 10, \"whatsat_per_s\": 1},\n"
         " \"swarm\": " + swarm + "}\n";
}

Result<Scenario> parse(const std::string& text) {
  return parse_scenario(text, "w.json", "", [](const std::string& p) -> Result<Topology> { return Error{p}; });
}

std::string error_of(const std::string& swarm) {
  Result<Scenario> s = parse(scenario_text(swarm));
  REQUIRE_FALSE(s.ok());
  return s.error();
}

const char* kFullSwarm =
    "{\"events\": [2, 6], \"window_ms\": [100, 3500], \"fault_ms\": [100, 1500],"
    " \"drop\": {\"p\": 0.5, \"max\": 0.2}, \"duplicate\": {\"p\": 0.5, \"max\": 0.1},"
    " \"delay_ms\": {\"p\": 0.5, \"min\": 1, \"max\": 30}, \"bandwidth_kbps\": {\"p\": 0.3, \"min\": 64, \"max\": 512},"
    " \"clients\": [2, 20], \"iamat_per_s\": [1, 30], \"whatsat_per_s\": [0, 3]}";

TEST_CASE("swarm: bad keys and values name the file, the line and the key") {
  CHECK(error_of("{\"event\": [1, 2]}").find("w.json: line 4: swarm.event") == 0);
  CHECK(error_of("{\"events\": [3, 1]}") == "w.json: line 4: swarm.events: min must not exceed max");
  CHECK(error_of("{\"events\": [0, 5000]}").find("swarm.events[1]: must be an integer in 0..1000") != std::string::npos);
  CHECK(error_of("{\"window_ms\": [0, 9000]}").find("swarm.window_ms[1]: must be an integer in 0..4000") !=
        std::string::npos);
  CHECK(error_of("{\"drop\": {\"p\": 1.5}}").find("swarm.drop.p: must be a number in 0..1") != std::string::npos);
  CHECK(error_of("{\"drop\": {\"max\": 0.1}}").find("swarm.drop.p: is required") != std::string::npos);
  CHECK(error_of("{\"kinds\": {\"crash\": 0}}").find("swarm.kinds: every kind has weight 0") != std::string::npos);
  CHECK(error_of("{\"kinds\": {\"nuke\": 1}}").find("swarm.kinds.nuke") != std::string::npos);
  CHECK(error_of("{\"iamat_per_s\": [5]}").find("swarm.iamat_per_s: must be [min, max]") != std::string::npos);
}

TEST_CASE("swarm: a seed's draw is reproducible, seeds differ, and the concrete scenario is plain") {
  const std::string text = scenario_text(kFullSwarm);
  Result<Scenario> parsed = parse(text);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  REQUIRE(parsed.value().swarm.has_value());
  Result<SwarmConcrete> a = swarm_concrete(text, parsed.value(), 7);
  Result<SwarmConcrete> b = swarm_concrete(text, parsed.value(), 7);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value().drawn_json == b.value().drawn_json);
  CHECK(a.value().text == b.value().text);
  std::set<std::string> draws;
  for (uint64_t seed = 1; seed <= 20; ++seed) draws.insert(swarm_concrete(text, parsed.value(), seed).value().drawn_json);
  CHECK(draws.size() == 20);
  // The concrete text has no swarm section and parses as an ordinary scenario.
  CHECK(a.value().text.find("\"swarm\"") == std::string::npos);
  Result<Scenario> concrete = parse(a.value().text);
  REQUIRE_MESSAGE(concrete.ok(), (concrete.ok() ? "" : concrete.error()));
  CHECK_FALSE(concrete.value().swarm.has_value());
  // Every drawn event is in the timeline, and each fault has its heal.
  CHECK(concrete.value().plan.timeline.size() >= 2);
  int opened = 0;
  for (const TimelineEvent& e : concrete.value().plan.timeline) {
    switch (e.action.kind) {
      case ActionKind::kPartition: case ActionKind::kCut: case ActionKind::kBlackhole:
      case ActionKind::kCrash: case ActionKind::kPause: ++opened; break;
      case ActionKind::kHeal: case ActionKind::kHealAll: case ActionKind::kRestart: case ActionKind::kResume:
        --opened; break;
      default: break;
    }
    CHECK(e.at_ms <= 14000);
  }
  CHECK(opened == 0);
  const int64_t clients = concrete.value().workload.clients;
  CHECK(clients >= 2);
  CHECK(clients <= 20);
  // Two runs of the same seed end in the same state; two seeds do not.
  Simulator one(concrete.value(), 7), two(concrete.value(), 7);
  const Report r1 = one.run(), r2 = two.run();
  CHECK(r1.digest == r2.digest);
  Result<Scenario> other = parse(swarm_concrete(text, parsed.value(), 8).value().text);
  REQUIRE(other.ok());
  Simulator three(other.value(), 8);
  CHECK(three.run().digest != r1.digest);
}

TEST_CASE("swarm: weights choose the kinds, and node faults never overlap on one server") {
  const std::string text = scenario_text("{\"events\": [8, 8], \"fault_ms\": [2000, 3000], \"kinds\": {\"crash\": 1}}");
  Result<Scenario> parsed = parse(text);
  REQUIRE(parsed.ok());
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Result<Scenario> s = parse(swarm_concrete(text, parsed.value(), seed).value().text);
    REQUIRE(s.ok());
    std::set<std::string> down;
    for (const TimelineEvent& e : s.value().plan.timeline) {
      REQUIRE((e.action.kind == ActionKind::kCrash || e.action.kind == ActionKind::kRestart));
      if (e.action.kind == ActionKind::kCrash) CHECK(down.insert(e.action.server).second);
      else CHECK(down.erase(e.action.server) == 1);
    }
    CHECK(down.empty());
  }
}

TEST_CASE("sweep: shards partition a seed range") {
  std::vector<uint64_t> all = shard_seeds(5, 44, 0, 1);
  CHECK(all.size() == 40);
  std::multiset<uint64_t> joined;
  for (uint64_t i = 0; i < 3; ++i) {
    for (uint64_t s : shard_seeds(5, 44, i, 3)) {
      CHECK(s % 3 == i);
      joined.insert(s);
    }
  }
  CHECK(std::vector<uint64_t>(joined.begin(), joined.end()) == all);
  CHECK(shard_seeds(UINT64_MAX - 1, UINT64_MAX, 0, 1).size() == 2);  // No wrap at the top.
}

TEST_CASE("sweep: flags are checked") {
  CHECK(parse_sweep_flags({"s.json"}).error() == "sweep: --seeds A-B is required (see herd sweep --help)");
  CHECK(parse_sweep_flags({"s.json", "--seeds", "9-3"}).error().find("--seeds: expected A-B") == 0);
  CHECK(parse_sweep_flags({"s.json", "--seeds", "0-2000000"}).error().find("at most 1000000") != std::string::npos);
  CHECK(parse_sweep_flags({"s.json", "--seeds", "1-5", "--jobs", "0"}).error().find("--jobs: expected an integer in 1..256") == 0);
  CHECK(parse_sweep_flags({"s.json", "--seeds", "1-5", "--shard", "3/3"}).error().find("--shard: expected I/N") == 0);
  Result<SweepFlags> ok = parse_sweep_flags({"s.json", "--seeds=4", "--shard", "1/2", "--json", "--spot-check", "0"});
  REQUIRE(ok.ok());
  CHECK(ok.value().seed_lo == 4);
  CHECK(ok.value().seed_hi == 4);
  CHECK(ok.value().shard_count == 2);
  CHECK(ok.value().spot_every == 0);
  CHECK_FALSE(ok.value().merge);
}

TEST_CASE("sweep --merge: flags are checked") {
  Result<SweepFlags> ok = parse_sweep_flags({"a.jsonl", "--merge", "b.jsonl", "c.jsonl", "--json", "--output=m.jsonl"});
  REQUIRE(ok.ok());
  CHECK(ok.value().merge);
  CHECK(ok.value().merge_files == std::vector<std::string>{"a.jsonl", "b.jsonl", "c.jsonl"});
  CHECK(ok.value().scenario_path.empty());
  CHECK(ok.value().json);
  CHECK(ok.value().output == "m.jsonl");
  CHECK(parse_sweep_flags({"--merge"}).error() == "sweep --merge: expected the FILEs of the shards (see herd sweep --help)");
  for (const char* flag : {"--seeds", "--jobs", "--shard", "--spot-check", "--sync"}) {
    const std::string value = std::string(flag) == "--shard" ? "0/2" : std::string(flag) == "--sync" ? "off" : "1";
    CHECK(parse_sweep_flags({"--merge", "a.jsonl", flag, value}).error() ==
          "sweep --merge: " + std::string(flag) + " is an option of a run, not of a merge (--merge FILE... [--json] [--output FILE])");
  }
  std::vector<std::string> many = {"--merge"};
  for (size_t i = 0; i <= kSweepMergeFilesMax; ++i) many.push_back("f" + std::to_string(i));
  CHECK(parse_sweep_flags(many).error() == "sweep --merge: 1001 files; at most 1000 in one merge");
}

TEST_CASE("shrink: ddmin keeps exactly the events the failure needs") {
  // Fails while timeline entries with at_ms 30 and 70 are both present.
  std::string text = "{\"duration_ms\": 100, \"timeline\": [";
  for (int i = 0; i < 10; ++i) text += std::string(i ? "," : "") + "{\"at_ms\":" + std::to_string(i * 10) + "}";
  text += "]}";
  auto fails = [](const std::string& t) {
    return t.find("\"at_ms\":30") != std::string::npos && t.find("\"at_ms\":70") != std::string::npos &&
           t.find("\"duration_ms\":") != std::string::npos;
  };
  ShrinkResult r = shrink_scenario(text, fails, 1000);
  CHECK(r.text.find("\"timeline\":[{\"at_ms\":30},{\"at_ms\":70}]") != std::string::npos);
  CHECK(r.steps > 0);
  CHECK(r.steps < 200);
  bool said = false;
  for (const std::string& c : r.changes) said = said || c == "timeline: 10 -> 2 events";
  CHECK(said);
  // The budget holds.
  ShrinkResult capped = shrink_scenario(text, fails, 3);
  CHECK(capped.steps == 3);
  CHECK(capped.budget_spent);
  CHECK(fails(capped.text));
}

}  // namespace
}  // namespace herd
