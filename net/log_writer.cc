#include "net/log_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <unistd.h>

#include "net/live_clock.h"
#include "net/uv_timer.h"

namespace herd {

void append_log_escaped(std::string_view bytes, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (char ch : bytes) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out->append("\\n");
    } else if (c < 0x20 || c > 0x7e || c == '\\') {
      char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out->append(esc, 4);
    } else {
      out->push_back(ch);
    }
  }
}

static std::string format_date_seconds(int64_t sec) {
  time_t t = static_cast<time_t>(sec);
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm_utc);
  return buf;
}

std::string format_log_time(int64_t wall_ns) {
  int64_t sec = wall_ns / kNsPerSec;
  int64_t us = (wall_ns % kNsPerSec) / 1000;
  if (us < 0) {  // Before 1970: keep the fraction positive.
    sec -= 1;
    us += 1'000'000;
  }
  char frac[16];
  snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us));
  return format_date_seconds(sec) + frac;
}

LogWriter::LogWriter(uv_loop_t* loop) : loop_(loop) {}

LogWriter::~LogWriter() {
  flush();
  timer_.reset();
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> LogWriter::open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return Error{"cannot open log file " + path + ": " + strerror(errno)};
  timer_ = std::make_unique<Timer>(loop_, [this] { flush(); });
  timer_->start(kFlushIntervalMs, kFlushIntervalMs);
  return true;
}

void LogWriter::event(std::string_view word, std::string_view subject, std::string_view text) {
  int64_t wall_ns = live_now().wall_ns;
  int64_t sec = wall_ns / kNsPerSec;
  if (sec != cached_sec_) {
    cached_sec_ = sec;
    cached_prefix_ = format_date_seconds(sec);
  }
  char frac[16];
  snprintf(frac, sizeof frac, ".%06lldZ ", static_cast<long long>((wall_ns % kNsPerSec) / 1000));
  buffer_.append(cached_prefix_);
  buffer_.append(frac);
  buffer_.append(word);
  if (!subject.empty()) {
    buffer_.push_back(' ');
    buffer_.append(subject);
  }
  if (!text.empty()) {
    buffer_.push_back(' ');
    append_log_escaped(text, &buffer_);
  }
  buffer_.push_back('\n');
  if (buffer_.size() > kFlushBytes) flush();
}

void LogWriter::flush() {
  if (buffer_.empty()) return;
  if (fd_ >= 0) write_all(buffer_.data(), buffer_.size());
  buffer_.clear();
}

void LogWriter::close() {
  timer_.reset();  // Timer's destructor closes the handle.
  flush();
}

void LogWriter::write_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!write_failed_) {  // Why once: a full disk would otherwise flood stderr.
        fprintf(stderr, "herd: writing %s: %s (log lines lost)\n", path_.c_str(), strerror(errno));
        write_failed_ = true;
      }
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace herd
