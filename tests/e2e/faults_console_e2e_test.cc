// End-to-end: the fault console (admin port and stdin), the faults file's
// timeline and errors, and reproducibility: the same seed and the same client
// traffic give the same fault counters.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/e2e/faults_util.h"

namespace herd::e2e {
namespace {

std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path() + "/" + name;
  FILE* f = fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  fputs(text.c_str(), f);
  fclose(f);
  return path;
}

bool output_has(const HerdProcess& herd, const std::string& text, int timeout_ms = 5'000) {
  return wait_until([&] { return herd.output().find(text) != std::string::npos; }, timeout_ms);
}

TEST_CASE("e2e faults console: admin port answers, errors are one clear line, many clients") {
  HerdRun run;
  start_faulty(run, {});
  const int port = run.port("admin");
  Admin a, b;
  REQUIRE(a.open(port));
  REQUIRE(b.open(port));
  CHECK(a.ask("help").rfind("cut A B | cut A>B ", 0) == 0);
  const std::string rest = a.client().read_until(
      [](std::string_view got) { return got.ends_with("this text\n"); }, 5'000);
  CHECK(rest.find("\nstatus ") != std::string::npos);  // The rest of help.
  CHECK(b.ask("cut Riley Bob") ==
        "error: unknown server 'Bob' (servers: Riley, Jaquez, Juzang, Campbell, Bernard)");
  CHECK(b.ask("cut Riley Bernard") == "error: Riley and Bernard are not linked");
  CHECK(a.ask("frob x") ==
        "error: unknown command 'frob' (cut, heal, partition, set, blackhole, reset, crash, restart, pause, "
        "resume, status, help)");
  CHECK(b.ask("set Riley Jaquez drop=2") == "error: set: bad drop '2' (a probability in [0, 1])");
  CHECK(b.ask("crash") == "error: usage: crash X");
  // Blank lines get no answer: the next line read answers the set.
  REQUIRE(a.client().send("\n   \n"));
  CHECK(a.ask("set Riley>Jaquez drop=0.5 delay=5-50 dup=0.1") ==
        "ok: set Riley>Jaquez drop=0.5 delay=5-50ms dup=0.1");
  std::vector<std::string> status = b.status();
  REQUIRE(status.size() == kDefaultStatusLines);
  CHECK(status.front() ==
        "link Bernard>Campbell conn=up sent=0 dropped=0 duplicated=0 delivered=0 cut=0 blackholed=0 "
        "overflow=0 lost=0 queued=0 resets=0 state=up drop=0 delay=0ms dup=0");
  CHECK(link_line(status, "Riley>Jaquez").find(" drop=0.5 delay=5-50ms dup=0.1") !=
        std::string::npos);
  CHECK(status.back().starts_with("server Riley records=0 state=up sync_sessions=0 "));
  // The grading-client style: send, half-close, read everything.
  CHECK(exchange(port, "heal\n") == "ok: healed 0 directed links\n");
  // A line past the limit is answered, then closes that connection only.
  Client flood;
  REQUIRE(flood.connect(port));
  REQUIRE(flood.send(std::string(5'000, 'x') + "\n"));
  CHECK(flood.read_all_until_eof(5'000) == "error: line longer than 4096 bytes\n");
  CHECK(flood.peer_closed());
  CHECK(a.ask("heal Riley>Jaquez") == "ok: healed Riley>Jaquez");
  // Past 16 clients, one more is told so and closed.
  std::vector<Admin> many(14);
  for (Admin& c : many) {
    REQUIRE(c.open(port));
    CHECK(c.ask("heal") == "ok: healed 0 directed links");
  }
  CHECK(exchange(port, "status\n") == "error: too many admin connections (16)\n");
  many.pop_back();
  CHECK(wait_until([&] { return exchange(port, "heal\n") == "ok: healed 0 directed links\n"; },
                   5'000));
  CHECK(log_has(run.logs.path() + "/Jaquez.log",
                " fault set Riley>Jaquez drop=0.5 delay=5-50ms dup=0.1 (admin 127.0.0.1:"));
  stop_faulty(run);
}

TEST_CASE("e2e faults console: commands piped to stdin are answered on stdout; EOF is fine") {
  HerdRun run;
  run.herd.use_stdin_pipe();
  REQUIRE_MESSAGE(run.start({"--sync", "off"}), run.herd.error());
  REQUIRE(run.herd.write_stdin("cut Riley Jaquez\n\nstatus\nfrobnicate now\n"
                               "set Riley Jaquez drop=2\ncrash Juzang\n"));
  CHECK(output_has(run.herd, "\nok: cut Riley>Jaquez Jaquez>Riley\n"));
  CHECK(output_has(run.herd,
                   "\nlink Riley>Jaquez conn=up sent=0 dropped=0 duplicated=0 delivered=0 cut=0 "
                   "blackholed=0 overflow=0 lost=0 queued=0 resets=0 state=cut drop=0 delay=0ms dup=0\n"));
  CHECK(output_has(run.herd, "\nserver Riley records=0 state=up sync_sessions=0 "));
  CHECK(output_has(run.herd, "\nerror: unknown command 'frobnicate' (cut, heal, partition, "
                             "set, blackhole, reset, crash, restart, pause, resume, status, help)\n"));
  CHECK(output_has(run.herd, "\nerror: set: bad drop '2' (a probability in [0, 1])\n"));
  CHECK(output_has(run.herd, "\nok: crash Juzang\n"));
  // The last line has no newline; EOF delivers it, then stdin is let go.
  REQUIRE(run.herd.write_stdin("restart Juzang"));
  run.herd.close_stdin();
  CHECK(output_has(run.herd, "\nok: restart Juzang\n"));
  const std::string at = iamat_now(run.port("Riley"), "after-eof");
  CHECK(at.rfind("AT Riley ", 0) == 0);
  CHECK(wait_for_record(run.port("Juzang"), "after-eof", at, 10'000));
  CHECK(log_has(run.logs.path() + "/Jaquez.log", " fault cut Riley>Jaquez Jaquez>Riley (stdin)"));
  CHECK(log_has(run.logs.path() + "/Juzang.log", " fault restart Juzang (stdin)"));
  stop_faulty(run);
}

TEST_CASE("e2e faults: the timeline runs from ready: cut at 0, crash, then restart") {
  HerdRun run;
  const std::string file = write_file(run.logs, "timeline.json",
                                      "{\"timeline\": [\n"
                                      "  {\"at_ms\": 3000, \"restart\": \"Campbell\"},\n"
                                      "  {\"at_ms\": 0, \"cut\": [\"Riley\", \"Jaquez\"]},\n"
                                      "  {\"at_ms\": 200, \"crash\": \"Campbell\"}]}\n");
  start_faulty(run, {"--faults", file});
  CHECK(output_has(run.herd, "herd: timeline at_ms=0: ok: cut Riley>Jaquez Jaquez>Riley\n"));
  REQUIRE(output_has(run.herd, "herd: timeline at_ms=200: ok: crash Campbell\n"));
  const std::string restarted = "herd: timeline at_ms=3000: ok: restart Campbell\n";
  Client c;
  const bool connected = c.connect(run.port("Campbell"), 1'000);
  // Refused, unless the restart (2.8 s later) came first on a very slow machine.
  CHECK((!connected || run.herd.output().find(restarted) != std::string::npos));
  CHECK(output_has(run.herd, restarted, 10'000));
  CHECK(wait_until([&] { return c.connect(run.port("Campbell"), 1'000); }, 5'000));
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  std::vector<std::string> status = admin.status();
  CHECK(link_line(status, "Riley>Jaquez").find(" state=cut ") != std::string::npos);
  CHECK(link_line(status, "Juzang>Campbell").find(" state=up ") != std::string::npos);
  CHECK(log_has(run.logs.path() + "/Campbell.log", " fault crash Campbell (timeline at_ms=200)"));
  stop_faulty(run);
}

// A listening socket on 127.0.0.1:port, or -1.
int listen_on(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
                  ::listen(fd, 1) != 0)) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

TEST_CASE("e2e faults: a restart whose port was taken meanwhile fails and stays crashed") {
  HerdRun run;
  start_faulty(run, {});
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  CHECK(admin.ask("crash Bernard") == "ok: crash Bernard");
  const int squatter = listen_on(run.port("Bernard"));
  REQUIRE(squatter >= 0);
  CHECK(admin.ask("restart Bernard") ==
        "error: Bernard: cannot listen on 127.0.0.1:" + std::to_string(run.port("Bernard")) +
            ": address already in use (still crashed)");
  std::vector<std::string> status = admin.status();
  CHECK(status.back().starts_with("server Riley records=0 state=up "));
  CHECK(has_line_starting(status, "server Bernard records=0 state=crashed "));
  ::close(squatter);
  CHECK(admin.ask("restart Bernard") == "ok: restart Bernard");
  CHECK(log_has(run.logs.path() + "/Bernard.log", " fault restart-failed Bernard: cannot listen"));
  CHECK(wait_until([&] {
    return wait_for_record(run.port("Bernard"), "back", iamat_now(run.port("Campbell"), "back"),
                           300);
  }, 15'000, 0));
  stop_faulty(run);
}

TEST_CASE("e2e faults: a bad faults file or flag is a clear error, exit 2") {
  TempDir dir;
  const std::string bad = write_file(dir, "bad.json",
                                     "{\"links\": {\"drop\": 0.1},\n"
                                     " \"timeline\": [{\"at_ms\": 5, \"crash\": \"Bob\"}]}\n");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"run", "--faults", bad},
       "herd: " + bad +
           ": line 2: timeline[0].crash: unknown server 'Bob' (servers: Riley, Jaquez, Juzang, "
           "Campbell, Bernard)"},
      {{"run", "--drop", "1.5"}, "herd: --drop: bad drop '1.5' (a probability in [0, 1])"},
      {{"run", "--delay", "9-3"}, "herd: --delay: bad delay '9-3'"},
      {{"node", "Riley", "--seed", "3"}, "valid only for herd run"},
  };
  for (const Case& c : cases) {
    HerdProcess herd;
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--topology", default_topology(), "--log-dir", dir.path()});
    CHECK_FALSE(herd.start(args, 5'000));
    ExitStatus st = herd.stop();
    CHECK_MESSAGE(st.exited, st.describe());
    CHECK_MESSAGE(st.code == 2, st.describe());
    CHECK_MESSAGE(herd.output().find(c.message) != std::string::npos, herd.output());
  }
}

// The status after each IAMAT's flood has settled (two equal readings in a row).
std::vector<std::string> settle(Admin& admin, size_t lines) {
  std::vector<std::string> last, now;
  CHECK(wait_until([&] {
    now = admin.status(lines);
    bool settled = now == last && now.size() == lines;
    for (const std::string& line : now) {
      if (line.rfind("link ", 0) != 0) continue;
      settled = settled && field(line, "sent") == field(line, "dropped") + field(line, "delivered");
    }
    last = now;
    return settled;
  }, 10'000, 100));
  return now;
}

// The same IAMATs, one at a time, to a line of five servers (a tree, so which
// messages each link carries does not depend on which copy of a flood wins a race).
std::vector<std::string> drive(const std::string& seed) {
  HerdRun run;
  start_faulty(run, {"--topology", herd_root() + "/topologies/line5.json", "--drop", "0.3",
                     "--seed", seed});
  CHECK(run.herd.output().find("herd: seed " + seed + " (links drop=0.3 delay=0ms dup=0;") !=
        std::string::npos);
  Admin admin;
  REQUIRE(admin.open(run.port("admin")));
  const size_t lines = 8 + 5;
  std::vector<std::string> status;
  for (int i = 0; i < 15; ++i) {
    iamat_now(run.port("n" + std::to_string(i % 5)), "c" + std::to_string(i % 4));
    status = settle(admin, lines);
  }
  stop_faulty(run);
  return status;
}

TEST_CASE("e2e faults: the same seed and traffic give the same counters, run after run") {
  const std::vector<std::string> first = drive("7");
  const std::vector<std::string> second = drive("7");
  const std::vector<std::string> other = drive("8");
  CHECK(first == second);
  CHECK(first != other);
  int64_t dropped = 0;
  for (const std::string& line : first) {
    if (line.rfind("link ", 0) == 0) dropped += field(line, "dropped");
  }
  CHECK(dropped > 0);
  for (size_t i = 0; i < first.size() && i < second.size(); ++i) {
    CHECK_MESSAGE(first[i] == second[i], i);
  }
}

}  // namespace
}  // namespace herd::e2e
