// Helpers of the fault-injection end-to-end tests: the admin console as a client,
// status lines, bounded polling.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {

constexpr const char* kFaultLoc = "+34.068930-118.445127";
// The default topology's 6 links (12 directed) and 5 servers: 17 status lines.
constexpr size_t kDefaultStatusLines = 17;

inline void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Polls `done` every `step_ms` until it holds or `timeout_ms` passes.
inline bool wait_until(const std::function<bool()>& done, int timeout_ms, int step_ms = 20) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    pause_ms(step_ms);
  }
}

// Sends an IAMAT for `id` at `port` (time: now) and returns the AT line (no '\n').
inline std::string iamat_now(int port, const std::string& id) {
  std::string line = "IAMAT " + id + " " + kFaultLoc + " " + time_string() + "\n";
  return first_line(e2e::exchange(port, line));
}

// Whether the server at `port` has a record for `id` (WHATSAT is not answered '?').
inline bool knows(int port, const std::string& id) {
  std::string reply = e2e::exchange(port, "WHATSAT " + id + " 10 1\n");
  return reply.rfind("AT ", 0) == 0;
}

// A connection to `herd run --admin-port`.
class Admin {
 public:
  bool open(int port) { return client_.connect(port); }
  // One command, its one-line answer without '\n'.
  std::string ask(const std::string& command, int timeout_ms = 5'000) {
    if (!client_.send(command + "\n")) return "<send failed>";
    return first_line(client_.read_lines(1, timeout_ms));
  }
  std::vector<std::string> status(size_t lines = kDefaultStatusLines) {
    if (!client_.send("status\n")) return {};
    return split_lines(client_.read_lines(lines, 5'000));
  }
  Client& client() { return client_; }

 private:
  Client client_;
};

// The status line of directed link `label` ("Riley>Jaquez"), or "".
inline std::string link_line(const std::vector<std::string>& status, std::string_view label) {
  const std::string prefix = "link " + std::string(label) + " ";
  for (const std::string& line : status) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

// The number after " key=" in `line`, or -1.
inline int64_t field(std::string_view line, std::string_view key) {
  const std::string needle = " " + std::string(key) + "=";
  const size_t at = line.find(needle);
  if (at == std::string_view::npos) return -1;
  return std::strtoll(std::string(line.substr(at + needle.size())).c_str(), nullptr, 10);
}

inline int64_t counter(const std::vector<std::string>& status, std::string_view label,
                       std::string_view key) {
  return field(link_line(status, label), key);
}

// Whether a log file holds a line containing `text` (logs are flushed every ~100 ms).
inline bool log_has(const std::string& path, const std::string& text, int timeout_ms = 3'000) {
  return wait_until([&] { return read_text_file(path).find(text) != std::string::npos; },
                    timeout_ms, 50);
}

// These tests count flood messages one by one: no anti-entropy in the counts
// (tests/e2e/sync_e2e_test.cc has it).
inline void start_faulty(HerdRun& run, std::vector<std::string> extra) {
  extra.insert(extra.end(), {"--admin-port", "0", "--sync", "off"});
  REQUIRE_MESSAGE(run.start(extra), run.herd.error());
  REQUIRE_MESSAGE(run.port("admin") > 0, run.herd.output());
}

inline bool has_line_starting(const std::vector<std::string>& lines, std::string_view prefix) {
  for (const std::string& line : lines) {
    if (line.starts_with(prefix)) return true;
  }
  return false;
}

inline void stop_faulty(HerdRun& run) {
  ExitStatus st = run.herd.stop();
  CHECK_MESSAGE(st.clean(), "herd ", st.describe(), "; output:\n", run.herd.output());
}

}  // namespace herd::e2e
