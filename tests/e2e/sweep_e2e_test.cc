// End-to-end: `herd sweep` and `herd shrink` as a user (or a batch engine) runs
// them: the JSON lines and the summary, failing seeds whose rerun commands fail,
// shards whose union is the unsharded sweep, a swarm seed that `herd sim`
// reproduces exactly, and a built failure shrunk to a small scenario that still
// fails.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

std::string swarm_ring5() { return herd_root() + "/sim/scenarios/swarm_ring5.json"; }

rapidjson::Document json_of(const std::string& line) {
  rapidjson::Document d;
  d.Parse(line.c_str());
  REQUIRE_MESSAGE(!d.HasParseError(), line);
  REQUIRE(d.IsObject());
  return d;
}

// A line without its "wall_ms" member (the one figure that is not a function of the seed).
std::string without_wall(const std::string& line) {
  const size_t at = line.find(",\"wall_ms\":");
  if (at == std::string::npos) return line;
  const size_t end = line.find(',', at + 1);
  return line.substr(0, at) + line.substr(end);
}

// `herd` arguments of a "herd sim ..." rerun command.
std::vector<std::string> rerun_args(const std::string& command) {
  std::istringstream in(command);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  REQUIRE(words.size() >= 4);
  REQUIRE(words[0] == "herd");
  return std::vector<std::string>(words.begin() + 1, words.end());
}

// A ring of five with sync off: seeds that draw a partition (or a cut) lose
// updates for good and fail; the others pass.
std::string write_flaky(const TempDir& dir) {
  const std::string path = dir.path() + "/flaky.json";
  REQUIRE(write_text_file(path,
                          "{\"name\": \"flaky\", \"topology\": \"" + herd_root() + "/topologies/ring5.json\",\n"
                          " \"duration_ms\": 4000, \"drain_ms\": 10000, \"sync\": {\"mode\": \"off\"},\n"
                          " \"workload\": {\"clients\": 10, \"iamat_per_s\": 20, \"whatsat_per_s\": 0},\n"
                          " \"links\": {\"delay_ms\": 5},\n"
                          " \"swarm\": {\"events\": [0, 1], \"window_ms\": [500, 2500], \"fault_ms\": [1000, 1500],\n"
                          "            \"kinds\": {\"partition\": 1, \"reset\": 1}},\n"
                          " \"expect\": {\"residue_max\": 0.0}}\n"));
  return path;
}

