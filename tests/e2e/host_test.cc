// The live host in process: a HerdHost on its own loop thread, talked to over real
// loopback sockets. Cheap checks of what the process-level suite cannot see: the
// loop ends with no handle left, start-up errors, and the peer handshake from both
// sides with this test playing the neighbour.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <csignal>

#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <uv.h>

#include "net/herd_host.h"
#include "node/topology.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/host_thread.h"

namespace herd {
namespace {

using e2e::Client;
using e2e::TempDir;

const char kLine3[] = R"({"name": "line3",
  "nodes": [{"name": "A", "port": 1}, {"name": "B", "port": 2}, {"name": "C", "port": 3}],
  "links": [["A", "B"], ["B", "C"]]})";

TEST_CASE("host: three servers on one loop answer, flood, keep order, and close clean") {
  TempDir dir;
  HostOptions options = options_in(dir);
  options.port_base = 0;
  HostThread host(host_topology(kLine3), {"A", "B", "C"}, options);
  REQUIRE(host.start() == "");
  REQUIRE(host.wait_ready(5'000));

  std::string t = e2e::time_string();
  std::string at = e2e::exchange(host.port("A"), "IAMAT kiwi +34.068930-118.445127 " + t + "\n");
  CHECK(e2e::is_at_reply(at, "A", "kiwi", "+34.068930-118.445127", t, '+'));
  // Two hops away, the record is there as A produced it (A -> B -> C).
  std::string at_line = e2e::first_line(at);
  std::string last;
  CHECK(e2e::wait_for_record(host.port("C"), "kiwi", at_line, 3'000, &last));
  CHECK(last.find("\"UNKNOWN_ERROR\"") != std::string::npos);
  CHECK(last.size() >= 2);
  CHECK(last.substr(last.size() - 2) == "\n\n");

  // A WHATSAT waiting on Places is answered before the IAMAT after it; a final line
  // with no newline is answered at EOF.
  std::string both = e2e::exchange(host.port("B"), "WHATSAT kiwi 10 1\nIAMAT x +1-1 1");
  CHECK(both.rfind(at_line + "\n{", 0) == 0);
  CHECK(both.find("\n\nAT B ") != std::string::npos);

  // A hello from a server that is not a neighbour is an ordinary (invalid) line.
  CHECK(e2e::exchange(host.port("A"), "PEER C A\n") == "? PEER C A\n");

  // A line over 64 KiB closes its connection only.
  Client open;
  REQUIRE(open.connect(host.port("A")));
  Client big;
  REQUIRE(big.connect(host.port("A")));
  big.send(std::string(70'000, 'x'));
  CHECK(big.read_all_until_eof(3'000) == "");
  CHECK(big.peer_closed());
  open.send("IAMAT y +1-1 2\n");
  CHECK(e2e::is_at_reply(open.read_lines(1, 3'000), "A", "y", "+1-1", "2"));

  CHECK(host.stop() == 0);
  CHECK(host.handles_left() == 0);
  std::string log = e2e::read_text_file(options.log_dir + "/A.log");
  CHECK(log.find(" listen A 127.0.0.1:") != std::string::npos);
  CHECK(log.find(" peer-up B dialed 127.0.0.1:") != std::string::npos);
  CHECK(log.find(" close c") != std::string::npos);
  CHECK(log.find(" line-too-long") != std::string::npos);
  CHECK(log.find(" stop A test") != std::string::npos);
  CHECK(log.find(" out c") != std::string::npos);
}

// A listening socket that plays a neighbour server.
struct FakePeer {
  int fd = -1;
  int port = 0;
  FakePeer() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~FakePeer() { ::close(fd); }
};

// One accepted connection of a FakePeer, read with bounded waits.
struct PeerSocket {
  int fd = -1;
  std::string buf;
  ~PeerSocket() {
    if (fd >= 0) ::close(fd);
  }
  bool accept_from(const FakePeer& peer, int timeout_ms) {
    pollfd p{peer.fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    fd = ::accept4(peer.fd, nullptr, nullptr, SOCK_CLOEXEC);
    return fd >= 0;
  }
  void send(const std::string& bytes) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    CHECK(n == static_cast<ssize_t>(bytes.size()));
  }
  // One line with its '\n' (heartbeats skipped: they are the link's own); "<eof>"
  // or "<timeout>" otherwise.
  std::string line(int timeout_ms) {
    for (;;) {
      size_t end = buf.find('\n');
      if (end != std::string::npos) {
        std::string out = buf.substr(0, end + 1);
        buf.erase(0, end + 1);
        if (out == "HB\n") continue;
        return out;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) != 1) return "<timeout>";
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return "<eof>";
      buf.append(chunk, static_cast<size_t>(n));
    }
  }
};

std::string two_nodes(int a_port, int b_port) {
  return R"({"name": "two", "nodes": [{"name": "A", "port": )" + std::to_string(a_port) +
         R"(}, {"name": "B", "port": )" + std::to_string(b_port) + R"(}], "links": [["A", "B"]]})";
}

TEST_CASE("host: the server whose name sorts first dials, says hello, and floods") {
  TempDir dir;
  FakePeer b;
  int a_port = e2e::find_free_port_range(1);
  REQUIRE(a_port > 0);
  HostThread host(host_topology(two_nodes(a_port, b.port)), {"A"}, options_in(dir));
  REQUIRE(host.start() == "");
  PeerSocket link;
  REQUIRE(link.accept_from(b, 3'000));  // A dials B (A < B).
  CHECK(link.line(3'000) == "PEER A B\n");
  link.send("PEER B A\n");
  CHECK(host.wait_ready(3'000));  // B is not hosted: no link to wait for.
  // The hello's answer is in flight: floods reach B once A has read it.
  std::string at;
  for (int i = 0; i < 100; ++i) {
    at = e2e::exchange(host.port("A"), "IAMAT k" + std::to_string(i) + " +1-1 5\n");
    std::string flood = link.line(100);
    if (flood != "<timeout>") {
      CHECK(flood == "FLOOD 1 " + at);
      break;
    }
  }
  link.send("FLOOD 1 AT B +0.500000000 z +2-2 7\n");
  std::string whatsat;
  CHECK(e2e::wait_for_record(host.port("A"), "z", "AT B +0.500000000 z +2-2 7", 3'000, &whatsat));
  CHECK(host.stop() == 0);
  CHECK(link.line(3'000) == "<eof>");  // A closed its end at shutdown.
}

TEST_CASE("host: the other server accepts a hello, answers it, and a newer one replaces it") {
  TempDir dir;
  FakePeer a;  // A < B: the hosted B waits for A's hello.
  int b_port = e2e::find_free_port_range(1);
  REQUIRE(b_port > 0);
  HostThread host(host_topology(two_nodes(a.port, b_port)), {"B"}, options_in(dir));
  REQUIRE(host.start() == "");
  Client first;
  REQUIRE(first.connect(b_port));
  first.send("PEER A B\n");
  CHECK(first.read_lines(1, 3'000) == "PEER B A\n");
  Client second;
  REQUIRE(second.connect(b_port));
  second.send("PEER A B\nFLOOD 2 AT A +0.100000000 q +3-3 9\n");  // Lines after the hello.
  CHECK(second.read_lines(1, 3'000) == "PEER B A\n");
  CHECK(first.read_all_until_eof(3'000) == "");  // Replaced.
  CHECK(e2e::wait_for_record(b_port, "q", "AT A +0.100000000 q +3-3 9", 3'000));
  std::string at = e2e::exchange(b_port, "IAMAT r +1-1 5\n");
  CHECK(second.read_lines(1, 3'000) == "FLOOD 1 " + at);
  CHECK(host.stop() == 0);
}

TEST_CASE("host: a port in use is an error naming the server and the port") {
  TempDir dir;
  FakePeer busy;
  int other = busy.port == 65535 ? busy.port - 1 : busy.port + 1;
  HostThread host(host_topology(two_nodes(busy.port, other)), {"A"}, options_in(dir));
  std::string error = host.start();
  CHECK(error == "A: cannot listen on 127.0.0.1:" + std::to_string(busy.port) +
                     ": address already in use");
  CHECK(host.stop() == 0);
  CHECK(host.handles_left() == 0);
}

TEST_CASE("host: past --max-clients a connection is accepted and closed") {
  TempDir dir;
  HostOptions options = options_in(dir);
  options.port_base = 0;
  options.max_clients = 2;
  const char single[] = R"({"name": "one", "nodes": [{"name": "A", "port": 1}], "links": []})";
  HostThread host(host_topology(single), {"A"}, options);
  REQUIRE(host.start() == "");
  Client one, two, three;
  REQUIRE(one.connect(host.port("A")));
  REQUIRE(two.connect(host.port("A")));
  one.send("IAMAT a +1-1 1\n");
  two.send("IAMAT b +1-1 1\n");
  CHECK(one.read_lines(1, 3'000).rfind("AT A ", 0) == 0);
  CHECK(two.read_lines(1, 3'000).rfind("AT A ", 0) == 0);
  REQUIRE(three.connect(host.port("A")));
  CHECK(three.read_all_until_eof(3'000) == "");
  CHECK(three.peer_closed());
  one.close();
  // A slot is free again once a client has gone.
  bool answered = false;
  for (int i = 0; i < 50 && !answered; ++i) {
    std::string reply = e2e::exchange(host.port("A"), "IAMAT d +1-1 1\n", 1'000);
    answered = reply.rfind("AT A ", 0) == 0;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(answered);
  CHECK(host.stop() == 0);
  std::string log = e2e::read_text_file(options.log_dir + "/A.log");
  CHECK(log.find(" reject - 127.0.0.1:") != std::string::npos);
}

}  // namespace
}  // namespace herd
