// End-to-end: `herd sim` and `herd replay` as a user runs them: exit codes, the
// messages for files that are not there, cannot be read or are cut short, the
// checks section, --check-determinism --json, --output, and progress on stderr.
#include <sys/stat.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

std::string scenario(const std::string& name) { return herd_root() + "/sim/scenarios/" + name + ".json"; }
std::string committed_trace() { return herd_root() + "/tests/replay/ring5_faults.jsonl"; }

// A small scenario file in `dir`; `extra` goes inside its top-level object.
std::string write_scenario(const TempDir& dir, const std::string& extra) {
  const std::string path = dir.path() + "/s.json";
  REQUIRE(write_text_file(path, "{\"topology\": \"" + herd_root() + "/topologies/complete5.json\",\n"
                                " \"duration_ms\": 20000,\n"
                                " \"workload\": {\"clients\": 5000, \"fresh_clients\": true, \"iamat_per_s\": 100,\n"
                                "              \"whatsat_per_s\": 0},\n"
                                " \"links\": {\"delay_ms\": 3}" + extra + "}\n"));
  return path;
}

std::vector<std::string> lines_of(const std::string& text) { return split_lines(text); }

// The line of `text` that contains `part`, or "".
std::string line_with(const std::string& text, const std::string& part) {
  for (const std::string& line : lines_of(text)) {
    if (line.find(part) != std::string::npos) return line;
  }
  return "";
}

TEST_CASE("e2e replay: a directory, a missing or unreadable file gives the reason, exit 2") {
  TempDir dir;
  BatchRun r = run_herd({"replay", dir.path()});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + dir.path() + ": is a directory\n");
  r = run_herd({"replay", dir.path() + "/none.jsonl"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + dir.path() + "/none.jsonl: No such file or directory\n");
  // Unreadable: as root, the child runs as nobody, for whom the mode bits apply.
  const std::string locked = dir.path() + "/locked.jsonl";
  REQUIRE(write_text_file(locked, read_text_file(committed_trace())));
  REQUIRE(::chmod(locked.c_str(), 0) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  BatchOptions as_nobody;
  as_nobody.drop_root = true;
  r = run_herd({"replay", locked}, 30'000, as_nobody);
  if (r.status.code == 126) {
    MESSAGE("cannot drop root here; the unreadable-file case is not run");
  } else {
    CHECK(r.status.code == 2);
    CHECK(r.err == "herd: " + locked + ": Permission denied\n");
  }
}

TEST_CASE("e2e replay: a trace cut short or with a bad end line is not a match") {
  TempDir dir;
  const std::vector<std::string> lines = lines_of(read_text_file(committed_trace()));
  REQUIRE(lines.size() > 10);
  const std::string header_only = dir.path() + "/header.jsonl";
  REQUIRE(write_text_file(header_only, lines[0] + "\n"));
  BatchRun r = run_herd({"replay", header_only});
  CHECK(r.status.code == 1);
  CHECK(r.out == "");
  CHECK(r.err == "herd replay: " + header_only + ": only a header, no input and no end line (a recording cut short)\n");

  std::string cut_text;
  for (size_t i = 0; i < 6; ++i) cut_text += lines[i] + "\n";
  const std::string cut = dir.path() + "/cut.jsonl";
  REQUIRE(write_text_file(cut, cut_text));
  r = run_herd({"replay", cut});
  CHECK(r.status.code == 1);
  CHECK(r.err == "herd replay: " + cut + ": 5 inputs replayed and every output matches, but there is no end "
                 "line (a recording cut short), so the final state is unchecked\n");

  // The end line's digest must be a digest: a malformed one is refused, not compared.
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) text += lines[i] + "\n";
  const std::string inputs = std::to_string(lines.size() - 2);
  const std::string bad = dir.path() + "/bad-digest.jsonl";
  REQUIRE(write_text_file(bad, text + "{\"end\":true,\"inputs\":" + inputs + ",\"digest\":\"XYZ\"}\n"));
  r = run_herd({"replay", bad});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: " + bad + ": line " + std::to_string(lines.size()) +
                     ": end line: \"digest\" must be 16 lowercase hex digits, got \"XYZ\"\n");
  // A well-formed digest that differs is a divergence.
  REQUIRE(write_text_file(bad, text + "{\"end\":true,\"inputs\":" + inputs + ",\"digest\":\"0123456789abcdef\"}\n"));
  r = run_herd({"replay", bad});
  CHECK(r.status.code == 1);
  CHECK(r.err.find(": end: final state digest expected 0123456789abcdef, got ") != std::string::npos);
  r = run_herd({"replay", committed_trace()});
  CHECK(r.status.clean());
  CHECK(r.out.find(" inputs replayed, every output matches, final state digest matches\n") != std::string::npos);
}

