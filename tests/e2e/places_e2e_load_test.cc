// End-to-end Places under concurrency through `herd run` (see places_e2e_test.cc):
// replies kept in order on one connection, many WHATSATs in flight at once, clients
// that leave before their answer.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor); only
// 127.0.0.1.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/socket.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/places_e2e_util.h"
#include "tests/e2e/places_standin.h"

namespace herd::e2e::places_e2e {
namespace {

TEST_CASE("e2e places: one connection: a slow WHATSAT, then a fast IAMAT, answered in that order") {
  PlacesStandin standin;
  standin.enqueue(StandinReply::respond(200, google_page(), /*delay_ms=*/1'500));
  standin.respond(200, google_page());
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Jaquez");

  Client c;
  REQUIRE(c.connect(run.port("Jaquez")));
  std::string t = time_string();
  REQUIRE(c.send("WHATSAT " + std::string(kId) + " 10 3\n" + iamat_line("fast", "+10-20", t)));
  REQUIRE(standin.wait_for_requests(1, 5'000));
  // Places answers 1.5 s after it was asked: nothing may come before that answer.
  CHECK(c.read_until([](std::string_view s) { return !s.empty(); }, 500).empty());
  std::string whatsat_reply = reply_of(at, folded_page(3));
  std::string got = c.read_until(
      [&](std::string_view s) {
        return s.size() > whatsat_reply.size() && s.back() == '\n';
      },
      5'000);
  REQUIRE(got.size() > whatsat_reply.size());
  CHECK(got.substr(0, whatsat_reply.size()) == whatsat_reply);
  CHECK(is_at_reply(got.substr(whatsat_reply.size()), "Jaquez", "fast", "+10-20", t));

  // The connection goes on: IAMAT, WHATSAT, IAMAT in one write, one fast Places answer.
  std::string t2 = time_string(), t3 = time_string(1);
  REQUIRE(c.send(iamat_line("a", "+1-1", t2) + "WHATSAT " + kId + " 10 1\n" +
                 iamat_line("b", "+2-2", t3)));
  c.shutdown_write();
  std::string all = c.read_all_until_eof(5'000);
  std::string first = all.substr(0, all.find('\n') + 1);
  CHECK(is_at_reply(first, "Jaquez", "a", "+1-1", t2));
  std::string middle = reply_of(at, folded_page(1));
  REQUIRE(all.size() > first.size() + middle.size());
  CHECK(all.substr(first.size(), middle.size()) == middle);
  CHECK(is_at_reply(all.substr(first.size() + middle.size()), "Jaquez", "b", "+2-2", t3));
  ExitStatus st = run.herd.stop();
  CHECK_MESSAGE(st.clean(), st.describe(), "\n", run.herd.output());
}

TEST_CASE("e2e places: 200 concurrent WHATSATs over the five servers, each gets its own answer") {
  raise_nofile_limit(4096);
  PlacesStandin standin;
  // Each radius gets its own page (its token names the radius), 300 ms late so that the
  // requests overlap; the polls of wait_known (49.999 km) are answered at once.
  standin.set_handler([](const StandinRequest& r) {
    std::string metres = r.query_param("radius");
    return StandinReply::respond(200, with_blank_lines(legacy_page(25, "r" + metres)),
                                 metres == "49999" ? 0 : 300);
  });
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  for (const auto& server : default_servers()) REQUIRE(wait_known(run, server, at, "49.999"));
  size_t baseline = standin.request_count();

  constexpr int kClients = 200;
  struct Asker {
    Client client;
    std::string server, metres;
    int bound = 0;
  };
  std::vector<std::unique_ptr<Asker>> askers;
  for (int i = 0; i < kClients; ++i) {
    auto a = std::make_unique<Asker>();
    a->server = default_servers()[i % default_servers().size()];
    int metres = 250 * (i + 1);  // 250 m .. 50 km, all distinct.
    a->metres = std::to_string(metres);
    a->bound = i % 20 + 1;
    char radius[32];
    std::snprintf(radius, sizeof radius, "%d.%03d", metres / 1000, metres % 1000);
    REQUIRE(a->client.connect(run.port(a->server)));
    REQUIRE(a->client.send("WHATSAT " + std::string(kId) + " " + radius + " " +
                           std::to_string(a->bound) + "\n"));
    a->client.shutdown_write();
    askers.push_back(std::move(a));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int exact = 0;
  for (auto& a : askers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    std::string got = a->client.read_all_until_eof(static_cast<int>(std::max<int64_t>(left, 1)));
    std::string want = reply_of(at, folded_page(a->bound, "r" + a->metres));
    if (got == want) {
      ++exact;
    } else {
      CHECK_MESSAGE(got == want, a->server, " radius ", a->metres, " m bound ", a->bound);
    }
  }
  CHECK(exact == kClients);
  std::vector<StandinRequest> reqs = standin.requests();
  REQUIRE(reqs.size() == baseline + kClients);
  std::set<std::string> radii;
  for (size_t i = baseline; i < reqs.size(); ++i) {
    CHECK(reqs[i].query_param("location") == kLocation);
    CHECK(reqs[i].query_param("key") == kKey);
    radii.insert(reqs[i].query_param("radius"));
  }
  CHECK(radii.size() == static_cast<size_t>(kClients));
  CHECK(radii.count("250") == 1);
  CHECK(radii.count("50000") == 1);
  stop_and_check_no_key(run, {}, "radius=50000");
}

TEST_CASE("e2e places: clients that leave before their answer; the herd goes on and exits clean") {
  PlacesStandin standin;
  // 3.3 km hangs (a transfer still in flight at SIGTERM); 10 km (the polls) and 22 km
  // answer at once; the rest 400 ms late.
  standin.set_handler([](const StandinRequest& r) {
    std::string metres = r.query_param("radius");
    if (metres == "3300") return StandinReply::hang();
    bool now = metres == "10000" || metres == "22000";
    return StandinReply::respond(200, google_page(), now ? 0 : 400);
  });
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  for (const auto& server : default_servers()) REQUIRE(wait_known(run, server, at, "10"));

  // Each leaver's request has reached Places before it goes; half close, half reset.
  constexpr int kLeavers = 20;
  for (int i = 0; i < kLeavers; ++i) {
    const std::string& server = default_servers()[i % default_servers().size()];
    size_t before = standin.request_count();
    Client c;
    REQUIRE(c.connect(run.port(server)));
    std::string radius = i == 0 ? "3.3" : std::to_string(i + 1);
    REQUIRE(c.send("WHATSAT " + std::string(kId) + " " + radius + " 5\n" +
                   iamat_line("leaver", "+1-1", time_string())));
    REQUIRE(standin.wait_for_requests(before + 1, 5'000));
    if (i % 2 == 1) {
      linger l{1, 0};  // close() sends RST.
      ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    c.close();
  }
  // A client that only half-closes is still owed its answer. Asked after the leavers
  // and as late, it is answered after theirs.
  std::string half = whatsat(run, "Bernard", "21", 7);
  CHECK(half == reply_of(at, folded_page(7)));
  // The leavers' answers have come (400 ms) and gone nowhere; everyone else is served.
  for (const auto& server : default_servers()) {
    CAPTURE(server);
    CHECK(whatsat(run, server, "22", 2) == reply_of(at, folded_page(2)));
    std::string t = time_string();
    CHECK(is_at_reply(exchange(run.port(server), iamat_line("after", "+5-5", t)), server, "after",
                      "+5-5", t));
  }
  CHECK(run.herd.running());
  stop_and_check_no_key(run, {half}, "radius=3300");
}

}  // namespace
}  // namespace herd::e2e::places_e2e
