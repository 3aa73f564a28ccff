// node/fault_model.h and node/fault_state.h: per-link decisions (golden values,
// determinism, rates, FIFO), cuts, partitions, crashes, console commands and status.
#include "node/fault_model.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "node/clock.h"
#include "node/fault_state.h"
#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

LinkFaults golden_faults() {
  LinkFaults faults;
  faults.drop = Probability::of(0.1);
  faults.delay = DelayDist::uniform(5 * kNsPerMs, 50 * kNsPerMs);
  faults.duplicate = Probability::of(0.3);
  return faults;
}

struct Golden {
  uint64_t msg;
  Fate fate;
  int copies;
  int64_t delay0;
  int64_t delay1;
};

TEST_CASE("fault model: golden decisions for seed 42 on Riley>Jaquez") {
  // Computed once; a change here changes every recorded run.
  const std::vector<Golden> expected = {
      {1, Fate::kDeliver, 1, 8849435, 0},         {2, Fate::kDeliver, 1, 19944885, 0},
      {3, Fate::kDeliver, 1, 25587241, 0},        {4, Fate::kDeliver, 1, 40880892, 0},
      {5, Fate::kDeliver, 1, 30184216, 0},        {6, Fate::kDeliver, 1, 18373372, 0},
      {7, Fate::kDeliver, 2, 45917712, 41230576}, {8, Fate::kDrop, 0, 0, 0},
      {9, Fate::kDeliver, 1, 48293350, 0},        {10, Fate::kDeliver, 2, 19688783, 7915344},
      {11, Fate::kDeliver, 1, 40644055, 0},       {12, Fate::kDrop, 0, 0, 0},
      {13, Fate::kDeliver, 1, 30467048, 0},       {14, Fate::kDeliver, 1, 23704713, 0},
      {15, Fate::kDeliver, 1, 39100152, 0},       {16, Fate::kDrop, 0, 0, 0},
  };
  LinkModel model(42, "Riley>Jaquez", golden_faults());
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    const Decision d = model.decide(static_cast<int64_t>(i) * kNsPerMs);
    CHECK(d.msg == expected[i].msg);
    CHECK(d.fate == expected[i].fate);
    CHECK(d.copies == expected[i].copies);
    CHECK(d.delay_ns[0] == expected[i].delay0);
    CHECK(d.delay_ns[1] == expected[i].delay1);
  }
}

std::vector<Decision> run(uint64_t seed, std::string_view label, int n) {
  LinkModel model(seed, label, golden_faults());
  std::vector<Decision> out;
  for (int i = 0; i < n; ++i) out.push_back(model.decide(i * kNsPerMs));
  return out;
}

bool same(const std::vector<Decision>& a, const std::vector<Decision>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].fate != b[i].fate || a[i].copies != b[i].copies ||
        a[i].delay_ns[0] != b[i].delay_ns[0] || a[i].delay_ns[1] != b[i].delay_ns[1]) {
      return false;
    }
  }
  return a.size() == b.size();
}

TEST_CASE("fault model: same seed gives the same decisions; another seed or link differs") {
  CHECK(same(run(7, "A>B", 500), run(7, "A>B", 500)));
  CHECK_FALSE(same(run(7, "A>B", 500), run(8, "A>B", 500)));
  CHECK_FALSE(same(run(7, "A>B", 500), run(7, "B>A", 500)));
}

TEST_CASE("fault model: a cut message keeps later decisions aligned") {
  LinkModel plain(5, "A>B", golden_faults());
  LinkModel skipped(5, "A>B", golden_faults());
  plain.decide(0);
  CHECK(skipped.skip(Fate::kCut).fate == Fate::kCut);
  for (int i = 0; i < 50; ++i) {
    const Decision a = plain.decide(kNsPerMs);
    const Decision b = skipped.decide(kNsPerMs);
    CHECK(a.msg == b.msg);
    CHECK(a.fate == b.fate);
    CHECK(a.delay_ns[0] == b.delay_ns[0]);
  }
}

