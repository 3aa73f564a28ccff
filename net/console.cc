#include "node/check.h"
#include "net/console.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "crypto/sodium_mac.h"
#include "net/address.h"

namespace herd {

struct Console::StdinBox {
  union {
    uv_pipe_t pipe;
    uv_tty_t tty;
  } handle;
  Console* owner;
  LineFramer framer{kMaxLineBytes};
  char buffer[kMaxLineBytes];
};

namespace {

uv_handle_t* as_handle(void* handle) { return static_cast<uv_handle_t*>(handle); }

}  // namespace

Console::Console(uv_loop_t* loop, Execute execute, FILE* out)
    : loop_(loop), execute_(std::move(execute)), out_(out) {}

Console::~Console() {
  // REQUIRES: close() ran and the loop ran dry.
  HERD_ASSERT(!listener_ && stdin_ == nullptr && clients_.empty());
}

Result<bool> Console::listen(const std::string& host, int port) {
  HERD_ASSERT(!listener_ && !closed_);
  Result<struct sockaddr_storage> address = resolve_address(host, port);
  if (!address.ok()) return Error{"admin: " + address.error()};
  const auto* addr = reinterpret_cast<const struct sockaddr*>(&address.value());
  Listener::Events events;
  events.accepted = [this](int fd) { on_connection(fd); };
  events.failed = [this](int status, bool) { accept_failed(status); };
  listener_ = std::make_unique<Listener>(loop_, std::move(events));
  Result<bool> listening = listener_->listen(addr, 16);
  if (!listening.ok()) {
    listener_.reset();
    return Error{"admin: cannot listen on " + format_address(addr) + ": " + listening.error()};
  }
  const auto* bound = reinterpret_cast<const struct sockaddr*>(&listener_->address());
  port_ = address_port(bound);
  listen_text_ = format_address(bound);
  if (idle_ms_ > 0) {
    const uint64_t sweep_ms = std::clamp<uint64_t>(idle_ms_ / 4, 50, 1000);
    idle_timer_ = std::make_unique<Timer>(loop_, [this] { close_idle(); });
    idle_timer_->start(sweep_ms, sweep_ms);
  }
  return true;
}

void Console::on_connection(int fd) {
  LineStream::Limits limits;
  limits.max_line_bytes = kMaxLineBytes;
  limits.max_output_bytes = kMaxOutputBytes;
  LineStream* stream = LineStream::create(loop_, this, next_client_++, limits);
  clients_[stream->id()] = stream;
  if (const int rc = stream->open_accepted(fd); rc != 0) return accept_failed(rc);
  accept_failures_ = 0;
  if (clients_.size() > kMaxAdminClients) {
    stream->write("error: too many admin connections (" + std::to_string(kMaxAdminClients) +
                  ")\n");
    stream->shutdown_and_close("too-many");
    return;
  }
  if (key_) {
    const AuthNonce nonce = random_nonce();
    std::string challenge = hex_of(nonce.data(), nonce.size());
    stream->write("challenge " + challenge + "\n");
    challenges_[stream->id()] = std::move(challenge);
  }
  stream->start_reading();
}

bool Console::proven(LineStream* stream, std::string_view line) {
  auto it = challenges_.find(stream->id());
  if (it == challenges_.end()) return true;
  const std::string want = admin_proof(*key_, it->second);
  challenges_.erase(it);
  if (line.size() == 5 + want.size() && line.starts_with("auth ") &&
      sodium_mac().same(reinterpret_cast<const uint8_t*>(line.data() + 5),
                        reinterpret_cast<const uint8_t*>(want.data()), want.size())) {
    stream->write("ok\n");
    return false;  // The proof is no command.
  }
  fprintf(stderr, "herd: admin: %s failed authentication; closed\n", stream->remote_address().c_str());
  stream->write("error: authentication failed\n");
  stream->shutdown_and_close("auth-failed");
  return false;
}

void Console::accept_failed(int status) {
  if (accept_failures_++ == 0) fprintf(stderr, "herd: admin: accept failed: %s\n", uv_strerror(status));
}

void Console::close_idle() {
  const uint64_t now_ms = uv_now(loop_);
  for (auto& [id, stream] : clients_) {
    if (stream->ending() || now_ms - stream->last_io_ms() < idle_ms_) continue;
    stream->write("error: idle for " + std::to_string(idle_ms_ / 1000) + " s; closing\n");
    stream->shutdown_and_close("idle");
  }
}

void Console::on_line(LineStream* stream, std::string_view line) {
  if (closed_ || stream->ending() || !proven(stream, line)) return;
  std::string answer = execute_(line, "admin " + stream->remote_address());
  if (!answer.empty()) stream->write(std::move(answer));
}

void Console::on_eof(LineStream* stream) { stream->shutdown_and_close("eof"); }

void Console::on_line_too_long(LineStream* stream) {
  stream->write(too_long_answer());
  stream->shutdown_and_close("line-too-long");
}

std::string Console::too_long_answer() {
  return "error: line longer than " + std::to_string(kMaxLineBytes) + " bytes\n";
}

void Console::on_closed(LineStream* stream) {
  clients_.erase(stream->id());
  challenges_.erase(stream->id());
}

void Console::read_stdin() {
  if (stdin_tried_ || closed_) return;
  stdin_tried_ = true;
  const uv_handle_type type = uv_guess_handle(0);
  if (type != UV_TTY && type != UV_NAMED_PIPE) return;  // A file, /dev/null, closed.
  // Why: a background job (`herd run &`) may not read its terminal; its reads would
  // fail (SIGTTIN is ignored), so the console is the admin port's alone. A terminal
  // that is not ours to control (tcgetpgrp fails) has no foreground: it is read.
  if (type == UV_TTY) {
    const pid_t foreground = tcgetpgrp(STDIN_FILENO);
    if (foreground >= 0 && foreground != getpgrp()) return;
  }
  auto* box = new StdinBox;
  box->owner = this;
  uv_handle_t* handle = as_handle(&box->handle);
  if (type == UV_TTY) {
    if (uv_tty_init(loop_, &box->handle.tty, 0, 0) != 0) {
      delete box;  // Nothing was registered with the loop.
      return;
    }
    handle->data = box;
  } else {
    uv_pipe_init(loop_, &box->handle.pipe, 0);
    handle->data = box;
    if (uv_pipe_open(&box->handle.pipe, 0) != 0) {
      uv_close(handle, &Console::stdin_close_cb);
      return;
    }
  }
  stdin_ = box;
  const int rc = uv_read_start(
      reinterpret_cast<uv_stream_t*>(handle),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
        auto* self = static_cast<StdinBox*>(h->data);
        *buf = uv_buf_init(self->buffer, sizeof self->buffer);
      },
      &Console::stdin_read_cb);
  if (rc != 0) stop_stdin(uv_strerror(rc));
}

