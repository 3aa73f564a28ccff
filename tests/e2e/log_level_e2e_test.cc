// End-to-end `--log LEVEL` (issue 14): each level writes exactly the classes of lines
// it promises (net/log_writer.h), `off` writes no file at all, a bad level is a
// usage error, and `herd report` refuses logs written at `events` (they lack the
// per-message lines it counts) while reading `all` logs as before.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor).
#include <doctest/doctest.h>

#include <dirent.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";
constexpr const char* kId = "kiwi.cs.ucla.edu";

// The event word of each line ("2026-11-22T03:52:22.123456Z <word> ...").
std::set<std::string> words_of(const std::string& log) {
  std::set<std::string> words;
  for (const std::string& line : split_lines(log)) {
    const size_t a = line.find(' ');
    const size_t b = line.find(' ', a + 1);
    if (a != std::string::npos) words.insert(line.substr(a + 1, b == std::string::npos ? b : b - a - 1));
  }
  return words;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(d);
  }
  return names;
}

// An IAMAT at Riley, a WHATSAT for it (Places is unreachable: an UNKNOWN_ERROR body),
// and one line that is no command; then the client closes, and the herd stops.
void exercise(HerdRun& run) {
  Client c;
  REQUIRE(c.connect(run.port("Riley")));
  const std::string t = time_string();
  REQUIRE(c.send(iamat(kId, kLoc, t)));
  const std::string at = c.read_until([](std::string_view b) { return b.find('\n') != std::string_view::npos; }, 5'000);
  CHECK(is_at_reply(at, "Riley", kId, kLoc, t));
  REQUIRE(c.send(std::string("WHATSAT ") + kId + " 10 5\nFROB\n"));
  const std::string rest = c.read_until([](std::string_view b) { return b.find("\n\n") != std::string_view::npos &&
                                                                        b.ends_with("? FROB\n"); },
                                        15'000);
  CHECK(rest.starts_with(at.substr(0, at.size() - 1) + "\n"));
  CHECK(rest.ends_with("\n\n? FROB\n"));
  c.close();
  // The flood reached the far end of the herd before it stops (Bernard logs its recv).
  Client far;
  REQUIRE(far.connect(run.port("Bernard")));
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {
    REQUIRE(far.send(std::string("WHATSAT ") + kId + " 10 1\n"));
    const std::string reply = far.read_until(
        [](std::string_view b) { return b.ends_with("\n\n") || (b.starts_with("?") && b.ends_with("\n")); }, 15'000);
    seen = reply.starts_with("AT Riley ");
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(seen);
  far.close();
  stop_clean(run);
}

const std::set<std::string> kPerMessage = {"in", "out", "send", "recv"};

TEST_CASE("e2e log levels: all writes every line (the default), events leaves out in/out/send/recv, off writes no file") {
  HerdRun all;
  start_run(all);
  exercise(all);
  const std::string riley = read_text_file(all.logs.path() + "/Riley.log");
  const std::set<std::string> words = words_of(riley);
  for (const char* w : {"start", "listen", "accept", "peer-up", "in", "out", "send", "recv", "places-request",
                        "places-result", "close", "stop", "fault"}) {
    CHECK_MESSAGE(words.count(w) == 1, w);
  }
  CHECK(words.count("log") == 0);  // The default says nothing of its level: the format of old.
  CHECK(riley.find(" in c") != std::string::npos);
  CHECK(riley.find(std::string(" out c")) != std::string::npos);
  CHECK(read_text_file(all.logs.path() + "/Bernard.log").find(" recv ") != std::string::npos);

  HerdRun events;
  start_run(events, {"--log", "events"});
  exercise(events);
  for (const std::string& name : default_servers()) {
    const std::string log = read_text_file(events.logs.path() + "/" + name + ".log");
    const std::set<std::string> seen = words_of(log);
    for (const std::string& w : kPerMessage) CHECK_MESSAGE(seen.count(w) == 0, name, ": ", w);
    for (const char* w : {"start", "log", "listen", "peer-up", "stop", "fault"}) {
      CHECK_MESSAGE(seen.count(w) == 1, name, ": ", w);
    }
    const std::vector<std::string> lines = split_lines(log);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[1].substr(27) == " log " + name + " events (no in, out, send or recv lines)");
  }
  const std::set<std::string> seen = words_of(read_text_file(events.logs.path() + "/Riley.log"));
  for (const char* w : {"accept", "places-request", "places-result", "close"}) CHECK_MESSAGE(seen.count(w) == 1, w);
  // Nothing but the promised classes.
  const std::set<std::string> allowed = {"start", "log", "listen", "accept", "reject", "close", "peer-up", "peer-down",
                                         "drop", "places-request", "places-result", "note", "fault", "stop"};
  for (const std::string& w : seen) CHECK_MESSAGE(allowed.count(w) == 1, w);

  HerdRun off;
  start_run(off, {"--log", "off", "--log-dir", off.logs.path() + "/never"});
  exercise(off);
  CHECK(files_in(off.logs.path()).empty());  // Not even the directory.
}

TEST_CASE("e2e log levels: herd report reads `all` logs and refuses `events` logs, saying what they lack") {
  HerdRun all;
  start_run(all);
  exercise(all);
  TempDir out;
  const BatchRun ok = run_herd({"report", all.logs.path(), "--html", out.path() + "/all.html"});
  CHECK_MESSAGE(ok.status.clean(), ok.err);

  HerdRun events;
  start_run(events, {"--log", "events"});
  exercise(events);
  const BatchRun refused = run_herd({"report", events.logs.path(), "--html", out.path() + "/events.html"});
  CHECK(refused.status.exited);
  CHECK(refused.status.code == 2);
  CHECK(refused.err == "herd: " + events.logs.path() + "/Bernard.log: written with --log events: it has no in, out, "
                       "send or recv lines, and herd report counts every message, store and update from them; run "
                       "the herd with --log all (the default)\n");
}

TEST_CASE("e2e log levels: a bad level is a usage error, exit 2") {
  for (const char* cmd : {"run", "node"}) {
    std::vector<std::string> args = {cmd};
    if (std::string(cmd) == "node") args.push_back("Riley");
    args.insert(args.end(), {"--log", "verbose"});
    const BatchRun r = run_herd(args);
    CHECK(r.status.exited);
    CHECK(r.status.code == 2);
    CHECK(r.err == std::string("herd: --log: expected all, events or off, got \"verbose\" (see herd ") + cmd +
                       " --help)\n");
    CHECK(r.out == "");
  }
}

}  // namespace
}  // namespace herd::e2e
