// node/faulty_link.h with a fake Scheduler (an event queue in virtual time) and a
// fake inner Link that records what reaches it.
#include "node/faulty_link.h"

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

// Runs callbacks by (due time, order of after()), like the simulator's queue.
class FakeScheduler final : public Scheduler {
 public:
  Now now() override { return {now_ns_, now_ns_}; }
  void after(int64_t delay_ns, std::function<void()> fn) override {
    REQUIRE(delay_ns >= 0);
    queue_.emplace(std::make_pair(now_ns_ + delay_ns, next_++), std::move(fn));
  }
  void advance(int64_t ns) { now_ns_ += ns; }
  void run_all() {
    while (!queue_.empty()) {
      auto it = queue_.begin();
      now_ns_ = it->first.first;
      std::function<void()> fn = std::move(it->second);
      queue_.erase(it);
      fn();
    }
  }
  size_t pending() const { return queue_.size(); }

 private:
  int64_t now_ns_ = 1'000'000'000;
  uint64_t next_ = 0;
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> queue_;
};

class FakeLink final : public Link {
 public:
  explicit FakeLink(FakeScheduler* clock) : clock_(clock) {}
  void send(std::string_view message) override {
    received.emplace_back(clock_->now().mono_ns, std::string(message));
  }
  bool up() const override { return is_up; }
  std::vector<std::pair<int64_t, std::string>> received;
  bool is_up = true;

 private:
  FakeScheduler* clock_;
};

struct Rig {
  explicit Rig(const std::string& settings, uint64_t seed = 1, size_t max_held = kMaxHeldPerLink)
      : state(test_topology(), seed), inner(&scheduler) {
    if (!settings.empty()) REQUIRE(state.execute("set Riley>Jaquez " + settings).ok);
    id = state.link_id("Riley", "Jaquez");
    link = std::make_unique<FaultyLink>(
        &inner, &scheduler, &state, id, [this](std::string_view text) { log.emplace_back(text); },
        max_held);
  }
  void send_n(int n, int64_t gap_ns) {
    for (int i = 0; i < n; ++i) {
      link->send("m" + std::to_string(i));
      scheduler.advance(gap_ns);
    }
  }
  FaultState state;
  FakeScheduler scheduler;
  FakeLink inner;
  int id = -1;
  std::vector<std::string> log;
  std::unique_ptr<FaultyLink> link;
};

TEST_CASE("faulty link: no faults passes messages on at once, without timers") {
  Rig rig("");
  rig.send_n(3, 0);
  REQUIRE(rig.inner.received.size() == 3);
  CHECK(rig.inner.received[2].second == "m2");
  CHECK(rig.scheduler.pending() == 0);
  CHECK(rig.log.empty());
  CHECK(rig.state.counters(rig.id).sent == 3);
  CHECK(rig.link->up());
  rig.inner.is_up = false;
  CHECK_FALSE(rig.link->up());
}

TEST_CASE("faulty link: constant delay delivers later, in order") {
  Rig rig("delay=10");
  rig.send_n(50, 100'000);
  CHECK(rig.inner.received.empty());
  CHECK(rig.link->held() == 50);
  rig.scheduler.run_all();
  REQUIRE(rig.inner.received.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(rig.inner.received[i].second == "m" + std::to_string(i));
  CHECK(rig.inner.received[0].first == 1'000'000'000 + 10'000'000);
  CHECK(rig.link->held() == 0);
  CHECK(rig.log[0] == "fault delay Riley>Jaquez msg#1 delay_ns=10000000");
}

TEST_CASE("faulty link: zero delay queues behind held copies") {
  Rig rig("delay=10");
  rig.send_n(1, 0);
  REQUIRE(rig.state.execute("set Riley>Jaquez delay=0").ok);
  rig.send_n(1, 0);  // Must not overtake m0.
  CHECK(rig.inner.received.empty());
  rig.scheduler.run_all();
  REQUIRE(rig.inner.received.size() == 2);
  CHECK(rig.inner.received[0].second == "m0");
  CHECK(rig.inner.received[1].second == "m0");  // send_n restarts its numbering.
  CHECK(rig.inner.received[1].first == rig.inner.received[0].first);
}

std::vector<std::pair<int64_t, std::string>> random_run(uint64_t seed) {
  Rig rig("delay=1-50 drop=0.1 dup=0.1", seed);
  rig.send_n(200, 1'000'000);
  rig.scheduler.run_all();
  return rig.inner.received;
}

TEST_CASE("faulty link: random delay reorders; same seed, same deliveries") {
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

TEST_CASE("faulty link: drop and duplicate") {
  Rig dropping("drop=1");
  dropping.send_n(5, 0);
  CHECK(dropping.inner.received.empty());
  CHECK(dropping.state.counters(dropping.id).dropped == 5);
  CHECK(dropping.log.size() == 5);
  CHECK(dropping.log[4] == "fault drop Riley>Jaquez msg#5");
  Rig doubling("dup=1");
  doubling.send_n(5, 0);
  CHECK(doubling.inner.received.size() == 10);
  CHECK(doubling.state.counters(doubling.id).duplicated == 5);
  CHECK(doubling.log[0] == "fault duplicate Riley>Jaquez msg#1 delay_ns=0,0");
}

TEST_CASE("faulty link: cut, partition and crash lose messages, also those held") {
  Rig rig("delay=10");
  rig.send_n(3, 0);
  REQUIRE(rig.state.execute("cut Riley>Jaquez").ok);
  rig.send_n(2, 0);
  rig.scheduler.run_all();
  CHECK(rig.inner.received.empty());
  const LinkCounters& c = rig.state.counters(rig.id);
  CHECK(c.sent == 5);
  CHECK(c.cut == 5);
  CHECK(rig.log.back() == "fault cut Riley>Jaquez msg#3 held");
  REQUIRE(rig.state.execute("heal").ok);
  REQUIRE(rig.state.execute("partition Riley Jaquez").ok);
  rig.send_n(1, 0);
  REQUIRE(rig.state.execute("heal").ok);
  REQUIRE(rig.state.execute("crash Jaquez").ok);
  rig.send_n(1, 0);
  rig.scheduler.run_all();
  CHECK(rig.inner.received.empty());
  CHECK(c.cut == 7);
  CHECK(rig.log.back() == "fault cut Riley>Jaquez msg#7");
}

TEST_CASE("faulty link: past the held limit, copies are lost as overflow") {
  Rig rig("delay=10", 1, 3);
  rig.send_n(5, 0);
  CHECK(rig.link->held() == 3);
  CHECK(rig.state.counters(rig.id).overflow == 2);
  CHECK(rig.log.back() == "fault overflow Riley>Jaquez msg#5");
  rig.scheduler.run_all();
  CHECK(rig.inner.received.size() == 3);
}

TEST_CASE("faulty link: copies held when the link is destroyed are never sent") {
  FakeScheduler scheduler;
  FaultState state(test_topology(), 1);
  REQUIRE(state.execute("set Riley>Jaquez delay=10").ok);
  auto inner = std::make_unique<FakeLink>(&scheduler);
  auto link = std::make_unique<FaultyLink>(inner.get(), &scheduler, &state,
                                           state.link_id("Riley", "Jaquez"));
  link->send("late");
  link.reset();
  inner.reset();  // The pending callback must touch neither.
  scheduler.run_all();
  CHECK(scheduler.pending() == 0);
}

}  // namespace
}  // namespace herd
