#include "node/check.h"
#include "net/line_framer.h"


namespace herd {

void LineFramer::feed(std::string_view chunk) {
  HERD_ASSERT(chunk_.empty());
  // Why release: a connection that was held once should not keep a chunk's copy.
  if (!kept_.empty()) std::string().swap(kept_);
  chunk_ = chunk;
}

void LineFramer::keep_rest() {
  if (chunk_.empty()) return;
  const bool kept = !kept_.empty() && chunk_.data() >= kept_.data() &&
                    chunk_.data() + chunk_.size() <= kept_.data() + kept_.size();
  if (kept) return;  // Already the framer's own bytes.
  kept_.assign(chunk_.data(), chunk_.size());
  chunk_ = kept_;
}

std::string_view LineFramer::chop_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

LineFramer::Status LineFramer::emit_partial(std::string_view* line) {
  std::string_view text = chop_cr(partial_);
  if (text.size() > max_line_bytes_) {
    dead_ = true;
    return Status::kTooLong;
  }
  partial_emitted_ = true;
  *line = text;
  return Status::kLine;
}

void LineFramer::skip_long_line() {
  HERD_ASSERT(dead_);
  dead_ = false;
  skipping_ = long_line_open_;
  long_line_open_ = false;
  partial_.clear();
  partial_emitted_ = false;
}

LineFramer::Status LineFramer::next(std::string_view* line) {
  if (dead_) return Status::kTooLong;
  if (partial_emitted_) {
    partial_.clear();
    partial_emitted_ = false;
  }
  size_t end = chunk_.find('\n');
  if (skipping_) {
    if (end == std::string_view::npos) {
      chunk_ = {};
      return Status::kNeedMore;
    }
    chunk_.remove_prefix(end + 1);
    skipping_ = false;
    end = chunk_.find('\n');
  }
  if (end == std::string_view::npos) {
    // Why +1: a '\r' that the next chunk's '\n' will drop may end the buffer.
    if (partial_.size() + chunk_.size() > max_line_bytes_ + 1) {
      dead_ = true;
      long_line_open_ = true;
      partial_.clear();
      chunk_ = {};
      return Status::kTooLong;
    }
    partial_.append(chunk_);
    chunk_ = {};
    return Status::kNeedMore;
  }
  std::string_view head = chunk_.substr(0, end);
  chunk_.remove_prefix(end + 1);
  if (partial_.empty()) {
    std::string_view text = chop_cr(head);
    if (text.size() > max_line_bytes_) {
      dead_ = true;
      return Status::kTooLong;
    }
    *line = text;
    return Status::kLine;
  }
  if (partial_.size() + head.size() > max_line_bytes_ + 1) {
    dead_ = true;
    partial_.clear();
    return Status::kTooLong;
  }
  partial_.append(head);
  return emit_partial(line);
}

LineFramer::Status LineFramer::finish(std::string_view* line) {
  HERD_ASSERT(chunk_.empty());
  if (dead_) return Status::kTooLong;
  if (skipping_) return Status::kNeedMore;  // The long line ended at EOF.
  if (partial_emitted_ || partial_.empty()) {
    partial_.clear();
    partial_emitted_ = false;
    return Status::kNeedMore;
  }
  // The final unterminated line keeps a trailing '\r' out, as a terminated one would.
  return emit_partial(line);
}

}  // namespace herd
