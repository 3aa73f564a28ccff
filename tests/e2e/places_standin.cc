// The Places stand-in's HTTP/1.1 server: one thread, non-blocking sockets, poll(). The
// wire format (parsing a request, writing a response head) is in standin_http.cc.
#include "tests/e2e/places_standin.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "tests/e2e/standin_http.h"

namespace herd::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using standin_http::icontains;
using standin_http::Parse;
using standin_http::parse_request;
using standin_http::response_head;

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

}  // namespace

StandinReply StandinReply::respond(int status, std::string body, int delay_ms) {
  StandinReply r;
  r.status = status;
  r.body = std::move(body);
  r.delay_ms = delay_ms;
  return r;
}

StandinReply StandinReply::hang() {
  StandinReply r;
  r.kind = Kind::kHang;
  return r;
}

StandinReply StandinReply::close_mid_answer(std::string body) {
  StandinReply r;
  r.kind = Kind::kCloseMidAnswer;
  r.body = std::move(body);
  return r;
}

struct PlacesStandin::Conn {
  int fd = -1;
  uint64_t id = 0;
  std::string in;
  std::string out;
  bool hung = false;           // Reads and ignores everything from now on.
  bool waiting = false;        // A delayed reply is due at `due`.
  Clock::time_point due;
  StandinReply pending;
  bool keep_alive = true;
  bool close_after_write = false;
  bool shut = false;           // Write side shut: waits for the client's EOF.
  bool dead = false;
};

PlacesStandin::PlacesStandin() {
  default_reply_ = StandinReply::respond(
      200, "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n   \"status\" : \"ZERO_RESULTS\"\n}\n");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, SOMAXCONN) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    error_ = std::string("places stand-in: ") + std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  set_nonblocking(listen_fd_);
  thread_ = std::thread([this] { serve(); });
}

PlacesStandin::~PlacesStandin() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    char byte = 1;
    ssize_t n = ::write(wake_fds_[1], &byte, 1);
    (void)n;
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string PlacesStandin::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void PlacesStandin::respond(int status, std::string body, int delay_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  default_reply_ = StandinReply::respond(status, std::move(body), delay_ms);
}

void PlacesStandin::hang() {
  std::lock_guard<std::mutex> lock(mu_);
  default_reply_ = StandinReply::hang();
}

void PlacesStandin::close_mid_answer(std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  default_reply_ = StandinReply::close_mid_answer(std::move(body));
}

void PlacesStandin::enqueue(StandinReply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(reply));
}

void PlacesStandin::set_handler(std::function<StandinReply(const StandinRequest&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void PlacesStandin::set_keep_alive(bool keep_alive) {
  std::lock_guard<std::mutex> lock(mu_);
  keep_alive_ = keep_alive;
}

std::vector<StandinRequest> PlacesStandin::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t PlacesStandin::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

size_t PlacesStandin::connection_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_accepted_;
}

size_t PlacesStandin::open_connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_open_;
}

bool PlacesStandin::wait_for_requests(size_t n, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return requests_.size() >= n; });
}

bool PlacesStandin::wait_for_no_connections(int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return connections_open_ == 0; });
}

StandinReply PlacesStandin::choose(const StandinRequest& request) {
  std::function<StandinReply(const StandinRequest&)> handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!queue_.empty()) {
      StandinReply r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    if (!handler_) return default_reply_;
    handler = handler_;
  }
  return handler(request);  // Unlocked: the handler may call back into the stand-in.
}

