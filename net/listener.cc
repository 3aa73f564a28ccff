#include "node/check.h"
#include "net/listener.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>

namespace herd {

struct Listener::Handles {
  uv_poll_t poll;
  uv_timer_t timer;
  int fd = -1;
  int open = 2;                // Handles not yet closed.
  Listener* owner = nullptr;   // Null once closed: callbacks then do nothing.

  static void poll_cb(uv_poll_t* handle, int, int) noexcept {
    auto* self = static_cast<Handles*>(handle->data);
    if (self->owner != nullptr) self->owner->on_readable();
  }
  static void timer_cb(uv_timer_t* handle) noexcept {
    auto* self = static_cast<Handles*>(handle->data);
    if (self->owner != nullptr) uv_poll_start(&self->poll, UV_READABLE, &Handles::poll_cb);
  }
  static void close_cb(uv_handle_t* handle) noexcept {
    auto* self = static_cast<Handles*>(handle->data);
    if (--self->open == 0) delete self;
  }
};

Listener::Listener(uv_loop_t* loop, Events events) : loop_(loop), events_(std::move(events)) {}

Listener::~Listener() { close(); }

Result<bool> Listener::listen(const struct sockaddr* address, int backlog) {
  HERD_ASSERT(handles_ == nullptr);
  const socklen_t length = address->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{uv_strerror(uv_translate_sys_error(errno))};
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd, address, length) != 0 || ::listen(fd, backlog) != 0) {
    const int error = errno;
    ::close(fd);
    return Error{uv_strerror(uv_translate_sys_error(error))};
  }
  socklen_t bound_length = sizeof bound_;
  ::getsockname(fd, reinterpret_cast<struct sockaddr*>(&bound_), &bound_length);
  handles_ = new Handles;
  handles_->fd = fd;
  handles_->owner = this;
  uv_poll_init_socket(loop_, &handles_->poll, fd);
  uv_timer_init(loop_, &handles_->timer);
  handles_->poll.data = handles_;
  handles_->timer.data = handles_;
  uv_poll_start(&handles_->poll, UV_READABLE, &Handles::poll_cb);
  return true;
}

void Listener::on_readable() {
  Handles* h = handles_;
  for (int i = 0; i < kAcceptsPerWakeup; ++i) {
    const int fd = ::accept4(h->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      events_.accepted(fd);
      if (h->owner == nullptr) return;  // Closed by its owner meanwhile.
      continue;
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) return;
    const bool out = error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
    if (out) {
      // Why stop polling: the socket stays readable, so the loop would spin on it.
      uv_poll_stop(&h->poll);
      uv_timer_start(&h->timer, &Handles::timer_cb, kBackoffMs, 0);
    }
    events_.failed(uv_translate_sys_error(error), out);
    return;
  }
}

// uv_close stops the poll at once, so the socket can be closed now: a connect from
// here on is refused.
void Listener::close() {
  if (handles_ == nullptr) return;
  handles_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->poll), &Handles::close_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), &Handles::close_cb);
  ::close(handles_->fd);
  handles_ = nullptr;
}

}  // namespace herd
