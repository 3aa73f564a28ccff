// A TCP connection that speaks in lines. It owns its uv_tcp_t (and a uv_idle_t for
// lines it holds back) and lives on the heap: the object deletes itself in the last
// close callback, after telling its handler (Handler::on_closed is always the last
// event). Input is framed by a LineFramer; every write() is one uv_write whose
// request owns its bytes, and buffer_output() collects small messages for one
// flush_output().
//
// Flow control: lines are delivered only while nothing holds the stream back: the
// handler (hold_reading), the host (set_paused), or its output: more than
// `max_output_bytes` owed, counting the bytes queued for writing and the bytes the
// handler reserved for replies still to come (set_reserved_bytes), until that falls
// to half. A line not delivered stays buffered, unprocessed (at most one read's
// worth, kReadBufferBytes): reading stops, not just the next read. And at most
// `lines_per_turn` lines are delivered per loop iteration, so one busy connection cannot
// keep the loop from the others: the rest wait for the next iteration (an idle
// handle), and reading resumes once they are delivered.
//
// The handler may change during the stream's life (a connection accepted as a
// client that identifies itself as a peer server is handed to that peer's link);
// the lines left in the current read go to the new handler. Any method may be
// called from inside a handler callback: close() only marks the stream and asks
// libuv to close it, and no further line is delivered once it has; a hold released
// from inside a callback delivers the held lines from the loop, never re-entrantly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <uv.h>

#include "net/line_framer.h"

