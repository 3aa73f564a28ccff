// node/fault_channel.h driven by a fake scheduler (held copies in a map by due time
// and order, like both hosts' schedulers) that records what would be written.
#include "node/fault_channel.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

struct Rig {
  explicit Rig(const std::string& settings, uint64_t seed = 1, size_t max_held = kMaxHeldPerLink)
      : state(test_topology(), seed), channel(&state, max_held) {
    if (!settings.empty()) REQUIRE(state.execute("set Riley>Jaquez " + settings).ok);
    id = state.link_id("Riley", "Jaquez");
  }
  // Hands `n` messages to the link, `gap_ns` apart.
  void send_n(int n, int64_t gap_ns, Traffic traffic = Traffic::kProtocol) {
    for (int i = 0; i < n; ++i) {
      send("m" + std::to_string(i), traffic);
      now_ns += gap_ns;
    }
  }
  void send(const std::string& message, Traffic traffic = Traffic::kProtocol) {
    const ChannelCopies c = channel.offer(id, traffic, message.size(), now_ns);
    log.push_back(fault_text(c.decision, state.label(id)));
    for (int i = 0; i < c.count; ++i) {
      if (c.immediate[i]) {
        written.emplace_back(now_ns, message);
      } else {
        held.emplace(std::make_pair(now_ns + c.delay_ns[i], next++), std::make_pair(message, traffic));
      }
    }
  }
  void run_all(bool conn_open = true) {
    while (!held.empty()) {
      auto it = held.begin();
      now_ns = it->first.first;
      auto [message, traffic] = it->second;
      held.erase(it);
      if (channel.due(id, traffic, conn_open)) written.emplace_back(now_ns, message);
    }
  }
  FaultState state;
  FaultChannel channel;
  int id = -1;
  int64_t now_ns = 1'000'000'000;
  uint64_t next = 0;
  std::map<std::pair<int64_t, uint64_t>, std::pair<std::string, Traffic>> held;
  std::vector<std::pair<int64_t, std::string>> written;
  std::vector<std::string> log;
};

TEST_CASE("fault channel: no faults writes at once, holding nothing") {
  Rig rig("");
  rig.send_n(3, 0);
  REQUIRE(rig.written.size() == 3);
  CHECK(rig.written[2].second == "m2");
  CHECK(rig.held.empty());
  CHECK(rig.log[0].empty());
  CHECK(rig.state.counters(rig.id).sent == 3);
  CHECK_FALSE(rig.state.any_faults());
}

