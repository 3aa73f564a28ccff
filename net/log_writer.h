// One server's log file, <log-dir>/<Name>.log, appended to. One event per line:
//
//   2026-11-22T03:52:22.123456Z <event> <subject> [<text>]
//
// The time is UTC wall time in microseconds. <text> is escaped so that every event
// stays on one line: '\n' becomes "\n", and every other byte outside printable
// ASCII (0x20..0x7e), and the backslash itself, becomes "\xNN". Events:
//   start <Name> <pid>                   the server starts (first line of a run)
//   listen <Name> <host>:<port>          its listener is bound
//   accept c7 127.0.0.1:50522            a connection is accepted (c<N> per server)
//   reject - 127.0.0.1:50523 too-many-clients   accepted and closed at once
//   in c7 <line>                         a client line (terminator removed)
//   out c7 <reply>                       a reply written (whole, "\n" escaped)
//   close c7 eof|error <why>|line-too-long|write-error <why>|shutdown [(N owed)]
//   peer-up Jaquez dialed 127.0.0.1:12001|accepted c7   a peer link is identified
//   peer-down Jaquez <reason>            a peer link is lost, or a dial failed
//   send Jaquez FLOOD 1 AT ...           a message written to a peer
//   recv Jaquez FLOOD 1 AT ...           a message read from a peer
//   drop Jaquez down|queue-full <msg>    a message the link could not take
//   drop c7 closed <reply>               a reply whose client is gone
//   places-request c7 r3 GET http://...  a Places request (never the key)
//   places-result c7 r3 200 123ms        its outcome: HTTP status or "failed <why>",
//                                        then the latency
//   note - <text>                        the core's own decisions (kLog)
//   stop <Name> <signal|request>         shutdown begins
//   log <Name> events ...                at level events only: which lines it leaves out
//
// Levels (LogLevel, `--log`): kAll writes every event above. kEvents leaves out the
// per-message ones (in, out, send, recv: message()), and says so in a `log` line
// after `start`. kOff writes nothing: the host never opens a file.
//
// Bounds. An event's text longer than kTextBytesMax bytes is logged as its first
// kTextBytesMax bytes, then "...(N bytes)" with its whole size: one client line of
// 64 KiB costs about a kilobyte in each event that shows it, not 64 KiB (or 256 KiB
// escaped). A file that would pass `max_file_bytes` (open()'s argument; 0: no cap) is
// rotated at a line boundary: <Name>.log becomes <Name>.log.1 (an older .1 is
// dropped) and a new <Name>.log begins; so a server's logs take at most twice the cap.
//
// Events are buffered; a ~100 ms timer, or more than 1 MiB of buffered text, hands
// the buffer to libuv's threadpool to be written (the loop never waits for the
// disk; the writing thread runs at a lower priority), one write in flight at a time
// so lines stay in order. Only when 64 MiB
// more have piled up behind a write still in flight does event() write
// synchronously (never dropping a line). close() and the destructor write
// everything still buffered: a clean shutdown loses no line.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <uv.h>

#include "node/result.h"

namespace herd {

class Timer;

enum class LogLevel : uint8_t { kAll, kEvents, kOff };
// "all", "events", "off"; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view text);
const char* log_level_name(LogLevel level);

// Appends `bytes` to `out`, escaped as above.
void append_log_escaped(std::string_view bytes, std::string* out);

// "2026-11-22T03:52:22.123456Z" for POSIX time `wall_ns`.
std::string format_log_time(int64_t wall_ns);

// Writes "2026-11-22T03:52:22" (19 bytes and a NUL) for POSIX second `sec`.
void format_log_date(int64_t sec, char* out);

// Writes ".uuuuuuZ" for `micros` (0..999999) into `out` (8 bytes, no NUL).
void format_log_micros(int64_t micros, char* out);

// A growable byte buffer appended to through raw pointers (no zero-filling).
struct LogBytes {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  size_t capacity = 0;
  // Room for `n` more bytes at data + size (the caller then adds to size).
  char* reserve_tail(size_t n);
  void swap(LogBytes& other) noexcept;
  bool empty() const { return size == 0; }
};

class LogWriter {
 public:
  static constexpr size_t kTextBytesMax = 1024;
  static constexpr size_t kFlushBytes = 1u << 20;
  static constexpr size_t kMaxBufferedBytes = 64u << 20;
  static constexpr uint64_t kFlushIntervalMs = 100;

  explicit LogWriter(uv_loop_t* loop, LogLevel level = LogLevel::kAll);
  // Writes what is still buffered; the file is closed once no write is in flight.
  // REQUIRES: close() was called; the loop runs on (or ran dry) so an in-flight
  // write completes.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Creates `path` (appending when it exists) and starts the flush timer. Past
  // `max_file_bytes` (> 0) the file is rotated (see above).
  Result<bool> open(const std::string& path, uint64_t max_file_bytes = 0);

  // Records one event at the current wall time (net/live_clock.h). `subject` is
  // written as is (a connection id, a peer name: no white space); `text` is escaped,
  // and cut past kTextBytesMax.
  // Nothing at kOff.
  void event(std::string_view word, std::string_view subject, std::string_view text = {}) {
    if (level_ != LogLevel::kOff) write_event(word, subject, text);
  }
  // A per-message event (in, out, send, recv): written at kAll only.
  void message(std::string_view word, std::string_view subject, std::string_view text) {
    if (level_ == LogLevel::kAll) write_event(word, subject, text);
  }
  // Whether message() writes: a caller that must build the text asks first.
  bool messages() const { return level_ == LogLevel::kAll; }
  LogLevel level() const { return level_; }

  // Writes everything buffered to the file now, on this thread (after the write in
  // flight, if any).
  void flush();

  // Stops and closes the timer (its memory is freed in the close callback) and
  // writes what is buffered. Events may still be recorded afterwards; the destructor
  // writes them.
  void close();

 private:
  struct File;
  void write_event(std::string_view word, std::string_view subject, std::string_view text);
  // Hands the buffer to the threadpool unless a write is in flight.
  void start_write();
  static void work_cb(uv_work_t* req) noexcept;
  static void after_work_cb(uv_work_t* req, int status) noexcept;

  uv_loop_t* loop_;
  LogLevel level_;
  std::shared_ptr<File> file_;  // Null before open(); shared with a write in flight.
  LogBytes buffer_;             // Filling.
  std::unique_ptr<Timer> timer_;  // Flushes; null before open() and after close().
  bool in_flight_ = false;
  int64_t cached_sec_ = INT64_MIN;  // Why: formatting the date is the costly part.
  char cached_prefix_[24] = {};
};

}  // namespace herd
