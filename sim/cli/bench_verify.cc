#include "sim/cli/bench_verify.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

namespace herd::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kConnectWait{3'000};
constexpr std::chrono::milliseconds kRetryPause{200};
constexpr size_t kLineBytesMax = 1 << 20;  // A Places body with bound 1 is far shorter.

int ms_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// A non-blocking loopback client for the verifier; every wait is bounded by poll(),
// and the first failure is kept in why() for the report.
class LineClient {
 public:
  ~LineClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect(const Endpoint& e) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(e.port));
    if (fd_ < 0 || inet_pton(AF_INET, e.host.c_str(), &a.sin_addr) != 1) return fail("bad address");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0) return true;
    if (errno != EINPROGRESS) return fail(std::string("cannot connect: ") + std::strerror(errno));
    if (!wait(POLLOUT, Clock::now() + kConnectWait)) return fail("cannot connect: timed out");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    return err == 0 || fail(std::string("cannot connect: ") + std::strerror(err));
  }
  bool send_all(std::string_view bytes, Clock::time_point deadline) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
      } else if (errno != EAGAIN || !wait(POLLOUT, deadline)) {
        return fail("the server stopped reading the questions");
      }
    }
    return true;
  }
  // The next line without its '\n'; nothing on EOF, error or the deadline.
  std::optional<std::string> line(Clock::time_point deadline) {
    for (size_t scanned = 0;;) {
      size_t nl = buf_.find('\n', scanned);
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      scanned = buf_.size();
      if (buf_.size() > kLineBytesMax) {
        fail("a reply line longer than 1 MiB");
        return std::nullopt;
      }
      if (!wait(POLLIN, deadline)) {
        fail("no reply within " + std::to_string(kReplyWait.count() / 1000) + " s");
        return std::nullopt;
      }
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EAGAIN) continue;
      if (n <= 0) {
        fail("the server closed the connection");
        return std::nullopt;
      }
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  const std::string& why() const { return why_; }
  // Keeps the first reason only: later failures follow from it.
  bool fail(std::string why) {
    if (why_.empty()) why_ = std::move(why);
    return false;
  }

 private:
  // False on the deadline (or a poll error, which only a bug here can cause).
  bool wait(short events, Clock::time_point deadline) {
    struct pollfd p = {fd_, events, 0};
    return ::poll(&p, 1, ms_until(deadline)) > 0;
  }
  int fd_ = -1;
  std::string buf_;
  std::string why_;
};

enum class Seen { kCurrent, kStale, kMissing, kFailed };

// "AT <server> <diff> <id> <location> <time>": current when it is `id` at `time`.
Seen classify(std::string_view at, std::string_view id, std::string_view time) {
  std::string_view f[6];
  size_t n = 0;
  while (!at.empty() && n < 6) {
    size_t sp = at.find(' ');
    f[n++] = at.substr(0, sp);
    at = sp == std::string_view::npos ? std::string_view() : at.substr(sp + 1);
  }
  if (n != 6 || !at.empty() || f[3] != id) return Seen::kFailed;
  return f[5] == time ? Seen::kCurrent : Seen::kStale;
}

// Reads one reply: `? ...` (the server has no record), or the AT line and its body up
// to the blank line that ends it. kFailed always comes with lc->why(): after it, the
// replies can no longer be matched to the questions.
Seen read_reply(LineClient* lc, std::string_view id, std::string_view time,
                Clock::time_point deadline) {
  std::optional<std::string> first = lc->line(deadline);
  if (!first) return Seen::kFailed;
  if (first->starts_with("? ")) return Seen::kMissing;
  Seen s = classify(*first, id, time);
  if (s == Seen::kFailed) {
    lc->fail("unexpected reply to WHATSAT " + std::string(id) + ": \"" + first->substr(0, 80) +
             "\"");
    return s;
  }
  for (std::optional<std::string> l; (l = lc->line(deadline)) && !l->empty();) {}
  return lc->why().empty() ? s : Seen::kFailed;
}

