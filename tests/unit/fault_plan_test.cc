// node/fault_plan.h: the faults file of the issue, its additions, and errors that
// name the key.
#include "node/fault_plan.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "node/clock.h"
#include "node/fault_state.h"
#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

constexpr const char* kExample = R"({"links": {"drop": 0.1, "delay_ms": {"dist": "uniform", "min": 5, "max": 50}, "duplicate": 0.0},
 "link_overrides": [{"between": ["Riley", "Jaquez"], "drop": 1.0}],
 "timeline": [{"at_ms": 1000, "cut": ["Riley", "Jaquez"]}, {"at_ms": 5000, "heal": ["Riley", "Jaquez"]},
              {"at_ms": 6000, "partition": [["Riley", "Jaquez"], ["Juzang", "Campbell", "Bernard"]]},
              {"at_ms": 9000, "heal_all": true}, {"at_ms": 10000, "crash": "Bernard"},
              {"at_ms": 12000, "restart": "Bernard"}]})";

TEST_CASE("fault plan: the example of the issue") {
  const Result<FaultPlan> parsed = parse_fault_plan(kExample, "faults.json", test_topology());
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const FaultPlan& plan = parsed.value();
  CHECK(plan.defaults.text() == "drop=0.1 delay=5-50ms dup=0");
  REQUIRE(plan.overrides.size() == 1);
  CHECK(plan.overrides[0].link.text() == "Riley Jaquez");
  CHECK(plan.overrides[0].settings.drop->is_always());
  CHECK_FALSE(plan.overrides[0].settings.delay.has_value());
  REQUIRE(plan.timeline.size() == 6);
  CHECK(plan.timeline[0].at_ms == 1000);
  CHECK(plan.timeline[0].action.kind == ActionKind::kCut);
  CHECK(plan.timeline[1].action.kind == ActionKind::kHeal);
  CHECK(plan.timeline[2].action.groups.size() == 2);
  CHECK(plan.timeline[2].action.groups[1][2] == "Bernard");
  CHECK(plan.timeline[3].action.kind == ActionKind::kHealAll);
  CHECK(plan.timeline[4].action.kind == ActionKind::kCrash);
  CHECK(plan.timeline[5].action.server == "Bernard");

  FaultState state(test_topology(), 1, plan);
  CHECK(state.faults(state.link_id("Jaquez", "Riley")).text() == "drop=1 delay=5-50ms dup=0");
  CHECK(state.faults(state.link_id("Riley", "Juzang")).text() == "drop=0.1 delay=5-50ms dup=0");
  CHECK(state.apply(plan.timeline[2].action).answer ==
        "ok: partition Riley,Jaquez | Juzang,Campbell,Bernard: cut 4 directed links");
  CHECK(state.apply(plan.timeline[4].action).request == HostRequest::kCrash);
}

TEST_CASE("fault plan: additions — delay shapes, one-way links, set, order, empty file") {
  const char* text = R"({"links": {"delay_ms": 2.5},
    "link_overrides": [{"link": "Riley>Jaquez", "delay_ms": {"dist": "exponential", "min": 5, "mean": 20}},
                       {"between": ["Juzang", "Bernard"], "delay_ms": {"dist": "constant", "value": 10}}],
    "timeline": [{"at_ms": 7000, "set": {"link": "Riley>Jaquez", "duplicate": 0.5}},
                 {"at_ms": 1500, "cut": "Riley>Jaquez"},
                 {"at_ms": 1500, "heal": "Riley>Jaquez"}]})";
  const Result<FaultPlan> parsed = parse_fault_plan(text, "f.json", test_topology());
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const FaultPlan& plan = parsed.value();
  CHECK(plan.defaults.delay == DelayDist::constant(2'500'000));
  CHECK(plan.overrides[0].link.one_way);
  CHECK(*plan.overrides[0].settings.delay == DelayDist::exponential(5 * kNsPerMs, 20 * kNsPerMs));
  // Sorted by time, ties in file order.
  CHECK(plan.timeline[0].action.kind == ActionKind::kCut);
  CHECK(plan.timeline[1].action.kind == ActionKind::kHeal);
  CHECK(plan.timeline[2].action.kind == ActionKind::kSet);
  FaultState state(test_topology(), 1, plan);
  CHECK(state.faults(state.link_id("Jaquez", "Riley")).text() == "drop=0 delay=2.5ms dup=0");
  CHECK(state.faults(state.link_id("Bernard", "Juzang")).text() == "drop=0 delay=10ms dup=0");
  CHECK(state.apply(plan.timeline[2].action).answer ==
        "ok: set Riley>Jaquez drop=0 delay=exp:5:20ms dup=0.5");
  const Result<FaultPlan> empty = parse_fault_plan("{}", "f.json", test_topology());
  REQUIRE(empty.ok());
  CHECK(empty.value().defaults == LinkFaults{});
}

TEST_CASE("fault plan: errors name the line of the value") {
  const char* text = "{\"timeline\": [\n  {\"at_ms\": 1, \"heal_all\": true},\n"
                     "  {\"at_ms\": 2,\n   \"crash\": \"Bob\"}]}";
  const Result<FaultPlan> parsed = parse_fault_plan(text, "f.json", test_topology());
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error() ==
        "f.json: line 4: timeline[1].crash: unknown server 'Bob' (servers: Riley, Jaquez, Juzang, "
        "Campbell, Bernard)");
}

