// Fuzz target: faults files (parse_fault_plan) and console commands (parse_command),
// against the spring-2021 herd. Input: the whole of it is a faults file, and each of
// its lines is a console command (a file and a command never look alike, so each
// input is mostly one or the other). Checks that errors name the file; that a plan
// that parses keeps its promises (timeline sorted and in range, every event fits the
// topology) and builds a FaultState whose decisions stay in range and whose status
// lines add up; and that every command is answered with one line, "ok: " or "error: ".
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "node/fault_plan.h"
#include "node/fault_state.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz-faults.json";

FaultTopology spring21() {
  FaultTopology t;
  t.nodes = {"Riley", "Jaquez", "Juzang", "Campbell", "Bernard"};
  t.links = {{"Riley", "Jaquez"}, {"Riley", "Juzang"}, {"Bernard", "Jaquez"},
             {"Bernard", "Juzang"}, {"Bernard", "Campbell"}, {"Juzang", "Campbell"}};
  return t;
}

void check_answer(const CommandOutcome& o) {
  FUZZ_CHECK(o.answer.find('\n') == std::string::npos, "an answer of more than one line: " + shown(o.answer));
  FUZZ_CHECK(o.answer.starts_with(o.ok ? "ok: " : "error: "), "answer " + shown(o.answer));
}

// Every directed link's status line must add up: sent + duplicated = dropped +
// delivered + cut + blackholed + overflow + lost + queued (nothing queued here).
void check_counters(const FaultState& state) {
  for (int link = 0; link < state.link_count(); ++link) {
    const LinkCounters& c = state.counters(link);
    FUZZ_CHECK(c.sent + c.duplicated == c.dropped + c.delivered + c.cut + c.blackholed + c.overflow + c.lost,
               "counters of " + state.label(link) + " do not add up");
  }
  const std::vector<std::string> lines = state.status_lines(std::vector<LinkHostView>(
                                                                static_cast<size_t>(state.link_count())),
                                                            {});
  FUZZ_CHECK(lines.size() == static_cast<size_t>(state.link_count()) + 5, "status lines");
  for (const std::string& line : lines) FUZZ_CHECK(line.find('\n') == std::string::npos, shown(line));
}

// A few messages on every link, delivered when the channel says so, from `now_ns`
// (never earlier than the last call's: the models require time to run forwards).
void exercise(FaultState& state, int64_t& now_ns) {
  for (int link = 0; link < state.link_count(); ++link) {
    for (int i = 0; i < 3; ++i) {
      const Decision d = state.decide(link, ++now_ns);
      const bool deliver = d.fate == Fate::kDeliver;
      FUZZ_CHECK(deliver ? d.copies == 1 || d.copies == 2 : d.copies == 0, "copies " + std::to_string(d.copies));
      for (int c = 0; c < d.copies; ++c) {
        FUZZ_CHECK(d.delay_ns[c] >= 0 && d.delay_ns[c] <= kMaxDelayNs + 3'600'000'000'000,
                   "delay " + std::to_string(d.delay_ns[c]));
      }
      if (deliver) state.count_delivered(link, static_cast<uint64_t>(d.copies));
      FUZZ_CHECK(fault_text(d, state.label(link)).find('\n') == std::string::npos, "fault text");
      state.transmit(link, 100, now_ns);
    }
  }
}

void check_plan(const FaultTopology& topology, const FaultPlan& plan) {
  int64_t last_ms = 0;
  for (const TimelineEvent& e : plan.timeline) {
    FUZZ_CHECK(e.at_ms >= last_ms && e.at_ms <= kMaxAtMs, "timeline at_ms " + std::to_string(e.at_ms));
    last_ms = e.at_ms;
    FUZZ_CHECK(check_action(topology, e.action).empty(), "a timeline event that does not fit the topology");
  }
  FaultState state(topology, 7, plan);
  int64_t now_ns = 0;
  exercise(state, now_ns);
  for (const TimelineEvent& e : plan.timeline) {
    check_answer(state.apply(e.action));
    now_ns = std::max(now_ns, e.at_ms * 1'000'000);
    exercise(state, now_ns);
  }
  check_counters(state);
}

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd;
  using namespace herd::fuzz;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const FaultTopology topology = spring21();
  Result<FaultPlan> plan = parse_fault_plan(text, kSource, topology);
  if (plan.ok()) {
    check_plan(topology, plan.value());
  } else {
    FUZZ_CHECK(plan.error().starts_with(std::string(kSource) + ": "), "an error without the file: " + shown(plan.error()));
  }
  FaultState console(topology, 1);
  int64_t now_ns = 0;
  for (std::string_view line : lines_of(text)) {
    Result<FaultAction> action = parse_command(line);
    if (action.ok()) check_action(topology, action.value());
    check_answer(console.execute(line));
    now_ns += 1'000'000;
    exercise(console, now_ns);
  }
  check_counters(console);
  return 0;
}
