// Splits a byte stream into lines (PROTOCOL.md's framing), with no I/O: feed it
// the bytes of one read, then pull lines until it needs more. A line ends at '\n'
// and a '\r' just before it is dropped; at EOF the unterminated rest, if any, is a
// final line. A line longer than `max_line_bytes` (terminator excluded) is an
// error that ends the stream, unless the caller calls skip_long_line() to drop
// that line and go on with the next: its bytes are never buffered past the cap.
//
// A returned line is a view into either the fed chunk or the framer's own buffer,
// valid until the next call to any method: the caller handles it at once.
//
// A caller that stops pulling lines before the chunk is consumed (its reader is
// held back) calls keep_rest(): the unconsumed bytes are copied into the framer, so
// the chunk's memory may be reused, and next() goes on from the copy later. The copy
// is at most one chunk: the caller feeds nothing more until it is consumed.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace herd {

class LineFramer {
 public:
  explicit LineFramer(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  enum class Status {
    kLine,      // *line holds the next complete line.
    kNeedMore,  // Every fed byte is consumed: feed the next chunk (or call finish).
    kTooLong,   // A line exceeded the cap; the framer is dead (see skip_long_line).
  };

  // REQUIRES: the previous chunk is consumed (next() returned kNeedMore), and the
  // chunk's bytes stay valid until then (lines may point into them).
  void feed(std::string_view chunk);

  Status next(std::string_view* line);

  // At EOF: kLine with the unterminated rest (once), then kNeedMore.
  // REQUIRES: the fed chunk is consumed.
  Status finish(std::string_view* line);

  // After kTooLong: forget that line (the rest of it, up to its '\n', is dropped as
  // it is fed) and frame the lines after it. REQUIRES: next() returned kTooLong.
  void skip_long_line();

  // Copies the unconsumed rest of the fed chunk into the framer (see above).
  void keep_rest();
  // Whether fed bytes wait to be framed (next() may return a line without a feed).
  bool has_rest() const { return !chunk_.empty(); }

  size_t buffered_bytes() const { return partial_.size() + kept_.size(); }
  size_t max_line_bytes() const { return max_line_bytes_; }
  void set_max_line_bytes(size_t max_line_bytes) { max_line_bytes_ = max_line_bytes; }

 private:
  static std::string_view chop_cr(std::string_view line);
  Status emit_partial(std::string_view* line);

  size_t max_line_bytes_;
  std::string_view chunk_;   // Unconsumed part of the fed chunk.
  std::string partial_;      // A line begun in an earlier chunk.
  std::string kept_;         // keep_rest()'s copy; chunk_ points into it.
  bool partial_emitted_ = false;  // partial_ was returned as a line: clear it first.
  bool dead_ = false;
  bool long_line_open_ = false;   // kTooLong came before the long line's '\n'.
  bool skipping_ = false;         // Dropping the rest of a long line.
};

}  // namespace herd
