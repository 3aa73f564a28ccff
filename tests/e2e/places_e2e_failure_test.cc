// End-to-end Places failures through `herd run` (see places_e2e_test.cc): HTTP errors,
// answers that are not JSON, a Places that is unreachable or hangs, a herd without a
// key; and the key is in no reply, log line or help output.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor); only
// 127.0.0.1. One test waits out the herd's 10 s Places timeout; the rest take ~1 s each.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "node/places.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/places_e2e_util.h"
#include "tests/e2e/places_standin.h"

extern char** environ;

namespace herd::e2e::places_e2e {
namespace {

TEST_CASE("e2e places: HTTP 500, not JSON, closed mid-answer, Google's REQUEST_DENIED") {
  PlacesStandin standin;
  standin.enqueue(StandinReply::respond(500, "{\"error\": \"internal\"}"));
  standin.enqueue(StandinReply::respond(200, "<html><body>Server Error</body></html>\n"));
  standin.enqueue(StandinReply::close_mid_answer());
  standin.enqueue(StandinReply::respond(200, kDenied));
  standin.enqueue(StandinReply::respond(200, "{\"results\": [1, 2,"));  // Truncated JSON.
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");
  struct Case {
    std::string what, body;
  };
  std::vector<Case> cases = {
      {"HTTP 500", error_body("Places answered HTTP 500")},
      {"not JSON", error_body("Places answered with something that is not JSON")},
      {"closed mid-answer", error_body("Places closed the connection mid-answer")},
      {"REQUEST_DENIED", kDeniedFolded},
      {"truncated JSON", error_body("Places answered with something that is not JSON")},
  };
  std::vector<std::string> replies;
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].what);
    std::string metres = std::to_string(1000 * (i + 1));
    std::string reply = whatsat(run, "Riley", std::to_string(i + 1), 5);
    replies.push_back(reply);
    CHECK(reply == reply_of(at, cases[i].body));
    REQUIRE(standin.request_count() == i + 1);
    check_legacy_request(standin.requests()[i], kLocation, metres);
  }
  CHECK(body_of(replies[0]) == places_error_body("Places answered HTTP 500"));
  PlacesResult status500;
  status500.transport_ok = true;
  status500.http_status = 500;
  CHECK(body_of(replies[0]) == places_reply_body(PlacesApi::kLegacy, status500, 5));
  CHECK(body_of(replies[3]) == places_reply_body(PlacesApi::kLegacy, ok_result(kDenied), 5));
  stop_and_check_no_key(run, replies, "radius=5000");
}

TEST_CASE("e2e places: Places unreachable (connection refused): UNKNOWN_ERROR, no key anywhere") {
  HerdRun run;
  // HerdRun's default --places-url is a closed loopback port (places_unreachable_args).
  run.herd.set_env("GOOGLE_API_KEY", std::string(kKey));
  REQUIRE_MESSAGE(run.start(), run.herd.error());
  std::string at = report(run, "Riley");
  std::string reply = whatsat(run, "Riley", "10", 5);
  CHECK(reply == reply_of(at, error_body("Places unreachable: Connection refused")));
  stop_and_check_no_key(run, {reply}, "radius=10000");
}