namespace herd {

class LineStream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_line(LineStream* stream, std::string_view line) = 0;
    // After the lines of one read were delivered (a good point to coalesce writes).
    virtual void on_batch_end(LineStream* stream) { (void)stream; }
    // The peer half-closed; any final unterminated line was delivered first.
    virtual void on_eof(LineStream* stream) = 0;
    // The result of connect(): 0 or a libuv error.
    virtual void on_connected(LineStream* stream, int status) { (void)stream, (void)status; }
    // The handle is closed; the stream is deleted as soon as this returns.
    virtual void on_closed(LineStream* stream) = 0;
    // Counted messages (buffer_output's `messages`) that reached the kernel
    // (`written`) or died unwritten with the connection (`lost`).
    virtual void on_messages(LineStream* stream, uint64_t written, uint64_t lost) {
      (void)stream, (void)written, (void)lost;
    }
    // The bytes not yet written went over Limits::backpressure_bytes (true), or back
    // under half of it (false).
    virtual void on_backpressure(LineStream* stream, bool full) { (void)stream, (void)full; }
    // A line went past max_line_bytes, so no more lines can be framed. By default
    // the stream closes at once; a handler may write a last answer first and then
    // call shutdown_and_close (which stops reading) instead.
    virtual void on_line_too_long(LineStream* stream) { stream->close("line-too-long"); }
  };

  // Lines delivered per loop iteration at most, by default (see above).
  static constexpr size_t kLinesPerTurn = 64;
  // The output buffer's memory kept between flushes (reused: no allocation per write).
  static constexpr size_t kKeptOutputBytes = 256 * 1024;
  // One read's bytes: what a held stream may keep unprocessed.
  static constexpr size_t kReadBufferBytes = 64 * 1024;

  struct Limits {
    size_t max_line_bytes = 64 * 1024;
    size_t max_output_bytes = 4u << 20;  // Past it (owed bytes), lines stop until half.
    size_t backpressure_bytes = 0;       // > 0: on_backpressure at this many unwritten bytes.
    size_t lines_per_turn = kLinesPerTurn;
  };

  // Creates an unconnected stream (uv_tcp_init); follow with open_accepted or connect.
  static LineStream* create(uv_loop_t* loop, Handler* handler, uint64_t id, Limits limits);

  // Takes an accepted socket (net/listener.h), then TCP_NODELAY. On failure the
  // socket is closed, the stream closes itself (with on_closed) and the libuv error
  // is returned.
  int open_accepted(int fd);
  // Starts a connection; on_connected follows (then call start_reading()).
  int connect(const struct sockaddr* address);
  void start_reading();

  // Queues `bytes` to be written whole (after any buffered output). Ignored once
  // the stream is closing.
  void write(std::string bytes);

  // Buffers `bytes` (then '\n' when `newline`); nothing is written until
  // flush_output(), which writes everything buffered at once (uv_try_write, the rest
  // in one uv_write). Ignored once the stream is closing. `messages` counts for
  // on_messages: a flush's messages are written when all of its bytes are.
  void buffer_output(std::string_view bytes, bool newline, uint32_t messages = 0);
  void flush_output();
  bool has_buffered_output() const { return !out_.empty(); }

  // Stops (true) or resumes (false) delivering lines on the handler's behalf.
  void hold_reading(bool hold);
  // The same on the host's behalf (a paused server), independent of the handler's.
  void set_paused(bool paused);
  // Bytes the handler owes this connection beyond what it has written (replies it is
  // still putting together): they count against max_output_bytes.
  void set_reserved_bytes(size_t bytes);

  // Closes after every queued write has gone out (uv_shutdown, then close).
  void shutdown_and_close(std::string reason);
  // Closes now; queued writes are abandoned.
  void close(std::string reason);
  // Closes now with a TCP reset (the peer sees ECONNRESET; nothing more is sent).
  void reset(std::string reason);

  void set_handler(Handler* handler) { handler_ = handler; }
  void set_limits(Limits limits);
  uint64_t id() const { return id_; }
  bool closing() const { return closing_; }
  bool ending() const { return closing_ || shutting_; }
  bool eof() const { return eof_; }
  // Bytes handed to write() or buffer_output() that have not gone out yet.
  size_t queued_bytes() const { return queued_bytes_ + out_.size(); }
  // What counts against max_output_bytes: queued_bytes() and the reserved bytes.
  size_t owed_bytes() const { return queued_bytes() + reserved_bytes_; }
  // Whether lines wait undelivered (the stream is held back, or its turn is over).
  bool has_held_lines() const { return framer_.has_rest(); }
  // uv_now() when bytes were last read from or written to the socket (or it opened).
  uint64_t last_io_ms() const { return last_io_ms_; }
  const std::string& close_reason() const { return close_reason_; }
  const std::string& remote_address() const { return remote_address_; }
  uv_stream_t* uv_stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

 private:
  LineStream(uv_loop_t* loop, Handler* handler, uint64_t id, Limits limits);
  ~LineStream() = default;
  bool can_deliver() const;
  void update_reading();
  void update_output_full();
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_idle();
  void deliver_lines();
  void close_handles(bool reset);
  void on_end_of_input();
  void queue_write(std::string bytes, uint64_t messages);
  void on_write_done(size_t bytes, uint64_t messages, int status);
  void check_backpressure();

  static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void write_cb(uv_write_t* req, int status) noexcept;
  static void connect_cb(uv_connect_t* req, int status) noexcept;
  static void shutdown_cb(uv_shutdown_t* req, int status) noexcept;
  static void close_cb(uv_handle_t* handle) noexcept;
  static void idle_cb(uv_idle_t* handle) noexcept;

  uv_tcp_t tcp_;
  uv_idle_t idle_;  // Active while held lines can be delivered, or a turn is over.
  int open_handles_ = 2;
  Handler* handler_;
  uint64_t id_;
  Limits limits_;
  LineFramer framer_;
  size_t queued_bytes_ = 0;  // In uv_write requests.
  std::string out_;          // Buffered by buffer_output(), not yet written.
  uint64_t out_messages_ = 0;  // Counted messages in out_.
  size_t reserved_bytes_ = 0;
  size_t turn_lines_ = 0;      // Lines delivered in this turn (loop iteration).
  uint64_t turn_ms_ = 0;       // uv_now() when the turn began.
  uint64_t last_io_ms_ = 0;
  bool backpressure_ = false;
  bool started_ = false, reading_ = false, idling_ = false, held_ = false, paused_ = false;
  bool output_full_ = false;
  bool eof_ = false, shutting_ = false, closing_ = false;
  std::string close_reason_;
  std::string remote_address_;
};

}  // namespace herd
