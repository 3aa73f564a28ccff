// End-to-end: what `herd run` does with input that is not a valid command. Every
// invalid line is answered `? <line as received>`, blank lines get nothing, an
// over-long line closes only its own connection, and random bytes never hurt the herd.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";

bool ends_reply(std::string_view s) { return s.find("\n\n") != std::string_view::npos; }

// Every server still answers an IAMAT correctly.
void check_herd_answers(HerdRun& run) {
  CHECK_MESSAGE(run.herd.running(), "herd died; output:\n", run.herd.output());
  for (const auto& name : default_servers()) {
    std::string t = time_string();
    std::string reply = exchange(run.port(name), iamat("after." + name, kLoc, t));
    CHECK_MESSAGE(is_at_reply(reply, name, "after." + name, kLoc, t, '+'), name, " got: ", reply);
  }
}

TEST_CASE("e2e run: invalid commands are answered '? <line>' and the connection stays open") {
  HerdRun run;
  start_run(run);
  Client c;
  REQUIRE(c.connect(run.port("Riley")));
  const std::string t = time_string();
  REQUIRE(c.send(iamat("kiwi", kLoc, t)));
  std::string known = c.read_lines(1, 5'000);
  REQUIRE_MESSAGE(is_at_reply(known, "Riley", "kiwi", kLoc, t, '+'), "got: ", known);

  const std::string L = kLoc;
  const std::vector<std::string> invalid = {
      // Unknown commands, case, field counts.
      "HELLO kiwi", "iamat kiwi " + L + " " + t, "Whatsat kiwi 10 5", "IAMAT", "IAMAT kiwi",
      "IAMAT kiwi " + L, "IAMAT kiwi " + L + " " + t + " extra", "WHATSAT", "WHATSAT kiwi",
      "WHATSAT kiwi 10", "WHATSAT kiwi 10 5 extra",
      // Locations.
      "IAMAT kiwi +91.000000-118.445127 " + t, "IAMAT kiwi +90.000001+0.0 " + t,
      "IAMAT kiwi -90.5+10.0 " + t, "IAMAT kiwi 34.068930-118.445127 " + t,
      "IAMAT kiwi +34.068930118.445127 " + t, "IAMAT kiwi +34.068930-180.0001 " + t,
      "IAMAT kiwi +34.068930+180.000001 " + t, "IAMAT kiwi +34.068930-181 " + t,
      "IAMAT kiwi +34.068930 " + t, "IAMAT kiwi +34.0689a0-118.445127 " + t,
      "IAMAT kiwi ++34.068930-118.445127 " + t, "IAMAT kiwi +34.068930-118.445127-1.0 " + t,
      "IAMAT kiwi +34.068930-118.445127x " + t, "IAMAT kiwi " + t + " " + L,
      // Times.
      "IAMAT kiwi " + L + " abc", "IAMAT kiwi " + L + " 1e9", "IAMAT kiwi " + L + " 12.3.4",
      "IAMAT kiwi " + L + " 1621464827.95x", "IAMAT kiwi " + L + " 0x10",
      "IAMAT kiwi " + L + " 1621464827,5", "IAMAT kiwi " + L + " --1",
      // Radii: 0 < r <= 50.
      "WHATSAT kiwi 0 5", "WHATSAT kiwi 0.0 5", "WHATSAT kiwi 50.0001 5", "WHATSAT kiwi 51 5",
      "WHATSAT kiwi -1 5", "WHATSAT kiwi abc 5", "WHATSAT kiwi 10km 5",
      // Bounds: integer 1 <= b <= 20.
      "WHATSAT kiwi 10 0", "WHATSAT kiwi 10 21", "WHATSAT kiwi 10 1.5", "WHATSAT kiwi 10 abc",
      "WHATSAT kiwi 10 -1", "WHATSAT kiwi 10 100",
      // A client the server does not know; server-to-server words from a client.
      "WHATSAT nobody.example 10 5",
      "AT Riley +0.263873386 kiwi " + L + " 1621464827.959498503",
      "AT Jaquez +0.1 intruder " + L + " " + t,
  };
  for (const auto& line : invalid) {
    REQUIRE_MESSAGE(c.send(line + "\n"), line);
    std::string reply = c.read_lines(1, 5'000);
    CHECK_MESSAGE(reply == "? " + line + "\n", "sent: ", line, "\ngot: ", reply);
  }

  // Valid boundary values: the reply starts with kiwi's AT line and ends with "\n\n".
  for (std::string ok : {"WHATSAT kiwi 50 20", "WHATSAT kiwi 0.5 1", "WHATSAT kiwi 50.000 7"}) {
    REQUIRE(c.send(ok + "\n"));
    std::string reply = c.read_until(ends_reply, 5'000);
    CHECK_MESSAGE(first_line(reply) + "\n" == known, "sent: ", ok, "\ngot: ", reply);
    CHECK_MESSAGE(reply.size() >= 2, ok);
    if (reply.size() >= 2) CHECK(reply.substr(reply.size() - 2) == "\n\n");
  }
  // The AT lines a client sent were not taken as records.
  REQUIRE(c.send("WHATSAT intruder 10 5\n"));
  CHECK(c.read_lines(1, 5'000) == "? WHATSAT intruder 10 5\n");
  stop_clean(run);
}

TEST_CASE("e2e run: a FLOOD from a connection that never said PEER is not a record") {
  HerdRun run;
  start_run(run);
  std::string line = "FLOOD 1 AT Jaquez +0.100000000 sneaky " + std::string(kLoc) + " " + time_string();
  CHECK(exchange(run.port("Riley"), line + "\n") == "? " + line + "\n");
  CHECK(exchange(run.port("Riley"), "WHATSAT sneaky 10 5\n") == "? WHATSAT sneaky 10 5\n");
  stop_clean(run);
}

TEST_CASE("e2e run: blank lines get no reply") {
  HerdRun run;
  start_run(run);
  std::string t = time_string();
  std::string reply = exchange(run.port("Bernard"), "\n   \n\t\r\n\v\f \n\r\n" + iamat("blank", kLoc, t) + "  \n");
  CHECK_MESSAGE(is_at_reply(reply, "Bernard", "blank", kLoc, t, '+'), "got: ", reply);
  CHECK(exchange(run.port("Bernard"), " \t ") == "");
  stop_clean(run);
}

TEST_CASE("e2e run: a line over 64 KiB closes its own connection only") {
  HerdRun run;
  start_run(run);
  int port = run.port("Jaquez");
  Client first;
  REQUIRE(first.connect(port));
  std::string t = time_string();
  REQUIRE(first.send(iamat("first", kLoc, t)));
  REQUIRE(is_at_reply(first.read_lines(1, 5'000), "Jaquez", "first", kLoc, t, '+'));

  // Just under the limit: answered whole, verbatim.
  std::string big = "X" + std::string(64'999, 'y');
  Client under;
  REQUIRE(under.connect(port));
  REQUIRE(under.send(big + "\n"));
  std::string reply = under.read_lines(1, 10'000);
  CHECK(reply.size() == big.size() + 3);
  CHECK(reply == "? " + big + "\n");

  // Over it, with and without a newline: the server closes the connection.
  for (bool newline : {false, true}) {
    CAPTURE(newline);
    Client over;
    REQUIRE(over.connect(port));
    over.send(std::string(70 * 1024, 'z') + (newline ? "\n" : ""));  // May fail once closed.
    std::string got = over.read_all_until_eof(10'000);
    CHECK_MESSAGE(over.peer_closed(), "connection still open after a 70 KiB line");
    CHECK_MESSAGE(got.find("AT ") == std::string::npos, "got: ", got.substr(0, 200));
  }

  // The connection opened before still works, and so do new ones.
  t = time_string();
  REQUIRE(first.send(iamat("first", kLoc, t)));
  CHECK(is_at_reply(first.read_lines(1, 5'000), "Jaquez", "first", kLoc, t, '+'));
  check_herd_answers(run);
  stop_clean(run);
}

// What the herd must answer to `bytes` (every line ends with '\n'), per PROTOCOL.md:
// one '\r' before '\n' is dropped, blank lines get nothing, and random lines are
// invalid commands.
std::string expected_for_garbage(std::string_view bytes) {
  std::string out;
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) continue;
    out += "? " + std::string(line) + "\n";
  }
  return out;
}

TEST_CASE("e2e run: random bytes (NUL, 0xff, ...) are answered '?' line by line") {
  HerdRun run;
  start_run(run);
  std::mt19937 rng(131);  // Fixed: a failure replays.
  for (int conn = 0; conn < 10; ++conn) {
    CAPTURE(conn);
    std::string bytes;
    for (int i = 0; i < 6'000; ++i) {
      unsigned r = rng();
      // Extra NULs, 0xff, CRs and newlines, among uniform bytes.
      char c = (r % 23 == 0) ? '\0' : (r % 29 == 0) ? '\xff' : (r % 31 == 0) ? '\r'
             : (r % 37 == 0) ? '\n' : static_cast<char>(r >> 8);
      bytes += c;
    }
    bytes += '\n';
    const std::string& name = default_servers()[static_cast<size_t>(conn) % 5];
    std::string got = exchange(run.port(name), bytes, 10'000);
    std::string want = expected_for_garbage(bytes);
    CHECK_MESSAGE(got == want, name, ": got ", got.size(), " bytes, want ", want.size());
  }
  // No newline for 100 KiB: closed as over-long.
  std::string endless;
  for (int i = 0; i < 100 * 1024; ++i) {
    char c = static_cast<char>(rng() >> 8);
    endless += c == '\n' ? '\0' : c;
  }
  Client c;
  REQUIRE(c.connect(run.port("Riley")));
  c.send(endless);
  c.read_all_until_eof(10'000);
  CHECK(c.peer_closed());
  check_herd_answers(run);
  stop_clean(run);
}

}  // namespace
}  // namespace herd::e2e
