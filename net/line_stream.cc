#include "node/check.h"
#include "net/line_stream.h"

#include <unistd.h>

#include <cstring>
#include <utility>

#include "net/address.h"
#include "net/live_clock.h"

namespace herd {

namespace {

struct WriteReq {
  uv_write_t req;
  std::string bytes;
  uint64_t messages = 0;
};

std::string error_text(int status) { return uv_strerror(status); }

}  // namespace

LineStream* LineStream::create(uv_loop_t* loop, Handler* handler, uint64_t id, Limits limits) {
  return new LineStream(loop, handler, id, limits);
}

LineStream::LineStream(uv_loop_t* loop, Handler* handler, uint64_t id, Limits limits)
    : handler_(handler), id_(id), limits_(limits), framer_(limits.max_line_bytes) {
  int rc = uv_tcp_init(loop, &tcp_);
  HERD_ASSERT(rc == 0);
  rc = uv_idle_init(loop, &idle_);
  HERD_ASSERT(rc == 0);
  (void)rc;
  tcp_.data = this;
  idle_.data = this;
  last_io_ms_ = uv_now(loop);
}

void LineStream::set_limits(Limits limits) {
  limits_ = limits;
  framer_.set_max_line_bytes(limits.max_line_bytes);
  update_reading();
}

int LineStream::open_accepted(int fd) {
  int rc = uv_tcp_open(&tcp_, fd);
  if (rc != 0) {
    ::close(fd);
    close("accept-failed " + error_text(rc));
    return rc;
  }
  struct sockaddr_storage address;
  int length = sizeof address;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<struct sockaddr*>(&address), &length) == 0) {
    remote_address_ = format_address(reinterpret_cast<struct sockaddr*>(&address));
  } else {
    remote_address_ = "?";
  }
  uv_tcp_nodelay(&tcp_, 1);  // Why: a reply must leave at once, not wait for an ACK.
  return 0;
}

int LineStream::connect(const struct sockaddr* address) {
  remote_address_ = format_address(address);
  auto* req = new uv_connect_t;
  int rc = uv_tcp_connect(req, &tcp_, address, &LineStream::connect_cb);
  if (rc != 0) delete req;
  return rc;
}

void LineStream::start_reading() {
  started_ = true;
  update_reading();
}

void LineStream::hold_reading(bool hold) {
  held_ = hold;
  update_reading();
}

void LineStream::set_paused(bool paused) {
  paused_ = paused;
  update_reading();
}

void LineStream::set_reserved_bytes(size_t bytes) {
  if (bytes == reserved_bytes_) return;
  reserved_bytes_ = bytes;
  update_output_full();
}

bool LineStream::can_deliver() const {
  return started_ && !held_ && !paused_ && !output_full_ && !closing_ && !shutting_;
}

// Reads while lines may be delivered, none is held and the turn is not over; idles
// (delivers the next turn's lines from the loop) while lines may be delivered and
// some are held, or the turn is over.
void LineStream::update_reading() {
  if (closing_) return;
  const bool deliver = can_deliver();
  const bool turn_over = turn_lines_ >= limits_.lines_per_turn;
  const bool want_idle = deliver && (framer_.has_rest() || turn_over);
  const bool want_read = deliver && !framer_.has_rest() && !turn_over && !eof_;
  if (want_idle != idling_) {
    if (want_idle) {
      uv_idle_start(&idle_, &LineStream::idle_cb);
    } else {
      uv_idle_stop(&idle_);
    }
    idling_ = want_idle;
  }
  if (want_read == reading_) return;
  if (want_read) {
    int rc = uv_read_start(uv_stream(), &LineStream::alloc_cb, &LineStream::read_cb);
    if (rc != 0) {
      close("error " + error_text(rc));
      return;
    }
  } else {
    uv_read_stop(uv_stream());
  }
  reading_ = want_read;
}

void LineStream::update_output_full() {
  const size_t owed = owed_bytes();
  if (!output_full_ && owed > limits_.max_output_bytes) {
    output_full_ = true;  // Why: a client that does not read must not grow our memory.
  } else if (output_full_ && owed <= limits_.max_output_bytes / 2) {
    output_full_ = false;
  } else {
    return;
  }
  update_reading();
}

void LineStream::buffer_output(std::string_view bytes, bool newline, uint32_t messages) {
  if (closing_ || shutting_) {
    if (messages > 0) handler_->on_messages(this, 0, messages);
    return;
  }
  out_.append(bytes);
  if (newline) out_.push_back('\n');
  out_messages_ += messages;
  if (limits_.backpressure_bytes > 0) check_backpressure();
}

