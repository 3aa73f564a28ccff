// The simulator against what theory says exactly: flooding with no faults and a
// constant delay d reaches every server, sends 2m-(n-1) messages per update, and
// the last server hears after d times the origin's eccentricity (first arrivals
// come along shortest paths, in hops); with every link dropping nothing converges;
// and a run is a function of its seed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

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
  // Flooding's own theory: no anti-entropy messages in the counts.
  s.value().sync.mode = SyncMode::kOff;
  return s.value();
}

// Hop distances from `from` (breadth-first over the topology's links).
std::vector<int> distances(const Topology& t, int from) {
  std::vector<int> dist(t.nodes.size(), -1);
  std::deque<int> queue{from};
  dist[static_cast<size_t>(from)] = 0;
  while (!queue.empty()) {
    const int at = queue.front();
    queue.pop_front();
    for (const std::string& peer : t.neighbours(t.nodes[static_cast<size_t>(at)].name)) {
      const int next = t.index_of(peer);
      if (dist[static_cast<size_t>(next)] < 0) {
        dist[static_cast<size_t>(next)] = dist[static_cast<size_t>(at)] + 1;
        queue.push_back(next);
      }
    }
  }
  return dist;
}

// Each IAMAT from a new client: no update can be superseded by a newer one of the
// same client, which would cut its flood short (checked below, not assumed).
std::string clean(const std::string& topology, int delay_ms) {
  return R"({"topology": )" + topology + R"(, "duration_ms": 4000,
    "workload": {"clients": 5000, "fresh_clients": true, "iamat_per_s": 25, "whatsat_per_s": 2},
    "links": {"delay_ms": )" + std::to_string(delay_ms) + "}}";
}

TEST_CASE("sim: no faults, constant delay: exact convergence, message count and latency") {
  const char* topologies[] = {"\"ring5.json\"", "\"line5.json\"", "\"star5.json\"", "\"complete5.json\"",
                              "\"grid5x5.json\"", "\"cs131-2019.json\"",
                              R"({"random": {"nodes": 60, "degree": 3, "seed": 5}})"};
  for (const char* topology : topologies) {
    for (int delay_ms : {0, 7, 100}) {
      CAPTURE(topology);
      CAPTURE(delay_ms);
      const Scenario s = scenario_of(clean(topology, delay_ms));
      Simulator sim(s, 3);
      const Report r = sim.run();
      const uint64_t n = s.topology.nodes.size(), m = s.topology.links.size();
      REQUIRE(r.updates > 50);
      CHECK(r.reached_all == r.updates);
      CHECK(r.superseded == 0);
      CHECK(r.bound_flood == 2 * m - (n - 1));
      CHECK(r.bound_tree == n - 1);
      CHECK(r.bounds_per == 1);
      CHECK(r.components == 1);
      CHECK(r.sends == r.updates * (2 * m - (n - 1)));  // msgs_per_update exactly 2m-(n-1).
      CHECK(r.residue_stale == 0);
      CHECK(r.dropped == 0);
      CHECK(r.cut == 0);
      CHECK(r.passed());
      const UpdateTracker& u = sim.updates();
      int64_t worst = 0;
      for (uint32_t i = 0; i < u.updates(); ++i) {
        const std::vector<int> dist = distances(s.topology, u.origin(i));
        const int eccentricity = *std::max_element(dist.begin(), dist.end());
        CHECK(u.msgs(i) == 2 * m - (n - 1));
        // "At most d times the eccentricity"; with nothing else delaying, exactly.
        CHECK(u.latency_ns(i) == delay_ms * kNsPerMs * eccentricity);
        worst = std::max<int64_t>(worst, eccentricity);
      }
      CHECK(r.latency_max_ns <= delay_ms * kNsPerMs * worst);
      // Each server first hears along a shortest path, so hop counts are distances.
      CHECK(r.hops_max <= worst);
    }
  }
}

TEST_CASE("sim: every link dropping: nothing converges") {
  const Scenario s = scenario_of(R"({"topology": "grid5x5.json", "duration_ms": 3000,
      "workload": {"clients": 50, "iamat_per_s": 20, "whatsat_per_s": 2},
      "links": {"drop": 1.0, "delay_ms": 10}})");
  const Report r = Simulator(s, 1).run();
  REQUIRE(r.updates > 20);
  CHECK(r.reached_all == 0);
  CHECK(r.deliveries == 0);
  CHECK(r.dropped == r.sends);
  CHECK(r.residue_stale > 0);
  // Every record lives only at its origin: of 25 servers, at most one is current.
  CHECK(r.residue_stale * 25 >= r.residue_pairs * 24);
}

