#include "sim/bench_verify.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace herd::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A blocking loopback client for the verifier; every read is bounded by poll().
class LineClient {
 public:
  ~LineClient() { if (fd_ >= 0) ::close(fd_); }
  bool connect(const Endpoint& e) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(e.port));
    if (fd_ < 0 || inet_pton(AF_INET, e.host.c_str(), &a.sin_addr) != 1) return false;
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return ::connect(fd_, reinterpret_cast<struct sockaddr*>(&a), sizeof a) == 0;
  }
  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // The next line without its '\n'; nothing on EOF, error or the deadline.
  std::optional<std::string> line(Clock::time_point deadline) {
    for (size_t nl; ; ) {
      if ((nl = buf_.find('\n')) != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      struct pollfd p = {fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return {};
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

enum class Seen { kCurrent, kStale, kMissing, kFailed };

// Asks `server` for each client in `batch` (pipelined) and classifies each answer.
std::vector<Seen> ask(LineClient* lc, const BenchReport& rep, const std::vector<int64_t>& batch,
                      Clock::time_point deadline) {
  std::vector<Seen> seen(batch.size(), Seen::kFailed);
  std::string req;
  for (int64_t c : batch) req += "WHATSAT " + bench_client_id(rep.id_prefix, c) + " 10 1\n";
  if (!lc->send_all(req)) return seen;
  for (size_t i = 0; i < batch.size(); ++i) {
    std::optional<std::string> first = lc->line(deadline);
    if (!first) return seen;
    if (first->rfind("? ", 0) == 0) {
      seen[i] = Seen::kMissing;
      continue;
    }
    std::string want = bench_time_text(rep.request_time_ns(rep.last_seq[size_t(batch[i])]));
    bool current = first->size() > want.size() &&
                   first->compare(first->size() - want.size(), want.size(), want) == 0;
    seen[i] = current ? Seen::kCurrent : Seen::kStale;
    for (std::optional<std::string> l; (l = lc->line(deadline)) && !l->empty();) {}
  }
  return seen;
}

}  // namespace

// Re-asks the clients not yet current until all are or `timeout` passes: floods may
// still be on their way when the load stops.
Verified verify(const Endpoint& server, const BenchReport& rep, std::vector<int64_t> todo,
                std::chrono::milliseconds timeout) {
  Verified v{server};
  v.checked = static_cast<int64_t>(todo.size());
  auto deadline = Clock::now() + timeout;
  std::vector<Seen> last(todo.size(), Seen::kFailed);  // Of each client still in todo.
  while (!todo.empty()) {
    LineClient lc;
    if (!lc.connect(server)) break;
    std::vector<int64_t> again;
    std::vector<Seen> again_seen;
    for (size_t at = 0; at < todo.size(); at += 64) {
      size_t end = std::min(todo.size(), at + 64);
      std::vector<int64_t> batch(todo.begin() + static_cast<ptrdiff_t>(at),
                                 todo.begin() + static_cast<ptrdiff_t>(end));
      std::vector<Seen> seen = ask(&lc, rep, batch, deadline);
      for (size_t i = 0; i < batch.size(); ++i) {
        if (seen[i] == Seen::kCurrent) {
          ++v.current;
        } else {
          again.push_back(batch[i]);
          again_seen.push_back(seen[i]);
        }
      }
    }
    todo.swap(again);
    last.swap(again_seen);
    if (todo.empty() || Clock::now() + std::chrono::milliseconds(200) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (Seen s : last) {
    v.stale += s == Seen::kStale, v.missing += s == Seen::kMissing, v.failed += s == Seen::kFailed;
  }
  return v;
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
