// End-to-end: `herd run` (one process, the five servers of the default topology on
// ephemeral loopback ports). IAMAT replies, flooding, the newer-record rule, and line
// framing, checked byte for byte against PROTOCOL.md over real sockets.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";
constexpr int64_t kSecond = 1'000'000'000;

// The time difference of an AT line, in seconds.
double at_diff(std::string_view at_line) {
  std::vector<std::string> f;
  size_t pos = 0;
  while (f.size() < 3) {
    size_t sp = at_line.find(' ', pos);
    f.emplace_back(at_line.substr(pos, sp - pos));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return f.size() == 3 ? std::strtod(f[2].c_str(), nullptr) : 1e18;
}

TEST_CASE("e2e harness: is_at_reply accepts exactly one AT line") {
  const char* ok = "AT Riley +0.263873386 kiwi +34.1-118.2 1621464827.959498503\n";
  CHECK(is_at_reply(ok, "Riley", "kiwi", "+34.1-118.2", "1621464827.959498503", '+'));
  CHECK_FALSE(is_at_reply(ok, "Riley", "kiwi", "+34.1-118.2", "1621464827.959498503", '-'));
  CHECK_FALSE(is_at_reply(ok, "Jaquez", "kiwi", "+34.1-118.2", "1621464827.959498503"));
  CHECK(is_at_reply("AT R -12.000000000 k l t\n", "R", "k", "l", "t", '-'));
  for (const char* bad : {"AT R +0.26387338 k l t\n", "AT R 0.263873386 k l t\n",
                          "AT R +0.2638733861 k l t\n", "AT R +.263873386 k l t\n",
                          "AT R +0,263873386 k l t\n", "AT R +0.263873386 k l t",
                          "AT R +0.263873386 k l t\n\n", "AT R  +0.263873386 k l t\n"}) {
    CHECK_MESSAGE(!is_at_reply(bad, "R", "k", "l", "t"), std::string(bad));
  }
}

TEST_CASE("e2e run: IAMAT is answered with a byte-exact AT line by the server that got it") {
  HerdRun run;
  start_run(run);
  const std::string id = "kiwi.cs.ucla.edu";

  std::string t = time_string();
  std::string reply = exchange(run.port("Riley"), iamat(id, kLoc, t));
  CHECK_MESSAGE(is_at_reply(reply, "Riley", id, kLoc, t, '+'), "got: ", reply);
  CHECK(at_diff(reply) >= 0.0);
  CHECK(at_diff(reply) < 5.0);

  // A client clock 100 s ahead: the difference is negative, about -100.
  std::string future = time_string(100 * kSecond);
  reply = exchange(run.port("Riley"), iamat(id, kLoc, future));
  CHECK_MESSAGE(is_at_reply(reply, "Riley", id, kLoc, future, '-'), "got: ", reply);
  CHECK(at_diff(reply) > -100.0);
  CHECK(at_diff(reply) < -95.0);

  // Fields are copied verbatim: a time with 12 decimals, one with none, UTF-8 ids,
  // a location with other digit counts.
  std::string long_t = time_string(2 * kSecond) + "123";
  reply = exchange(run.port("Riley"), iamat("verbatim", "+34.1-118.000000001", long_t));
  CHECK_MESSAGE(is_at_reply(reply, "Riley", "verbatim", "+34.1-118.000000001", long_t, '-'),
                "got: ", reply);
  reply = exchange(run.port("Riley"), iamat("z\xc3\xbc" "rich", "-90.0-180.0", "1621464827"));
  CHECK_MESSAGE(is_at_reply(reply, "Riley", "z\xc3\xbc" "rich", "-90.0-180.0", "1621464827", '+'),
                "got: ", reply);
  reply = exchange(run.port("Riley"), iamat("edge", "+90.000000+180.000000", t));
  CHECK_MESSAGE(is_at_reply(reply, "Riley", "edge", "+90.000000+180.000000", t, '+'), "got: ", reply);

  // Every server names itself.
  for (const auto& name : default_servers()) {
    std::string tn = time_string();
    reply = exchange(run.port(name), iamat("each." + name, kLoc, tn));
    CHECK_MESSAGE(is_at_reply(reply, name, "each." + name, kLoc, tn, '+'), name, " got: ", reply);
  }
  stop_clean(run);
}

TEST_CASE("e2e run: an IAMAT at Riley reaches every server, WHATSAT shows the origin's AT line") {
  HerdRun run;
  start_run(run);
  const std::string id = "flooder";

  std::string reply = exchange(run.port("Riley"), iamat(id, kLoc, time_string()));
  REQUIRE_MESSAGE(reply.size() > 1, "no reply from Riley");
  std::string at = first_line(reply);
  for (const auto& name : default_servers()) {
    std::string last;
    bool seen = wait_for_record(run.port(name), id, at, 10'000, &last);
    CHECK_MESSAGE(seen, name, " never showed the record; last reply: ", last);
    if (!seen) continue;
    CHECK_MESSAGE(last.size() >= at.size() + 3, name, ": ", last);
    CHECK_MESSAGE(last.substr(last.size() - 2) == "\n\n", name, " reply does not end with an empty line: ", last);
    CHECK_MESSAGE(last.substr(at.size(), 2) == "\n{", name, " body is not JSON: ", last);
  }

  // The links are up now. PROTOCOL.md: a newer record is flooded to the neighbours
  // before the reply is written, so Riley's neighbours know it as soon as we read it.
  reply = exchange(run.port("Riley"), iamat(id, "+1.0-2.0", time_string()));
  std::string at2 = first_line(reply);
  REQUIRE(at2 != at);
  for (std::string neighbour : {"Jaquez", "Juzang"}) {
    std::string got = exchange(run.port(neighbour), "WHATSAT " + id + " 5 3\n");
    CHECK_MESSAGE(first_line(got) == at2, neighbour, " right after Riley's reply: ", got);
  }
  for (const auto& name : default_servers()) {
    std::string last;
    CHECK_MESSAGE(wait_for_record(run.port(name), id, at2, 10'000, &last), name, ": ", last);
  }
  stop_clean(run);
}

TEST_CASE("e2e run: an older IAMAT gets its own AT line but never replaces the newer record") {
  HerdRun run;
  start_run(run);
  const std::string id = "mover";
  std::string t_new = time_string();
  std::string at_new = first_line(exchange(run.port("Riley"), iamat(id, kLoc, t_new)));
  for (const auto& name : default_servers()) {
    std::string last;
    REQUIRE_MESSAGE(wait_for_record(run.port(name), id, at_new, 10'000, &last), name, ": ", last);
  }

  // Older by 100 s, at Bernard: answered with Bernard's AT line for what it received.
  std::string t_old = time_string(-100 * kSecond);
  std::string reply = exchange(run.port("Bernard"), iamat(id, "+10.0+20.0", t_old));
  CHECK_MESSAGE(is_at_reply(reply, "Bernard", id, "+10.0+20.0", t_old, '+'), "got: ", reply);
  CHECK(at_diff(reply) > 99.0);
  // The same client time at Bernard: ("Bernard" < "Riley") makes it older too.
  reply = exchange(run.port("Bernard"), iamat(id, "+11.0+21.0", t_new));
  CHECK_MESSAGE(is_at_reply(reply, "Bernard", id, "+11.0+21.0", t_new), "got: ", reply);

  // A sentinel from Bernard: once every server has it, anything Bernard might have
  // (wrongly) flooded before it has arrived too, since each link is one FIFO stream.
  std::string sentinel = first_line(exchange(run.port("Bernard"), iamat("sentinel", kLoc, time_string())));
  for (const auto& name : default_servers()) {
    std::string last;
    CHECK_MESSAGE(wait_for_record(run.port(name), "sentinel", sentinel, 10'000, &last), name, ": ", last);
  }
  for (const auto& name : default_servers()) {
    std::string got = exchange(run.port(name), "WHATSAT " + id + " 10 2\n");
    CHECK_MESSAGE(first_line(got) == at_new, name, " lost the newer record: ", got);
  }

  // A newer one at Jaquez replaces it everywhere.
  std::string t3 = time_string(kSecond);
  std::string at3 = first_line(exchange(run.port("Jaquez"), iamat(id, "-33.9+151.2", t3)));
  CHECK(at3.rfind("AT Jaquez ", 0) == 0);
  for (const auto& name : default_servers()) {
    std::string last;
    CHECK_MESSAGE(wait_for_record(run.port(name), id, at3, 10'000, &last), name, ": ", last);
  }
  stop_clean(run);
}

TEST_CASE("e2e run: framing — byte by byte, CRLF, half-close without a newline") {
  HerdRun run;
  start_run(run);
  int port = run.port("Juzang");

  SUBCASE("one byte per send") {
    Client c;
    REQUIRE(c.connect(port));
    std::string t = time_string();
    REQUIRE(c.send_slowly(iamat("slow", kLoc, t), 500));
    std::string reply = c.read_lines(1, 5'000);
    CHECK_MESSAGE(is_at_reply(reply, "Juzang", "slow", kLoc, t, '+'), "got: ", reply);
    REQUIRE(c.send_slowly("NOPE a  b\n", 500));
    CHECK(c.read_lines(1, 5'000) == "? NOPE a  b\n");
  }
  SUBCASE("CRLF line endings: the CR is part of the terminator") {
    Client c;
    REQUIRE(c.connect(port));
    std::string t = time_string();
    REQUIRE(c.send("IAMAT crlf " + std::string(kLoc) + " " + t + "\r\n"));
    std::string reply = c.read_lines(1, 5'000);
    CHECK_MESSAGE(is_at_reply(reply, "Juzang", "crlf", kLoc, t, '+'), "got: ", reply);
    REQUIRE(c.send("NOPE crlf\r\n"));
    CHECK(c.read_lines(1, 5'000) == "? NOPE crlf\n");
    REQUIRE(c.send("WHATSAT crlf 10 1\r\n"));
    std::string w = c.read_until([](std::string_view s) { return s.find("\n\n") != std::string_view::npos; }, 5'000);
    CHECK_MESSAGE(first_line(w) + "\n" == reply, "got: ", w);
  }
  SUBCASE("a last line with no newline is answered at EOF, then the server closes") {
    Client c;
    REQUIRE(c.connect(port));
    std::string t = time_string();
    std::string line = iamat("eof", kLoc, t);
    line.pop_back();
    REQUIRE(c.send(line));
    c.shutdown_write();
    std::string reply = c.read_all_until_eof(5'000);
    CHECK_MESSAGE(is_at_reply(reply, "Juzang", "eof", kLoc, t, '+'), "got: ", reply);
    CHECK(c.peer_closed());

    CHECK(exchange(port, "NOPE at eof") == "? NOPE at eof\n");
    CHECK(exchange(port, "") == "");
  }
  SUBCASE("white space: tabs, runs of spaces, VT, FF, leading and trailing") {
    std::string t = time_string();
    std::string reply = exchange(port, " \t IAMAT\t\tws  \v " + std::string(kLoc) + " \f" + t + " \t \n");
    CHECK_MESSAGE(is_at_reply(reply, "Juzang", "ws", kLoc, t, '+'), "got: ", reply);
    std::string w = exchange(port, "\tWHATSAT  ws\t 10 \t 1  \n");
    CHECK_MESSAGE(first_line(w) + "\n" == reply, "got: ", w);
    CHECK_MESSAGE(w.size() > 2, "got: ", w);
    if (w.size() > 2) CHECK(w.substr(w.size() - 2) == "\n\n");
    // The echo is the line as received, white space and all.
    CHECK(exchange(port, "  NOPE \t x  \n") == "?   NOPE \t x  \n");
    CHECK(exchange(port, "\tIAMAT ws " + std::string(kLoc) + "\n") ==
          "? \tIAMAT ws " + std::string(kLoc) + "\n");
  }
  stop_clean(run);
}

TEST_CASE("e2e run: pipelined commands are answered in order, a WHATSAT among IAMATs too") {
  HerdRun run;
  start_run(run);
  int port = run.port("Campbell");
  std::string t = time_string();

  std::string request;
  std::vector<std::string> expected;  // The reply for each command (WHATSAT: "").
  for (int i = 0; i < 120; ++i) {
    std::string id = "pipe" + std::to_string(i);
    if (i % 10 == 7) {
      request += "BOGUS " + id + "\n";
      expected.push_back("? BOGUS " + id + "\n");
    } else if (i % 10 == 3 && i > 3) {
      request += "WHATSAT pipe0 10 1\n";
      expected.push_back("");  // The AT line of pipe0, a body, then "\n\n".
    } else {
      request += iamat(id, kLoc, t);
      expected.push_back(id);
    }
  }
  Client c;
  REQUIRE(c.connect(port));
  REQUIRE(c.send(request));
  c.shutdown_write();
  std::string all = c.read_all_until_eof(10'000);
  CHECK(c.peer_closed());

  std::string_view rest = all;
  std::string pipe0_at;
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    if (expected[i].rfind("? ", 0) == 0) {
      REQUIRE_MESSAGE(rest.substr(0, expected[i].size()) == expected[i], "at: ", first_line(rest));
      rest.remove_prefix(expected[i].size());
    } else if (expected[i].empty()) {
      size_t end = rest.find("\n\n");
      REQUIRE_MESSAGE(end != std::string_view::npos, "no WHATSAT reply at: ", first_line(rest));
      CHECK(first_line(rest) == pipe0_at);
      rest.remove_prefix(end + 2);
    } else {
      std::string line = first_line(rest) + "\n";
      REQUIRE_MESSAGE(is_at_reply(line, "Campbell", expected[i], kLoc, t), "got: ", line);
      if (i == 0) pipe0_at = first_line(line);
      rest.remove_prefix(line.size());
    }
  }
  CHECK_MESSAGE(rest.empty(), "left over: ", rest);
  stop_clean(run);
}

}  // namespace
}  // namespace herd::e2e
