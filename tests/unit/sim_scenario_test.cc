// Scenario files: the shipped ones load; every error names the file, the line and
// the key, also for the parts parsed by the topology and faults-file parsers; the
// command line refuses bad flags with exit status 2; the determinism check passes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "node/clock.h"
#include "net/files.h"
#include "sim/determinism.h"
#include "sim/cli/scenario_file.h"
#include "sim/scenario.h"
#include "sim/cli/sim_cli.h"

namespace herd {
namespace {

namespace fs = std::filesystem;

std::string root() {
  const char* r = std::getenv("HERD_ROOT");
  return r != nullptr && *r != '\0' ? r : ".";
}

std::string error_of(const std::string& text) {
  Result<Scenario> s = parse_scenario(text, "s.json", root() + "/topologies", load_topology);
  REQUIRE_FALSE(s.ok());
  return s.error();
}

int run(std::vector<std::string> args, int (*command)(int, char**)) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return command(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE("scenario: every shipped scenario loads") {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(root()) / "sim" / "scenarios")) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    Result<Scenario> s = load_scenario(entry.path().string());
    CHECK_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
    ++count;
  }
  CHECK(count >= 6);
  Result<Scenario> grid = load_scenario(root() + "/sim/scenarios/grid25.json");
  REQUIRE(grid.ok());
  CHECK(grid.value().topology.nodes.size() == 25);
  CHECK(grid.value().plan.defaults.delay.value_ns == 100 * kNsPerMs);
  CHECK(grid.value().workload.iamat_interval_ns == 10 * kNsPerMs);  // 100 per second.
  Result<Scenario> random = load_scenario(root() + "/sim/scenarios/random1000.json");
  REQUIRE(random.ok());
  CHECK(random.value().topology.nodes.size() == 1000);
  CHECK(random.value().topology.links.size() == 2000);
}

TEST_CASE("scenario: errors name file, line and key") {
  CHECK(error_of("{\"topology\": \"ring5.json\",\n \"duration_ms\": 10, \"colour\": 1}") ==
        "s.json: line 2: colour: unknown key (expected one of: name, description, topology, duration_ms, "
        "drain_ms, seed, max_events, max_memory_mb, workload, expect, links, link_overrides, timeline, sync, link_queue_bytes, link_timings, swarm, explore)");
  CHECK(error_of("{\"topology\": \"ring5.json\"}") == "s.json: line 1: duration_ms: is required");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n\"workload\": {\n \"clients\": 0}}") ==
        "s.json: line 3: workload.clients: must be an integer in 1..1000000");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n\"workload\": {\"iamat_per_s\": -1}}") ==
        "s.json: line 2: workload.iamat_per_s: must be a number in 0..1000000");
  // The faults-file part: parsed by the link layer, re-anchored to the scenario.
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n\"timeline\": [\n"
                 " {\"at_ms\": 1, \"cut\": [\"n0\", \"n1\"]},\n {\"at_ms\": 2,\n \"crash\": \"zz\"}]}") ==
        "s.json: line 5: timeline[1].crash: unknown server 'zz' (servers: n0, n1, n2, n3, n4)");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n\"links\": {\"drop\": 2}}")
            .starts_with("s.json: line 2: links.drop: "));
  // An inline topology: parsed by the topology parser, re-anchored likewise.
  CHECK(error_of("{\"duration_ms\": 10, \"topology\": {\"name\": \"t\",\n\"nodes\": [{\"name\": \"a\", \"port\": 1},\n"
                 "{\"name\": \"b\",\n \"port\": 0}], \"links\": []}}") ==
        "s.json: line 4: topology.nodes[1].port: must be an integer in 1..65535");
  CHECK(error_of("{\"duration_ms\": 10, \"topology\": \"missing.json\"}")
            .starts_with("s.json: line 1: topology: cannot use topology: "));
  CHECK(error_of("{\"duration_ms\": 10, \"topology\": {\"random\": {\"nodes\": 0}}}") ==
        "s.json: line 1: topology.random.nodes: must be an integer in 1..1000000");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10, \"workload\": {\"bursts\": [\n"
                 "{\"at_ms\": 5, \"duration_ms\": 10, \"iamat_per_s\": 9},\n{\"at_ms\": 6, \"duration_ms\": 1}]}}") ==
        "s.json: line 3: workload.bursts[1]: bursts must be in time order and not overlap");
  CHECK(error_of("{\"topology\": \"ring5.json\",\n \"duration_ms\": 10,,}").starts_with("s.json: line 2, column"));
}

