// Traces from anywhere (node/trace_format.h's limits): what the trace fuzz target
// (tests/fuzz/trace.cc) found a hostile trace could do to `herd replay`, each now a
// bad trace with a message, or a replay that stays inside int64.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "node/trace_format.h"
#include "sim/replay.h"

namespace herd {
namespace {

// Two linked nodes with the default configuration, as a header line.
std::string header_line() {
  TraceHeader h;
  h.source = "live";
  h.topology.name = "pair";
  h.topology.nodes = {{"a", "127.0.0.1", 1, 0}, {"b", "127.0.0.1", 2, 0}};
  h.topology.links = {{"a", "b"}};
  for (const char* name : {"a", "b"}) {
    NodeConfig c;
    c.name = name;
    c.neighbours = {name[0] == 'a' ? "b" : "a"};
    h.nodes.push_back(c);
  }
  return trace_header_line(h);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

ReplayResult replay_text(const std::string& text) {
  std::istringstream in(text);
  return replay_trace(in, "t.jsonl");
}

std::string input_at(const std::string& wall, const std::string& mono, const std::string& kind) {
  return "{\"i\":0,\"t\":[" + wall + "," + mono + "],\"node\":\"a\",\"in\":\"" + kind +
         "\",\"out\":\"0000000000000000\",\"n\":0}\n";
}

}  // namespace

// The header and input lines were parsed recursively: a deep enough nesting
// overflowed the stack (a crash, not a message).
TEST_CASE("trace: JSON nested a million deep is a bad trace, not a stack overflow") {
  const std::string deep(1'000'000, '[');
  ReplayResult r = replay_text(deep + "\n");
  CHECK(r.status == ReplayResult::Status::kBadTrace);
  CHECK(r.message == "t.jsonl: line 1: header: not JSON");
  r = replay_text(header_line() + "\n" + deep + std::string(1'000'000, ']') + "\n");
  CHECK(r.status == ReplayResult::Status::kBadTrace);
  CHECK(r.message == "t.jsonl: line 2: not a JSON object");
}

// Found by the fuzzer (tests/fuzz/corpus/trace/time-overflow): a start at t = 2^63-1
// made the link machine add its hello timeout past int64 (undefined behaviour).
TEST_CASE("trace: times outside 0..2^62 ns are a bad trace") {
  const std::string header = header_line() + "\n";
  for (const auto& [wall, mono] : {std::pair{"9223372036854775807", "1"}, std::pair{"1", "9223372036854775807"},
                                   std::pair{"4611686018427387905", "1"}, std::pair{"1", "-1"}}) {
    CAPTURE(wall);
    CAPTURE(mono);
    const ReplayResult r = replay_text(header + input_at(wall, mono, "start"));
    CHECK(r.status == ReplayResult::Status::kBadTrace);
    CHECK(r.message == "t.jsonl: line 2: t: times must be in 0..4611686018427387904 ns");
  }
  // At the limits, a start and every timer stay inside int64 (UBSan checks this in
  // make test-asan): the replay runs and diverges on the made-up hashes.
  const std::string at_limit = replaced(
      replaced(header, "\"idle_timeout_ns\":5000000000", "\"idle_timeout_ns\":4503599627370496"),
      "\"hello_timeout_ns\":3000000000", "\"hello_timeout_ns\":4503599627370496");
  const ReplayResult r = replay_text(at_limit + input_at("4611686018427387904", "4611686018427387904", "start"));
  CHECK(r.status == ReplayResult::Status::kDiverged);
}

TEST_CASE("trace: timings past 2^52 ns and sync rates past 2^40 bytes/s are a bad trace") {
  const std::string header = header_line();
  ReplayResult r = replay_text(replaced(header, "\"idle_timeout_ns\":5000000000", "\"idle_timeout_ns\":9223372036854775807"));
  CHECK(r.status == ReplayResult::Status::kBadTrace);
  CHECK(r.message == "t.jsonl: line 1: header: nodes[0].link.idle_timeout_ns: must be an integer in 1..4503599627370496");
  r = replay_text(replaced(header, "\"interval_ns\":5000000000", "\"interval_ns\":4503599627370497"));
  CHECK(r.message == "t.jsonl: line 1: header: nodes[0].sync: interval_ns and session_timeout_ns must be integers in "
                     "1..4503599627370496");
  r = replay_text(replaced(header, "\"bytes_per_s\":1048576", "\"bytes_per_s\":18446744073709551615"));
  CHECK(r.message == "t.jsonl: line 1: header: nodes[0].sync.bytes_per_s: must be at most 1099511627776");
}

}  // namespace herd
