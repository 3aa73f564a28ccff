// The live host in process, out of descriptors (issue 16): a server whose accept
// fails for want of descriptors says so once per burst, stops accepting for a while
// rather than wake for every connection, and accepts again once descriptors are back.
// This process's own descriptor limit is lowered for the few milliseconds it takes.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "net/listener.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/host_thread.h"

namespace herd {
namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool wait_for(const std::function<bool()>& done, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// This test lowers the whole test process's descriptor limit while a host runs in
// it. The sanitizers' runtime needs descriptors of its own to check memory (UBSan's
// vptr check then reports a bogus error), so a sanitizer build skips it and the
// normal build (make test) runs it.
#ifdef __SANITIZE_ADDRESS__
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST_CASE("host: out of descriptors, accepting fails once per burst in the log, backs off, then goes on" *
          doctest::skip(kSanitized)) {
  e2e::TempDir dir;
  HostOptions options = options_in(dir);
  options.port_base = 0;
  const char single[] = R"({"name": "one", "nodes": [{"name": "A", "port": 1}], "links": []})";
  HostThread host(host_topology(single), {"A"}, options);
  REQUIRE(host.start() == "");
  const std::string log_path = options.log_dir + "/A.log";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(host.port("A")));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Made before the limit is lowered: connecting them takes no descriptor here.
  std::vector<int> socks;
  for (int i = 0; i < 40; ++i) socks.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  // Opened before too: with the limit low, this process cannot open the log to look.
  const int log_fd = ::open(log_path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(log_fd >= 0);
  auto log_has = [&](const std::string& what) {
    std::string text(1 << 20, '\0');
    const ssize_t n = ::pread(log_fd, text.data(), text.size(), 0);
    return n > 0 && text.substr(0, static_cast<size_t>(n)).find(what) != std::string::npos;
  };
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const int lowest_free = ::dup(0);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(lowest_free + 2);  // Room for two more accepts.
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  int connected = 0;
  for (int s : socks) connected += ::connect(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  const bool failed = wait_for([&] { return log_has("accept failed"); }, 3'000);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  for (int s : socks) ::close(s);
  ::close(log_fd);
  CHECK(connected >= 3);
  CHECK(failed);
  // Back within a few backoffs: a new client is served.
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    answered = e2e::exchange(host.port("A"), "IAMAT d +1-1 1\n", 1'000).rfind("AT A ", 0) == 0;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(answered);
  CHECK(host.stop() == 0);
  const std::string log = e2e::read_text_file(log_path);
  CHECK(count_of(log, " note - accept failed: too many open files; not accepting for " +
                          std::to_string(Listener::kBackoffMs) + " ms at a time\n") == 1);
  CHECK(count_of(log, "accept failed") == 1);
  CHECK(log.find(" note - accepting again after ") != std::string::npos);
}

}  // namespace
}  // namespace herd