TEST_CASE("fault channel: constant delay writes later, in order") {
  Rig rig("delay=10");
  rig.send_n(50, 100'000);
  CHECK(rig.written.empty());
  CHECK(rig.channel.held(rig.id) == 50);
  rig.run_all();
  REQUIRE(rig.written.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(rig.written[static_cast<size_t>(i)].second == "m" + std::to_string(i));
  CHECK(rig.written[0].first == 1'000'000'000 + 10'000'000);
  CHECK(rig.channel.held(rig.id) == 0);
  CHECK(rig.log[0] == "fault delay Riley>Jaquez msg#1 delay_ns=10000000");
  CHECK(rig.state.any_faults());
}

TEST_CASE("fault channel: zero delay queues behind held copies") {
  Rig rig("delay=10");
  rig.send_n(1, 0);
  REQUIRE(rig.state.execute("set Riley>Jaquez delay=0").ok);
  rig.send_n(1, 0);  // Must not overtake m0.
  CHECK(rig.written.empty());
  rig.run_all();
  REQUIRE(rig.written.size() == 2);
  CHECK(rig.written[1].first == rig.written[0].first);
}

std::vector<std::pair<int64_t, std::string>> random_run(uint64_t seed) {
  Rig rig("delay=1-50 drop=0.1 dup=0.1", seed);
  rig.send_n(200, 1'000'000);
  rig.run_all();
  return rig.written;
}

TEST_CASE("fault channel: random delay reorders; same seed, same writes") {
  const auto first = random_run(5);
  CHECK(first == random_run(5));
  CHECK(first != random_run(6));
  bool reordered = false;
  for (size_t i = 1; i < first.size(); ++i) {
    reordered = reordered || std::stoi(first[i].second.substr(1)) < std::stoi(first[i - 1].second.substr(1));
  }
  CHECK(reordered);
  CHECK(first.size() > 170);  // About 200 * 0.9 * 1.1 = 198.
}

TEST_CASE("fault channel: drop and duplicate") {
  Rig dropping("drop=1");
  dropping.send_n(5, 0);
  CHECK(dropping.written.empty());
  CHECK(dropping.state.counters(dropping.id).dropped == 5);
  CHECK(dropping.log[4] == "fault drop Riley>Jaquez msg#5");
  Rig doubling("dup=1");
  doubling.send_n(5, 0);
  CHECK(doubling.written.size() == 10);
  CHECK(doubling.state.counters(doubling.id).duplicated == 5);
  CHECK(doubling.log[0] == "fault duplicate Riley>Jaquez msg#1 delay_ns=0,0");
}

TEST_CASE("fault channel: cut, partition and crash lose messages, also those held") {
  Rig rig("delay=10");
  rig.send_n(3, 0);
  REQUIRE(rig.state.execute("cut Riley>Jaquez").ok);
  rig.send_n(2, 0);
  rig.run_all();
  CHECK(rig.written.empty());
  const LinkCounters& c = rig.state.counters(rig.id);
  CHECK(c.sent == 5);
  CHECK(c.cut == 5);
  REQUIRE(rig.state.execute("heal").ok);
  REQUIRE(rig.state.execute("partition Riley Jaquez").ok);
  rig.send_n(1, 0);
  REQUIRE(rig.state.execute("heal").ok);
  REQUIRE(rig.state.execute("crash Jaquez").ok);
  rig.send_n(1, 0);
  rig.run_all();
  CHECK(rig.written.empty());
  CHECK(c.cut == 7);
  CHECK(rig.log.back() == "fault cut Riley>Jaquez msg#7");
}

TEST_CASE("fault channel: control messages skip drop, delay and the random stream, not a cut") {
  Rig rig("drop=1 delay=10");
  rig.send_n(3, 0, Traffic::kControl);
  CHECK(rig.written.size() == 3);
  CHECK(rig.state.counters(rig.id).sent == 0);
  // The next protocol message is still message #1 of the link's stream.
  rig.send("p");
  CHECK(rig.log.back() == "fault drop Riley>Jaquez msg#1");
  REQUIRE(rig.state.execute("cut Riley Jaquez").ok);
  rig.send_n(2, 0, Traffic::kControl);
  CHECK(rig.written.size() == 3);
}

TEST_CASE("fault channel: a blackhole swallows every byte until healed") {
  Rig rig("delay=10");
  rig.send_n(2, 0);
  REQUIRE(rig.state.execute("blackhole Riley>Jaquez").ok);
  rig.send_n(2, 0);
  rig.send_n(2, 0, Traffic::kControl);
  rig.run_all();
  CHECK(rig.written.empty());
  CHECK(rig.state.counters(rig.id).blackholed == 4);  // Two at sending, two held.
  CHECK(rig.log[3] == "fault blackhole Riley>Jaquez msg#4");
  REQUIRE(rig.state.execute("heal Riley Jaquez").ok);
  CHECK_FALSE(rig.state.blackholed(rig.id));
  rig.send_n(1, 0);
  rig.run_all();
  CHECK(rig.written.size() == 1);
}

TEST_CASE("fault channel: bandwidth paces bytes, so a burst queues") {
  // 80 kbit/s = 10 bytes per millisecond; each message is 9 bytes and a newline.
  Rig rig("bandwidth_kbps=80");
  for (int i = 0; i < 5; ++i) rig.send("123456789");
  rig.run_all();
  REQUIRE(rig.written.size() == 5);
  for (size_t i = 0; i < 5; ++i) CHECK(rig.written[i].first == 1'000'000'000 + static_cast<int64_t>(i + 1) * 1'000'000);
  REQUIRE(rig.state.execute("set Riley>Jaquez bandwidth_kbps=0").ok);
  rig.send("x");
  CHECK(rig.written.size() == 6);  // At once again.
}

TEST_CASE("fault channel: past the held limit copies are lost as overflow; a closed connection loses held copies") {
  Rig rig("delay=10", 1, 3);
  rig.send_n(5, 0);
  CHECK(rig.channel.held(rig.id) == 3);
  CHECK(rig.state.counters(rig.id).overflow == 2);
  rig.run_all(false);
  CHECK(rig.written.empty());
  const LinkCounters& c = rig.state.counters(rig.id);
  CHECK(c.lost == 3);
  CHECK(c.sent + c.duplicated == c.dropped + c.delivered + c.cut + c.blackholed + c.overflow + c.lost);
}

TEST_CASE("fault channel: a control copy held behind protocol copies is held, but not counted as queued") {
  // status's identity counts protocol messages only: sent + duplicated = ... + queued.
  Rig rig("delay=10");
  rig.send_n(3, 0);
  rig.send("HB", Traffic::kControl);  // Behind held copies: held too, to keep the order.
  CHECK(rig.channel.held(rig.id) == 4);
  CHECK(rig.channel.held_protocol(rig.id) == 3);
  const LinkCounters& c = rig.state.counters(rig.id);
  CHECK(c.sent == 3);  // The heartbeat is no protocol message.
  rig.run_all();
  CHECK(rig.written.size() == 4);
  CHECK(rig.channel.held(rig.id) == 0);
  CHECK(rig.channel.held_protocol(rig.id) == 0);
  CHECK(c.delivered == 0);  // The host counts delivered when the bytes reach the kernel.
}

}  // namespace
}  // namespace herd
