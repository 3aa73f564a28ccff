// End-to-end: faults injected into a live `herd run` (the default topology on
// ephemeral loopback ports) through its faults file, flags and admin console:
// drops routed around, cuts, delays, partitions, crash and restart.
// Topology: Riley-Jaquez, Riley-Juzang, Bernard-Jaquez, Bernard-Juzang,
// Bernard-Campbell, Juzang-Campbell.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/e2e/faults_util.h"

namespace herd::e2e {
namespace {

const std::vector<std::string> kAll = {"Riley", "Jaquez", "Juzang", "Campbell", "Bernard"};

TEST_CASE("e2e faults: a link that drops everything is routed around by flooding") {
  HerdRun run;
  const std::string file = run.logs.path() + "/faults.json";
  {
    FILE* f = fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    fputs("{\"link_overrides\": [{\"between\": [\"Riley\", \"Jaquez\"], \"drop\": 1}]}\n", f);
    fclose(f);
  }
  start_faulty(run, {"--faults", file});
  const std::string at = iamat_now(run.port("Riley"), "around");
  REQUIRE(at.rfind("AT Riley ", 0) == 0);
  for (const std::string& name : kAll) {
    std::string last;
    CHECK_MESSAGE(wait_for_record(run.port(name), "around", at, 10'000, &last), name, ": ", last);
  }
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  // Jaquez got it through Bernard and floods it on to Riley: dropped too.
  std::vector<std::string> status;
  CHECK(wait_until([&] {
    status = admin.status();
    return counter(status, "Jaquez>Riley", "dropped") == 1;
  }, 5'000));
  CHECK_MESSAGE(counter(status, "Riley>Jaquez", "sent") == 1, link_line(status, "Riley>Jaquez"));
  CHECK(counter(status, "Riley>Jaquez", "dropped") == 1);
  CHECK(counter(status, "Riley>Jaquez", "delivered") == 0);
  CHECK(counter(status, "Riley>Juzang", "delivered") == 1);
  CHECK(link_line(status, "Riley>Jaquez").find("state=up drop=1 ") != std::string::npos);
  CHECK(link_line(status, "Riley>Juzang").find("state=up drop=0 ") != std::string::npos);
  CHECK(log_has(run.logs.path() + "/Riley.log", " fault drop Riley>Jaquez msg#1\n"));
  CHECK(log_has(run.logs.path() + "/Jaquez.log", " fault drop Jaquez>Riley msg#1\n"));
  stop_faulty(run);
}

TEST_CASE("e2e faults: cutting a server's links isolates it; healing restores the next update") {
  HerdRun run;
  start_faulty(run, {});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  CHECK(admin.ask("cut Riley Jaquez") == "ok: cut Riley>Jaquez Jaquez>Riley");
  CHECK(admin.ask("cut Riley Juzang") == "ok: cut Riley>Juzang Juzang>Riley");
  // Clients still talk to the isolated server; its update goes nowhere.
  const std::string at = iamat_now(run.port("Riley"), "island");
  REQUIRE(at.rfind("AT Riley ", 0) == 0);
  std::vector<std::string> status = admin.status();
  CHECK_MESSAGE(counter(status, "Riley>Jaquez", "cut") == 1, link_line(status, "Riley>Jaquez"));
  CHECK(counter(status, "Riley>Juzang", "cut") == 1);
  CHECK(counter(status, "Riley>Juzang", "delivered") == 0);
  CHECK(link_line(status, "Juzang>Riley").find(" state=cut ") != std::string::npos);
  // An update from the other side does not reach Riley either.
  const std::string other = iamat_now(run.port("Campbell"), "mainland");
  for (std::string name : {"Jaquez", "Juzang", "Bernard"}) {
    CHECK_MESSAGE(wait_for_record(run.port(name), "mainland", other, 10'000), name);
  }
  for (std::string name : {"Jaquez", "Juzang", "Campbell", "Bernard"}) {
    CHECK_MESSAGE(!knows(run.port(name), "island"), name, " knows Riley's record");
  }
  CHECK(!knows(run.port("Riley"), "mainland"));
  CHECK(log_has(run.logs.path() + "/Riley.log", " fault cut Riley>Jaquez Jaquez>Riley (admin "));
  CHECK(log_has(run.logs.path() + "/Riley.log", " fault cut Riley>Juzang msg#1\n"));

  CHECK(admin.ask("heal") == "ok: healed 4 directed links");
  const std::string next = iamat_now(run.port("Riley"), "island");
  REQUIRE(next != at);
  for (const std::string& name : kAll) {
    CHECK_MESSAGE(wait_for_record(run.port(name), "island", next, 10'000), name);
  }
  stop_faulty(run);
}

TEST_CASE("e2e faults: --delay holds every update back for its time, client replies not") {
  HerdRun run;
  start_faulty(run, {"--delay", "1000"});
  const auto t0 = std::chrono::steady_clock::now();
  const std::string at = iamat_now(run.port("Riley"), "slowpoke");
  REQUIRE(at.rfind("AT Riley ", 0) == 0);
  // The reply came back at once: the neighbour does not know the record yet.
  CHECK(!knows(run.port("Jaquez"), "slowpoke"));
  CHECK(!knows(run.port("Juzang"), "slowpoke"));
  std::string last;
  CHECK_MESSAGE(wait_for_record(run.port("Jaquez"), "slowpoke", at, 10'000, &last), last);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - t0);
  // A lower bound only: a held copy never leaves before its time.
  CHECK_MESSAGE(waited.count() >= 995, waited.count(), " ms");
  CHECK(log_has(run.logs.path() + "/Riley.log",
                " fault delay Riley>Jaquez msg#1 delay_ns=1000000000\n"));
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  std::vector<std::string> status = admin.status();
  CHECK(counter(status, "Riley>Jaquez", "delivered") == 1);
  CHECK(link_line(status, "Riley>Jaquez").find(" delay=1000ms ") != std::string::npos);
  stop_faulty(run);
}

TEST_CASE("e2e faults: a partition splits who learns what; heal joins it again") {
  HerdRun run;
  start_faulty(run, {});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  CHECK(admin.ask("partition Riley,Jaquez Juzang,Campbell,Bernard") ==
        "ok: partition Riley,Jaquez | Juzang,Campbell,Bernard: cut 4 directed links");
  const std::string west = iamat_now(run.port("Riley"), "west");
  const std::string east = iamat_now(run.port("Campbell"), "east");
  // Once a side has an update everywhere, every flood across the cut was tried.
  CHECK(wait_for_record(run.port("Jaquez"), "west", west, 10'000));
  for (std::string name : {"Juzang", "Bernard"}) {
    CHECK_MESSAGE(wait_for_record(run.port(name), "east", east, 10'000), name);
  }
  for (std::string name : {"Juzang", "Campbell", "Bernard"}) {
    CHECK_MESSAGE(!knows(run.port(name), "west"), name);
  }
  for (std::string name : {"Riley", "Jaquez"}) {
    CHECK_MESSAGE(!knows(run.port(name), "east"), name);
  }
  std::vector<std::string> status = admin.status();
  CHECK(counter(status, "Riley>Juzang", "cut") == 1);
  CHECK(counter(status, "Juzang>Riley", "cut") == 1);
  CHECK(counter(status, "Bernard>Jaquez", "cut") == 1);
  CHECK(counter(status, "Riley>Jaquez", "delivered") == 1);
  CHECK(log_has(run.logs.path() + "/Campbell.log",
                " fault partition Riley,Jaquez | Juzang,Campbell,Bernard: cut 4 directed"));

  CHECK(admin.ask("heal") == "ok: healed 4 directed links");
  const std::string again = iamat_now(run.port("Campbell"), "east");
  for (const std::string& name : kAll) {
    CHECK_MESSAGE(wait_for_record(run.port(name), "east", again, 10'000), name);
  }
  stop_faulty(run);
}

TEST_CASE("e2e faults: crash refuses connections and forgets; restart relays again") {
  HerdRun run;
  start_faulty(run, {});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  const int juzang = run.port("Juzang");
  const std::string memory = iamat_now(juzang, "memory");
  REQUIRE(wait_for_record(run.port("Riley"), "memory", memory, 10'000));
  Client before;
  REQUIRE(before.connect(juzang));  // A client of Juzang's: the crash closes it.

  CHECK(admin.ask("crash Juzang") == "ok: crash Juzang");
  CHECK(admin.ask("crash Juzang") == "error: Juzang is already crashed");
  Client refused;
  CHECK_FALSE(refused.connect(juzang, 2'000));
  CHECK(before.read_all_until_eof(5'000).empty());
  CHECK(before.peer_closed());
  std::vector<std::string> status = admin.status();
  CHECK(has_line_starting(status, "server Juzang records=0 state=crashed "));
  CHECK(link_line(status, "Riley>Juzang").find(" state=crashed ") != std::string::npos);

  // With Riley-Jaquez cut, whatever Riley floods must pass through Juzang.
  CHECK(admin.ask("cut Riley Jaquez") == "ok: cut Riley>Jaquez Jaquez>Riley");
  CHECK(iamat_now(run.port("Riley"), "relay").rfind("AT Riley ", 0) == 0);
  status = admin.status();
  // Riley's link to the crashed Juzang is down: the flood dies there.
  CHECK_MESSAGE(counter(status, "Riley>Juzang", "lost") == 1, link_line(status, "Riley>Juzang"));
  CHECK(link_line(status, "Riley>Juzang").find(" conn=down ") != std::string::npos);

  CHECK(admin.ask("restart Juzang") == "ok: restart Juzang");
  Client back;
  CHECK(wait_until([&] { return back.connect(juzang, 1'000); }, 5'000));
  CHECK_MESSAGE(!knows(juzang, "memory"), "Juzang kept its records through a crash");
  // The neighbours reconnect by their usual backoff (at most 2 s): retry the update.
  std::string relayed;
  CHECK(wait_until([&] {
    relayed = iamat_now(run.port("Riley"), "relay");
    return wait_for_record(run.port("Campbell"), "relay", relayed, 300);
  }, 15'000, 0));
  CHECK(wait_for_record(juzang, "relay", relayed, 5'000));
  CHECK(wait_for_record(run.port("Bernard"), "relay", relayed, 5'000));
  const std::string log = run.logs.path() + "/Juzang.log";
  CHECK(log_has(log, " fault crash Juzang (admin 127.0.0.1:"));
  CHECK(log_has(log, " fault restart Juzang (admin 127.0.0.1:"));
  CHECK(log_has(log, " peer-down Riley crash\n"));
  stop_faulty(run);
}

}  // namespace
}  // namespace herd::e2e
