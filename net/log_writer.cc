#include "net/log_writer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/live_clock.h"
#include "net/uv_timer.h"

namespace herd {

namespace {

// Per byte: 0 copied as is, 1 "\n", 2 "\xNN".
constexpr std::array<uint8_t, 256> make_escape_table() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    if (c == '\n') {
      table[c] = 1;
    } else if (c < 0x20 || c > 0x7e || c == '\\') {
      table[c] = 2;
    }
  }
  return table;
}
constexpr std::array<uint8_t, 256> kEscape = make_escape_table();

// The threadpool thread that writes a log runs at this nice value (see work_cb).
constexpr int kWriterNice = 10;

// Whether any of the 8 bytes of `w` needs escaping: some byte < 0x20 (the classic
// "has less than" test), >= 0x7f (b + 1 or b has its top bit; a carry can only come
// from a byte that is itself >= 0x7f), or == '\\' (the "has zero" test). A false
// yes would only cost speed: the caller then looks at the bytes one by one.
inline bool word_needs_escape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  uint64_t del_or_high = ((w + kOnes) | w) & kHighs;
  uint64_t x = w ^ (kOnes * '\\');
  uint64_t backslash = (x - kOnes) & ~x & kHighs;
  return (below_space | del_or_high | backslash) != 0;
}

// The index of the first byte at or after `i` that needs escaping, or `n`.
inline size_t next_escape(const char* data, size_t i, size_t n) {
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, data + i, 8);
    if (word_needs_escape(w)) break;
    i += 8;
  }
  while (i < n && kEscape[static_cast<unsigned char>(data[i])] == 0) ++i;
  return i;
}

// Writes `bytes` escaped at `out` (room for 4 bytes per input byte); returns the end.
char* escape_to(std::string_view bytes, char* out) {
  static const char kHex[] = "0123456789abcdef";
  const char* data = bytes.data();
  const size_t n = bytes.size();
  size_t i = 0;
  while (true) {
    size_t j = next_escape(data, i, n);
    memcpy(out, data + i, j - i);
    out += j - i;
    if (j == n) return out;
    unsigned char c = static_cast<unsigned char>(data[j]);
    if (c == '\n') {
      out[0] = '\\';
      out[1] = 'n';
      out += 2;
    } else {
      out[0] = '\\';
      out[1] = 'x';
      out[2] = kHex[c >> 4];
      out[3] = kHex[c & 15];
      out += 4;
    }
    i = j + 1;
  }
}

}  // namespace

void append_log_escaped(std::string_view bytes, std::string* out) {
  size_t old = out->size();
  out->resize(old + 4 * bytes.size());
  char* end = escape_to(bytes, out->data() + old);
  out->resize(static_cast<size_t>(end - out->data()));
}

char* LogBytes::reserve_tail(size_t n) {
  if (capacity - size < n) {
    size_t grown = std::max({capacity * 2, size + n, size_t{64} << 10});
    std::unique_ptr<char[]> bigger(new char[grown]);
    if (size > 0) memcpy(bigger.get(), data.get(), size);
    data = std::move(bigger);
    capacity = grown;
  }
  return data.get() + size;
}

void LogBytes::swap(LogBytes& other) noexcept {
  std::swap(data, other.data);
  std::swap(size, other.size);
  std::swap(capacity, other.capacity);
}

void format_log_date(int64_t sec, char* out) {
  time_t t = static_cast<time_t>(sec);
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm_utc);
}

