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

// A line without its "wall_ms" and "seeds_per_s" members (the figures of wall time,
// the only ones that are not a function of the scenario and the seeds).
std::string without_wall(std::string line) {
  for (const char* key : {",\"wall_ms\":", ",\"seeds_per_s\":"}) {
    const size_t at = line.find(key);
    if (at == std::string::npos) continue;
    const size_t end = line.find_first_of(",}", at + 1);
    line = line.substr(0, at) + line.substr(end);
  }
  return line;
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


// Runs `herd sweep SCENARIO --seeds RANGE --json` (with `extra`) into `out`; its exit status.
int sweep_to(const std::string& scenario, const std::string& range, const std::string& out,
             std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"sweep", scenario, "--seeds", range, "--json", "--jobs", "2", "--output", out};
  args.insert(args.end(), extra.begin(), extra.end());
  BatchRun r = run_herd(args, 60'000);
  REQUIRE_MESSAGE(r.err == "", r.err);
  return r.status.code;
}

// A file's lines with line `n` (from 1) replaced by `by` ("": removed).
std::string with_line(const std::string& path, size_t n, const std::string& by) {
  std::string out;
  const std::vector<std::string> lines = split_lines(read_text_file(path));
  REQUIRE(n >= 1);
  REQUIRE(n <= lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i + 1 != n) out += lines[i] + "\n";
    else if (!by.empty()) out += by + "\n";
  }
  return out;
}