struct Round {
  std::vector<Seen> seen;
  std::string error;  // Why the round ended early.
};

// Asks `server` for every client of `todo` over one connection, keeping up to
// kInFlightMax questions in flight; each reply may take up to kReplyWait.
Round ask_all(const Endpoint& server, const BenchReport& rep, const std::vector<int64_t>& todo,
              Clock::time_point round_end) {
  Round r{std::vector<Seen>(todo.size(), Seen::kFailed), {}};
  LineClient lc;
  if (!lc.connect(server)) {
    r.error = lc.why();
    return r;
  }
  size_t sent = 0;
  for (size_t got = 0; got < todo.size(); ++got) {
    auto deadline = std::min(round_end, Clock::now() + kReplyWait);
    if (sent < todo.size() && sent - got <= kInFlightMax / 2) {
      std::string ask;
      for (size_t end = std::min(todo.size(), got + kInFlightMax); sent < end; ++sent) {
        ask += "WHATSAT " + bench_client_id(rep.id_prefix, todo[sent]) + " 10 1\n";
      }
      if (!lc.send_all(ask, deadline)) break;
    }
    int64_t seq = rep.last_seq[static_cast<size_t>(todo[got])];
    r.seen[got] = read_reply(&lc, bench_client_id(rep.id_prefix, todo[got]),
                             bench_time_text(rep.request_time_ns(seq)), deadline);
    if (r.seen[got] == Seen::kFailed) break;
  }
  r.error = lc.why();
  return r;
}

Verified verify(const Endpoint& server, const BenchReport& rep, std::vector<int64_t> todo,
                std::chrono::milliseconds flood_timeout) {
  Verified v{server};
  v.checked = static_cast<int64_t>(todo.size());
  auto floods_end = Clock::now() + flood_timeout;
  std::vector<Seen> last(todo.size(), Seen::kFailed);  // Of each client still in todo.
  while (!todo.empty()) {
    // Why a cap: a server that trickles replies just inside kReplyWait must still end.
    auto round_end = std::max(floods_end, Clock::now()) +
                     kReplyWait * static_cast<int64_t>(1 + todo.size() / kInFlightMax);
    Round r = ask_all(server, rep, todo, round_end);
    v.error = r.error;
    std::vector<int64_t> again;
    last.clear();
    for (size_t i = 0; i < todo.size(); ++i) {
      if (r.seen[i] == Seen::kCurrent) {
        ++v.current;
      } else {
        again.push_back(todo[i]);
        last.push_back(r.seen[i]);
      }
    }
    todo.swap(again);
    if (todo.empty() || Clock::now() + kRetryPause >= floods_end) break;
    std::this_thread::sleep_for(kRetryPause);
  }
  for (Seen s : last) {
    v.stale += s == Seen::kStale, v.missing += s == Seen::kMissing, v.failed += s == Seen::kFailed;
  }
  if (v.failed == 0) v.error.clear();
  return v;
}

}  // namespace

std::vector<Verified> verify_all(const std::vector<Endpoint>& servers, const BenchReport& rep,
                                 const std::vector<int64_t>& sample,
                                 std::chrono::milliseconds flood_timeout) {
  std::vector<Verified> out(servers.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < servers.size(); ++i) {
    threads.emplace_back([&, i] { out[i] = verify(servers[i], rep, sample, flood_timeout); });
  }
  for (std::thread& t : threads) t.join();
  return out;
}

std::vector<int64_t> sample_clients(const BenchReport& rep, int64_t max) {
  std::vector<int64_t> out;
  int64_t step = std::max<int64_t>(1, (rep.clients + max - 1) / max);
  for (int64_t c = 0; c < rep.clients; c += step) {
    if (rep.last_seq[static_cast<size_t>(c)] >= 0) out.push_back(c);
  }
  return out;
}

}  // namespace herd::bench
