#include "node/check.h"
#include "net/client_conn.h"

#include <utility>

#include "net/log_writer.h"

namespace herd {

ClientConn::ClientConn(ConnId id, LineStream* stream, LogWriter* log)
    : id_(id), label_("c" + std::to_string(id)), stream_(stream), log_(log) {}

void ClientConn::end_batch() {
  batching_ = false;
  flush();
  update_reserved();
}

void ClientConn::add_reply(std::string bytes, uint64_t echo_of) {
  ready_bytes_ += bytes.size();
  slots_.push_back(Slot{0, true, echo_of, std::move(bytes)});
  if (!batching_) flush();
  update_reserved();
}

void ClientConn::open_pending(RequestId request) {
  HERD_ASSERT(request != 0);
  slots_.push_back(Slot{request, false, 0, {}});
  ++pending_;
  update_hold();
  update_reserved();
}

bool ClientConn::fill(RequestId request, std::string bytes) {
  for (Slot& slot : slots_) {
    if (slot.request != request || slot.ready) continue;
    slot.ready = true;
    slot.bytes = std::move(bytes);
    ready_bytes_ += slot.bytes.size();
    --pending_;
    update_hold();
    if (!batching_) flush();
    update_reserved();
    return true;
  }
  return false;
}

void ClientConn::on_eof() {
  eof_ = true;
  flush();
  update_reserved();
}

void ClientConn::flush() {
  if (stream_ == nullptr || stream_->ending()) return;
  bool any = false;
  while (!slots_.empty() && slots_.front().ready) {
    Slot& slot = slots_.front();
    ready_bytes_ -= slot.bytes.size();
    if (log_->messages()) {
      if (slot.echo_of > 0) {
        // Why not the bytes: they are the line its `in` event shows (a 64 KiB line twice).
        log_->message("out", label_, "? <line " + std::to_string(slot.echo_of) + ">");
      } else {
        log_->message("out", label_, slot.bytes);
      }
    }
    // Why the stream's buffer: its memory is reused, and a socket that takes the
    // bytes at once needs no write request (no allocation per reply).
    stream_->buffer_output(slot.bytes, false, 0);
    any = true;
    slots_.pop_front();
  }
  // Why one write: a client that reads once must get each reply whole.
  if (any) stream_->flush_output();
  if (eof_ && slots_.empty()) stream_->shutdown_and_close("eof");
}

void ClientConn::update_reserved() {
  if (stream_ == nullptr) return;
  stream_->set_reserved_bytes(ready_bytes_ + pending_ * kPendingReplyReserveBytes);
}

void ClientConn::update_hold() {
  if (stream_ == nullptr) return;
  bool hold = held_ ? pending_ > kMaxPendingSlots / 2 : pending_ >= kMaxPendingSlots;
  if (hold == held_) return;
  held_ = hold;
  stream_->hold_reading(hold);
}

}  // namespace herd