TEST_CASE("fault plan: errors name the source and the key") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"links": {"dorp": 0.1}})",
       "f.json: line 1: links.dorp: unknown key (expected one of: drop, delay_ms, duplicate, bandwidth_kbps)"},
      {R"({"links": {"drop": 1.5}})", "f.json: line 1: links.drop: must be a probability, a number in [0, 1]"},
      {R"({"links": {"drop": "0.1"}})", "f.json: line 1: links.drop: must be a probability, a number in [0, 1]"},
      {R"({"links": {"delay_ms": {"dist": "normal"}}})",
       "f.json: line 1: links.delay_ms.dist: must be \"constant\", \"uniform\" or \"exponential\""},
      {R"({"links": {"delay_ms": {"min": 5}}})", "f.json: line 1: links.delay_ms.dist: is required"},
      {R"({"links": {"delay_ms": {"dist": "uniform", "min": 5}}})",
       "f.json: line 1: links.delay_ms.max: is required"},
      {R"({"links": {"delay_ms": {"dist": "uniform", "min": 50, "max": 5}}})",
       "f.json: line 1: links.delay_ms: min must not exceed max"},
      {R"({"links": {"delay_ms": {"dist": "exponential", "min": 5, "mean": -1}}})",
       "f.json: line 1: links.delay_ms.mean: must be between 0 and 3600000 (milliseconds)"},
      {R"({"links": {"delay_ms": {"dist": "constant", "value": 1, "max": 2}}})",
       "f.json: line 1: links.delay_ms.max: unknown key (expected one of: dist, value)"},
      {R"({"links": {"drop": 0.1, "drop": 0.2}})", "f.json: line 1: links.drop: duplicate key"},
      {R"({"linkz": {}})", "f.json: line 1: linkz: unknown key (expected one of: links, link_overrides, timeline)"},
      {R"([])", "f.json: line 1: top level: must be an object"},
      {R"({"link_overrides": [{"between": ["Riley", "Bernard"], "drop": 1}]})",
       "f.json: line 1: link_overrides[0].between: Riley and Bernard are not linked"},
      {R"({"link_overrides": [{"between": ["Riley"], "drop": 1}]})",
       "f.json: line 1: link_overrides[0].between: must be [\"A\", \"B\"] or \"A>B\""},
      {R"({"link_overrides": [{"between": ["Riley", "Jaquez"]}]})",
       "f.json: line 1: link_overrides[0]: needs at least one of drop, delay_ms, duplicate, bandwidth_kbps"},
      {R"({"link_overrides": {}})", "f.json: line 1: link_overrides: must be an array"},
      {R"({"timeline": [{"cut": ["Riley", "Jaquez"]}]})", "f.json: line 1: timeline[0].at_ms: is required"},
      {R"({"timeline": [{"at_ms": 1.5, "heal_all": true}]})",
       "f.json: line 1: timeline[0].at_ms: must be an integer in 0..1000000000"},
      {R"({"timeline": [{"at_ms": 1, "heal_all": true}, {"at_ms": 2, "crash": "Bob"}]})",
       "f.json: line 1: timeline[1].crash: unknown server 'Bob' (servers: Riley, Jaquez, Juzang, "
       "Campbell, Bernard)"},
      {R"({"timeline": [{"at_ms": 1, "crash": "Riley", "restart": "Riley"}]})",
       "f.json: line 1: timeline[0]: needs exactly one of cut, heal, partition, set, heal_all, crash, restart, "
       "blackhole, reset, pause, resume"},
      {R"({"timeline": [{"at_ms": 1, "heal_all": false}]})", "f.json: line 1: timeline[0].heal_all: must be true"},
      {R"({"timeline": [{"at_ms": 1, "partition": [["Riley"], ["Riley"]]}]})",
       "f.json: line 1: timeline[0].partition: server 'Riley' is in two groups"},
      {R"({"timeline": [{"at_ms": 1, "partition": ["Riley"]}]})",
       "f.json: line 1: timeline[0].partition[0]: must be an array"},
      {R"({"timeline": [{"at_ms": 1, "set": {"link": "Riley>Jaquez", "drop": 7}}]})",
       "f.json: line 1: timeline[0].set.drop: must be a probability, a number in [0, 1]"},
      {R"({"timeline": [{"at_ms": 1, "nap": 3}]})",
       "f.json: line 1: timeline[0].nap: unknown key (expected one of: at_ms, cut, heal, partition, set, heal_all, "
       "crash, restart, blackhole, reset, pause, resume)"},
      {"{\"links\": {\n  \"drop\": 0.1\n  \"duplicate\": 0}}",
       "f.json: line 3, column 3: JSON syntax error: Missing a comma or '}' after an object member."},
  };
  for (const auto& [text, error] : cases) {
    CAPTURE(text);
    const Result<FaultPlan> parsed = parse_fault_plan(text, "f.json", test_topology());
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error() == error);
  }
}

}  // namespace
}  // namespace herd
