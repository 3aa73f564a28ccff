// Fuzz target: the line framer (net/line_framer.h) under arbitrary chunking. Input: a
// byte for the line cap (1..64, so long lines are common), a byte for how many
// chunk sizes follow (1..16), those sizes (0..63 bytes each, used in turn; 0 feeds an empty chunk), then the
// stream. Each chunk lives in its own heap block, freed as soon as the framer has
// consumed it, so a line that still pointed into it would be a use after free.
// Checks that the framer gives exactly what framing the whole stream at once gives
// (every line, each "too long" at its place, the final unterminated line at EOF),
// whatever the chunks, and that it never holds more than the cap (+1 for a '\r').
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/line_framer.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

// A line, or "too long" (a line over the cap, which the caller skips).
struct Event {
  bool too_long = false;
  std::string line;
  bool operator==(const Event&) const = default;
};

// The framing rules applied to the whole stream: split at '\n', one '\r' before
// each terminator dropped (and at the end of an unterminated last line).
std::vector<Event> expected_events(std::string_view stream, size_t cap) {
  std::vector<Event> events;
  while (!stream.empty()) {
    const size_t end = stream.find('\n');
    std::string_view line = stream.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    events.push_back(line.size() > cap ? Event{true, ""} : Event{false, std::string(line)});
    if (end == std::string_view::npos) break;
    stream.remove_prefix(end + 1);
  }
  return events;
}

std::string shown_events(const std::vector<Event>& events) {
  std::string out;
  for (const Event& e : events) out += e.too_long ? " [too long]" : " " + shown(e.line);
  return out.empty() ? " (none)" : out;
}

// Pulls lines with `call` (next or finish) until the framer wants more.
template <class Call>
void drain(LineFramer& framer, size_t cap, std::vector<Event>& got, Call call) {
  for (;;) {
    std::string_view line;
    const LineFramer::Status status = call(&line);
    FUZZ_CHECK(framer.buffered_bytes() <= cap + 1, "buffered " + std::to_string(framer.buffered_bytes()));
    if (status == LineFramer::Status::kNeedMore) return;
    if (status == LineFramer::Status::kTooLong) {
      got.push_back({true, ""});
      framer.skip_long_line();
      continue;
    }
    FUZZ_CHECK(line.size() <= cap, "a line over the cap: " + shown(line));
    FUZZ_CHECK(line.find('\n') == std::string_view::npos, "a terminator inside a line: " + shown(line));
    got.push_back({false, std::string(line)});
  }
}

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd::fuzz;
  Bytes in(data, size);
  const size_t cap = 1 + in.take() % 64;
  std::vector<size_t> sizes(1 + in.take() % 16);
  for (size_t& s : sizes) s = in.take() % 64;
  if (std::all_of(sizes.begin(), sizes.end(), [](size_t s) { return s == 0; })) sizes.push_back(1);
  const std::string_view stream = in.rest();

  herd::LineFramer framer(cap);
  std::vector<Event> got;
  size_t at = 0;
  for (size_t k = 0; at < stream.size(); ++k) {
    const size_t n = std::min(sizes[k % sizes.size()], stream.size() - at);
    auto chunk = std::make_unique<char[]>(n);  // Exactly n bytes: ASan sees any overread.
    std::copy_n(stream.data() + at, n, chunk.get());
    at += n;
    framer.feed(std::string_view(chunk.get(), n));
    drain(framer, cap, got, [&](std::string_view* line) { return framer.next(line); });
  }
  drain(framer, cap, got, [&](std::string_view* line) { return framer.finish(line); });

  const std::vector<Event> want = expected_events(stream, cap);
  FUZZ_CHECK(got == want, "cap " + std::to_string(cap) + "\n  got: " + shown_events(got) +
                              "\n  want:" + shown_events(want));
  return 0;
}