TEST_CASE("e2e sweep --merge: two shards merge into the unsharded sweep, byte for byte but the wall times") {
  TempDir dir;
  const std::string flaky = write_flaky(dir);
  const std::string whole = dir.path() + "/whole.jsonl", s0 = dir.path() + "/s0.jsonl", s1 = dir.path() + "/s1.jsonl";
  const int status = sweep_to(flaky, "1-12", whole, {"--spot-check", "3", "--sync", "off"});
  CHECK(status == 1);  // Built to fail for some seeds.
  sweep_to(flaky, "1-12", s0, {"--shard", "0/2", "--spot-check", "3", "--sync", "off"});
  sweep_to(flaky, "1-12", s1, {"--shard", "1/2", "--spot-check", "3", "--sync", "off"});
  BatchRun merged = run_herd({"sweep", "--merge", s0, s1, "--json"}, 30'000);
  CHECK(merged.err == "");
  CHECK(merged.status.code == status);
  const std::vector<std::string> want = split_lines(read_text_file(whole));
  const std::vector<std::string> got = split_lines(merged.out);
  REQUIRE(want.size() == 13);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) CHECK(without_wall(got[i]) == without_wall(want[i]));
  // The seed lines are the shards' own, wall times included; the summary's wall_ms is
  // the shards' sum, and seeds_per_s the seeds over it.
  std::map<uint64_t, std::string> shard_lines;
  double shard_ms = 0;
  for (const std::string& f : {s0, s1}) {
    std::vector<std::string> lines = split_lines(read_text_file(f));
    REQUIRE(lines.size() == 7);
    rapidjson::Document s = json_of(lines.back());
    shard_ms += s["summary"]["wall_ms"].GetDouble();
    lines.pop_back();
    for (const std::string& l : lines) shard_lines[json_of(l)["seed"].GetUint64()] = l;
  }
  for (size_t i = 0; i < 12; ++i) CHECK(got[i] == shard_lines[i + 1]);
  rapidjson::Document sum = json_of(got.back());
  CHECK(sum["summary"]["wall_ms"].GetDouble() == doctest::Approx(shard_ms).epsilon(1e-9));
  CHECK(sum["summary"]["seeds_per_s"].GetDouble() == doctest::Approx(12 * 1000 / shard_ms).epsilon(0.01));
  CHECK(sum["summary"]["shard"][0].GetUint64() == 0);
  CHECK(sum["summary"]["shard"][1].GetUint64() == 1);
  CHECK(std::string(sum["summary"]["sync"].GetString()) == "off");

  // The order of the files does not matter; --output writes the same.
  const std::string out = dir.path() + "/merged.jsonl";
  BatchRun again = run_herd({"sweep", "--merge", s1, s0, "--json", "--output", out}, 30'000);
  CHECK(again.status.code == status);
  CHECK(again.out == "");
  CHECK(read_text_file(out) == merged.out);
  // A merge is one more input: it merges again, alone, to itself.
  BatchRun self = run_herd({"sweep", "--merge", out, "--json"}, 30'000);
  CHECK(self.status.code == status);
  CHECK(self.out == merged.out);

  // herd report draws the merged sweep (its figures are JSON numbers).
  const std::string html = dir.path() + "/sweep.html";
  BatchRun report = run_herd({"report", out, "--html", html}, 30'000);
  CHECK_MESSAGE(report.status.code == 0, report.err);
  CHECK(read_text_file(html).find("herd sim " + flaky + " --seed 12") != std::string::npos);

  // Without --json: the table and the summary a sweep prints, from the shards' lines.
  BatchRun text = run_herd({"sweep", "--merge", s0, s1}, 30'000);
  CHECK(text.status.code == status);
  const std::vector<std::string> rows = split_lines(text.out);
  REQUIRE(rows.size() >= 14);
  CHECK(rows[0] == "herd sweep: flaky (" + flaky + "), seeds 1-12: 12 seeds, merged from 2 files, swarm");
  const rapidjson::Document w = json_of(want.back());
  const uint64_t failed = w["summary"]["failed"].GetUint64();
  CHECK(rows[13].find("herd sweep: 12 seeds, " + std::to_string(failed) + " failed, ") == 0);
  CHECK(rows[13].find(" seeds/s (merged from 2 files, ") != std::string::npos);
  CHECK(rows.size() == 14 + failed);
  for (size_t i = 0; i < 12; ++i) {
    rapidjson::Document d = json_of(want[i]);
    CAPTURE(rows[i + 1]);
    const std::string seed = std::to_string(i + 1);
    CHECK(rows[i + 1].find("  seed " + std::string(8 - seed.size(), ' ') + seed + (d["pass"].GetBool() ? "  pass" : "  FAIL") +
                           "  digest " + d["digest"].GetString() + "  wall ") == 0);
    bool twice = false;
    for (const auto& c : d["checks"].GetArray()) twice = twice || std::string(c["name"].GetString()) == "deterministic";
    CHECK((rows[i + 1].find("(run twice)") != std::string::npos) == twice);
  }
  for (size_t i = 0; i < failed; ++i) {
    CHECK(rows[14 + i] == std::string("  failed: ") + w["summary"]["failing"][static_cast<rapidjson::SizeType>(i)]["rerun"].GetString());
  }
}

TEST_CASE("e2e sweep --merge: shards that do not make one sweep exit 2 naming the file, the line and the seeds") {
  TempDir dir;
  const std::string ring = swarm_ring5();
  const std::string s0 = dir.path() + "/s0.jsonl", s1 = dir.path() + "/s1.jsonl";
  REQUIRE(sweep_to(ring, "1-6", s0, {"--shard", "0/2"}) == 0);
  REQUIRE(sweep_to(ring, "1-6", s1, {"--shard", "1/2"}) == 0);
  REQUIRE(run_herd({"sweep", "--merge", s0, s1}).status.code == 0);
  const std::string bad = dir.path() + "/bad.jsonl";
  auto merge = [&](const std::string& second) { return run_herd({"sweep", "--merge", s0, second, "--json"}); };
  // s0 merged with a second shard of `content`: refused with exactly `error`.
  auto refused = [&](const std::string& content, const std::string& error) {
    REQUIRE(write_text_file(bad, content));
    BatchRun r = merge(bad);
    CHECK(r.status.code == 2);
    CHECK(r.out == "");
    CHECK(r.err == error);
  };

  // A seed twice: the same shard given twice, or a line repeated within a shard.
  BatchRun r = run_herd({"sweep", "--merge", s0, s1, s0});
  CHECK(r.status.code == 2);
  CHECK(r.out == "");
  CHECK(r.err == "herd: " + s0 + ": shard 0/2 again (also in " + s0 + "): seeds given twice: 2, 4, 6\n");
  const std::vector<std::string> lines1 = split_lines(read_text_file(s1));  // Seeds 1, 3, 5, the summary.
  REQUIRE(lines1.size() == 4);
  refused(lines1[0] + "\n" + lines1[1] + "\n" + lines1[1] + "\n" + lines1[2] + "\n" + lines1[3] + "\n",
          "herd: " + bad + ": line 3: seed 3 twice\n");

  // A seed missing: a line removed, or a shard not given.
  refused(with_line(s1, 2, ""), "herd: sweep --merge: seeds 1-6: seeds missing: 3\n");
  r = run_herd({"sweep", "--merge", s1});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: sweep --merge: seeds 1-6: seeds missing: 2, 4, 6 (shards without a file: 1 of 2)\n");

  // A shard of another scenario file: the same path and name, other bytes.
  const std::string copy = write_flaky(dir);
  const std::string text = read_text_file(copy);
  const std::string c0 = dir.path() + "/c0.jsonl", c1 = dir.path() + "/c1.jsonl";
  sweep_to(copy, "1-6", c0, {"--shard", "0/2"});
  REQUIRE(write_text_file(copy, text + "\n"));  // The same scenario, one more byte.
  sweep_to(copy, "1-6", c1, {"--shard", "1/2"});
  r = run_herd({"sweep", "--merge", c0, c1});
  CHECK(r.status.code == 2);
  CHECK(r.err.find("herd: " + c1 + ": line 4: summary.scenario_hash is \"") == 0);
  CHECK(r.err.find("\" as in " + c0 + " (a shard of another sweep") != std::string::npos);
  // ... and of another path, or other flags.
  refused(read_text_file(c1), "herd: " + bad + ": line 4: summary.scenario is \"" + copy + "\", not \"" + ring + "\" as in " +
                                  s0 + " (a shard of another sweep: every shard must come from the same scenario file and flags)\n");
  REQUIRE(sweep_to(ring, "1-6", bad, {"--shard", "1/2", "--spot-check", "0"}) == 0);
  r = merge(bad);
  CHECK(r.status.code == 2);
  CHECK(r.err.find("herd: " + bad + ": line 4: summary.spot_check is 0, not 8 as in " + s0) == 0);

  // A malformed line, a bad field, a file cut short, a line after the summary.
  refused(with_line(s1, 2, "{\"seed\":3,\"pass\":tru"), "herd: " + bad + ": line 2: not a JSON object (a sweep's --json line)\n");
  refused(with_line(s1, 1, "{\"seed\":\"1\",\"pass\":true}"), "herd: " + bad + ": line 1: seed: expected an integer in 0..2^64-1\n");
  refused(with_line(s1, 4, ""),
          "herd: " + bad + ": no summary line (a shard cut short? its last line must be herd sweep --json's summary)\n");
  refused(read_text_file(s1) + lines1[0] + "\n", "herd: " + bad + ": line 5: a line after the summary line\n");
  r = run_herd({"sweep", "--merge", s0, dir.path() + "/none.jsonl"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + dir.path() + "/none.jsonl: cannot read: No such file or directory\n");

  // Usage: the options of a run are not a merge's; the output is not an input.
  r = run_herd({"sweep", "--merge", s0, s1, "--seeds", "1-6"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: sweep --merge: --seeds is an option of a run, not of a merge (--merge FILE... [--json] [--output FILE])\n");
  r = run_herd({"sweep", "--merge"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: sweep --merge: expected the FILEs of the shards (see herd sweep --help)\n");
  r = run_herd({"sweep", "--merge", s0, s1, "--output", s1});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: --output " + s1 + ": is the input " + s1 + "\n");
  CHECK(split_lines(read_text_file(s1)).size() == 4);  // Untouched.
}

}  // namespace
}  // namespace herd::e2e