namespace {

// Sends what it can; false when the connection is gone.
bool flush(int fd, std::string* out) {
  while (!out->empty()) {
    ssize_t n = ::send(fd, out->data(), out->size(), MSG_NOSIGNAL);
    if (n > 0) {
      out->erase(0, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

void produce(std::string* out, bool* close_after_write, const StandinReply& reply, bool keep_alive) {
  if (reply.kind == StandinReply::Kind::kCloseMidAnswer) {
    *out += response_head(reply.status, reply.body.size() + 100, true) + reply.body;
    *close_after_write = true;
  } else {
    *out += response_head(reply.status, reply.body.size(), keep_alive) + reply.body;
    *close_after_write = !keep_alive;
  }
}

}  // namespace

// Writes what is owed, then answers the next request; one request at a time, in
// order. Returns when it must wait for the socket, a timer, or more bytes.
void PlacesStandin::pump(Conn& c) {
  for (;;) {
    if (c.dead) return;
    if (!flush(c.fd, &c.out)) {
      c.dead = true;
      return;
    }
    if (!c.out.empty()) return;  // POLLOUT calls again.
    if (c.close_after_write) {
      if (!c.shut) ::shutdown(c.fd, SHUT_WR);  // FIN, then wait for the client's EOF: no RST.
      c.shut = true;
      return;
    }
    if (c.hung || c.waiting) return;
    if (!answer_next(c)) return;
  }
}

// Takes one request off c.in, records it and acts on its reply. False: incomplete.
bool PlacesStandin::answer_next(Conn& c) {
  StandinRequest req;
  Parse p = parse_request(&c.in, &req);
  if (p == Parse::kIncomplete) return false;
  if (p == Parse::kBad) {
    produce(&c.out, &c.close_after_write, StandinReply::respond(400, "bad request"), false);
    return true;
  }
  req.connection = c.id;
  std::string connection = req.header("Connection");
  bool keep = !icontains(connection, "close") &&
              (req.version != "HTTP/1.0" || icontains(connection, "keep-alive"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
    keep = keep && keep_alive_;
  }
  cv_.notify_all();
  StandinReply reply = choose(req);
  c.keep_alive = keep;
  if (reply.kind == StandinReply::Kind::kHang) {
    c.hung = true;
  } else if (reply.delay_ms > 0) {
    c.waiting = true;
    c.due = Clock::now() + std::chrono::milliseconds(reply.delay_ms);
    c.pending = std::move(reply);
  } else {
    produce(&c.out, &c.close_after_write, reply, keep);
  }
  return true;
}

void PlacesStandin::accept_all(Conns* conns, uint64_t* next_id) {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = (*next_id)++;
    conns->push_back(std::move(c));
    std::lock_guard<std::mutex> lock(mu_);
    ++connections_accepted_;
    ++connections_open_;
  }
}

void PlacesStandin::read_from(Conn& c) {
  char buf[64 * 1024];
  for (;;) {
    ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
    if (got > 0) {
      if (!c.hung && !c.shut) c.in.append(buf, static_cast<size_t>(got));
      continue;
    }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (got < 0 && errno == EINTR) continue;
    c.dead = true;  // EOF or error: the client has gone.
    return;
  }
}

void PlacesStandin::serve() {
  Conns conns;
  uint64_t next_id = 1;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    std::vector<pollfd> fds = {{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    int timeout_ms = -1;
    Clock::time_point now = Clock::now();
    for (auto& c : conns) {
      fds.push_back({c->fd, static_cast<short>(c->out.empty() ? POLLIN : POLLIN | POLLOUT), 0});
      if (c->waiting) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->due - now).count() + 1;
        int ms = static_cast<int>(std::max<int64_t>(0, left));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) {
      char buf[64];
      while (::read(wake_fds_[0], buf, sizeof buf) > 0) {
      }
    }
    // Polled connections first: accept_all appends to conns.
    for (size_t i = 2; i < fds.size(); ++i) {
      Conn& c = *conns[i - 2];
      if (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) read_from(c);
      if (fds[i].revents != 0) pump(c);
    }
    if (fds[1].revents & POLLIN) accept_all(&conns, &next_id);
    now = Clock::now();
    for (auto& c : conns) {
      if (c->waiting && !c->dead && c->due <= now) {
        c->waiting = false;
        produce(&c->out, &c->close_after_write, c->pending, c->keep_alive);
        pump(*c);
      }
    }
    size_t before = conns.size();
    conns.erase(std::remove_if(conns.begin(), conns.end(),
                               [](const std::unique_ptr<Conn>& c) {
                                 if (c->dead) ::close(c->fd);
                                 return c->dead;
                               }),
                conns.end());
    if (conns.size() != before) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        connections_open_ -= before - conns.size();
      }
      cv_.notify_all();
    }
  }
  for (auto& c : conns) ::close(c->fd);
  std::lock_guard<std::mutex> lock(mu_);
  connections_open_ = 0;
}

}  // namespace herd::e2e
