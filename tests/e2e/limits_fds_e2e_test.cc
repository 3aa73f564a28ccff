// End-to-end limits on descriptors and time (issue 16): idle connections to one
// server must not take the descriptors every other server and the admin port need
// (the herd fits its client budgets under the descriptor limit), and idle client and
// admin connections are closed after --client-idle-s.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/faults_util.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"
#include "tests/e2e/places_e2e_util.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";

// The number after `prefix` in `text`, or -1.
long number_after(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  return at == std::string::npos ? -1 : std::strtol(text.c_str() + at + prefix.size(), nullptr, 10);
}

TEST_CASE("e2e limits: idle connections to one server leave descriptors for the others and the admin port") {
  raise_nofile_limit(4096);  // This process holds the idle connections.
  HerdRun run;
  run.herd.set_nofile_limit(600, 600);
  REQUIRE_MESSAGE(run.start({"--admin-port", "0"}), run.herd.error());
  // 600 descriptors cannot hold 5 x 20000 clients: the herd says how many it takes.
  const std::string out = run.herd.output();
  const long per_server = number_after(out, "herd: warning: descriptor limit 600 leaves room for ");
  REQUIRE_MESSAGE(per_server > 0, out);
  CHECK(out.find(" clients per server, not 20000: --max-clients is " + std::to_string(per_server) + " (5 servers; ") !=
        std::string::npos);

  // Fill Riley with idle connections, and some more: the extra ones are refused.
  std::vector<std::unique_ptr<Client>> idle;
  for (long i = 0; i < per_server + 20; ++i) {
    auto c = std::make_unique<Client>();
    REQUIRE(c->connect(run.port("Riley")));
    idle.push_back(std::move(c));
  }
  size_t refused = 0;
  for (auto& c : idle) {
    if (c->read_all_until_eof(c.get() == idle.back().get() ? 2'000 : 50).empty() && c->peer_closed()) ++refused;
  }
  CHECK(refused >= 20);
  // Every other server, and the admin port, still take a new connection and answer.
  for (const std::string server : {"Jaquez", "Juzang", "Campbell", "Bernard"}) {
    const std::string t = time_string();
    CHECK_MESSAGE(is_at_reply(exchange(run.port(server), iamat("x", kLoc, t)), server, "x", kLoc, t), server);
  }
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  CHECK(admin.status().size() == kDefaultStatusLines);
  idle.clear();
  stop_clean(run);
  const std::string riley = read_text_file(run.logs.path() + "/Riley.log");
  CHECK(riley.find(" too-many-clients\n") != std::string::npos);
  CHECK(riley.find("accept failed") == std::string::npos);
}

TEST_CASE("e2e limits: the descriptor soft limit is raised to the hard one, and said at start") {
  HerdRun run;
  run.herd.set_nofile_limit(700, 1200);
  REQUIRE_MESSAGE(run.start(), run.herd.error());
  CHECK(run.herd.output().find("herd: descriptor limit raised from 700 to 1200\n") != std::string::npos);
  CHECK(run.herd.output().find("herd: warning: descriptor limit 1200 leaves room for ") != std::string::npos);
  stop_clean(run);

  TempDir logs;
  run.herd.set_nofile_limit(300, 300);
  const std::vector<std::string> args = {"run", "--log-dir", logs.path(), "--port-base", "0"};
  CHECK_FALSE(run.herd.start(args, 5'000));
  CHECK(run.herd.output().find("herd: descriptor limit 300 is too low: 5 servers need ") != std::string::npos);
  CHECK(run.herd.stop().code == 1);
}

TEST_CASE("e2e limits: --client-idle-s closes an idle client, not a talking one, not one waiting for Places") {
  using namespace places_e2e;
  PlacesStandin standin;
  HerdRun run;
  start_herd(run, standin, {"--client-idle-s", "1"});
  report(run, "Riley");  // kId is known.
  standin.respond(200, google_page(), /*delay_ms=*/2'500);

  Client silent, talking, waiting;
  REQUIRE(silent.connect(run.port("Riley")));
  REQUIRE(talking.connect(run.port("Riley")));
  REQUIRE(waiting.connect(run.port("Riley")));
  REQUIRE(waiting.send("WHATSAT " + std::string(kId) + " 10 1\n"));
  for (int i = 0; i < 8; ++i) {  // 2.4 s of a line every 300 ms.
    const std::string t = time_string();
    REQUIRE(talking.send(iamat("talker", kLoc, t)));
    CHECK(is_at_reply(talking.read_lines(1, 3'000), "Riley", "talker", kLoc, t));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  CHECK(silent.read_all_until_eof(3'000).empty());
  CHECK(silent.peer_closed());
  CHECK_FALSE(talking.peer_closed());
  // Waiting 2.5 s for Places is not idle: the answer comes, then it may go idle.
  const std::string answer = waiting.read_until([](std::string_view s) { return s.ends_with("\n\n"); }, 5'000);
  CHECK(answer.starts_with("AT "));
  CHECK(answer.ends_with("\n\n"));
  CHECK(waiting.read_all_until_eof(3'000).empty());
  CHECK(waiting.peer_closed());
  stop_clean(run);
  const std::string riley = read_text_file(run.logs.path() + "/Riley.log");
  CHECK(count(riley, " idle-timeout\n") >= 2);
}

TEST_CASE("e2e limits: idle admin connections are closed, so they cannot lock the console") {
  HerdRun run;
  REQUIRE_MESSAGE(run.start({"--admin-port", "0", "--client-idle-s", "1"}), run.herd.error());
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 16; ++i) {
    idle.push_back(std::make_unique<Client>());
    REQUIRE(idle.back()->connect(run.port("admin")));
  }
  Client locked_out;
  REQUIRE(locked_out.connect(run.port("admin")));
  CHECK(locked_out.read_all_until_eof(3'000) == "error: too many admin connections (16)\n");
  for (auto& c : idle) CHECK(c->read_all_until_eof(5'000) == "error: idle for 1 s; closing\n");
  // The console is free again (once the closes the clients saw have completed here).
  bool answered = false;
  for (int i = 0; i < 50 && !answered; ++i) {
    Admin admin;
    REQUIRE(admin.open(run.port("admin")));
    answered = admin.status().size() == kDefaultStatusLines;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(answered);
  stop_clean(run);
}

}  // namespace
}  // namespace herd::e2e
