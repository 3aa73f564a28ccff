// End-to-end: the default topology as five `herd node NAME` processes, one server
// each, on consecutive loopback ports from a free range, talking over real TCP peer
// links. Floods reach everyone; with two servers SIGKILLed the rest still flood
// around them; a restarted server reconnects and gets the next update.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";

class NodeHerd {
 public:
  NodeHerd() {
    base_ = find_free_port_range(5);
    REQUIRE_MESSAGE(base_ > 0, "no 5 consecutive free ports");
    for (const auto& name : default_servers()) procs_[name] = std::make_unique<HerdProcess>();
  }
  ~NodeHerd() {  // Stop every process, even when a REQUIRE left early.
    for (auto& [name, proc] : procs_) proc->stop(3'000);
  }

  void start(const std::string& name) {
    std::vector<std::string> args = {"node", name, "--topology", default_topology(),
                                     "--log-dir", logs_.path(), "--port-base",
                                     std::to_string(base_), "--host", "127.0.0.1"};
    for (auto& a : places_unreachable_args()) args.push_back(a);
    HerdProcess& p = *procs_.at(name);
    REQUIRE_MESSAGE(p.start(args), name, ": ", p.error());
    CHECK_MESSAGE(p.ports().size() == 1, name, " hosts ", p.ports().size(), " servers");
    REQUIRE_MESSAGE(p.port(name) == port(name), name, " listens on ", p.port(name));
  }

  int port(const std::string& name) const {
    const auto& s = default_servers();
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == name) return base_ + static_cast<int>(i);
    }
    return -1;
  }

  HerdProcess& proc(const std::string& name) { return *procs_.at(name); }

 private:
  int base_ = -1;
  TempDir logs_;
  std::map<std::string, std::unique_ptr<HerdProcess>> procs_;
};

std::string iamat_at(int port, const std::string& id, const std::string& loc) {
  return first_line(exchange(port, "IAMAT " + id + " " + loc + " " + time_string() + "\n"));
}

// Sends IAMATs for `id` at `origin`, each newer than the last, until every target
// shows the newest one (links come up asynchronously, with backoff). Returns the
// AT line they all show, or "" after timeout_ms.
std::string flood_until_seen(NodeHerd& h, const std::string& origin, const std::string& id,
                             const std::vector<std::string>& targets, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string at = iamat_at(h.port(origin), id, kLoc);
    bool all = at.rfind("AT " + origin + " ", 0) == 0;
    for (const auto& t : targets) {
      all = all && wait_for_record(h.port(t), id, at, 300);
    }
    if (all) return at;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

TEST_CASE("e2e nodes: five processes flood; survive two SIGKILLs; a restarted node rejoins") {
  NodeHerd h;
  for (const auto& name : default_servers()) h.start(name);
  const std::vector<std::string> others = {"Jaquez", "Juzang", "Campbell", "Bernard"};

  // Warm-up: until every link is up, an update may miss a server.
  REQUIRE_MESSAGE(!flood_until_seen(h, "Riley", "warmup", others, 10'000).empty(),
                  "the five nodes never all saw one update");

  // An update at Riley reaches all four others, two and three hops away included.
  std::string at = iamat_at(h.port("Riley"), "roamer", kLoc);
  REQUIRE(at.rfind("AT Riley ", 0) == 0);
  for (const auto& name : others) {
    std::string last;
    CHECK_MESSAGE(wait_for_record(h.port(name), "roamer", at, 5'000, &last), name, ": ", last);
  }
  // And one at Campbell reaches Riley (Campbell -> Juzang/Bernard -> ... -> Riley).
  std::string at_c = iamat_at(h.port("Campbell"), "camper", kLoc);
  std::string last;
  CHECK_MESSAGE(wait_for_record(h.port("Riley"), "camper", at_c, 5'000, &last), last);

  // Kill Jaquez and Campbell: Riley - Juzang - Bernard is still connected.
  for (std::string victim : {"Jaquez", "Campbell"}) {
    ExitStatus st = h.proc(victim).kill_now();
    CHECK_MESSAGE((!st.exited && st.signal == SIGKILL), victim, ": ", st.describe());
  }
  std::string at2 = iamat_at(h.port("Riley"), "roamer", "+1.5-2.5");
  REQUIRE(at2.rfind("AT Riley ", 0) == 0);
  for (std::string name : {"Juzang", "Bernard"}) {
    CHECK_MESSAGE(wait_for_record(h.port(name), "roamer", at2, 5'000, &last), name, ": ", last);
  }
  CHECK(h.proc("Riley").running());
  CHECK(h.proc("Juzang").running());
  CHECK(h.proc("Bernard").running());

  // Restart Jaquez: once its links are back, it sees Riley's updates again.
  h.start("Jaquez");
  CHECK_MESSAGE(!flood_until_seen(h, "Riley", "roamer", {"Jaquez"}, 10'000).empty(),
                "restarted Jaquez never got an update from Riley");
  std::string at3 = iamat_at(h.port("Riley"), "roamer", "-3.5+4.5");
  for (std::string name : {"Jaquez", "Juzang", "Bernard"}) {
    CHECK_MESSAGE(wait_for_record(h.port(name), "roamer", at3, 5'000, &last), name, ": ", last);
  }
  // Its own updates flow out too.
  std::string at_j = iamat_at(h.port("Jaquez"), "from.jaquez", kLoc);
  REQUIRE(at_j.rfind("AT Jaquez ", 0) == 0);
  for (std::string name : {"Riley", "Juzang", "Bernard"}) {
    CHECK_MESSAGE(wait_for_record(h.port(name), "from.jaquez", at_j, 10'000, &last), name, ": ", last);
  }

  // Survivors shut down cleanly.
  for (std::string name : {"Riley", "Jaquez", "Juzang", "Bernard"}) {
    ExitStatus st = h.proc(name).stop();
    CHECK_MESSAGE(st.clean(), name, ": ", st.describe(), "\n", h.proc(name).output());
  }
}

TEST_CASE("e2e nodes: `herd node` with a name not in the topology fails before ready") {
  TempDir logs;
  HerdProcess herd;
  int base = find_free_port_range(5);
  REQUIRE(base > 0);
  CHECK_FALSE(herd.start({"node", "Nobody", "--topology", default_topology(), "--log-dir",
                          logs.path(), "--port-base", std::to_string(base), "--host",
                          "127.0.0.1"},
                         5'000));
  ExitStatus st = herd.stop();
  CHECK_MESSAGE((st.exited && st.code != 0), st.describe());
}

}  // namespace
}  // namespace herd::e2e
