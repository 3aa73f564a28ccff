// What networks do to connections, in both hosts: each case runs one scenario with
// `herd sim` and with `herd run --scenario` (live, on loopback) and checks the same
// things of both reports (and, live, the servers' logs). A reset closes both ends and
// the copies it caught are lost; a blackhole delivers nothing until the liveness
// check closes the connection; a bandwidth limit makes delivery time grow with the
// bytes; a paused server keeps its state while its neighbour's queue stops at its
// limit, and the loss is repaired when the queue drains.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "node/peer_auth.h"
#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

const char kPair[] = R"({"name": "pair", "nodes": [{"name": "a", "port": 1}, {"name": "b", "port": 2}],
                         "links": [["a", "b"]]})";

struct Both {
  rapidjson::Document sim, live;
  std::string logs;      // The live run's log directory.
  std::string live_trace, sim_trace;
};

// Runs `body` (the scenario's keys after its topology) in both hosts, each recorded.
// REQUIREs that both exit 0 (every check of the scenario passed).
void run_both(const TempDir& dir, const std::string& body, Both* both) {
  const std::string path = dir.path() + "/s.json";
  std::ofstream(path) << "{\"topology\": " << kPair << ",\n" << body << "}\n";
  both->logs = dir.path() + "/logs";
  both->sim_trace = dir.path() + "/sim.trace";
  both->live_trace = dir.path() + "/live.trace";
  BatchRun s = run_herd({"sim", path, "--json", "--record", both->sim_trace});
  REQUIRE_MESSAGE(s.status.clean(), s.err, s.out);
  BatchRun l = run_herd({"run", "--scenario", path, "--json", "--log-dir", both->logs, "--record", both->live_trace},
                        60'000);
  REQUIRE_MESSAGE(l.status.clean(), l.err, l.out);
  both->sim.Parse(s.out.c_str());
  both->live.Parse(l.out.c_str());
  REQUIRE(!both->sim.HasParseError());
  REQUIRE(!both->live.HasParseError());
}

uint64_t u64(const rapidjson::Document& d, const char* key) { return d[key].GetUint64(); }

// Lines of a server's log (the live run) whose event and subject are as given.
std::vector<std::string> log_events(const std::string& logs, const std::string& server, const std::string& event,
                                    const std::string& subject) {
  std::vector<std::string> hits;
  for (const std::string& line : split_lines(read_text_file(logs + "/" + server + ".log"))) {
    // "<time> <event> <subject> <text>"
    const size_t a = line.find(' ');
    if (a == std::string::npos) continue;
    if (line.compare(a + 1, event.size() + subject.size() + 1, event + " " + subject) == 0) hits.push_back(line);
  }
  return hits;
}

// The times (ms from the run's start) at which `node` read a line starting with
// `prefix`, from a trace.
std::vector<int64_t> reads(const std::string& trace, const std::string& node, const std::string& prefix) {
  std::vector<int64_t> at;
  int64_t t0 = -1;
  for (const std::string& line : split_lines(read_text_file(trace))) {
    if (line.find("\"in\":") == std::string::npos) continue;
    rapidjson::Document d;
    d.Parse(line.c_str());
    REQUIRE(!d.HasParseError());
    const int64_t mono = d["t"][1].GetInt64();
    if (t0 < 0) t0 = mono;
    if (d["node"].GetString() != node || std::string(d["in"].GetString()) != "line") continue;
    // The message, inside its seal when the herd authenticates (a run with a secret).
    if (sealed_message(d["text"].GetString()).starts_with(prefix)) at.push_back((mono - t0) / 1'000'000);
  }
  return at;
}

}  // namespace

TEST_CASE("e2e net faults: a reset closes both ends, both log it, the held copies are lost, sync repairs") {
  TempDir dir;
  Both r;
  // At 8 kbit/s a burst's floods wait for the link when the reset comes.
  run_both(dir, R"("duration_ms": 2000, "drain_ms": 5000,
      "workload": {"clients": 40, "fresh_clients": true, "iamat_per_s": 0, "whatsat_per_s": 0,
                   "bursts": [{"at_ms": 800, "duration_ms": 150, "iamat_per_s": 200}]},
      "links": {"delay_ms": 1, "bandwidth_kbps": 8},
      "timeline": [{"at_ms": 1000, "reset": ["a", "b"]}],
      "expect": {"residue_max": 0})", &r);
  for (const rapidjson::Document* d : {&r.sim, &r.live}) {
    CHECK(u64(*d, "link_lost_closed") > 0);
    CHECK((*d)["sync"]["records_stored"].GetUint64() > 0);
  }
  for (const auto& [server, peer] : {std::pair{"a", "b"}, std::pair{"b", "a"}}) {
    CAPTURE(server);
    CHECK(log_events(r.logs, server, "peer-down", peer).size() == 1);
    CHECK(log_events(r.logs, server, "peer-up", peer).size() == 2);  // At the start and after the reset.
  }
  CHECK(log_events(r.logs, "a", "peer-down", "b")[0].ends_with(" reset"));
}