void format_log_micros(int64_t micros, char* out) {
  out[0] = '.';
  for (int i = 6; i >= 1; --i) {
    out[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  out[7] = 'Z';
}

std::string format_log_time(int64_t wall_ns) {
  int64_t sec = wall_ns / kNsPerSec;
  int64_t us = (wall_ns % kNsPerSec) / 1000;
  if (us < 0) {  // Before 1970: keep the fraction positive.
    sec -= 1;
    us += 1'000'000;
  }
  char text[32];
  format_log_date(sec, text);
  format_log_micros(us, text + 19);
  return std::string(text, 27);
}

// The file and the batch being written, shared by the loop thread and the
// threadpool; `mu` orders the writes (the one in flight, then any synchronous one).
struct LogWriter::File {
  std::mutex mu;
  int fd = -1;
  std::string path;
  uint64_t max_bytes = 0;     // 0: no cap.
  uint64_t file_bytes = 0;    // Of the file now; under mu.
  bool write_failed = false;  // Under mu.
  bool rotate_failed = false;  // Under mu.
  LogBytes in_flight;         // Handed to the threadpool; the loop touches it only
  bool written = true;        // ... while written (under mu) or in after_work.
  uv_work_t work;
  std::shared_ptr<File> keep;  // Set while a write is in flight.
  LogWriter* owner = nullptr;  // Loop thread only; null once the writer is gone.

  ~File() {
    if (fd >= 0) ::close(fd);
  }

  // REQUIRES: mu held.
  void write_all(const char* data, size_t size) {
    if (fd < 0) return;
    while (size > 0) {
      ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!write_failed) {  // Why once: a full disk would otherwise flood stderr.
          fprintf(stderr, "herd: writing %s: %s (log lines lost)\n", path.c_str(),
                  strerror(errno));
          write_failed = true;
        }
        return;
      }
      data += n;
      size -= static_cast<size_t>(n);
      file_bytes += static_cast<uint64_t>(n);
    }
  }
  // Writes whole lines, rotating the file where the next would pass the cap (a line
  // longer than the cap goes whole into a file of its own). REQUIRES: mu held.
  void write_capped(const char* data, size_t n) {
    while (n > 0) {
      const uint64_t room = file_bytes < max_bytes ? max_bytes - file_bytes : 0;
      if (max_bytes == 0 || n <= room) return write_all(data, n);
      const void* last = room == 0 ? nullptr : memrchr(data, '\n', static_cast<size_t>(room));
      size_t take = last == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(last) - data) + 1;
      if (take == 0 && file_bytes == 0) {
        const void* end = memchr(data, '\n', n);
        take = end == nullptr ? n : static_cast<size_t>(static_cast<const char*>(end) - data) + 1;
      }
      write_all(data, take);
      data += take;
      n -= take;
      if (n > 0) rotate();
    }
  }
  // <path> -> <path>.1, and a new <path>. REQUIRES: mu held.
  void rotate() {
    if (fd >= 0) ::close(fd);
    const std::string older = path + ".1";
    fd = -1;
    if (::rename(path.c_str(), older.c_str()) == 0) {
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    }
    file_bytes = 0;
    if (fd < 0 && !rotate_failed) {  // Why once: as for a failed write.
      fprintf(stderr, "herd: rotating %s: %s (log lines lost)\n", path.c_str(), strerror(errno));
      rotate_failed = true;
    }
  }
  // REQUIRES: mu held.
  void write_in_flight() {
    if (written) return;
    write_capped(in_flight.data.get(), in_flight.size);
    written = true;
  }
};

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "all") return LogLevel::kAll;
  if (text == "events") return LogLevel::kEvents;
  if (text == "off") return LogLevel::kOff;
  return std::nullopt;
}

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kAll:
      return "all";
    case LogLevel::kEvents:
      return "events";
    case LogLevel::kOff:
      return "off";
  }
  return "all";
}

LogWriter::LogWriter(uv_loop_t* loop, LogLevel level) : loop_(loop), level_(level) {}

LogWriter::~LogWriter() {
  flush();
  timer_.reset();
  if (file_) file_->owner = nullptr;  // A write in flight keeps the file open.
}

Result<bool> LogWriter::open(const std::string& path, uint64_t max_file_bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot open log file " + path + ": " + strerror(errno)};
  file_ = std::make_shared<File>();
  file_->fd = fd;
  file_->path = path;
  file_->max_bytes = max_file_bytes;
  struct stat st;
  if (fstat(fd, &st) == 0) file_->file_bytes = static_cast<uint64_t>(st.st_size);
  file_->owner = this;
  file_->work.data = file_.get();
  timer_ = std::make_unique<Timer>(loop_, [this] { start_write(); });
  timer_->start(kFlushIntervalMs, kFlushIntervalMs);
  return true;
}

