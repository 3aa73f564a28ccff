// End-to-end: the console's `status` counters add up (node/fault_state.h) on every
// link line, at any moment, through drops, duplicates, delays, a cut, a reset and a
// crash; and conn=up|down says whether the link has a connection up at the sender.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/e2e/faults_util.h"
#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

// Whether `line` (a link line) satisfies sent + duplicated = dropped + delivered +
// cut + blackholed + overflow + lost + queued, every counter present.
bool adds_up(const std::string& line) {
  int64_t in = 0, out = 0;
  for (const char* key : {"sent", "duplicated"}) {
    if (field(line, key) < 0) return false;
    in += field(line, key);
  }
  for (const char* key : {"dropped", "delivered", "cut", "blackholed", "overflow", "lost", "queued"}) {
    if (field(line, key) < 0) return false;
    out += field(line, key);
  }
  return in == out;
}

std::string conn_of(const std::string& line) {
  const size_t at = line.find(" conn=");
  return at == std::string::npos ? "" : line.substr(at + 6, line.find(' ', at + 6) - at - 6);
}

// Checks every link line of one `status`; the links' conn= values, by label.
std::map<std::string, std::string> check_status(Admin& admin, const std::string& when) {
  std::map<std::string, std::string> conns;
  const std::vector<std::string> status = admin.status();
  REQUIRE_MESSAGE(status.size() == kDefaultStatusLines, when);
  for (const std::string& line : status) {
    if (!line.starts_with("link ")) continue;
    CHECK_MESSAGE(adds_up(line), when, ": ", line);
    const std::string conn = conn_of(line);
    CHECK_MESSAGE((conn == "up" || conn == "down"), line);
    conns[line.substr(5, line.find(' ', 5) - 5)] = conn;
  }
  return conns;
}

// Sends `n` IAMATs spread over the servers, without waiting for their floods.
void traffic(HerdRun& run, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    const std::string& server = default_servers()[static_cast<size_t>(i) % default_servers().size()];
    iamat_now(run.port(server), tag + std::to_string(i % 7));
  }
}

bool all_up(Admin& admin) {
  for (const auto& [label, conn] : check_status(admin, "waiting for every link")) {
    if (conn != "up") return false;
  }
  return true;
}

TEST_CASE("e2e faults: status counters add up on every link through drops, duplicates, delays, cut, reset") {
  HerdRun run;
  start_faulty(run, {"--seed", "11", "--drop", "0.2", "--dup", "0.3", "--delay", "0-40"});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  CHECK(all_up(admin));
  for (int round = 0; round < 5; ++round) {
    traffic(run, 10, "a");
    check_status(admin, "with copies held by delays");
  }
  CHECK(admin.ask("cut Riley Jaquez").rfind("ok: ", 0) == 0);
  traffic(run, 20, "b");
  check_status(admin, "after a cut");
  CHECK(admin.ask("reset Riley Juzang").rfind("ok: ", 0) == 0);
  traffic(run, 20, "c");
  check_status(admin, "right after a reset");
  CHECK(admin.ask("heal").rfind("ok: ", 0) == 0);
  traffic(run, 20, "d");
  CHECK(wait_until([&] { return all_up(admin); }, 15'000, 100));
  const std::vector<std::string> status = admin.status();
  CHECK(counter(status, "Riley>Juzang", "resets") == 1);
  CHECK(counter(status, "Juzang>Riley", "resets") == 1);
  CHECK(counter(status, "Riley>Jaquez", "cut") > 0);
  int64_t dropped = 0, duplicated = 0;
  for (const std::string& line : status) {
    if (line.starts_with("link ")) dropped += field(line, "dropped"), duplicated += field(line, "duplicated");
  }
  CHECK(dropped > 0);
  CHECK(duplicated > 0);
  // Once the held copies are out, nothing is queued and the identity still holds.
  CHECK(wait_until(
      [&] {
        int64_t queued = 0;
        for (const std::string& line : admin.status()) {
          if (line.starts_with("link ")) queued += field(line, "queued");
        }
        return queued == 0;
      },
      5'000, 50));
  check_status(admin, "at rest");
  stop_faulty(run);
}

TEST_CASE("e2e faults: conn= is honest: down from and to a crashed server, up again after its restart") {
  HerdRun run;
  start_faulty(run, {"--seed", "3", "--dup", "0.5", "--delay", "0-20"});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  REQUIRE(wait_until([&] { return all_up(admin); }, 10'000, 50));
  traffic(run, 20, "e");
  CHECK(admin.ask("crash Campbell") == "ok: crash Campbell");
  std::map<std::string, std::string> conns = check_status(admin, "right after a crash");
  for (const char* label : {"Campbell>Bernard", "Campbell>Juzang"}) CHECK_MESSAGE(conns[label] == "down", label);
  traffic(run, 20, "f");
  // Its neighbours see the connection close: their links to it go down too.
  CHECK(wait_until(
      [&] {
        conns = check_status(admin, "after a crash");
        return conns["Bernard>Campbell"] == "down" && conns["Juzang>Campbell"] == "down";
      },
      5'000, 50));
  // What Bernard floods to Campbell now is lost at Bernard's link (down), honestly.
  CHECK(counter(admin.status(), "Bernard>Campbell", "lost") > 0);
  // Restarted at once, while copies are still held: they are lost (their connection
  // is gone), a hello to the new connection may be held behind them.
  CHECK(admin.ask("restart Campbell") == "ok: restart Campbell");
  check_status(admin, "right after a restart");
  CHECK(wait_until([&] { return all_up(admin); }, 15'000, 100));
  traffic(run, 20, "g");
  check_status(admin, "after a restart");
  stop_faulty(run);
}

TEST_CASE("e2e faults: conn= is honest for a paused server whose connection is reset") {
  HerdRun run;
  start_faulty(run, {"--seed", "5", "--delay", "0-10"});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  REQUIRE(wait_until([&] { return all_up(admin); }, 10'000, 50));
  CHECK(admin.ask("pause Juzang") == "ok: pause Juzang");
  CHECK(admin.ask("reset Juzang Riley") == "ok: reset Juzang Riley");
  // Juzang, paused, has not taken in its own close yet (the input waits for the
  // resume); its link has no connection all the same, and Riley sees the reset.
  CHECK(wait_until(
      [&] {
        const std::map<std::string, std::string> conns = check_status(admin, "paused, reset");
        return conns.at("Juzang>Riley") == "down" && conns.at("Riley>Juzang") == "down";
      },
      5'000, 50));
  traffic(run, 10, "h");
  check_status(admin, "paused, traffic");
  CHECK(admin.ask("resume Juzang") == "ok: resume Juzang");
  CHECK(wait_until([&] { return all_up(admin); }, 15'000, 100));
  check_status(admin, "resumed");
  stop_faulty(run);
}

}  // namespace
}  // namespace herd::e2e