TEST_CASE("e2e net faults: a blackhole delivers nothing until the idle timeout closes the link") {
  TempDir dir;
  Both r;
  // Heartbeats every 100 ms, silence of 500 ms closes: the blackhole from 500 ms to
  // 2500 ms is noticed at about 1 s, and every redial's hello is swallowed too.
  run_both(dir, R"("duration_ms": 3000, "drain_ms": 5000,
      "workload": {"clients": 10, "iamat_per_s": 20, "whatsat_per_s": 0},
      "links": {"delay_ms": 2},
      "link_timings": {"heartbeat_ms": 100, "suspect_ms": 300, "idle_timeout_ms": 500, "hello_timeout_ms": 400},
      "timeline": [{"at_ms": 500, "blackhole": ["a", "b"]}, {"at_ms": 2500, "heal": ["a", "b"]}],
      "expect": {"converge_after_faults_ms": 2000, "residue_max": 0})", &r);
  for (const rapidjson::Document* d : {&r.sim, &r.live}) CHECK(u64(*d, "blackholed") > 0);
  for (const std::string& trace : {r.sim_trace, r.live_trace}) {
    CAPTURE(trace);
    const std::vector<int64_t> floods = reads(trace, "b", "FLOOD ");
    int before = 0, during = 0;
    for (int64_t ms : floods) {
      if (ms < 480) ++before;
      if (ms > 520 && ms < 2480) ++during;
    }
    CHECK(before > 0);  // Floods came before...
    CHECK(during == 0);  // ...and none while the link swallowed them.
  }
  bool timed_out = false;
  for (const auto& [server, peer] : {std::pair{"a", "b"}, std::pair{"b", "a"}}) {
    for (const std::string& line : log_events(r.logs, server, "peer-down", peer)) {
      timed_out = timed_out || line.ends_with(" idle-timeout");
    }
  }
  CHECK(timed_out);
}

TEST_CASE("e2e net faults: under a bandwidth limit delivery time grows with the bytes, in both hosts") {
  // One client's update flooded a to b: its FLOOD line is about 70 bytes, so about
  // 140 ms at 4 kbit/s and 70 ms at 8.
  auto latency_max_ms = [](int kbps, double* sim, double* live) {
    TempDir dir;
    Both r;
    run_both(dir, R"("duration_ms": 1500, "drain_ms": 2000, "sync": {"mode": "off"},
        "workload": {"clients": 1, "iamat_per_s": 1, "whatsat_per_s": 0},
        "links": {"delay_ms": 0, "bandwidth_kbps": )" + std::to_string(kbps) + "}", &r);
    *sim = r.sim["latency_ms"]["max"].GetDouble();
    *live = r.live["latency_ms"]["max"].GetDouble();
  };
  double sim_slow = 0, live_slow = 0, sim_fast = 0, live_fast = 0;
  latency_max_ms(4, &sim_slow, &live_slow);
  latency_max_ms(8, &sim_fast, &live_fast);
  CHECK(sim_slow >= 120);
  CHECK(sim_slow <= 180);
  CHECK(sim_fast * 2 == doctest::Approx(sim_slow).epsilon(0.05));
  // Live pacing is the same code on millisecond timers: never sooner than simulated,
  // and twice the rate is clearly faster.
  CHECK(live_slow >= sim_slow - 1);
  CHECK(live_fast >= sim_fast - 1);
  CHECK(live_fast + 40 < live_slow);
}

TEST_CASE("e2e net faults: a paused server keeps its state; its neighbour's queue stops at its limit") {
  TempDir dir;
  Both r;
  // b pauses for 2.3 s (shorter than the 2.5 s suspicion and the 5 s idle timeout:
  // the link stays up); a's 16 KiB queue fills behind the kernels' buffers and a loses
  // floods to it. When b resumes the queue drains and a starts a sync that repairs
  // what it lost.
  run_both(dir, R"("duration_ms": 3000, "drain_ms": 10000, "link_queue_bytes": 16384,
      "workload": {"clients": 8000, "fresh_clients": true, "iamat_per_s": 0, "whatsat_per_s": 0,
                   "bursts": [{"at_ms": 100, "duration_ms": 100, "iamat_per_s": 50},
                              {"at_ms": 500, "duration_ms": 2000, "iamat_per_s": 4000}]},
      "links": {"delay_ms": 1},
      "timeline": [{"at_ms": 300, "pause": "b"}, {"at_ms": 2600, "resume": "b"}],
      "expect": {"converge_after_faults_ms": 6000, "residue_max": 0})", &r);
  for (const rapidjson::Document* d : {&r.sim, &r.live}) {
    CHECK(u64(*d, "link_lost_full") > 0);  // The queue's limit held...
    CHECK(u64(*d, "link_lost_down") == 0);  // ...and the link stayed up.
    CHECK((*d)["sync"]["records_stored"].GetUint64() > 0);
    CHECK((*d)["holds_at_end"]["holding"].GetUint64() == (*d)["holds_at_end"]["pairs"].GetUint64());
  }
  CHECK(log_events(r.logs, "a", "peer-down", "b").empty());
}

}  // namespace herd::e2e
