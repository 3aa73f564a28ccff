// Fuzz target: scenario files (sim/scenario.h). Input: the file's text. Its topology
// path is read by a loader that serves a five-node ring for "ring5.json" and refuses
// every other path (sim/ reads no file; the host's loader is the only way in).
// Checks that errors name the file, and that a scenario that parses can be run as it
// says: a topology whose every server a node can be built for, a timeline inside the
// run and fitting the topology, bursts in order, settings the core accepts.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "node/check.h"
#include "node/node.h"
#include "sim/scenario.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz-scenario.json";
constexpr std::string_view kBaseDir = "scenarios";

constexpr std::string_view kRing5 = R"({"name": "ring5", "nodes": [
  {"name": "n0", "port": 13100}, {"name": "n1", "port": 13101}, {"name": "n2", "port": 13102},
  {"name": "n3", "port": 13103}, {"name": "n4", "port": 13104}],
  "links": [["n0", "n1"], ["n1", "n2"], ["n2", "n3"], ["n3", "n4"], ["n4", "n0"]]})";

Result<Topology> load(const std::string& path) {
  if (path == std::string(kBaseDir) + "/ring5.json") return parse_topology(kRing5, path);
  return Error{path + ": No such file or directory"};
}

void check_workload(const Scenario& s) {
  const Workload& w = s.workload;
  FUZZ_CHECK(w.clients >= 1 && w.iamat_interval_ns >= 0 && w.whatsat_interval_ns >= 0, "workload rates");
  FUZZ_CHECK(w.places_failure_ppm <= 1'000'000 && w.client_skew_ns >= 0 && w.server_skew_ns >= 0, "workload");
  int64_t end_ns = 0;
  for (const Burst& b : w.bursts) {
    FUZZ_CHECK(b.at_ns >= end_ns && b.duration_ns > 0 && b.iamat_interval_ns >= 0, "bursts out of order");
    end_ns = b.at_ns + b.duration_ns;
  }
}

void check_config(const Scenario& s) {
  const LinkTimings& l = s.link;
  FUZZ_CHECK(l.backoff_min_ns > 0 && l.backoff_min_ns <= l.backoff_max_ns && l.hello_timeout_ns > 0 &&
                 l.heartbeat_ns > 0 && l.suspect_ns > 0 && l.idle_timeout_ns > 0,
             "link timings");
  FUZZ_CHECK(s.sync.interval_ns > 0 && s.sync.bytes_per_s > 0 && s.sync.session_timeout_ns > 0, "sync");
  FUZZ_CHECK(s.duration_ns > 0 && s.drain_ns >= 0 && s.max_events > 0, "run length");
  // Build each server as the simulator would (its constructor asserts what the core
  // needs); a big random topology is checked by its links alone, to stay fast.
  constexpr size_t kNodesBuilt = 64;
  if (s.topology.nodes.size() > kNodesBuilt) return;
  for (const TopologyNode& n : s.topology.nodes) {
    NodeConfig c;
    c.name = n.name;
    c.neighbours = s.topology.neighbours(n.name);
    c.link = s.link;
    c.sync = s.sync;
    Node node(c);
    FUZZ_CHECK(node.config().neighbours.size() == c.neighbours.size(), "node");
  }
}

void check_scenario(const Scenario& s) {
  FUZZ_CHECK(!s.topology.nodes.empty() && !s.name.empty(), "a scenario with no server or no name");
  const FaultTopology topology = fault_topology(s.topology);
  const std::set<std::string> names(topology.nodes.begin(), topology.nodes.end());
  FUZZ_CHECK(names.size() == topology.nodes.size(), "two servers of one name");
  for (const auto& [a, b] : s.topology.links) {
    FUZZ_CHECK(a != b && names.count(a) == 1 && names.count(b) == 1, "a link " + shown(a) + "-" + shown(b));
  }
  for (const TimelineEvent& e : s.plan.timeline) {
    FUZZ_CHECK(e.at_ms * 1'000'000 <= s.duration_ns + s.drain_ns, "an event after the run's end");
    FUZZ_CHECK(check_action(topology, e.action).empty(), "an event that does not fit the topology");
  }
  for (const LinkOverride& o : s.plan.overrides) {
    FUZZ_CHECK(topology.linked(o.link.from, o.link.to), "an override of no link");
  }
  check_workload(s);
  check_config(s);
}

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd;
  using namespace herd::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Scenario> s = parse_scenario(text, kSource, std::string(kBaseDir), load);
  if (!s.ok()) {
    FUZZ_CHECK(s.error().starts_with(std::string(kSource) + ": "), "an error without the file: " + shown(s.error()));
    return 0;
  }
  check_scenario(s.value());
  return 0;
}
