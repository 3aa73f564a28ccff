// The facts tests/bench/run_bench.sh needs before it starts anything, so that the bench
// needs no Python of its own:
//
//   bench_setup ports N           the first of N consecutive free loopback ports
//   bench_setup servers TOPOLOGY  the servers in file order (one line, space-separated),
//                                 then the index of the one most hops from the first
//                                 (ties: the last in file order)
// Exits 1 with a message when there is no such range, or the topology is unreadable.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "node/topology.h"

namespace {

// Below the ephemeral range (32768..60999 here), from which the clients' ports come.
constexpr int kFirstPort = 20'000, kLastPort = 32'000, kStep = 50, kTries = 500;

bool bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int ports(int count) {
  if (count < 1 || count > kStep * 4) {
    std::fprintf(stderr, "bench_setup: N must be in 1..%d\n", kStep * 4);
    return 2;
  }
  std::srand(static_cast<unsigned>(::getpid()));  // Why random: two benches, two ranges.
  for (int t = 0; t < kTries; ++t) {
    int base = kFirstPort + kStep * (std::rand() % ((kLastPort - kFirstPort) / kStep));
    int p = base;
    while (p < base + count && bindable(p)) ++p;
    if (p == base + count) {
      std::printf("%d\n", base);
      return 0;
    }
  }
  std::fprintf(stderr, "bench_setup: no %d free consecutive ports in %d..%d\n", count,
               kFirstPort, kLastPort);
  return 1;
}

int servers(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  herd::Result<herd::Topology> t = herd::parse_topology(text.str(), path);
  if (!in || !t.ok() || t.value().nodes.empty()) {
    std::fprintf(stderr, "bench_setup: %s\n",
                 !in ? "cannot read the topology" : !t.ok() ? t.error().c_str() : "no servers");
    return 1;
  }
  const std::vector<herd::TopologyNode>& nodes = t.value().nodes;
  std::map<std::string, int> hops = {{nodes[0].name, 0}};
  std::deque<std::string> todo = {nodes[0].name};
  for (; !todo.empty(); todo.pop_front()) {
    for (const std::string& n : t.value().neighbours(todo.front())) {
      if (hops.emplace(n, hops[todo.front()] + 1).second) todo.push_back(n);
    }
  }
  size_t far = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::printf("%s%s", i ? " " : "", nodes[i].name.c_str());
    auto h = hops.find(nodes[i].name);
    if (h != hops.end() && h->second >= hops[nodes[far].name]) far = i;
  }
  std::printf("\n%zu\n", far);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc == 3 ? argv[1] : "";
  if (what == "ports") return ports(std::atoi(argv[2]));
  if (what == "servers") return servers(argv[2]);
  std::fputs("usage: bench_setup ports N | servers TOPOLOGY\n", stderr);
  return 2;
}
