// The live log's text format (net/log_writer.h): escaping and timestamps.
#include <doctest/doctest.h>

#include <string>

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

}  // namespace
}  // namespace herd