TEST_CASE("scenario: an unknown server lists the valid ones; a late timeline event is an error") {
  CHECK(error_of("{\"topology\": {\"random\": {\"nodes\": 30}}, \"duration_ms\": 10,\n"
                 "\"link_overrides\": [{\"between\": [\"r0000\",\n \"Bob\"], \"drop\": 1}]}") ==
        "s.json: line 2: link_overrides[0].between: unknown server 'Bob' (servers: r0000, r0001, r0002, r0003, "
        "r0004, r0005, r0006, r0007, r0008, r0009, r0010, r0011, r0012, r0013, r0014, r0015, r0016, r0017, "
        "r0018, r0019 and 10 more)");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 1000, \"drain_ms\": 500,\n\"timeline\": [\n"
                 " {\"at_ms\": 1500, \"crash\": \"n1\"},\n {\"at_ms\": 200, \"restart\": \"n1\"},\n"
                 " {\"at_ms\": 1501, \"heal_all\": true}]}") ==
        "s.json: line 5: timeline[2].at_ms: 1501 is after the run's end at 1500 ms (duration_ms 1000 + "
        "drain_ms 500)");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n \"expect\": {\"converged\": 1}}") ==
        "s.json: line 2: expect.converged: unknown key (expected one of: reached_all_min, "
        "reached_all_or_superseded_min, residue_max, latency_max_ms, msgs_per_update_max, converge_after_faults_ms, "
        "monotonic_reads_max)");
  Result<Scenario> s = parse_scenario("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n"
                                      " \"expect\": {\"reached_all_or_superseded_min\": 0.5}}",
                                      "s.json", root() + "/topologies", load_topology);
  REQUIRE(s.ok());
  CHECK(s.value().expect.reached_all_or_superseded_min_ppm == 500'000u);
  CHECK_FALSE(s.value().expect.reached_all_min_ppm);
}

TEST_CASE("scenario: link_timings set the link machines' timings, checked") {
  Result<Scenario> s = parse_scenario("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n"
                                      " \"link_timings\": {\"heartbeat_ms\": 100, \"idle_timeout_ms\": 400}}",
                                      "s.json", root() + "/topologies", load_topology);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
  CHECK(s.value().link.heartbeat_ns == 100 * kNsPerMs);
  CHECK(s.value().link.idle_timeout_ns == 400 * kNsPerMs);
  CHECK(s.value().link.backoff_min_ns == LinkTimings{}.backoff_min_ns);  // Unnamed: the default.
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n \"link_timings\": {\"heartbeat_ms\": 5000}}") ==
        "s.json: line 2: link_timings: idle_timeout_ms must exceed heartbeat_ms");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n \"link_timings\": {\"backoff_min_ms\": 0}}") ==
        "s.json: line 2: link_timings.backoff_min_ms: must be an integer in 1..3600000");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n \"link_timings\": {\"jitter\": 1}}")
            .starts_with("s.json: line 2: link_timings.jitter: unknown key (expected one of: backoff_min_ms,"));
}

// Found with the scenario fuzz target (tests/fuzz/corpus/scenario/random-too-dense): an
// 80-byte scenario asked for 20 million links and the parser ran out of 2 GB.
TEST_CASE("scenario: a random topology has at most 4,000,000 links") {
  CHECK(error_of("{\"duration_ms\": 10, \"topology\": {\"random\":\n {\"nodes\": 40000, \"degree\": 1000}}}") ==
        "s.json: line 2: topology.random: 40000 nodes of degree 1000 make 20000000 links; at most 4000000");
  CHECK(error_of("{\"duration_ms\": 10, \"topology\": {\"random\": {\"nodes\": 1000000, \"degree\": 9}}}") ==
        "s.json: line 1: topology.random: 1000000 nodes of degree 9 make 4500000 links; at most 4000000");
  Result<Scenario> s = parse_scenario("{\"duration_ms\": 10, \"topology\": {\"random\": {\"nodes\": 1000, \"degree\": 200}}}",
                                      "s.json", "", load_topology);
  REQUIRE(s.ok());
  CHECK(s.value().topology.links.size() == 100000);
}

