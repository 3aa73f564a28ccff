// One herd, two hosts: the same scenario and seed run in virtual time (herd sim) and
// live on loopback (herd run --scenario), both recorded. The link machine is the
// same code in both, so a scripted crash and restart meets the same backoff
// schedule; a reset tears a connection down and the dialer comes back after the
// same backoff; both traces replay through the same driver.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

// A scenario file in `dir` whose topology is the repository's ring of five.
std::string write_scenario(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path = dir.path() + "/" + name + ".json";
  std::ofstream(path) << "{\"name\": \"" << name << "\", \"topology\": \"" << herd_root() << "/topologies/ring5.json\",\n"
                      << body << "}\n";
  return path;
}

struct Dial {
  int64_t mono_ns;
  uint64_t attempt;
  uint64_t conn;
};

// Every answer to node's dials of peer, in order (from a trace's "dialed" inputs).
std::vector<Dial> dials(const std::string& trace, const std::string& node, const std::string& peer) {
  std::vector<Dial> out;
  for (const std::string& line : split_lines(read_text_file(trace))) {
    if (line.find("\"in\":\"dialed\"") == std::string::npos) continue;
    rapidjson::Document d;
    d.Parse(line.c_str());
    REQUIRE(!d.HasParseError());
    if (d["node"].GetString() != node || d["peer"].GetString() != peer) continue;
    out.push_back({d["t"][1].GetInt64(), d["attempt"].GetUint64(), d["conn"].GetUint64()});
  }
  return out;
}

// Runs the scenario both ways, recording each; the traces' paths, sim first.
std::pair<std::string, std::string> run_both(const TempDir& dir, const std::string& scenario) {
  const std::string sim = dir.path() + "/sim.trace", live = dir.path() + "/live.trace";
  BatchRun s = run_herd({"sim", scenario, "--quiet", "--record", sim});
  CHECK_MESSAGE(s.status.clean(), s.err);
  BatchRun l = run_herd({"run", "--scenario", scenario, "--record", live, "--log-dir", dir.path() + "/logs"}, 60'000);
  CHECK_MESSAGE(l.status.clean(), l.err);
  return {sim, live};
}

}  // namespace

TEST_CASE("e2e hosts agree: a crash and restart meets the same backoff schedule, live and simulated") {
  TempDir dir;
  // n2 crashes at 1 s and restarts at 3.3 s; n1 dials n2 (n1 sorts first).
  const std::string scenario = write_scenario(dir, "crash", R"("duration_ms": 4000, "drain_ms": 3000,
      "workload": {"clients": 10, "iamat_per_s": 10, "whatsat_per_s": 0}, "links": {"delay_ms": 5},
      "timeline": [{"at_ms": 1000, "crash": "n2"}, {"at_ms": 3300, "restart": "n2"}])");
  const auto [sim, live] = run_both(dir, scenario);
  const std::vector<Dial> a = dials(sim, "n1", "n2"), b = dials(live, "n1", "n2");
  REQUIRE(a.size() >= 5);  // The first dial, refusals while down, the one that connects.
  REQUIRE(a.size() == b.size());
  for (size_t i = 1; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].attempt == b[i].attempt);
    CHECK((a[i].conn == 0) == (b[i].conn == 0));  // Refused at the same attempts.
    const int64_t wait_sim = a[i].mono_ns - a[i - 1].mono_ns, wait_live = b[i].mono_ns - b[i - 1].mono_ns;
    // The same draw from the same seeded jitter; live adds its millisecond timers.
    CHECK(std::llabs(wait_live - wait_sim) <= 5'000'000 + wait_sim / 50);
  }
  CHECK(a.back().conn != 0);  // It came back.
  for (const std::string& trace : {sim, live}) {
    BatchRun r = run_herd({"replay", trace});
    CHECK_MESSAGE(r.status.clean(), trace, ": ", r.err);
  }
}

TEST_CASE("e2e hosts agree: a reset closes both ends, the dialer returns after its backoff, copies held are lost") {
  TempDir dir;
  // n0-n1 at 2 kbit/s: a burst of floods is held by the link's bandwidth when the
  // reset comes, and those copies find their connection gone.
  const std::string scenario = write_scenario(dir, "reset", R"("duration_ms": 2500, "drain_ms": 3000,
      "workload": {"clients": 30, "iamat_per_s": 0, "whatsat_per_s": 0, "fresh_clients": true,
                   "bursts": [{"at_ms": 800, "duration_ms": 200, "iamat_per_s": 150}]},
      "links": {"delay_ms": 2},
      "link_overrides": [{"between": ["n0", "n1"], "bandwidth_kbps": 2}],
      "timeline": [{"at_ms": 1000, "reset": ["n0", "n1"]}])");
  const auto [sim, live] = run_both(dir, scenario);
  for (const std::string& trace : {sim, live}) {
    CAPTURE(trace);
    const std::vector<Dial> d = dials(trace, "n0", "n1");
    REQUIRE(d.size() == 2);  // At the start, and once after the reset.
    const int64_t reset_ns = 1'000'000'000;
    const int64_t back = d[1].mono_ns - d[0].mono_ns;
    CHECK(back >= reset_ns + 50'000'000);   // Half of the first backoff, 100 ms...
    CHECK(back <= reset_ns + 150'000'000);  // ...at most all of it, and the timers' slack.
    const std::string text = read_text_file(trace);
    CHECK(text.find("\"in\":\"closed\"") != std::string::npos);
  }
  BatchRun s = run_herd({"sim", scenario, "--json", "--quiet"});
  BatchRun l = run_herd({"run", "--scenario", scenario, "--json", "--log-dir", dir.path() + "/logs2"}, 60'000);
  for (const BatchRun* r : {&s, &l}) {
    rapidjson::Document d;
    d.Parse(r->out.c_str());
    REQUIRE_MESSAGE(!d.HasParseError(), r->out);
    CHECK(d["link_lost"].GetUint64() > 0);  // Held by the bandwidth when the connection died.
    CHECK(d["residue"].GetDouble() == 0.0);  // Sync at the reconnect repaired it.
  }
}

}  // namespace herd::e2e