TEST_CASE("e2e sweep: a small range passes, line by line in seed order, with the summary") {
  BatchRun r = run_herd({"sweep", swarm_ring5(), "--seeds", "1-6", "--jobs", "2", "--json", "--spot-check", "2"}, 60'000);
  CHECK(r.status.code == 0);
  CHECK(r.err == "");
  const std::vector<std::string> lines = split_lines(r.out);
  REQUIRE(lines.size() == 7);
  int spot = 0;
  for (size_t i = 0; i < 6; ++i) {
    rapidjson::Document d = json_of(lines[i]);
    CHECK(d["seed"].GetUint64() == i + 1);
    CHECK(d["pass"].GetBool());
    CHECK(d["digest"].GetStringLength() == 16);
    CHECK(d["wall_ms"].IsNumber());
    CHECK(std::string(d["rerun"].GetString()) == "herd sim " + swarm_ring5() + " --seed " + std::to_string(i + 1));
    CHECK(d["failed"].Size() == 0);
    REQUIRE(d["checks"].IsArray());
    bool residue = false;
    for (const auto& c : d["checks"].GetArray()) {
      CHECK(c["pass"].GetBool());
      CHECK(c.HasMember("figure"));
      CHECK(c.HasMember("bound"));
      residue = residue || std::string(c["name"].GetString()) == "residue_max";
      spot += std::string(c["name"].GetString()) == "deterministic";
    }
    CHECK(residue);
    REQUIRE(d.HasMember("swarm"));
    CHECK(d["swarm"]["timeline"].IsArray());
  }
  CHECK(spot >= 1);  // Some seeds of six hash into one spot check in two.
  rapidjson::Document s = json_of(lines[6]);
  REQUIRE(s.HasMember("summary"));
  CHECK(s["summary"]["seeds"].GetUint64() == 6);
  CHECK(s["summary"]["failed"].GetUint64() == 0);
  CHECK(s["summary"]["seeds_per_s"].GetDouble() > 0);
  CHECK(s["summary"]["failing"].Size() == 0);

  // The table says the same.
  r = run_herd({"sweep", swarm_ring5(), "--seeds", "1-3", "--jobs", "1"}, 60'000);
  CHECK(r.status.code == 0);
  CHECK(r.out.find("herd sweep: 3 seeds, 0 failed, ") != std::string::npos);
  CHECK(r.out.find("  seed        2  pass  digest ") != std::string::npos);
}

TEST_CASE("e2e sweep: failing seeds are listed with rerun commands that fail; passing ones pass") {
  TempDir dir;
  const std::string flaky = write_flaky(dir);
  BatchRun r = run_herd({"sweep", flaky, "--seeds", "1-12", "--json", "--jobs", "2"}, 60'000);
  CHECK(r.status.code == 1);
  const std::vector<std::string> lines = split_lines(r.out);
  REQUIRE(lines.size() == 13);
  std::set<uint64_t> failing_lines;
  std::map<uint64_t, std::string> rerun;
  for (size_t i = 0; i < 12; ++i) {
    rapidjson::Document d = json_of(lines[i]);
    rerun[d["seed"].GetUint64()] = d["rerun"].GetString();
    if (!d["pass"].GetBool()) {
      failing_lines.insert(d["seed"].GetUint64());
      REQUIRE(d["failed"].Size() >= 1);
      CHECK(std::string(d["failed"][0].GetString()) == "residue_max");
    }
  }
  rapidjson::Document s = json_of(lines[12]);
  std::set<uint64_t> failing_summary;
  for (const auto& f : s["summary"]["failing"].GetArray()) {
    failing_summary.insert(f["seed"].GetUint64());
    CHECK(rerun[f["seed"].GetUint64()] == f["rerun"].GetString());
  }
  CHECK(failing_summary == failing_lines);
  CHECK(s["summary"]["failed"].GetUint64() == failing_lines.size());
  REQUIRE(failing_lines.size() >= 1);
  REQUIRE(failing_lines.size() <= 11);  // Built to fail for some seeds, not all.
  // Each printed command reproduces its seed's verdict.
  int reran = 0;
  for (const auto& [seed, command] : rerun) {
    if (reran >= 2 && failing_lines.count(seed) == 0) continue;
    CAPTURE(command);
    BatchRun again = run_herd(rerun_args(command), 30'000);
    CHECK(again.status.code == (failing_lines.count(seed) ? 1 : 0));
    if (failing_lines.count(seed)) CHECK(again.err.find("check failed: residue") != std::string::npos);
    ++reran;
  }
}

TEST_CASE("e2e sweep: shards together are the unsharded sweep, and a swarm seed reruns exactly in herd sim") {
  const std::vector<std::string> base = {"sweep", swarm_ring5(), "--seeds", "3-10", "--json", "--jobs", "2"};
  BatchRun whole = run_herd(base, 60'000);
  REQUIRE(whole.status.code == 0);
  std::vector<std::string> whole_lines = split_lines(whole.out);
  REQUIRE(whole_lines.size() == 9);
  whole_lines.pop_back();
  std::map<uint64_t, std::string> by_seed;
  for (uint64_t i = 0; i < 3; ++i) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--shard", std::to_string(i) + "/3"});
    BatchRun shard = run_herd(args, 60'000);
    REQUIRE(shard.status.code == 0);
    std::vector<std::string> lines = split_lines(shard.out);
    REQUIRE(lines.size() >= 2);
    lines.pop_back();
    for (const std::string& line : lines) {
      const uint64_t seed = json_of(line)["seed"].GetUint64();
      CHECK(seed % 3 == i);
      CHECK(by_seed.emplace(seed, without_wall(line)).second);
    }
  }
  REQUIRE(by_seed.size() == whole_lines.size());
  size_t k = 0;
  for (const auto& [seed, line] : by_seed) CHECK(line == without_wall(whole_lines[k++]));

  // Seed 5 in herd sim: the same draw and the same digest as in the sweep; seed 6 differs.
  rapidjson::Document swept = json_of(whole_lines[2]);
  REQUIRE(swept["seed"].GetUint64() == 5);
  BatchRun sim = run_herd({"sim", swarm_ring5(), "--seed", "5", "--json"}, 30'000);
  REQUIRE(sim.status.code == 0);
  rapidjson::Document report = json_of(first_line(sim.out));
  CHECK(std::string(report["digest"].GetString()) == swept["digest"].GetString());
  REQUIRE(report.HasMember("swarm"));
  const std::string drawn = sim.out.substr(sim.out.find("\"swarm\":"));
  CHECK(whole_lines[2].find(drawn.substr(0, drawn.size() - 2)) != std::string::npos);
  rapidjson::Document next = json_of(whole_lines[3]);
  CHECK(std::string(next["digest"].GetString()) != swept["digest"].GetString());
}

TEST_CASE("e2e sweep: bad usage exits 2 naming the problem") {
  BatchRun r = run_herd({"sweep", swarm_ring5()});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: sweep: --seeds A-B is required (see herd sweep --help)\n");
  r = run_herd({"sweep", "/nonexistent/s.json", "--seeds", "1-2"});
  CHECK(r.status.code == 2);
  CHECK(r.err.find("/nonexistent/s.json") != std::string::npos);
  TempDir dir;
  const std::string bad = dir.path() + "/bad.json";
  REQUIRE(write_text_file(bad, "{\"topology\": \"" + herd_root() + "/topologies/ring5.json\",\n \"duration_ms\": 1000,\n"
                               " \"swarm\": {\"events\": [0, 2],\n  \"fault_ms\": [10, 5]}}\n"));
  r = run_herd({"sweep", bad, "--seeds", "1-2"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + bad + ": line 4: swarm.fault_ms: min must not exceed max\n");
}

TEST_CASE("e2e shrink: a partition with sync off shrinks to a few faults and updates that still fail") {
  TempDir dir;
  const std::string path = dir.path() + "/big.json";
  REQUIRE(write_text_file(path,
      "{\"name\": \"big\", \"topology\": \"" + herd_root() + "/topologies/ring5.json\",\n"
      " \"duration_ms\": 8000, \"drain_ms\": 20000, \"sync\": {\"mode\": \"off\"},\n"
      " \"workload\": {\"clients\": 40, \"iamat_per_s\": 30, \"whatsat_per_s\": 3, \"moving\": true},\n"
      " \"links\": {\"delay_ms\": {\"dist\": \"uniform\", \"min\": 2, \"max\": 20}},\n"
      " \"timeline\": [{\"at_ms\": 500, \"reset\": [\"n0\", \"n1\"]}, {\"at_ms\": 900, \"pause\": \"n3\"},\n"
      "   {\"at_ms\": 1400, \"resume\": \"n3\"}, {\"at_ms\": 2000, \"partition\": [[\"n0\", \"n1\"]]},\n"
      "   {\"at_ms\": 2500, \"reset\": [\"n2\", \"n3\"]}, {\"at_ms\": 3000, \"crash\": \"n4\"},\n"
      "   {\"at_ms\": 4000, \"restart\": \"n4\"}, {\"at_ms\": 5000, \"heal_all\": true},\n"
      "   {\"at_ms\": 5500, \"reset\": [\"n3\", \"n4\"]}, {\"at_ms\": 6000, \"blackhole\": [\"n1\", \"n2\"]},\n"
      "   {\"at_ms\": 6500, \"heal\": [\"n1\", \"n2\"]}],\n"
      " \"expect\": {\"converge_after_faults_ms\": 3000, \"residue_max\": 0.0}}\n"));
  BatchRun before = run_herd({"sim", path, "--json"}, 30'000);
  REQUIRE(before.status.code == 1);
  const std::string out = dir.path() + "/small.json";
  BatchRun r = run_herd({"shrink", path, "--seed", "1", "--output", out}, 120'000);
  REQUIRE_MESSAGE(r.status.code == 0, (r.out + r.err));
  CHECK(r.out.find("steps tried") != std::string::npos);
  CHECK(r.out.find("removed: timeline: 11 -> ") != std::string::npos);
  rapidjson::Document small = json_of(read_text_file(out));
  CHECK_FALSE(small.HasMember("swarm"));
  CHECK(small["topology"].IsObject());  // Standalone: the topology is inline.
  REQUIRE(small["timeline"].IsArray());
  CHECK(small["timeline"].Size() <= 3);
  // It still fails the same check, every time.
  BatchRun after = run_herd({"sim", out, "--json"}, 30'000);
  CHECK(after.status.code == 1);
  rapidjson::Document report = json_of(first_line(after.out));
  CHECK(report["updates"].GetUint64() <= 10);
  CHECK(report["updates"].GetUint64() >= 1);
  std::string first_failed;
  for (const auto& c : report["checks"].GetArray()) {
    if (!c["pass"].GetBool() && first_failed.empty()) first_failed = c["name"].GetString();
  }
  CHECK(first_failed == "residue_max");
  BatchRun again = run_herd({"sim", out, "--check-determinism"}, 30'000);
  CHECK(again.status.code == 0);
  // A run that passes has nothing to shrink.
  r = run_herd({"shrink", swarm_ring5(), "--seed", "1"}, 30'000);
  CHECK(r.status.code == 1);
  CHECK(r.err.find("passes every check: nothing to shrink") != std::string::npos);
}

}  // namespace
}  // namespace herd::e2e