// Found by the scenario fuzz target (tests/fuzz/corpus/scenario/bracket-key): an
// unknown key holding brackets made the error's path look like an index, and
// std::stoul's exception ended `herd sim`.
TEST_CASE("scenario: a key that holds brackets is named in its error") {
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n\"links\": {\"[]x\": 1}}") ==
        "s.json: line 2: links.[]x: unknown key (expected one of: drop, delay_ms, duplicate, bandwidth_kbps)");
  CHECK(error_of("{\"topology\": \"ring5.json\", \"duration_ms\": 10,\n\"links\": {\"[99999999999999999999]\": 1}}")
            .starts_with("s.json: line 2: links.[99999999999999999999]: unknown key"));
}

TEST_CASE("scenario: a random topology is connected and as dense as asked") {
  const Topology t = random_topology(200, 4, 3);
  CHECK(t.nodes.size() == 200);
  CHECK(t.links.size() == 400);
  const Topology again = random_topology(200, 4, 3);
  CHECK(again.links == t.links);
  CHECK(random_topology(200, 4, 4).links != t.links);
}

// The index the simulator sets up with answers as Topology's own scans do.
TEST_CASE("topology index: the same neighbours, in the same order, and the same indexes as the scans") {
  const Topology t = random_topology(2000, 5, 9);
  const TopologyIndex index(t);
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    REQUIRE(index.index_of(t.nodes[i].name) == static_cast<int>(i));
    REQUIRE(index.neighbour_names(static_cast<int>(i)) == t.neighbours(t.nodes[i].name));
  }
  CHECK(index.index_of("nobody") == -1);
}

TEST_CASE("scenario: a random topology of a million servers: six-digit names, 40,000 ports a loopback host") {
  const Topology t = random_topology(1000000, 2, 1);
  REQUIRE(t.nodes.size() == 1000000);
  CHECK(t.links.size() == 1000000);
  CHECK(t.nodes[0].name == "r000000");
  CHECK(t.nodes[999999].name == "r999999");
  CHECK((t.nodes[39999].host == "127.0.0.1" && t.nodes[39999].port == 59999));
  CHECK((t.nodes[40000].host == "127.0.1.1" && t.nodes[40000].port == 20000));
  CHECK((t.nodes[999999].host == "127.0.24.1" && t.nodes[999999].port == 59999));
  CHECK(random_topology(40000, 4, 7).nodes[39999].name == "r39999");  // As before the limit was raised.
}

TEST_CASE("cli: bad flags exit 2; --help exits 0") {
  const std::string scenario = root() + "/sim/scenarios/clean_flood.json";
  CHECK(run({scenario, "--seed", "x"}, sim_command) == 2);
  CHECK(run({scenario, "--seed", "-1"}, sim_command) == 2);
  CHECK(run({scenario, "--seed"}, sim_command) == 2);
  CHECK(run({scenario, "--frobnicate"}, sim_command) == 2);
  CHECK(run({}, sim_command) == 2);
  CHECK(run({root() + "/no/such.json"}, sim_command) == 2);
  CHECK(run({"--bogus"}, replay_command) == 2);
  CHECK(run({root() + "/no/such.jsonl"}, replay_command) == 2);
}

TEST_CASE("determinism: a scenario run twice gives the same inputs and outputs") {
  Result<Scenario> s = load_scenario(root() + "/sim/scenarios/replay_small.json");
  REQUIRE(s.ok());
  const DeterminismResult r = check_determinism(s.value(), 77);
  CHECK(r.same);
  CHECK(r.inputs > 50);
  CHECK_FALSE(r.first_difference);
}

}  // namespace
}  // namespace herd
