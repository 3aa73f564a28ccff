#include "net/peer_link.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <optional>
#include <utility>

#include "net/log_writer.h"
#include "node/peer_wire.h"

namespace herd {

namespace {

LineStream::Limits peer_limits(const PeerLinkConfig& config) {
  LineStream::Limits limits;
  limits.max_line_bytes = config.max_line_bytes;
  // Why unbounded here: send() bounds the queue by dropping; pausing our reads
  // because our writes are slow could deadlock two servers flooding each other.
  limits.max_output_bytes = SIZE_MAX;
  return limits;
}

}  // namespace

PeerLink::PeerLink(uv_loop_t* loop, PeerLinkConfig config, LogWriter* log, Events* events)
    : loop_(loop),
      config_(std::move(config)),
      log_(log),
      events_(events),
      timer_(loop, [this] { on_timer(); }),
      backoff_ms_(config_.backoff_min_ms) {}

PeerLink::~PeerLink() { assert(stream_ == nullptr); }

void PeerLink::set_address(const struct sockaddr* address) {
  size_t size = address->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in);
  memcpy(&config_.address, address, size);
}

void PeerLink::start() {
  if (config_.dials) dial();
}

void PeerLink::dial() {
  if (stopped_ || suspended_ || stream_ != nullptr) return;
  stream_ = LineStream::create(loop_, this, 0, peer_limits(config_));
  int rc = stream_->connect(reinterpret_cast<const struct sockaddr*>(&config_.address));
  if (rc != 0) stream_->close(std::string("connect ") + uv_strerror(rc));
}

void PeerLink::on_connected(LineStream* stream, int status) {
  if (stream != stream_) return;
  if (status != 0) {
    stream->close(std::string("connect ") + uv_strerror(status));
    return;
  }
  stream->start_reading();
  stream->write(make_peer_hello(config_.self, config_.peer) + "\n");
  timer_.start(config_.hello_timeout_ms);
}

void PeerLink::adopt(LineStream* stream) {
  if (stopped_ || suspended_) {
    stream->close(stopped_ ? "shutdown" : "crashed");
    return;
  }
  stream->set_handler(this);
  stream->set_limits(peer_limits(config_));
  LineStream* old = stream_;
  bool was_up = up_;
  stream_ = nullptr;
  up_ = false;
  if (old != nullptr) {
    old->close("replaced");  // Its on_closed is ignored: it is no longer current.
    if (was_up) {
      log_->event("peer-down", config_.peer, "replaced");
      events_->on_peer_down(config_.index);
    }
  }
  timer_.stop();
  stream_ = stream;
  stream->write(make_peer_hello(config_.self, config_.peer) + "\n");
  mark_up("accepted", "c" + std::to_string(stream->id()));
}

void PeerLink::mark_up(const char* how, std::string_view detail) {
  up_ = true;
  last_down_.clear();
  backoff_ms_ = config_.backoff_min_ms;
  std::string text(how);
  if (!detail.empty()) text.append(" ").append(detail);
  log_->event("peer-up", config_.peer, text);
  events_->on_peer_up(config_.index);
}

void PeerLink::on_line(LineStream* stream, std::string_view line) {
  if (stream != stream_) return;
  if (!up_) {  // We dialed: the first line must be the answer to our hello.
    std::optional<PeerHello> hello = parse_peer_hello(line);
    if (!hello || hello->from != config_.peer || hello->to != config_.self) {
      log_->event("recv", config_.peer, line);
      stream->close("bad-hello");
      return;
    }
    timer_.stop();
    mark_up("dialed", stream->remote_address());
    return;
  }
  log_->event("recv", config_.peer, line);
  events_->on_peer_message(config_.index, line);
}

void PeerLink::on_eof(LineStream* stream) { stream->close("eof"); }

void PeerLink::on_closed(LineStream* stream) {
  if (stream != stream_) return;
  stream_ = nullptr;
  bool was_up = up_;
  up_ = false;
  // Why compare: a neighbour that is not running would log every retry.
  if (was_up || stream->close_reason() != last_down_) {
    log_->event("peer-down", config_.peer, stream->close_reason());
  }
  last_down_ = stream->close_reason();
  if (stopped_) return;
  if (was_up) events_->on_peer_down(config_.index);
  if (config_.dials && !suspended_) schedule_retry();
}

void PeerLink::schedule_retry() {
  timer_.start(backoff_ms_);
  backoff_ms_ = std::min(backoff_ms_ * 2, config_.backoff_max_ms);
}

void PeerLink::on_timer() {
  if (stopped_ || suspended_) return;
  if (stream_ == nullptr) {
    dial();
  } else if (!up_) {
    stream_->close("hello-timeout");
  }
}

void PeerLink::close() {
  if (stopped_) return;
  stopped_ = true;
  timer_.close();
  if (stream_ != nullptr) stream_->close("shutdown");
}

void PeerLink::suspend(std::string_view reason) {
  if (stopped_ || suspended_) return;
  suspended_ = true;
  timer_.stop();
  if (stream_ != nullptr) stream_->close(std::string(reason));
}

void PeerLink::resume() {
  if (stopped_ || !suspended_) return;
  suspended_ = false;
  backoff_ms_ = config_.backoff_min_ms;
  // A connection closed by suspend() may not have reported yet; its on_closed
  // schedules the retry instead.
  if (config_.dials && stream_ == nullptr) dial();
}

void PeerLink::send(std::string_view message) {
  const char* why = nullptr;
  if (!up_ || stream_->ending()) {  // Closing: on_closed has not run yet.
    why = "down";
  } else if (stream_->queued_bytes() + message.size() + 1 > config_.max_queued_bytes) {
    why = "queue-full";
  }
  if (why != nullptr) {
    ++dropped_;
    std::string text(why);
    text.append(" ").append(message);
    log_->event("drop", config_.peer, text);
    return;
  }
  log_->event("send", config_.peer, message);
  ++sent_;
  // Why buffer: one write per message was most of the herd's CPU; the server
  // flushes every link at the end of each read batch and loop iteration.
  stream_->buffer_output(message, true);
}

void PeerLink::flush() {
  if (stream_ != nullptr) stream_->flush_output();
}

}  // namespace herd
