// End-to-end: `herd run` under 1000 concurrent clients, and its clean shutdown on
// SIGTERM/SIGINT with the session's events in each server's log file.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";

// A non-blocking client: connect, write its request, read one reply line.
struct LoadClient {
  int fd = -1;
  std::string server, id, request, got;
  size_t sent = 0;
  bool connected = false, done = false, failed = false;
};

bool open_nonblocking(LoadClient* c, int port) {
  c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = ::connect(c->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  return r == 0 || errno == EINPROGRESS;
}

// One step for a client poll() said is ready.
void step(LoadClient* c, short revents) {
  if (!c->connected && (revents & (POLLOUT | POLLERR | POLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      c->failed = c->done = true;
      return;
    }
    c->connected = true;
  }
  if (c->connected && c->sent < c->request.size() && (revents & POLLOUT)) {
    ssize_t n = ::send(c->fd, c->request.data() + c->sent, c->request.size() - c->sent, MSG_NOSIGNAL);
    if (n > 0) c->sent += static_cast<size_t>(n);
    if (n < 0 && errno != EAGAIN) c->failed = c->done = true;
  }
  if (c->connected && (revents & (POLLIN | POLLHUP | POLLERR))) {
    char buf[512];
    ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) c->got.append(buf, static_cast<size_t>(n));
    if (n == 0 || (n < 0 && errno != EAGAIN)) c->done = true;
    if (c->got.find('\n') != std::string::npos) c->done = true;
  }
}

TEST_CASE("e2e run: 1000 concurrent clients each get their IAMAT answered") {
  constexpr size_t kClients = 1000;
  // The herd inherits the limit: it needs a descriptor per client too.
  uint64_t nofile = raise_nofile_limit(4096);
  REQUIRE_MESSAGE(nofile >= 2 * kClients + 200, "RLIMIT_NOFILE hard limit too low: ", nofile);
  HerdRun run;
  start_run(run, {"--max-clients", "2000"});

  std::vector<LoadClient> clients(kClients);
  const std::string t = time_string();
  for (size_t i = 0; i < kClients; ++i) {
    LoadClient& c = clients[i];
    c.server = default_servers()[i % 5];
    c.id = "load" + std::to_string(i);
    c.request = iamat(c.id, kLoc, t);
    REQUIRE_MESSAGE(open_nonblocking(&c, run.port(c.server)), "client ", i);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  size_t remaining = kClients;
  std::vector<pollfd> fds;
  std::vector<size_t> index;
  while (remaining > 0 && std::chrono::steady_clock::now() < deadline) {
    fds.clear();
    index.clear();
    for (size_t i = 0; i < kClients; ++i) {
      const LoadClient& c = clients[i];
      if (c.done) continue;
      short events = POLLIN;
      if (!c.connected || c.sent < c.request.size()) events |= POLLOUT;
      fds.push_back(pollfd{c.fd, events, 0});
      index.push_back(i);
    }
    if (::poll(fds.data(), fds.size(), 100) < 0) break;
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      step(&clients[index[k]], fds[k].revents);
    }
    remaining = 0;
    for (const auto& c : clients) remaining += c.done ? 0 : 1;
  }
  size_t good = 0, failed = 0;
  std::string first_bad;
  for (const auto& c : clients) {
    if (c.failed) ++failed;
    if (is_at_reply(c.got, c.server, c.id, kLoc, t, '+')) {
      ++good;
    } else if (first_bad.empty()) {
      first_bad = c.id + " at " + c.server + ": '" + c.got + "'";
    }
  }
  for (auto& c : clients) ::close(c.fd);
  CHECK_MESSAGE(remaining == 0, remaining, " clients unanswered after 30 s");
  CHECK_MESSAGE(failed == 0, failed, " clients failed to connect or send");
  CHECK_MESSAGE(good == kClients, good, " good replies; first bad: ", first_bad);

  // The herd is still fine, and the records flooded: load999 (at Bernard) is at Riley.
  CHECK(run.herd.running());
  std::string reply = exchange(run.port("Riley"), "WHATSAT load999 10 1\n", 10'000);
  CHECK_MESSAGE(first_line(reply).rfind("AT Bernard ", 0) == 0, "got: ", reply);
  stop_clean(run);
}

bool has_event(const std::string& log, std::string_view kind, std::string_view text) {
  for (const auto& line : split_lines(log)) {
    if (line.find(kind) != std::string::npos && line.find(text) != std::string::npos) return true;
  }
  return false;
}

void check_shutdown_and_logs(int signal) {
  HerdRun run;
  start_run(run);
  const std::string t = time_string();
  const std::string id = "logged.client";
  std::string cmd = "IAMAT " + id + " " + kLoc + " " + t;
  std::string reply = exchange(run.port("Riley"), cmd + "\n");
  REQUIRE(is_at_reply(reply, "Riley", id, kLoc, t, '+'));
  std::string at = first_line(reply);
  CHECK(exchange(run.port("Jaquez"), "BOGUS for the log\n") == "? BOGUS for the log\n");
  std::string last;
  CHECK_MESSAGE(wait_for_record(run.port("Bernard"), id, at, 10'000, &last), last);

  ExitStatus st = run.herd.stop_with(signal, 5'000);
  CHECK_MESSAGE(st.clean(), "herd ", st.describe(), " after signal ", signal, "; output:\n",
                run.herd.output());

  for (const auto& name : default_servers()) {
    std::string path = run.logs.path() + "/" + name + ".log";
    CHECK_MESSAGE(::access(path.c_str(), R_OK) == 0, "missing ", path);
  }
  std::string riley = read_text_file(run.logs.path() + "/Riley.log");
  CHECK_MESSAGE(has_event(riley, " in ", cmd), "Riley.log lacks the IAMAT 'in' event:\n", riley);
  CHECK_MESSAGE(has_event(riley, " out ", at), "Riley.log lacks the AT 'out' event:\n", riley);
  std::string jaquez = read_text_file(run.logs.path() + "/Jaquez.log");
  CHECK_MESSAGE(has_event(jaquez, " in ", "BOGUS for the log"), "Jaquez.log:\n", jaquez);
  // The '?' answer is the line of the `in` event: logged by its number, not again.
  CHECK_MESSAGE(has_event(jaquez, " out ", "? <line 1>"), "Jaquez.log:\n", jaquez);
  CHECK(!has_event(jaquez, " out ", "? BOGUS for the log"));
  std::string bernard = read_text_file(run.logs.path() + "/Bernard.log");
  CHECK_MESSAGE(has_event(bernard, " in ", "WHATSAT " + id + " 10 1"), "Bernard.log:\n", bernard);
  CHECK_MESSAGE(has_event(bernard, " out ", at), "Bernard.log:\n", bernard);
}

TEST_CASE("e2e run: SIGTERM exits 0 and every server's log holds the session") {
  check_shutdown_and_logs(SIGTERM);
}

TEST_CASE("e2e run: SIGINT exits 0 too") { check_shutdown_and_logs(SIGINT); }

TEST_CASE("e2e run: a topology file that does not exist fails before ready, non-zero") {
  TempDir logs;
  HerdProcess herd;
  CHECK_FALSE(herd.start({"run", "--topology", logs.path() + "/missing.json", "--log-dir",
                          logs.path(), "--port-base", "0", "--host", "127.0.0.1"},
                         5'000));
  ExitStatus st = herd.stop();
  CHECK_MESSAGE(st.exited, st.describe());
  CHECK_MESSAGE(st.code != 0, st.describe());
}

}  // namespace
}  // namespace herd::e2e