TEST_CASE("fault model: drop 1 drops all, drop 0 none, rates within tolerance") {
  LinkFaults faults;
  faults.drop = Probability::of(1.0);
  LinkModel all(1, "A>B", faults);
  for (int i = 0; i < 1000; ++i) CHECK(all.decide(0).fate == Fate::kDrop);
  faults.drop = Probability::of(0.0);
  LinkModel none(1, "A>B", faults);
  for (int i = 0; i < 1000; ++i) CHECK(none.decide(0).copies == 1);
  faults.drop = Probability::of(0.2);
  faults.duplicate = Probability::of(0.5);
  LinkModel some(1, "A>B", faults);
  int dropped = 0, duplicated = 0;
  for (int i = 0; i < 100'000; ++i) {
    const Decision d = some.decide(0);
    dropped += d.fate == Fate::kDrop ? 1 : 0;
    duplicated += d.copies == 2 ? 1 : 0;
  }
  CHECK(std::abs(dropped - 20'000) < 800);      // sd about 126.
  CHECK(std::abs(duplicated - 40'000) < 800);  // Half of the 80% kept; sd about 155.
}

TEST_CASE("fault model: delays stay in their bounds; exponential mean is the given mean") {
  LinkFaults faults;
  faults.delay = DelayDist::uniform(5 * kNsPerMs, 50 * kNsPerMs);
  LinkModel uniform(3, "A>B", faults);
  for (int i = 0; i < 20'000; ++i) {
    const int64_t d = uniform.decide(0).delay_ns[0];
    REQUIRE(d >= 5 * kNsPerMs);
    REQUIRE(d <= 50 * kNsPerMs);
  }
  faults.delay = DelayDist::exponential(5 * kNsPerMs, 20 * kNsPerMs);
  LinkModel exponential(3, "A>B", faults);
  double sum = 0;
  constexpr int kDraws = 100'000;
  for (int i = 0; i < kDraws; ++i) {
    const int64_t d = exponential.decide(0).delay_ns[0];
    REQUIRE(d >= 5 * kNsPerMs);
    sum += static_cast<double>(d);
  }
  CHECK(std::abs(sum / kDraws - 20.0 * kNsPerMs) < 0.3 * kNsPerMs);  // se about 0.05 ms.
}

TEST_CASE("fault model: constant delay keeps FIFO, even after a settings change") {
  LinkFaults faults;
  faults.delay = DelayDist::uniform(0, 50 * kNsPerMs);
  LinkModel model(9, "A>B", faults);
  int64_t latest_due = 0;
  for (int i = 0; i < 100; ++i) latest_due = std::max(latest_due, 1000 + model.decide(1000).delay_ns[0]);
  faults.delay = DelayDist::constant(10 * kNsPerMs);
  model.set_faults(faults);
  int64_t previous_due = 0;
  for (int64_t now = 2000; now < 2000 + 60 * kNsPerMs; now += kNsPerMs / 3) {
    const Decision d = model.decide(now);
    const int64_t due = now + d.delay_ns[0];
    CHECK(due >= latest_due);  // Never before what the uniform delay scheduled.
    CHECK(due >= previous_due);
    CHECK(d.delay_ns[0] >= 10 * kNsPerMs);
    previous_due = due;
  }
}

TEST_CASE("fault model: log texts") {
  Decision d;
  d.msg = 17;
  d.fate = Fate::kDrop;
  CHECK(fault_text(d, "Riley>Jaquez") == "fault drop Riley>Jaquez msg#17");
  d.fate = Fate::kCut;
  CHECK(fault_text(d, "Riley>Jaquez") == "fault cut Riley>Jaquez msg#17");
  d.fate = Fate::kDeliver;
  d.copies = 1;
  CHECK(fault_text(d, "Riley>Jaquez").empty());  // Zero delay, one copy: no fault.
  d.delay_ns[0] = 12 * kNsPerMs;
  CHECK(fault_text(d, "Riley>Jaquez") == "fault delay Riley>Jaquez msg#17 delay_ns=12000000");
  d.copies = 2;
  d.delay_ns[1] = 3;
  CHECK(fault_text(d, "Riley>Jaquez") == "fault duplicate Riley>Jaquez msg#17 delay_ns=12000000,3");
  CHECK(golden_faults().text() == "drop=0.1 delay=5-50ms dup=0.3");
  CHECK(DelayDist::exponential(5 * kNsPerMs, 20'500'000).text() == "exp:5:20.5ms");
  CHECK(DelayDist::constant(0).text() == "0ms");
}

TEST_CASE("fault state: one-way cut affects only that direction; heal restores") {
  FaultState state(test_topology(), 1);
  const int rj = state.link_id("Riley", "Jaquez");
  const int jr = state.link_id("Jaquez", "Riley");
  REQUIRE(rj >= 0);
  REQUIRE(jr >= 0);
  CHECK(state.link_id("Riley", "Bernard") == -1);
  CHECK(state.execute("cut Riley>Jaquez").answer == "ok: cut Riley>Jaquez");
  CHECK(state.decide(rj, 0).fate == Fate::kCut);
  CHECK(state.decide(jr, 0).fate == Fate::kDeliver);
  CHECK(state.counters(rj).cut == 1);
  CHECK(state.counters(rj).sent == 1);
  CHECK(state.execute("cut Riley Jaquez").answer == "ok: cut Riley>Jaquez Jaquez>Riley");
  CHECK(state.decide(jr, 0).fate == Fate::kCut);
  CHECK(state.execute("heal Jaquez>Riley").answer == "ok: healed Jaquez>Riley");
  CHECK(state.blocked(rj));
  CHECK_FALSE(state.blocked(jr));
  CHECK(state.execute("heal").answer == "ok: healed 1 directed links");
  CHECK_FALSE(state.blocked(rj));
}

TEST_CASE("fault state: partition cuts exactly the links between groups") {
  FaultState state(test_topology(), 1);
  const CommandOutcome outcome = state.execute("partition Riley,Jaquez Juzang,Campbell,Bernard");
  CHECK(outcome.ok);
  CHECK(outcome.answer ==
        "ok: partition Riley,Jaquez | Juzang,Campbell,Bernard: cut 4 directed links");
  CHECK(state.blocked(state.link_id("Riley", "Juzang")));
  CHECK(state.blocked(state.link_id("Bernard", "Jaquez")));
  CHECK_FALSE(state.blocked(state.link_id("Riley", "Jaquez")));
  CHECK_FALSE(state.blocked(state.link_id("Campbell", "Bernard")));
  // Servers in no group form one more group: Riley alone against the rest.
  CHECK(state.execute("partition Riley").answer ==
        "ok: partition Riley | Bernard,Campbell,Jaquez,Juzang: cut 4 directed links");
  CHECK_FALSE(state.blocked(state.link_id("Jaquez", "Bernard")));  // Healed first.
  CHECK(state.execute("heal").answer == "ok: healed 4 directed links");
  for (int id = 0; id < state.link_count(); ++id) CHECK_FALSE(state.blocked(id));
}

TEST_CASE("fault state: crash blocks the server's links and asks the host") {
  FaultState state(test_topology(), 1);
  CommandOutcome outcome = state.execute("crash Bernard");
  CHECK(outcome.ok);
  CHECK(outcome.request == HostRequest::kCrash);
  CHECK(outcome.server == "Bernard");
  CHECK(state.crashed("Bernard"));
  CHECK(state.blocked(state.link_id("Jaquez", "Bernard")));
  CHECK(state.blocked(state.link_id("Bernard", "Campbell")));
  CHECK_FALSE(state.blocked(state.link_id("Riley", "Jaquez")));
  CHECK(state.execute("crash Bernard").answer == "error: Bernard is already crashed");
  outcome = state.execute("restart Bernard");
  CHECK(outcome.request == HostRequest::kRestart);
  CHECK_FALSE(state.blocked(state.link_id("Jaquez", "Bernard")));
  CHECK(state.execute("restart Bernard").answer == "error: Bernard is not crashed");
  CHECK(state.execute("status").request == HostRequest::kStatus);
}

TEST_CASE("fault state: set changes one or both directions") {
  FaultState state(test_topology(), 1);
  CHECK(state.execute("set Riley Jaquez drop=0.5 delay=10 dup=0.25").answer ==
        "ok: set Riley>Jaquez drop=0.5 delay=10ms dup=0.25, "
        "Jaquez>Riley drop=0.5 delay=10ms dup=0.25");
  CHECK(state.execute("set Riley>Jaquez delay=5-50").answer ==
        "ok: set Riley>Jaquez drop=0.5 delay=5-50ms dup=0.25");
  CHECK(state.execute("set Riley>Jaquez delay=exp:1.5:20").answer ==
        "ok: set Riley>Jaquez drop=0.5 delay=exp:1.5:20ms dup=0.25");
  CHECK(state.faults(state.link_id("Jaquez", "Riley")).delay == DelayDist::constant(10 * kNsPerMs));
  state.execute("set Riley>Jaquez drop=1");
  for (int i = 0; i < 100; ++i) CHECK(state.decide(state.link_id("Riley", "Jaquez"), 0).fate == Fate::kDrop);
}

TEST_CASE("fault state: console errors") {
  FaultState state(test_topology(), 1);
  const std::string servers = " (servers: Riley, Jaquez, Juzang, Campbell, Bernard)";
  const std::map<std::string, std::string> cases = {
      {"", "error: empty command (cut, heal, partition, set, blackhole, reset, crash, restart, pause, resume, status, help)"},
      {"fly away", "error: unknown command 'fly' (cut, heal, partition, set, blackhole, reset, crash, restart, pause, resume, status, help)"},
      {"cut Riley", "error: usage: cut A B | cut A>B"},
      {"cut Riley Jaquez Juzang", "error: usage: cut A B | cut A>B"},
      {"cut Riley Bob", "error: unknown server 'Bob'" + servers},
      {"cut Riley Bernard", "error: Riley and Bernard are not linked"},
      {"heal Riley>", "error: usage: heal A B | heal A>B"},
      {"partition", "error: usage: partition A,B C,D,E"},
      {"partition Riley,,Jaquez", "error: partition: bad group 'Riley,,Jaquez'"},
      {"partition Riley Riley", "error: server 'Riley' is in two groups"},
      {"partition Riley,Jaquez,Juzang,Campbell,Bernard",
       "error: a partition needs at least two groups"},
      {"set Riley Jaquez", "error: usage: set A B|A>B drop=P delay=MS|MIN-MAX|exp:MIN:MEAN dup=P bandwidth_kbps=N"},
      {"set Riley Jaquez drop=2", "error: set: bad drop '2' (a probability in [0, 1])"},
      {"set Riley Jaquez dup=-0.1", "error: set: bad dup '-0.1' (a probability in [0, 1])"},
      {"set Riley Jaquez drop=0.1 drop=0.2", "error: set: drop given twice"},
      {"set Riley Jaquez loss=1", "error: set: unknown key 'loss=1' (drop=, delay=, dup=, bandwidth_kbps=)"},
      {"set Riley Jaquez delay=50-5",
       "error: set: bad delay '50-5' (MS, MIN-MAX or exp:MIN:MEAN, milliseconds up to "
       "3600000, min <= max/mean)"},
      {"crash", "error: usage: crash X"},
      {"restart Bob", "error: unknown server 'Bob'" + servers},
      {"status now", "error: usage: status"},
  };
  for (const auto& [line, answer] : cases) {
    CAPTURE(line);
    const CommandOutcome outcome = state.execute(line);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.answer == answer);
    CHECK(outcome.request == HostRequest::kNone);
  }
}

TEST_CASE("fault state: status lines") {
  LinkOverride override_rj;
  override_rj.link = {"Riley", "Jaquez", true};
  override_rj.settings.drop = Probability::of(1.0);
  FaultPlan plan;
  plan.defaults.delay = DelayDist::uniform(5 * kNsPerMs, 50 * kNsPerMs);
  plan.overrides.push_back(override_rj);
  FaultState state(test_topology(), 1, plan);
  const int rj = state.link_id("Riley", "Jaquez");
  state.decide(rj, 0);
  state.decide(rj, 0);
  const int jr = state.link_id("Jaquez", "Riley");
  state.decide(jr, 0);
  state.count_delivered(jr);
  state.execute("cut Juzang>Riley");
  state.execute("crash Bernard");
  std::vector<LinkHostView> views(static_cast<size_t>(state.link_count()));
  views[static_cast<size_t>(rj)] = LinkHostView{true, 3, 1, 0};  // The node lost one while down.
  views[static_cast<size_t>(jr)] = LinkHostView{true, 1, 0, 0};
  const std::vector<std::string> lines =
      state.status_lines(views, {{"Riley", {3, ""}}, {"Bernard", {1, "sync_sessions=2"}}});
  REQUIRE(lines.size() == 12 + 5);
  CHECK(lines[0] == "link Bernard>Campbell conn=down sent=0 dropped=0 duplicated=0 delivered=0 cut=0 "
                    "blackholed=0 overflow=0 lost=0 queued=0 resets=0 state=crashed drop=0 delay=5-50ms dup=0");
  CHECK(lines[6] == "link Jaquez>Riley conn=up sent=1 dropped=0 duplicated=0 delivered=1 cut=0 "
                    "blackholed=0 overflow=0 lost=0 queued=0 resets=0 state=up drop=0 delay=5-50ms dup=0");
  CHECK(lines[9] == "link Juzang>Riley conn=down sent=0 dropped=0 duplicated=0 delivered=0 cut=0 "
                    "blackholed=0 overflow=0 lost=0 queued=0 resets=0 state=cut drop=0 delay=5-50ms dup=0");
  CHECK(lines[10] == "link Riley>Jaquez conn=up sent=3 dropped=2 duplicated=0 delivered=0 cut=0 "
                     "blackholed=0 overflow=0 lost=1 queued=0 resets=0 state=up drop=1 delay=5-50ms dup=0");
  CHECK(lines[12] == "server Bernard records=1 state=crashed sync_sessions=2");
  CHECK(lines[13] == "server Campbell records=0 state=up");
  CHECK(lines[16] == "server Riley records=3 state=up");
}

}  // namespace
}  // namespace herd