void LogWriter::write_event(std::string_view word, std::string_view subject, std::string_view text) {
  int64_t wall_ns = live_now().wall_ns;
  int64_t sec = wall_ns / kNsPerSec;
  int64_t us = (wall_ns % kNsPerSec) / 1000;
  if (us < 0) {
    sec -= 1;
    us += 1'000'000;
  }
  if (sec != cached_sec_) {
    cached_sec_ = sec;
    format_log_date(sec, cached_prefix_);
  }
  // Why cut: a long line would cost its whole size (four times, escaped) in every
  // event that shows it.
  const size_t whole = text.size();
  if (whole > kTextBytesMax) text = text.substr(0, kTextBytesMax);
  char cut[32];
  const int cut_len = whole > kTextBytesMax ? snprintf(cut, sizeof cut, "...(%zu bytes)", whole) : 0;
  const size_t most = 28 + word.size() + 1 + subject.size() + 1 + 4 * text.size() + sizeof cut + 1;
  char* const start = buffer_.reserve_tail(most);
  char* out = start;
  memcpy(out, cached_prefix_, 19);
  format_log_micros(us, out + 19);
  out[27] = ' ';
  out += 28;
  memcpy(out, word.data(), word.size());
  out += word.size();
  if (!subject.empty()) {
    *out++ = ' ';
    memcpy(out, subject.data(), subject.size());
    out += subject.size();
  }
  if (!text.empty()) {
    *out++ = ' ';
    out = escape_to(text, out);
    memcpy(out, cut, static_cast<size_t>(cut_len));
    out += cut_len;
  }
  *out++ = '\n';
  buffer_.size += static_cast<size_t>(out - start);
  if (buffer_.size > kFlushBytes) {
    if (!in_flight_) {
      start_write();
    } else if (buffer_.size > kMaxBufferedBytes) {
      flush();  // Why: the disk is slower than the events; bound the memory.
    }
  }
}

void LogWriter::start_write() {
  if (in_flight_ || buffer_.empty() || !file_) return;
  {
    std::lock_guard<std::mutex> lock(file_->mu);
    file_->in_flight.swap(buffer_);  // buffer_ gets the old batch's (emptied) memory.
    file_->written = false;
  }
  buffer_.size = 0;
  file_->keep = file_;
  int rc = uv_queue_work(loop_, &file_->work, &LogWriter::work_cb, &LogWriter::after_work_cb);
  if (rc != 0) {  // No threadpool: write here.
    file_->keep.reset();
    std::lock_guard<std::mutex> lock(file_->mu);
    file_->write_in_flight();
    return;
  }
  in_flight_ = true;
}

void LogWriter::work_cb(uv_work_t* req) noexcept {
  auto* file = static_cast<File*>(req->data);
  // Why lower the priority: on a busy machine an equal-priority writer takes a core
  // from the loop (or from the clients) for milliseconds at a time, which showed as
  // the latency tail; at nice 10 it still keeps up, and past the cap event() writes
  // synchronously anyway. Linux only: the nice value is per thread there.
  thread_local bool niced = false;
  if (!niced) {
    niced = true;
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kWriterNice);
  }
  std::lock_guard<std::mutex> lock(file->mu);
  file->write_in_flight();
}

void LogWriter::after_work_cb(uv_work_t* req, int status) noexcept {
  auto* file = static_cast<File*>(req->data);
  std::shared_ptr<File> keep = std::move(file->keep);  // Freed on return if orphaned.
  if (status == UV_ECANCELED) {
    std::lock_guard<std::mutex> lock(file->mu);
    file->write_in_flight();
  }
  file->in_flight.size = 0;
  LogWriter* owner = file->owner;
  if (owner == nullptr) return;
  owner->in_flight_ = false;
  if (owner->buffer_.size > kFlushBytes) owner->start_write();
}

void LogWriter::flush() {
  if (!file_) {
    buffer_.size = 0;
    return;
  }
  std::lock_guard<std::mutex> lock(file_->mu);
  file_->write_in_flight();  // Order: the batch in flight goes first.
  if (!buffer_.empty()) file_->write_capped(buffer_.data.get(), buffer_.size);
  buffer_.size = 0;
}

void LogWriter::close() {
  timer_.reset();  // Timer's destructor closes the handle.
  flush();
}

}  // namespace herd