TEST_CASE("e2e places: a Places that hangs: the 10 s timeout answers, in order; others are served") {
  PlacesStandin standin;
  standin.set_handler([](const StandinRequest& r) {
    return r.query_param("radius") == "3000" ? StandinReply::hang()
                                             : StandinReply::respond(200, google_page());
  });
  HerdRun run;
  start_herd(run, standin);
  std::string at = report(run, "Riley");

  // The hanging WHATSAT, then an IAMAT on the same connection: its AT line must wait.
  Client slow;
  REQUIRE(slow.connect(run.port("Riley")));
  std::string t = time_string();
  REQUIRE(slow.send("WHATSAT " + std::string(kId) + " 3 5\n" + iamat_line("fig", "+1.5-2.5", t)));
  slow.shutdown_write();
  REQUIRE(standin.wait_for_requests(1, 5'000));
  auto asked = std::chrono::steady_clock::now();

  // Meanwhile another connection is answered at once.
  std::string other = whatsat(run, "Riley", "4", 2);
  CHECK(other == reply_of(at, folded_page(2)));
  CHECK(slow.read_until([](std::string_view s) { return !s.empty(); }, 200).empty());

  std::string expected = reply_of(at, error_body("Places timed out after 10 s"));
  std::string got = slow.read_all_until_eof(16'000);
  auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - asked).count();
  CAPTURE(waited_ms);
  REQUIRE(got.size() > expected.size());
  CHECK(got.substr(0, expected.size()) == expected);
  CHECK(body_of(expected) == places_error_body("Places timed out after 10 s"));
  CHECK(is_at_reply(got.substr(expected.size()), "Riley", "fig", "+1.5-2.5", t));
  check_legacy_request(standin.requests()[0], kLocation, "3000");
  stop_and_check_no_key(run, {got, other}, "radius=3000");
}

TEST_CASE("e2e places: without GOOGLE_API_KEY: one warning at start; WHATSAT answers REQUEST_DENIED") {
  PlacesStandin standin;
  standin.set_handler([](const StandinRequest& r) {
    return StandinReply::respond(200, r.query_param("key").empty() ? kDenied : google_page());
  });
  for (const std::optional<std::string>& key : {std::optional<std::string>(), std::optional<std::string>("")}) {
    CAPTURE(key.has_value());
    size_t before = standin.request_count();
    HerdRun run;
    start_herd(run, standin, {}, key);
    std::string out = run.herd.output();
    CHECK(count(out, kNoKeyWarning) == 1);
    CHECK(out.find(kNoKeyWarning) < out.find("herd: ready"));
    std::string at = report(run, "Riley");
    CHECK(whatsat(run, "Riley", "10", 5) == reply_of(at, kDeniedFolded));
    REQUIRE(wait_known(run, "Campbell", at, "2"));
    CHECK(whatsat(run, "Campbell", "2", 20) == reply_of(at, kDeniedFolded));
    std::vector<StandinRequest> reqs = standin.requests();
    REQUIRE(reqs.size() >= before + 3);
    CHECK(reqs[before].target == legacy_target(kLocation, "10000", ""));
    CHECK(reqs.back().target == legacy_target(kLocation, "2000", ""));
    ExitStatus st = run.herd.stop();
    CHECK_MESSAGE(st.clean(), st.describe(), "\n", run.herd.output());
    CHECK(count(run.herd.output(), "GOOGLE_API_KEY") == 1);  // Once, for five servers.
  }
}

// Runs `herd args...` with GOOGLE_API_KEY=kKey to its exit; its status and output.
struct Finished {
  int wstatus = -1;
  std::string output;
};

Finished run_to_exit(const std::vector<std::string>& args, int timeout_ms = 5'000) {
  Finished f;
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  std::vector<std::string> argv_store = {herd_bin()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<std::string> env_store = {std::string("GOOGLE_API_KEY=") + kKey};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("GOOGLE_API_KEY=", 0) != 0) env_store.emplace_back(*e);
  }
  std::vector<char*> argv, envp;
  for (auto& a : argv_store) argv.push_back(a.data());
  for (auto& e : env_store) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    FAIL("posix_spawn ", argv[0], " failed: ", rc);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      ::kill(pid, SIGKILL);  // Timed out: the status will say so.
      break;
    }
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    f.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  ::waitpid(pid, &f.wstatus, 0);
  return f;
}

TEST_CASE("e2e places: the key is not in any help output") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"run", "--help"}, {"run", "-h"}, {"node", "--help"},
                                             {"--help"}, {"help", "run"}, {"help"}}) {
    std::string joined;
    for (const auto& a : args) joined += " " + a;
    CAPTURE(joined);
    Finished f = run_to_exit(args);
    CHECK_MESSAGE(WIFEXITED(f.wstatus), "status ", f.wstatus);
    CHECK(f.output.find("usage: herd") != std::string::npos);
    CHECK(f.output.find(kKey) == std::string::npos);
    CHECK(f.output.find("-SECRET-key") == std::string::npos);  // No part of it either.
  }
  Finished help = run_to_exit({"run", "--help"});
  CHECK(WIFEXITED(help.wstatus));
  CHECK(WEXITSTATUS(help.wstatus) == 0);
  CHECK(help.output.find("GOOGLE_API_KEY") != std::string::npos);  // Names the variable only.
}

}  // namespace
}  // namespace herd::e2e::places_e2e
