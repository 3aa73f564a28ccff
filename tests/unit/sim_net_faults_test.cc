// What networks do to connections, in the simulator: a blackhole swallows every byte
// until the liveness check closes the connection; a bandwidth limit makes delivery
// time grow with bytes; a paused server keeps its state while its neighbours' queues
// fill to their limit, and everything adds up.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "net/files.h"
#include "sim/report.h"
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
  return s.value();
}

const char kPair[] = R"({"name": "pair", "nodes": [{"name": "a", "port": 1}, {"name": "b", "port": 2}],
                         "links": [["a", "b"]]})";

// Over every directed link: sent + duplicated = dropped + delivered + cut +
// blackholed + overflow + lost + queued, with the node's sent and losses (nothing
// is left unread at the end of a run: a reader takes what reached its buffer).
void check_counters_add_up(const Simulator& sim) {
  const FaultState& f = sim.faults();
  for (int link = 0; link < f.link_count(); ++link) {
    CAPTURE(f.label(link));
    const Node* from = nullptr;
    for (const Node* n : sim.nodes()) {
      if (n->config().name == f.from(link)) from = n;
    }
    REQUIRE(from != nullptr);
    const LinkStats& st = from->link(from->peer_index(f.to(link))).stats();
    const LinkCounters& c = f.counters(link);
    CHECK(st.sent + c.duplicated ==
          c.dropped + c.delivered + c.cut + c.blackholed + c.overflow + c.lost + sim.queued(link) +
              st.lost_down + st.lost_full);
  }
}

}  // namespace

TEST_CASE("sim net faults: a blackhole swallows until the idle timeout closes the link; sync repairs after") {
  const Scenario s = scenario_of(std::string(R"({"topology": )") + kPair + R"(, "duration_ms": 9000,
      "drain_ms": 10000, "workload": {"clients": 20, "iamat_per_s": 10, "whatsat_per_s": 0},
      "links": {"delay_ms": 5},
      "timeline": [{"at_ms": 1000, "blackhole": ["a", "b"]}, {"at_ms": 8000, "heal": ["a", "b"]}],
      "expect": {"converge_after_faults_ms": 5000, "residue_max": 0}})");
  Simulator sim(s, 1);
  const Report r = sim.run();
  CHECK(r.passed());
  CHECK(r.blackholed > 0);
  // Seven seconds of silence: past the 5 s idle timeout one side closes the link (the
  // other sees the close), and redials into a hello that never comes back.
  uint64_t idle = 0, hello = 0;
  for (const Node* n : sim.nodes()) {
    idle += n->link(0).stats().idle_timeouts;
    hello += n->link(0).stats().hello_timeouts;
  }
  CHECK(idle >= 1);
  CHECK(hello >= 1);
  CHECK(r.sync_records_stored > 0);
  check_counters_add_up(sim);
}

TEST_CASE("sim net faults: under a bandwidth limit delivery time grows with the bytes") {
  // One update flooded from a to b; its message ("FLOOD 1 AT a <diff> c0000
  // <location> <time>" and a newline) is about 70 bytes.
  auto latency_ms = [](int kbps) {
    const Scenario s = scenario_of(std::string(R"({"topology": )") + kPair + R"(, "duration_ms": 2000,
        "workload": {"clients": 1, "iamat_per_s": 1, "whatsat_per_s": 0},
        "links": {"delay_ms": 0, "bandwidth_kbps": )" + std::to_string(kbps) + R"(}, "sync": {"mode": "off"}})");
    const Report r = Simulator(s, 1).run();
    REQUIRE(r.reached_all > 0);
    return r.latency_max_ns / 1'000'000;
  };
  const int64_t slow = latency_ms(8);  // One byte per millisecond: about 70 ms.
  CHECK(slow >= 60);
  CHECK(slow <= 90);
  const int64_t fast = latency_ms(16);  // Twice the rate, half the time.
  CHECK(fast * 2 >= slow - 2);
  CHECK(fast * 2 <= slow + 2);
  CHECK(latency_ms(0) == 0);  // No limit, no delay: at once.
}

TEST_CASE("sim net faults: a paused server keeps its state; its neighbours' queues stop at their limit") {
  // Four thousand updates a second, half of them at a, into a paused b: b's 256 KiB
  // receive buffer and then a's 64 KiB queue fill, and a loses the rest at the link
  // (queue full) until the idle timeout closes it.
  const Scenario s = scenario_of(std::string(R"({"topology": )") + kPair + R"(, "duration_ms": 4000,
      "drain_ms": 20000, "link_queue_bytes": 65536,
      "workload": {"clients": 4000, "fresh_clients": true, "iamat_per_s": 0, "whatsat_per_s": 0,
                   "bursts": [{"at_ms": 100, "duration_ms": 200, "iamat_per_s": 10},
                              {"at_ms": 1000, "duration_ms": 3000, "iamat_per_s": 4000}]},
      "links": {"delay_ms": 1},
      "timeline": [{"at_ms": 500, "pause": "b"}, {"at_ms": 6000, "resume": "b"}],
      "expect": {"converge_after_faults_ms": 10000, "residue_max": 0}})");
  Simulator sim(s, 1);
  const Report r = sim.run();
  const Node& a = *sim.nodes()[0];
  const Node& b = *sim.nodes()[1];
  CHECK(a.link(0).stats().lost_full > 0);  // The queue's limit held.
  CHECK(b.records().size() == a.records().size());  // Kept, and repaired after the resume.
  CHECK(r.passed());
  check_counters_add_up(sim);
}

TEST_CASE("sim net faults: a reset under a bandwidth backlog reconnects at once; the backlog died with it") {
  // A thousand updates at 8 kbit/s (a byte a millisecond) is a minute of backlog; the
  // reset at 2 s kills it, and the new connection's hello does not wait behind it.
  const Scenario s = scenario_of(std::string(R"({"topology": )") + kPair + R"(, "duration_ms": 3000,
      "drain_ms": 0, "workload": {"clients": 1000, "fresh_clients": true, "iamat_per_s": 0,
      "whatsat_per_s": 0, "bursts": [{"at_ms": 1000, "duration_ms": 500, "iamat_per_s": 2000}]},
      "links": {"delay_ms": 0, "bandwidth_kbps": 8}, "sync": {"mode": "off"},
      "timeline": [{"at_ms": 2000, "reset": ["a", "b"]}]})");
  Simulator sim(s, 1);
  sim.run();
  uint64_t dials = 0;
  for (const Node* n : sim.nodes()) {
    const LinkStats& st = n->link(0).stats();
    dials += st.dials;
    CHECK(st.ups == 2);  // At the start, and once after the reset.
    CHECK(st.hello_timeouts == 0);
  }
  CHECK(dials == 2);
  CHECK(sim.faults().counters(sim.faults().link_id("a", "b")).resets == 1);
  check_counters_add_up(sim);
}

}  // namespace herd
