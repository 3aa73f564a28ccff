// One number grammar for flags, the console and the faults file (node/fault_text.h):
// JSON's, with the same value to the bit whichever of the three reads it.
#include "node/fault_text.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "node/fault_plan.h"
#include "node/fault_state.h"
#include "tests/unit/fault_test_util.h"

namespace herd {
namespace {

TEST_CASE("number text: JSON's grammar, nothing more") {
  for (const char* good : {"0", "1", "0.5", "1e-3", "1E-3", "2.5e+1", "10", "-0", "0e0", "123.456e-2"}) {
    CAPTURE(good);
    CHECK(parse_json_number(good).has_value());
  }
  CHECK(*parse_json_number("1e-3") == 0.001);
  CHECK(*parse_json_number("2.5E+1") == 25.0);
  CHECK(*parse_json_number("1e-400") == 0.0);  // Too small for a double: 0, as JSON readers give.
  for (const char* bad : {"", ".5", "5.", "+1", "01", "1e", "1e+", "0x1", "inf", "nan", " 1", "1 ", "1,5",
                          "1.5.2", "--1", "1e400", "e3", "1_000"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_json_number(bad).has_value());
  }
}

TEST_CASE("number text: milliseconds and probabilities keep their ranges") {
  CHECK(parse_ms("12.5") == 12'500'000);
  CHECK(parse_ms("1e1") == 10'000'000);
  CHECK(parse_ms("0.0000004") == 0);  // To the nearest nanosecond, as in a file.
  CHECK(parse_ms("0.0000006") == 1);
  CHECK(parse_ms("3.6e6") == 3'600'000'000'000);
  CHECK_FALSE(parse_ms("3600000.001"));
  CHECK_FALSE(parse_ms("-1"));
  CHECK(parse_probability("1e-3")->value() == 0.001);
  CHECK(parse_probability("1")->is_always());
  CHECK(parse_probability("0")->is_never());
  CHECK_FALSE(parse_probability("1.0000001"));
  CHECK_FALSE(parse_probability("-0.1"));
}

TEST_CASE("number text: a flag or console value equals the faults file's, to the bit") {
  const std::vector<std::string> texts = {"0.1", "1e-3", "0.3333333333333333", "0.7", "2.5e-1",
                                          "0.000123456789", "9.999999999999999e-1", "1"};
  for (const std::string& text : texts) {
    CAPTURE(text);
    const Result<FaultPlan> plan = parse_fault_plan(
        "{\"links\": {\"drop\": " + text + ", \"delay_ms\": " + text + "}}", "f.json", test_topology());
    REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error()));
    CHECK(plan.value().defaults.drop.threshold() == parse_probability(text)->threshold());
    CHECK(plan.value().defaults.drop.value() == parse_probability(text)->value());
    CHECK(plan.value().defaults.delay.value_ns == *parse_ms(text));
  }
  FaultState state(test_topology(), 1);
  CHECK(state.execute("set Riley Jaquez drop=1e-3 delay=2e1 dup=5E-1").answer ==
        "ok: set Riley>Jaquez drop=0.001 delay=20ms dup=0.5, Jaquez>Riley drop=0.001 delay=20ms dup=0.5");
  CHECK(state.execute("set Riley>Jaquez delay=1e-3-5").answer == "ok: set Riley>Jaquez drop=0.001 delay=0.001-5ms dup=0.5");
  CHECK(state.execute("set Riley Jaquez drop=.5").answer == "error: set: bad drop '.5' (a probability in [0, 1])");
}

// RapidJSON 1.1.0's full-precision reading, which the files' parser once used, got a
// zero with a large negative exponent wrong ("0.0e-100" became -4.7e21, "0e-30"
// 9.6e-240: it normalized a zero significand, undefined behaviour that the fuzzer's
// UBSan reported for the topology "0E-222").
TEST_CASE("number text: a zero with any exponent is 0 in a file too") {
  for (const std::string text : {"0e-30", "0.0e-100", "0.000e-23", "0E-222", "0e-300", "-0.0e-50", "1e-400"}) {
    CAPTURE(text);
    const Result<FaultPlan> plan =
        parse_fault_plan("{\"links\": {\"drop\": " + text + ", \"delay_ms\": " + text + "}}", "f.json",
                         test_topology());
    REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error()));
    CHECK(plan.value().defaults.drop.is_never());
    CHECK(plan.value().defaults.delay.value_ns == 0);
    CHECK(*parse_json_number(text) == 0.0);
  }
}

}  // namespace
}  // namespace herd
