// The client half of the harness: blocking sockets with poll-bounded reads, free
// ports, times and AT-line checks.
#include "tests/e2e/harness.h"
#include "tests/e2e/harness_deadline.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>

namespace herd::e2e {
namespace {

// [+-]\d+\.\d{9} (std::regex trips GCC 12's -Wmaybe-uninitialized under ASan).
bool is_time_diff(std::string_view d) {
  auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (d.size() < 12 || (d[0] != '+' && d[0] != '-')) return false;
  size_t dot = d.find('.');
  return dot != std::string_view::npos && digits(d.substr(1, dot - 1)) &&
         d.size() - dot - 1 == 9 && digits(d.substr(dot + 1));
}

}  // namespace

Client::~Client() { close(); }

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
  eof_ = reset_ = false;
}

bool Client::connect(int port, int timeout_ms) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return false;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (r != 0 && errno != EINPROGRESS) {
    close();
    return false;
  }
  if (r != 0) {
    pollfd p{fd_, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, timeout_ms) != 1 ||
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close();
      return false;
    }
  }
  int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  return true;
}

bool Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Client::send_slowly(std::string_view bytes, int pause_us) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!send(bytes.substr(i, 1))) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
  return true;
}

void Client::shutdown_write() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool Client::fill(int timeout_ms) {
  if (fd_ < 0 || eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    buf_.append(buf, static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n < 0) reset_ = true;
  eof_ = true;
  return false;
}

std::string Client::read_until(const std::function<bool(std::string_view)>& done,
                               int timeout_ms) {
  auto deadline = deadline_in(timeout_ms);
  while (!done(buf_) && !eof_) {
    int left = ms_left(deadline);
    if (left == 0) break;
    fill(left);
  }
  std::string out;
  out.swap(buf_);
  return out;
}

std::string Client::read_lines(size_t n, int timeout_ms) {
  auto nth_newline = [&](std::string_view s) -> size_t {
    size_t pos = 0, seen = 0;
    while (seen < n && (pos = s.find('\n', pos)) != std::string_view::npos) {
      ++seen;
      if (seen == n) return pos;
      ++pos;
    }
    return std::string_view::npos;
  };
  std::string all = read_until([&](std::string_view s) { return nth_newline(s) != std::string_view::npos; },
                               timeout_ms);
  size_t end = nth_newline(all);
  if (end == std::string::npos) return all;
  buf_ = all.substr(end + 1);
  all.resize(end + 1);
  return all;
}

std::string Client::read_all_until_eof(int timeout_ms) {
  return read_until([](std::string_view) { return false; }, timeout_ms);
}

std::string exchange(int port, std::string_view request, int timeout_ms) {
  Client c;
  if (!c.connect(port, timeout_ms)) return "";
  c.send(request);
  c.shutdown_write();
  return c.read_all_until_eof(timeout_ms);
}

int find_free_port_range(int count) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(wall_ns()));
  // Below the kernel's ephemeral range (32768+), so outgoing connections never hold them.
  for (int attempt = 0; attempt < 200; ++attempt) {
    int base = 20'000 + static_cast<int>(rng() % 12'000);
    std::vector<int> socks;
    bool ok = true;
    for (int i = 0; i < count && ok; ++i) {
      int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(base + i));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok = s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
           ::listen(s, 1) == 0;
      if (s >= 0) socks.push_back(s);
    }
    for (int s : socks) ::close(s);
    if (ok) return base;
  }
  return -1;
}

uint64_t raise_nofile_limit(uint64_t want) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || want < rl.rlim_max ? want : rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

int64_t wall_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string time_string(int64_t offset_ns) {
  int64_t t = wall_ns() + offset_ns;  // Always positive for the offsets tests use.
  char buf[40];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(t / 1'000'000'000),
                static_cast<long long>(t % 1'000'000'000));
  return buf;
}

bool is_at_reply(std::string_view reply, std::string_view server, std::string_view id,
                 std::string_view loc, std::string_view time, char sign) {
  std::string head = "AT " + std::string(server) + " ";
  std::string tail = " " + std::string(id) + " " + std::string(loc) + " " + std::string(time) + "\n";
  if (reply.size() < head.size() + tail.size()) return false;
  if (reply.substr(0, head.size()) != head) return false;
  if (reply.substr(reply.size() - tail.size()) != tail) return false;
  std::string_view diff = reply.substr(head.size(), reply.size() - head.size() - tail.size());
  if (!is_time_diff(diff)) return false;
  return sign == 0 || diff[0] == sign;
}

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

bool wait_for_record(int port, std::string_view id, std::string_view at_line, int timeout_ms,
                     std::string* last) {
  auto deadline = deadline_in(timeout_ms);
  std::string request = "WHATSAT " + std::string(id) + " 10 1\n";
  for (;;) {
    std::string reply = exchange(port, request, std::max(ms_left(deadline), 1));
    if (last != nullptr) *last = reply;
    if (first_line(reply) == at_line) return true;
    if (ms_left(deadline) == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace herd::e2e
