// The live log's text format (net/log_writer.h): escaping and timestamps.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <unistd.h>
#include <uv.h>

#include "net/live_clock.h"
#include "net/log_writer.h"

namespace herd {
namespace {

std::string escaped(std::string_view bytes) {
  std::string out;
  append_log_escaped(bytes, &out);
  return out;
}

TEST_CASE("log: every event stays on one line") {
  CHECK(escaped("AT Riley +0.1 a +1-1 1\n") == "AT Riley +0.1 a +1-1 1\\n");
  CHECK(escaped("a\r\tb") == "a\\x0d\\x09b");
  CHECK(escaped("back\\slash") == "back\\x5cslash");
  CHECK(escaped("caf\xc3\xa9") == "caf\\xc3\\xa9");
  CHECK(escaped(std::string("\0\x7f", 2)) == "\\x00\\x7f");
  CHECK(escaped(" ~") == " ~");
}

TEST_CASE("log: UTC timestamps in microseconds") {
  CHECK(format_log_time(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(format_log_time(1'621'464'827'959'498'503) == "2021-05-19T22:53:47.959498Z");
  CHECK(format_log_time(-1'000) == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("log: escaping keeps clean runs and escapes at every position") {
  CHECK(escaped("") == "");
  CHECK(escaped("\n") == "\\n");
  CHECK(escaped("\nabc") == "\\nabc");
  CHECK(escaped("abc\n") == "abc\\n");
  CHECK(escaped("a\n\nb") == "a\\n\\nb");
  CHECK(escaped("\x01\x02") == "\\x01\\x02");
  CHECK(escaped("\xff") == "\\xff");
  // Every byte against the rule, one at a time and inside a run.
  for (int c = 0; c < 256; ++c) {
    std::string one(1, static_cast<char>(c));
    std::string want;
    if (c == '\n') {
      want = "\\n";
    } else if (c < 0x20 || c > 0x7e || c == '\\') {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      want = hex;
    } else {
      want = one;
    }
    CHECK(escaped(one) == want);
    CHECK(escaped("ab" + one + "cd") == "ab" + want + "cd");
  }
  std::string out = "kept ";
  append_log_escaped("x\ty", &out);
  CHECK(out == "kept x\\x09y");
}

// The escape rule, one byte at a time (the reference for the word-at-a-time scan).
std::string escaped_slowly(std::string_view bytes) {
  std::string out;
  for (char ch : bytes) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c > 0x7e || c == '\\') {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += ch;
    }
  }
  return out;
}

TEST_CASE("log: long lines escape like the byte-at-a-time rule, wherever the byte is") {
  // Clean runs longer than a word, with one byte of each kind at every position,
  // including the bytes just inside and outside the printable range.
  const unsigned char kinds[] = {0x00, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x5b, 0x5c, 0x5d,
                                 0x7e, 0x7f, 0x80, 0xc3, 0xfe, 0xff};
  for (unsigned char kind : kinds) {
    for (size_t at = 0; at < 40; ++at) {
      std::string line(40, 'a');
      line[at] = static_cast<char>(kind);
      CHECK(escaped(line) == escaped_slowly(line));
      line[39 - at / 2] = static_cast<char>(0xff);  // Two in one line, either order.
      CHECK(escaped(line) == escaped_slowly(line));
    }
  }
  std::string all;
  for (int round = 0; round < 3; ++round) {
    for (int c = 0; c < 256; ++c) all += static_cast<char>((c * 7 + round) & 0xff);
  }
  CHECK(escaped(all) == escaped_slowly(all));
  std::string clean = "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503";
  CHECK(escaped(clean) == clean);
}

TEST_CASE("log: microseconds and dates formatted by hand") {
  char micros[9] = {};
  format_log_micros(0, micros);
  CHECK(std::string(micros, 8) == ".000000Z");
  format_log_micros(7, micros);
  CHECK(std::string(micros, 8) == ".000007Z");
  format_log_micros(999'999, micros);
  CHECK(std::string(micros, 8) == ".999999Z");
  format_log_micros(123'456, micros);
  CHECK(std::string(micros, 8) == ".123456Z");
  char date[20];
  format_log_date(0, date);
  CHECK(std::string(date) == "1970-01-01T00:00:00");
  format_log_date(951'782'400, date);  // A leap day.
  CHECK(std::string(date) == "2000-02-29T00:00:00");
  CHECK(format_log_time(1'621'464'827'000'001'999) == "2021-05-19T22:53:47.000001Z");
}

TEST_CASE("live clock: one reading per batch, refreshed on request, fresh outside") {
  Now before = live_now();
  {
    LiveClockBatch batch;
    Now first = live_now();
    CHECK(first.wall_ns >= before.wall_ns);
    CHECK(first.mono_ns >= before.mono_ns);
    {
      LiveClockBatch inner;  // Nested: keeps the outer reading.
      CHECK(live_now().mono_ns == first.mono_ns);
    }
    CHECK(live_now().mono_ns == first.mono_ns);
    while (read_live_clock().mono_ns == first.mono_ns) {
    }
    LiveClockBatch::refresh();
    CHECK(live_now().mono_ns > first.mono_ns);
  }
  Now after = live_now();
  while (read_live_clock().mono_ns == after.mono_ns) {
  }
  CHECK(live_now().mono_ns > after.mono_ns);  // No batch: every call reads.
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("log writer: every line reaches the file, in order, through the threadpool") {
  char dir[] = "/tmp/herd-logtest.XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/x.log";
  uv_loop_t loop;
  uv_loop_init(&loop);
  constexpr int kLines = 60'000;  // Past kFlushBytes several times: writes in flight.
  {
    LogWriter log(&loop);
    REQUIRE(log.open(path).ok());
    std::string pad(40, 'p');
    for (int i = 0; i < kLines / 2; ++i) log.event("in", "c1", std::to_string(i) + " " + pad);
    uv_run(&loop, UV_RUN_NOWAIT);  // Some writes complete, some may still be in flight.
    for (int i = kLines / 2; i < kLines; ++i) {
      log.event("in", "c1", std::to_string(i) + " " + pad);
    }
    log.close();
    uv_run(&loop, UV_RUN_DEFAULT);
    log.event("stop", "x", "after close");  // Written by the destructor.
  }
  CHECK(uv_loop_close(&loop) == 0);
  std::istringstream lines(read_text(path));
  std::string line;
  int next = 0;
  bool stopped = false;
  while (std::getline(lines, line)) {
    REQUIRE(line.size() > 28);
    CHECK(line[19] == '.');
    CHECK(line[26] == 'Z');
    std::string rest = line.substr(28);
    if (rest == "stop x after close") {
      stopped = true;
      continue;
    }
    REQUIRE(rest.rfind("in c1 ", 0) == 0);
    CHECK(std::stoi(rest.substr(6)) == next);
    ++next;
  }
  CHECK(next == kLines);
  CHECK(stopped);
  unlink(path.c_str());
  rmdir(dir);
}

TEST_CASE("log writer: at kEvents message() writes nothing and event() everything; at kOff nothing at all") {
  char dir[] = "/tmp/herd-logtest.XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  uv_loop_t loop;
  uv_loop_init(&loop);
  const std::string all = std::string(dir) + "/all.log", events = std::string(dir) + "/events.log";
  for (const auto& [level, path] : {std::pair{LogLevel::kAll, all}, std::pair{LogLevel::kEvents, events}}) {
    LogWriter log(&loop, level);
    REQUIRE(log.open(path).ok());
    CHECK(log.messages() == (level == LogLevel::kAll));
    log.event("accept", "c1", "127.0.0.1:5");
    log.message("in", "c1", "IAMAT a +1+1 1");
    log.message("out", "c1", "AT A +0.1 a +1+1 1\n");
    log.event("close", "c1", "eof");
    log.close();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  {
    LogWriter log(&loop, LogLevel::kOff);  // Never opened: the host opens no file at kOff.
    CHECK_FALSE(log.messages());
    log.event("accept", "c1", "127.0.0.1:5");
    log.message("in", "c1", "IAMAT a +1+1 1");
    log.close();
  }
  CHECK(uv_loop_close(&loop) == 0);
  const auto words = [](const std::string& text) {
    std::string w;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) w += line.substr(28, line.find(' ', 28) - 28) + ",";
    return w;
  };
  CHECK(words(read_text(all)) == "accept,in,out,close,");
  CHECK(words(read_text(events)) == "accept,close,");
  unlink(all.c_str());
  unlink(events.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace herd