void LineStream::check_backpressure() {
  const size_t queued = queued_bytes();
  if (!backpressure_ && queued > limits_.backpressure_bytes) {
    backpressure_ = true;
    handler_->on_backpressure(this, true);
  } else if (backpressure_ && queued <= limits_.backpressure_bytes / 2) {
    backpressure_ = false;
    handler_->on_backpressure(this, false);
  }
}

void LineStream::flush_output() {
  if (out_.empty()) return;
  const uint64_t messages = out_messages_;
  out_messages_ = 0;
  if (closing_ || shutting_) {
    out_.clear();
    if (messages > 0) handler_->on_messages(this, 0, messages);
    return;
  }
  std::string bytes;
  // Why try first: on an idle socket the bytes usually go out at once, with no
  // request to allocate and no callback to wait for. uv_try_write refuses while
  // earlier writes are queued, which keeps the order.
  uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  int n = uv_try_write(uv_stream(), &buf, 1);
  if (n == static_cast<int>(out_.size())) {
    out_.clear();
    // Why bound what is kept: one large reply must not pin its size for the
    // connection's life (thousands of clients).
    if (out_.capacity() > kKeptOutputBytes) std::string().swap(out_);
    last_io_ms_ = uv_now(tcp_.loop);
    if (messages > 0) handler_->on_messages(this, messages, 0);
    if (limits_.backpressure_bytes > 0) check_backpressure();
    if (output_full_) update_output_full();
    return;
  }
  if (n > 0) {
    bytes.assign(out_, static_cast<size_t>(n), std::string::npos);
    out_.clear();
  } else if (n == UV_EAGAIN || n == UV_ENOSYS) {
    bytes.swap(out_);
    out_.reserve(bytes.capacity());
  } else {
    out_.clear();
    if (messages > 0) handler_->on_messages(this, 0, messages);
    close("write-error " + error_text(n));
    return;
  }
  queue_write(std::move(bytes), messages);
}

void LineStream::write(std::string bytes) {
  if (closing_ || shutting_ || bytes.empty()) return;
  flush_output();
  if (closing_) return;
  queue_write(std::move(bytes), 0);
}

void LineStream::queue_write(std::string bytes, uint64_t messages) {
  auto* req = new WriteReq;
  req->bytes = std::move(bytes);
  req->messages = messages;
  req->req.data = req;
  uv_buf_t buf = uv_buf_init(req->bytes.data(), static_cast<unsigned>(req->bytes.size()));
  int rc = uv_write(&req->req, uv_stream(), &buf, 1, &LineStream::write_cb);
  if (rc != 0) {
    delete req;
    if (messages > 0) handler_->on_messages(this, 0, messages);
    close("write-error " + error_text(rc));
    return;
  }
  queued_bytes_ += req->bytes.size();
  update_output_full();
  if (limits_.backpressure_bytes > 0) check_backpressure();
}

void LineStream::on_write_done(size_t bytes, uint64_t messages, int status) {
  HERD_ASSERT(queued_bytes_ >= bytes);
  queued_bytes_ -= bytes;
  if (status == 0) last_io_ms_ = uv_now(tcp_.loop);
  if (messages > 0) handler_->on_messages(this, status == 0 ? messages : 0, status == 0 ? 0 : messages);
  if (status < 0 && status != UV_ECANCELED) {
    close("write-error " + error_text(status));
    return;
  }
  if (closing_) return;
  update_output_full();
  if (limits_.backpressure_bytes > 0) check_backpressure();
}

void LineStream::shutdown_and_close(std::string reason) {
  if (closing_ || shutting_) return;
  flush_output();
  if (closing_) return;
  shutting_ = true;
  close_reason_ = std::move(reason);
  update_reading();
  auto* req = new uv_shutdown_t;
  int rc = uv_shutdown(req, uv_stream(), &LineStream::shutdown_cb);
  if (rc != 0) {
    delete req;
    close(close_reason_);
  }
}

void LineStream::reset(std::string reason) {
  if (closing_) return;
  if (out_messages_ > 0) handler_->on_messages(this, 0, out_messages_);
  out_.clear();
  out_messages_ = 0;
  closing_ = true;
  close_reason_ = std::move(reason);
  close_handles(true);
}

void LineStream::close_handles(bool reset) {
  if (reading_) uv_read_stop(uv_stream());
  reading_ = false;
  idling_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), &LineStream::close_cb);
  if (reset && uv_tcp_close_reset(&tcp_, &LineStream::close_cb) == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &LineStream::close_cb);
}

