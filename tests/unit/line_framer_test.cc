// LineFramer: PROTOCOL.md's framing, fed byte chunks with no socket.
#include "net/line_framer.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace herd {
namespace {

struct Framed {
  std::vector<std::string> lines;
  bool too_long = false;
};

// Feeds each chunk, then EOF when `eof`; collects every line.
Framed frame(const std::vector<std::string>& chunks, bool eof, size_t max = 64 * 1024) {
  LineFramer framer(max);
  Framed out;
  std::string_view line;
  for (const std::string& chunk : chunks) {
    framer.feed(chunk);
    for (;;) {
      LineFramer::Status status = framer.next(&line);
      if (status == LineFramer::Status::kNeedMore) break;
      if (status == LineFramer::Status::kTooLong) {
        out.too_long = true;
        return out;
      }
      out.lines.emplace_back(line);
    }
  }
  if (eof) {
    while (true) {
      LineFramer::Status status = framer.finish(&line);
      if (status == LineFramer::Status::kTooLong) out.too_long = true;
      if (status != LineFramer::Status::kLine) break;
      out.lines.emplace_back(line);
    }
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST_CASE("framer: lines end at \\n and a \\r before it is dropped") {
  CHECK(frame({"a\nb\r\nc\n"}, false).lines == Lines{"a", "b", "c"});
  CHECK(frame({"a\r\r\n"}, false).lines == Lines{"a\r"});  // Only one CR goes.
  CHECK(frame({"\n\r\n"}, false).lines == Lines{"", ""});
  CHECK(frame({"x\ry\n"}, false).lines == Lines{"x\ry"});  // A CR inside stays.
}

TEST_CASE("framer: lines split across chunks, byte by byte") {
  std::string text = "IAMAT a +1-1 1\r\nWHATSAT a 1 1\n";
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  CHECK(frame(bytes, false).lines == Lines{"IAMAT a +1-1 1", "WHATSAT a 1 1"});
  CHECK(frame({"IAM", "AT a", "\r", "\n"}, false).lines == Lines{"IAMAT a"});
}

TEST_CASE("framer: a final unterminated line is a line at EOF, once") {
  CHECK(frame({"a\nb"}, false).lines == Lines{"a"});
  CHECK(frame({"a\nb"}, true).lines == Lines{"a", "b"});
  CHECK(frame({"a\nb\r"}, true).lines == Lines{"a", "b"});
  CHECK(frame({"a\n"}, true).lines == Lines{"a"});
  CHECK(frame({}, true).lines.empty());
}

TEST_CASE("framer: the 64 KiB cap") {
  const size_t max = 64 * 1024;
  std::string exact(max, 'x');
  CHECK(frame({exact + "\n"}, false).lines.size() == 1);
  CHECK(frame({exact + "\r\n"}, false).lines == Lines{exact});
  CHECK(frame({exact.substr(0, 100), exact.substr(100), "\r", "\n"}, false).lines == Lines{exact});
  CHECK(frame({exact + "x\n"}, false).too_long);
  CHECK(frame({exact, "xy"}, false).too_long);      // Caught before the '\n' arrives.
  CHECK(frame({exact + "x"}, true).too_long);       // And at EOF.
  Framed before = frame({"ok\n" + exact + "x\n"}, false);
  CHECK(before.lines == Lines{"ok"});                // Lines before it were delivered.
  CHECK(before.too_long);
}

TEST_CASE("framer: a line may point into the chunk or the framer's buffer") {
  LineFramer framer(100);
  std::string_view line;
  std::string first = "ab";
  framer.feed(first);
  CHECK(framer.next(&line) == LineFramer::Status::kNeedMore);
  CHECK(framer.buffered_bytes() == 2);
  std::string second = "c\nd\n";
  framer.feed(second);
  REQUIRE(framer.next(&line) == LineFramer::Status::kLine);
  CHECK(line == "abc");
  REQUIRE(framer.next(&line) == LineFramer::Status::kLine);
  CHECK(line == "d");
  CHECK(framer.next(&line) == LineFramer::Status::kNeedMore);
  CHECK(framer.buffered_bytes() == 0);
}

}  // namespace
}  // namespace herd