TEST_CASE("sim: the same seed gives the same report and digest; another seed another") {
  Result<Scenario> s = load_scenario(root() + "/sim/scenarios/lossy.json");
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
  const Report a = Simulator(s.value(), 11).run();
  const Report b = Simulator(s.value(), 11).run();
  const Report c = Simulator(s.value(), 12).run();
  CHECK(report_json(a, false) == report_json(b, false));
  CHECK(a.digest == b.digest);
  CHECK(a.digest != c.digest);
  CHECK(report_json(a, false) != report_json(c, false));
  CHECK(a.dropped > 0);
}

TEST_CASE("sim: randomized runs keep the invariants (a failure names its seed)") {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const std::string scenario = R"({"topology": {"random": {"nodes": 30, "degree": 3, "seed": )" +
                                 std::to_string(seed) + R"(}}, "duration_ms": 3000,
        "workload": {"clients": 40, "iamat_per_s": 30, "whatsat_per_s": 10, "moving": true,
                     "client_skew_ms": 300, "server_skew_ms": 50, "places_failure": 0.2},
        "links": {"delay_ms": {"dist": "exponential", "min": 1, "mean": 20}, "duplicate": 0.05}})";
    INFO("seed " << seed << "; replay: write the scenario above to x.json and run herd sim x.json --seed " << seed);
    const Report r = Simulator(scenario_of(scenario), seed).run();
    // No loss, only delay and duplication: every update converges or is superseded,
    // and the final records are the newest everywhere.
    CHECK(r.reached_all + r.superseded == r.updates);
    CHECK(r.residue_stale == 0);
    CHECK(r.passed());
    CHECK(r.replies + r.lost == r.iamats + r.whatsats - r.refused);
  }
}

TEST_CASE("sim: a failed expectation names the seed and the command that replays it") {
  Scenario s = scenario_of(R"({"topology": "ring5.json", "duration_ms": 2000,
      "workload": {"clients": 10, "iamat_per_s": 10}, "links": {"drop": 1.0},
      "expect": {"reached_all_min": 1.0}})");
  const Report r = Simulator(s, 7).run();
  REQUIRE(r.checks.size() == 7);  // With the memory budget and the four safety checks, which pass.
  CHECK(r.checks[0].name == "max_events");
  CHECK(r.checks[0].pass);
  CHECK(r.checks[1].name == "max_memory_mb");
  CHECK(r.checks[1].pass);
  CHECK(r.checks[2].name == "reached_all_min");
  CHECK_FALSE(r.checks[2].pass);
  CHECK(r.checks[2].bound == "1.000000");
  const std::string text = failure_text(r, "x.json");
  CHECK(text.find("herd sim: check failed: reached all servers: 0 of " + std::to_string(r.updates) +
                  " updates (0.000000), below reached_all_min 1.000000\n") != std::string::npos);
  CHECK(text.find("seed 7; replay with: herd sim x.json --seed 7") != std::string::npos);
}

TEST_CASE("sim: crash and restart: refused clients, lost records, no stale reads after") {
  Result<Scenario> s = load_scenario(root() + "/sim/scenarios/crash_restart.json");
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error()));
  s.value().sync.mode = SyncMode::kOff;
  const Report r = Simulator(s.value(), 1).run();
  CHECK(r.refused > 0);
  CHECK(r.link_lost > 0);  // Floods to a crashed server die at the link while it is down.
  CHECK(r.reached_all < r.updates);
  // Without sync the restarted Jaquez misses what was stored while it was down: the
  // scenario's liveness and residue checks fail, and they alone.
  CHECK(r.residue_stale > 0);
  for (const Check& c : r.checks) {
    CAPTURE(c.name);
    CHECK(c.pass == (c.name != "converge_after_faults_ms" && c.name != "residue_max"));
  }
  s.value().sync.mode = SyncMode::kLinkUp;  // The default: it catches up.
  const Report healed = Simulator(s.value(), 1).run();
  CHECK(healed.passed());
  CHECK(healed.residue_stale == 0);
}

}  // namespace
}  // namespace herd
