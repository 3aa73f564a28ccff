// Fuzz target: traces fed to replay (sim/replay.h), as `herd replay` reads a file.
// Input: the trace's bytes. Checks that a replay matches, diverges, is cut short or
// reports a bad trace, always with a message naming the trace (none for a match).
//
// A mutated trace diverges at its first input (its output hashes no longer match), so
// replay alone stops early; but whoever writes a trace can compute the hashes, so any
// sequence of inputs a trace can express reaches the nodes. The target therefore also
// feeds every input line that parses to fresh nodes, ignoring the hashes, checks
// what the nodes do with it, and checks that the trace format round-trips: a header
// or input written back reads back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "node/driver.h"
#include "node/trace_format.h"
#include "sim/replay.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

constexpr std::string_view kSource = "fuzz.trace";

void check_replay(const ReplayResult& r) {
  using Status = ReplayResult::Status;
  const std::string prefix = std::string(kSource) + ": ";
  switch (r.status) {
    case Status::kMatch:
      FUZZ_CHECK(r.ended && r.message.empty(), "a match without its end line, or with a message");
      return;
    case Status::kCutShort:
      FUZZ_CHECK(!r.ended, "cut short, yet ended");
      break;
    case Status::kDiverged:
    case Status::kBadTrace:
      break;
  }
  FUZZ_CHECK(r.message.starts_with(prefix), "a message without the trace's name: " + shown(r.message));
}

// The trace's lines as replay reads them: split at '\n' only.
std::vector<std::string_view> trace_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

void check_effects(const Effects& out) {
  for (const Effect& e : out) {
    if (e.kind == EffectKind::kReply) {
      FUZZ_CHECK(!e.bytes.empty() && e.bytes.back() == '\n', "a reply without its newline: " + shown(e.bytes));
    }
    if (e.kind == EffectKind::kSend) {
      FUZZ_CHECK(!e.bytes.empty() && e.bytes.find('\n') == std::string::npos,
                 "a peer message that is not one line: " + shown(e.bytes));
    }
  }
}

// Written back, the header reads back as the same header.
void check_header_round_trip(const TraceHeader& header) {
  const std::string line = trace_header_line(header);
  Result<TraceHeader> again = parse_trace_header(line);
  FUZZ_CHECK(again.ok(), "a header written back does not read: " + (again.ok() ? "" : again.error()));
  FUZZ_CHECK(trace_header_line(again.value()) == line, "a header written back reads as another");
}

// Written back, the input reads back as the same input.
void check_input_round_trip(const TraceRecord& r, const Effects& out, const TraceHeader& header) {
  const std::string line = trace_input_line(r.index, r.node, r.input, out, header.nodes);
  TraceRecord again;
  TraceEnd end;
  Result<TraceLineKind> kind = parse_trace_line(line, header, &again, &end);
  FUZZ_CHECK(kind.ok() && kind.value() == TraceLineKind::kInput,
             "an input written back does not read: " + shown(line));
  FUZZ_CHECK(trace_input_line(again.index, again.node, again.input, out, header.nodes) == line,
             "an input written back reads as another: " + shown(line));
}

// Every input that parses, fed to fresh nodes whatever the hashes say.
void feed_inputs(const std::vector<std::string_view>& lines) {
  if (lines.empty()) return;
  Result<TraceHeader> header = parse_trace_header(lines[0]);
  if (!header.ok()) return;
  check_header_round_trip(header.value());
  std::vector<std::unique_ptr<NodeDriver>> drivers;
  for (size_t i = 0; i < header.value().nodes.size(); ++i) {
    drivers.push_back(std::make_unique<NodeDriver>(header.value().nodes[i], static_cast<int>(i)));
  }
  TraceRecord record;
  TraceEnd end;
  for (size_t i = 1; i < lines.size(); ++i) {
    Result<TraceLineKind> kind = parse_trace_line(lines[i], header.value(), &record, &end);
    if (!kind.ok() || kind.value() != TraceLineKind::kInput) continue;
    NodeDriver::Step step = drivers[static_cast<size_t>(record.node)]->step(record.input);
    check_effects(step.effects());
    check_input_round_trip(record, step.effects(), header.value());
  }
}

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd;
  using namespace herd::fuzz;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  check_replay(replay_trace(in, kSource));
  feed_inputs(trace_lines(text));
  return 0;
}
