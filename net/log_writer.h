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
//
// Events are buffered and written by a ~100 ms timer, at once past 8 MiB of
// buffered text, and on destruction: a clean shutdown loses no line.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "node/result.h"

namespace herd {

class Timer;

// Appends `bytes` to `out`, escaped as above.
void append_log_escaped(std::string_view bytes, std::string* out);

// "2026-11-22T03:52:22.123456Z" for POSIX time `wall_ns`.
std::string format_log_time(int64_t wall_ns);

class LogWriter {
 public:
  static constexpr size_t kFlushBytes = 8u << 20;
  static constexpr uint64_t kFlushIntervalMs = 100;

  explicit LogWriter(uv_loop_t* loop);
  ~LogWriter();  // Flushes; closes the file. The timer must have been close()d.
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Creates `path` (appending when it exists) and starts the flush timer.
  Result<bool> open(const std::string& path);

  // Records one event at the current wall time. `subject` is written as is (a
  // connection id, a peer name: no white space); `text` is escaped.
  void event(std::string_view word, std::string_view subject, std::string_view text = {});

  // Writes the buffer to the file now.
  void flush();

  // Stops and closes the timer (its memory is freed in the close callback). Events
  // may still be recorded afterwards; the destructor writes them.
  void close();

 private:
  void write_all(const char* data, size_t size);

  uv_loop_t* loop_;
  int fd_ = -1;
  std::string path_;
  std::string buffer_;
  std::unique_ptr<Timer> timer_;  // Flushes; null before open() and after close().
  bool write_failed_ = false;
  int64_t cached_sec_ = -1;   // Why: formatting the date is the costly part.
  std::string cached_prefix_;
};

}  // namespace herd