TEST_CASE("e2e sim: the checks section lists every check; a failed one exits 1") {
  TempDir dir;
  const std::string path = write_scenario(dir, ",\n \"expect\": {\"reached_all_min\": 1.0, \"msgs_per_update_max\": 15}");
  BatchRun r = run_herd({"sim", path, "--quiet"});
  CHECK(r.status.code == 1);
  CHECK(r.out.find("\n  checks            max_events ") != std::string::npos);
  const std::string converged = line_with(r.out, " reached_all_min ");
  CHECK_MESSAGE(converged.find(" 1.000000  bound 1.000000 ") != std::string::npos, converged);
  CHECK(converged.ends_with("  pass"));
  const std::string msgs = line_with(r.out, " msgs_per_update_max ");
  CHECK_MESSAGE(msgs.find(" 16.000  bound 15.000 ") != std::string::npos, msgs);
  CHECK(msgs.ends_with("  FAIL"));
  CHECK(r.err.find("herd sim: check failed: msgs_per_update 16.000 above msgs_per_update_max 15.000\n") !=
        std::string::npos);
  CHECK(r.err.find("herd sim: seed 1; replay with: herd sim " + path + " --seed 1\n") != std::string::npos);
  r = run_herd({"sim", path, "--json"});
  CHECK(r.status.code == 1);
  CHECK(r.out.find(",\"checks\":[{\"name\":\"max_events\",\"figure\":") != std::string::npos);
  CHECK(r.out.find("{\"name\":\"msgs_per_update_max\",\"figure\":16.000,\"bound\":15.000,\"pass\":false}") !=
        std::string::npos);

  // Cut short by max_events: a failure that says so.
  const std::string small = write_scenario(dir, ",\n \"max_events\": 50");
  r = run_herd({"sim", small});
  CHECK(r.status.code == 1);
  CHECK(line_with(r.out, "  checks            max_events ").ends_with(" 50  bound 50    FAIL"));
  CHECK(r.err.find("herd sim: check failed: the run was cut short at max_events 50 (sim time ") != std::string::npos);
}

TEST_CASE("e2e sim: the memory budget refuses a scenario planned past it (2) and cuts short a run grown past it (1)") {
  TempDir dir;
  const std::string huge = dir.path() + "/huge.json";
  REQUIRE(write_text_file(huge, "{\"topology\": {\"random\": {\"nodes\": 40000, \"degree\": 2}},\n"
                                " \"duration_ms\": 1000,\n"
                                " \"workload\": {\"clients\": 1000000}}\n"));
  BatchRun r = run_herd({"sim", huge, "--quiet"});
  CHECK(r.status.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("herd: " + huge + ": line 3: workload.clients: the run would need about "));
  CHECK(r.err.find(", over max_memory_mb 4096: 1000000 clients x 40000 servers, server-client pairs ") !=
        std::string::npos);
  // Planned within 16 MiB, it holds every flood message for 30 s and grows past it.
  const std::string grows = dir.path() + "/grows.json";
  REQUIRE(write_text_file(grows, "{\"topology\": \"" + herd_root() + "/topologies/ring5.json\",\n"
                                 " \"duration_ms\": 1000, \"drain_ms\": 0,\n"
                                 " \"workload\": {\"clients\": 10, \"iamat_per_s\": 20000, \"whatsat_per_s\": 0},\n"
                                 " \"links\": {\"delay_ms\": 30000}}\n"));
  r = run_herd({"sim", grows, "--quiet", "--max-memory-mb", "16"});
  CHECK(r.status.code == 1);
  CHECK(line_with(r.out, "max_memory_mb ").ends_with(" 18  bound 16         FAIL"));
  CHECK(r.err.find("herd sim: check failed: the run was cut short at max_memory_mb 16: it held about 18 MiB at "
                   "sim time ") != std::string::npos);
  // The default budget has room for it.
  r = run_herd({"sim", grows, "--quiet"}, 120'000);
  CHECK(r.status.code == 0);
  CHECK(line_with(r.out, "max_memory_mb ").ends_with("  bound 4096       pass"));
}

TEST_CASE("e2e sim: --check-determinism honours --json and --output") {
  TempDir dir;
  BatchRun r = run_herd({"sim", scenario("replay_small"), "--check-determinism", "--json"});
  CHECK(r.status.clean());
  CHECK(r.out.rfind("{\"deterministic\":true,\"scenario\":\"replay_small\",\"seed\":5,\"inputs\":", 0) == 0);
  CHECK(r.out.ends_with("\"}\n"));
  CHECK(lines_of(r.out).size() == 1);
  const std::string out = dir.path() + "/report.json";
  r = run_herd({"sim", scenario("replay_small"), "--json", "--output", out});
  CHECK(r.status.clean());
  CHECK(r.out == "");
  const std::string report = read_text_file(out);
  CHECK(report.rfind("{\"host\":\"sim\",\"seed\":5,\"scenario\":\"replay_small\",", 0) == 0);
  CHECK(report.ends_with("}\n"));
  r = run_herd({"sim", scenario("replay_small"), "--output", dir.path() + "/no/such/dir/x"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: --output " + dir.path() + "/no/such/dir/x: No such file or directory\n");
}

TEST_CASE("e2e sim: progress on stderr with --progress, none by default off a terminal or with --quiet") {
  TempDir dir;
  const std::string path = write_scenario(dir, "");
  BatchRun r = run_herd({"sim", path, "--progress"});
  CHECK(r.status.clean());
  CHECK_MESSAGE(r.err.rfind("\rherd sim: complete5: sim ", 0) == 0, r.err);
  CHECK(r.err.find(" of 80000 ms (") != std::string::npos);
  CHECK(r.err.find(" events") != std::string::npos);
  CHECK(r.err.ends_with("\n"));  // Not a terminal: the last line stays, ended.
  CHECK(r.out.rfind("herd sim: complete5, seed 1, topology complete5 ", 0) == 0);
  r = run_herd({"sim", path});
  CHECK(r.status.clean());
  CHECK(r.err == "");
  r = run_herd({"sim", path, "--quiet"});
  CHECK(r.status.clean());
  CHECK(r.err == "");
  r = run_herd({"sim", path, "--quiet", "--progress"});
  CHECK(r.status.code == 2);
  CHECK(r.err == "herd: --progress and --quiet: give one of them\n");
}

}  // namespace
}  // namespace herd::e2e