void LineStream::close(std::string reason) {
  if (closing_) return;
  if (out_messages_ > 0) handler_->on_messages(this, 0, out_messages_);
  out_.clear();
  out_messages_ = 0;
  closing_ = true;
  if (!shutting_ || close_reason_.empty()) close_reason_ = std::move(reason);
  close_handles(false);
}

void LineStream::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (closing_) return;
  LiveClockBatch clock;  // One clock reading for the lines of this read.
  if (nread > 0) {
    last_io_ms_ = uv_now(tcp_.loop);
    framer_.feed(std::string_view(buf->base, static_cast<size_t>(nread)));
    deliver_lines();
    // Why copy: the read buffer is shared by every stream; held lines wait in ours.
    if (!closing_) framer_.keep_rest();
    if (!closing_) handler_->on_batch_end(this);
    update_reading();
  } else if (nread == UV_EOF) {
    on_end_of_input();
  } else if (nread < 0) {
    close("error " + error_text(static_cast<int>(nread)));
  }  // nread == 0: nothing was read (EAGAIN); libuv calls again.
}

// A new loop iteration: the stream's turn begins again, with the lines it holds.
void LineStream::on_idle() {
  turn_lines_ = 0;
  turn_ms_ = uv_now(tcp_.loop);
  if (framer_.has_rest() && can_deliver()) {
    LiveClockBatch clock;
    deliver_lines();
    if (!closing_) handler_->on_batch_end(this);
  }
  update_reading();
}

void LineStream::deliver_lines() {
  // A millisecond later is surely another loop iteration: a new turn.
  if (const uint64_t now_ms = uv_now(tcp_.loop); now_ms != turn_ms_) {
    turn_ms_ = now_ms;
    turn_lines_ = 0;
  }
  std::string_view line;
  int lines = 0;
  while (can_deliver() && turn_lines_ < limits_.lines_per_turn) {
    LineFramer::Status status = framer_.next(&line);
    if (status == LineFramer::Status::kNeedMore) return;
    if (status == LineFramer::Status::kTooLong) {
      handler_->on_line_too_long(this);
      return;
    }
    // Why refresh: a long batch must not stamp its last lines with its start time.
    if (++lines % kLiveClockLinesPerReading == 0) LiveClockBatch::refresh();
    ++turn_lines_;
    handler_->on_line(this, line);
  }
}

void LineStream::on_end_of_input() {
  eof_ = true;
  update_reading();
  std::string_view line;
  LineFramer::Status status = framer_.finish(&line);
  if (status == LineFramer::Status::kTooLong) {
    handler_->on_line_too_long(this);
    return;
  }
  if (status == LineFramer::Status::kLine) handler_->on_line(this, line);
  if (!closing_) handler_->on_batch_end(this);
  if (!closing_) handler_->on_eof(this);
}

void LineStream::alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
  // Why one buffer per thread: a read is framed before the next one is allocated,
  // and the framer copies any partial line out of it.
  thread_local char buffer[kReadBufferBytes];
  *buf = uv_buf_init(buffer, sizeof buffer);
}

void LineStream::read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  static_cast<LineStream*>(stream->data)->on_read(nread, buf);
}

void LineStream::write_cb(uv_write_t* req, int status) noexcept {
  auto* write = static_cast<WriteReq*>(req->data);
  auto* self = static_cast<LineStream*>(req->handle->data);
  size_t bytes = write->bytes.size();
  uint64_t messages = write->messages;
  delete write;
  self->on_write_done(bytes, messages, status);
}

void LineStream::connect_cb(uv_connect_t* req, int status) noexcept {
  auto* self = static_cast<LineStream*>(req->handle->data);
  delete req;
  if (status == UV_ECANCELED || self->closing_) return;
  if (status == 0) uv_tcp_nodelay(&self->tcp_, 1);
  self->handler_->on_connected(self, status);
}

void LineStream::shutdown_cb(uv_shutdown_t* req, int status) noexcept {
  auto* self = static_cast<LineStream*>(req->handle->data);
  delete req;
  (void)status;  // Whether the FIN went out or not, the connection is done.
  self->close(self->close_reason_);
}

void LineStream::idle_cb(uv_idle_t* handle) noexcept {
  static_cast<LineStream*>(handle->data)->on_idle();
}

void LineStream::close_cb(uv_handle_t* handle) noexcept {
  auto* self = static_cast<LineStream*>(handle->data);
  if (--self->open_handles_ > 0) return;
  self->handler_->on_closed(self);
  delete self;
}

}  // namespace herd
