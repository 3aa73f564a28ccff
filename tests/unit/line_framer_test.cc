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

// Feeds each chunk, dropping every over-long line with skip_long_line; then EOF.
Framed frame_skipping(const std::vector<std::string>& chunks, size_t max, int* skipped) {
  LineFramer framer(max);
  Framed out;
  std::string_view line;
  *skipped = 0;
  for (const std::string& chunk : chunks) {
    framer.feed(chunk);
    for (;;) {
      LineFramer::Status status = framer.next(&line);
      if (status == LineFramer::Status::kNeedMore) break;
      if (status == LineFramer::Status::kTooLong) {
        ++*skipped;
        framer.skip_long_line();
        continue;
      }
      out.lines.emplace_back(line);
    }
  }
  while (framer.finish(&line) == LineFramer::Status::kLine) out.lines.emplace_back(line);
  return out;
}

TEST_CASE("framer: skip_long_line drops the long line and frames the next ones") {
  int skipped = 0;
  // The long line ends in the same chunk, in a later chunk, or spans many chunks.
  CHECK(frame_skipping({"a\n" + std::string(20, 'x') + "\nb\n"}, 8, &skipped).lines == Lines{"a", "b"});
  CHECK(skipped == 1);
  CHECK(frame_skipping({"1234567", "89", "abc", "\r\nnext\n"}, 8, &skipped).lines == Lines{"next"});
  CHECK(skipped == 1);
  CHECK(frame_skipping({std::string(9, 'y'), std::string(50, 'y'), "y\nc", "d\n"}, 8, &skipped).lines ==
        Lines{"cd"});
  CHECK(skipped == 1);
  // Two long lines, and a long one cut by EOF, whose rest is not a line.
  CHECK(frame_skipping({std::string(9, 'a') + "\n" + std::string(9, 'b') + "\nok\n" + std::string(30, 'c')}, 8,
                       &skipped)
            .lines == Lines{"ok"});
  CHECK(skipped == 3);
  // At the cap exactly, a line is a line.
  CHECK(frame_skipping({"12345678\n"}, 8, &skipped).lines == Lines{"12345678"});
  CHECK(skipped == 0);
}

TEST_CASE("framer: keep_rest copies the unconsumed chunk, so a held reader's lines survive the buffer's reuse") {
  LineFramer framer(64);
  std::string buffer = "one\ntwo\nthr";
  framer.feed(buffer);
  std::string_view line;
  REQUIRE(framer.next(&line) == LineFramer::Status::kLine);
  CHECK(line == "one");
  CHECK(framer.has_rest());
  framer.keep_rest();
  framer.keep_rest();  // Twice is once: the copy is already the framer's.
  buffer.assign(buffer.size(), '#');  // The read buffer is reused by another read.
  REQUIRE(framer.next(&line) == LineFramer::Status::kLine);
  CHECK(line == "two");
  CHECK(framer.next(&line) == LineFramer::Status::kNeedMore);
  CHECK_FALSE(framer.has_rest());
  framer.feed("ee\n");
  REQUIRE(framer.next(&line) == LineFramer::Status::kLine);
  CHECK(line == "three");
  CHECK(framer.next(&line) == LineFramer::Status::kNeedMore);
  CHECK(framer.buffered_bytes() == 0);
}

}  // namespace
}  // namespace herd