void Console::stdin_close_cb(uv_handle_t* handle) noexcept {
  delete static_cast<StdinBox*>(handle->data);
}

void Console::stdin_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* box = static_cast<StdinBox*>(stream->data);
  if (box->owner != nullptr) box->owner->on_stdin_read(nread, buf);
}

void Console::on_stdin_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;  // EAGAIN: libuv calls again.
  LineFramer& framer = stdin_->framer;
  std::string_view line;
  if (nread < 0) {
    if (nread == UV_EOF) {
      const LineFramer::Status status = framer.finish(&line);
      if (status == LineFramer::Status::kLine) answer_stdin(line);
      if (status == LineFramer::Status::kTooLong) write_stdin_answer(too_long_answer());
    }
    // EIO: the herd was put in the background after it started (Ctrl-Z, bg); the
    // terminal is the foreground job's now, which is no error of the herd's.
    const bool quiet = nread == UV_EOF || nread == UV_EIO;
    return stop_stdin(quiet ? nullptr : uv_strerror(static_cast<int>(nread)));
  }
  framer.feed(std::string_view(buf->base, static_cast<size_t>(nread)));
  while (stdin_ != nullptr) {
    const LineFramer::Status status = framer.next(&line);
    if (status == LineFramer::Status::kNeedMore) return;
    if (status == LineFramer::Status::kTooLong) {
      // A person typing gets told and keeps the console; the line is dropped.
      write_stdin_answer(too_long_answer());
      framer.skip_long_line();
      continue;
    }
    answer_stdin(line);
  }
}

void Console::write_stdin_answer(std::string_view answer) {
  fwrite(answer.data(), 1, answer.size(), out_);
  fflush(out_);
}

void Console::answer_stdin(std::string_view line) {
  const std::string answer = execute_(line, "stdin");
  if (!answer.empty()) write_stdin_answer(answer);
}

void Console::stop_stdin(const char* why) {
  if (stdin_ == nullptr) return;
  if (why != nullptr) fprintf(stderr, "herd: no longer reading stdin: %s\n", why);
  StdinBox* box = stdin_;
  stdin_ = nullptr;
  box->owner = nullptr;
  uv_close(as_handle(&box->handle), &Console::stdin_close_cb);
}

void Console::close() {
  if (closed_) return;
  closed_ = true;
  if (idle_timer_) idle_timer_->close();
  if (listener_) {
    listener_->close();
    listener_.reset();
  }
  for (auto& [id, stream] : clients_) stream->close("shutdown");
  stop_stdin(nullptr);
}

}  // namespace herd
