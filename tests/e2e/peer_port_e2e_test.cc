// End-to-end: the course grading scripts stop a server with `lsof -ti:PORT | xargs
// kill`, which kills every process holding a socket on PORT, local or remote end. With
// --peer-port-offset, peers listen and dial on a port of their own, so a server's
// client port is held by its own process alone and the script kills only that server.
// Five `herd node` processes; the sockets are found the way lsof finds them (every
// TCP socket in /proc/net/tcp{,6} with that port at either end, then the processes
// whose descriptors point at those sockets).
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";
constexpr int kPeerOffset = 100;

// The socket inodes with `port` as their local or remote port.
std::set<std::string> socket_inodes(int port) {
  std::set<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // The column titles.
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      auto port_of = [](const std::string& address) {
        return static_cast<int>(std::strtol(address.substr(address.rfind(':') + 1).c_str(), nullptr, 16));
      };
      if (inode != "0" && (port_of(local) == port || port_of(remote) == port)) out.insert(inode);
    }
  }
  return out;
}

// What `lsof -ti:PORT` prints: every process holding one of those sockets.
std::set<pid_t> pids_on_port(int port) {
  const std::set<std::string> inodes = socket_inodes(port);
  std::set<pid_t> out;
  DIR* proc = opendir("/proc");
  REQUIRE(proc != nullptr);
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (pid <= 0) continue;
    const std::string fd_dir = "/proc/" + std::string(entry->d_name) + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fd = readdir(fds)) {
      char target[256];
      const ssize_t n = readlink((fd_dir + "/" + fd->d_name).c_str(), target, sizeof target - 1);
      if (n <= 8) continue;
      const std::string link(target, static_cast<size_t>(n));
      if (link.rfind("socket:[", 0) == 0 && inodes.count(link.substr(8, link.size() - 9)) > 0) {
        out.insert(pid);
      }
    }
    closedir(fds);
  }
  closedir(proc);
  return out;
}

class NodeHerd {
 public:
  explicit NodeHerd(bool peer_ports) : peer_ports_(peer_ports) {
    base_ = find_free_port_range(kPeerOffset + 5);
    REQUIRE_MESSAGE(base_ > 0, "no free port range");
    for (const auto& name : default_servers()) {
      procs_[name] = std::make_unique<HerdProcess>();
      std::vector<std::string> args = {"node", name, "--topology", default_topology(), "--log-dir",
                                       logs_.path(), "--port-base", std::to_string(base_), "--host",
                                       "127.0.0.1"};
      if (peer_ports_) {
        args.push_back("--peer-port-offset");
        args.push_back(std::to_string(kPeerOffset));
      }
      for (auto& a : places_unreachable_args()) args.push_back(a);
      REQUIRE_MESSAGE(procs_[name]->start(args), name, ": ", procs_[name]->error());
    }
  }
  ~NodeHerd() {
    for (auto& [name, proc] : procs_) proc->stop(3'000);
  }
  int port(const std::string& name) const {
    const auto& s = default_servers();
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == name) return base_ + static_cast<int>(i);
    }
    return -1;
  }
  HerdProcess& proc(const std::string& name) { return *procs_.at(name); }

  // IAMATs at `origin`, newer each time, until every server in `targets` serves it.
  bool flood_reaches(const std::string& origin, const std::vector<std::string>& targets, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string at =
          first_line(exchange(port(origin), "IAMAT kiwi " + std::string(kLoc) + " " + time_string() + "\n"));
      bool all = at.rfind("AT " + origin + " ", 0) == 0;
      for (const auto& t : targets) all = all && wait_for_record(port(t), "kiwi", at, 300);
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  bool peer_ports_;
  int base_ = -1;
  TempDir logs_;
  std::map<std::string, std::unique_ptr<HerdProcess>> procs_;
};

}  // namespace

TEST_CASE("e2e peer port: only a server's own process holds its client port; kill-by-port kills it alone") {
  NodeHerd herd(true);
  REQUIRE(herd.flood_reaches("Riley", {"Jaquez", "Juzang", "Campbell", "Bernard"}, 15'000));
  for (const auto& name : default_servers()) {
    CHECK_MESSAGE(pids_on_port(herd.port(name)) == std::set<pid_t>{herd.proc(name).pid()}, name);
  }
  // The neighbours' sockets are on the peer port: Juzang is dialed by Bernard and Campbell.
  const std::set<pid_t> peer_holders = pids_on_port(herd.port("Juzang") + kPeerOffset);
  CHECK(peer_holders.count(herd.proc("Bernard").pid()) == 1);
  CHECK(peer_holders.count(herd.proc("Campbell").pid()) == 1);

  // The TA's `lsof -ti:PORT | xargs kill` for Juzang.
  for (pid_t pid : pids_on_port(herd.port("Juzang"))) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (herd.proc("Juzang").running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(herd.proc("Juzang").running());
  for (const char* alive : {"Riley", "Jaquez", "Campbell", "Bernard"}) CHECK_MESSAGE(herd.proc(alive).running(), alive);
  // Riley's updates still reach Campbell, through Jaquez and Bernard.
  CHECK(herd.flood_reaches("Riley", {"Jaquez", "Campbell", "Bernard"}, 10'000));
}

TEST_CASE("e2e peer port: without it, the neighbours that dial a server hold its client port too") {
  NodeHerd herd(false);
  REQUIRE(herd.flood_reaches("Riley", {"Jaquez", "Juzang", "Campbell", "Bernard"}, 15'000));
  const std::set<pid_t> holders = pids_on_port(herd.port("Juzang"));
  CHECK(holders == std::set<pid_t>{herd.proc("Juzang").pid(), herd.proc("Bernard").pid(), herd.proc("Campbell").pid()});
}

}  // namespace herd::e2e
