// Internal to the load generator of net/bench_client.h, shared by its three files:
// bench_client.cc (connections, load requests and replies, run_bench),
// bench_visibility.cc (visibility probes) and bench_phases.cc (connect, load, drain,
// done: the ticker, the open-loop pacer, the CPU window). Not for any other caller.
// One Run owns every Conn and every handle; all of it lives on the Run's own loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "net/bench/bench_client.h"

namespace herd::bench::detail {

// Appends "<seconds>.<nine digits>" without a float.
void append_time(std::string* out, int64_t time_ns);
int64_t wall_ns();
inline int64_t mono_ns() { return static_cast<int64_t>(uv_hrtime()); }
inline void nothing_cb(uv_handle_t*) noexcept {}

constexpr std::string_view kLocation = " +34.068930-118.445127 ";
constexpr size_t kReadBufferBytes = 256 * 1024;
constexpr int kMaxHoldConnecting = 256;   // Why: a listen backlog drops a burst of SYNs.
constexpr size_t kMaxOwedOpenLoop = 1'000'000;  // Per connection: bounds the client's memory.

enum class Role : uint8_t { kLoad, kHold, kVisIamat, kVisPoll };
enum class Phase : uint8_t { kConnect, kLoad, kDrain, kDone };
enum class Probe : uint8_t { kIdle, kPolling, kDraining };

struct Run;

// One client connection. Owned by its Run until the loop ends (never freed in a
// callback), so a late libuv callback always finds it.
struct Conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  Run* run = nullptr;
  Role role = Role::kLoad;
  int64_t index = 0;
  bool connected = false, closed = false, answered = false;
  bool line_start = true;       // The next byte read starts a reply line.
  std::deque<int64_t> sent_ns;  // kLoad: send times of the replies owed, oldest first.
  size_t unstamped = 0;         // Trailing entries of sent_ns stamped at flush().
  int64_t next_k = 0;           // kLoad: how many requests this connection made.
  std::string out;              // Waiting for flush().
  std::string in;               // kVisPoll: a partial line.
};

struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

// One run of run_bench: its config, the report it fills, its loop and everything on
// it. Methods are called from the loop only; handles are closed by finish().
struct Run {
  BenchConfig cfg;
  BenchReport rep;
  uv_loop_t loop;
  struct sockaddr_in target, far;
  std::vector<std::unique_ptr<Conn>> load, hold;
  std::unique_ptr<Conn> vis_iamat, vis_poll;
  uv_timer_t ticker;
  uv_poll_t pacer;
  int pacer_fd = -1;
  Phase phase = Phase::kConnect;
  int64_t phase_deadline = 0, load_start = 0, measure_from = 0, stop_send = 0;
  int64_t last_measured = 0;
  int64_t seq = 0, scheduled = 0;
  bool sending = false;
  int hold_pending = 0;
  size_t round_robin = 0;
  Probe probe = Probe::kIdle;
  int samples_started = 0;
  int64_t probe_t0 = 0, poll_sent = 0, next_sample = 0;
  std::string probe_id;
  int64_t cpu_ticks_from = -1;  // At measure_from.
  std::vector<char> read_buf = std::vector<char>(kReadBufferBytes);

  Conn* make_conn(Role role, int64_t index, const struct sockaddr_in* to);
  void close_conn(Conn* c);
  void flush(Conn* c);
  bool append_request(Conn* c);
  void on_connected(Conn* c, int status);
  void on_bytes(Conn* c, const char* data, size_t n);
  void on_load_bytes(Conn* c, const char* data, size_t n, int64_t now);
  void on_poll_bytes(Conn* c, const char* data, size_t n, int64_t now);
  void on_poll_line(std::string_view line, int64_t now);
  void send_poll();
  void on_conn_closed(Conn* c);
  void continue_holds();
  bool connects_done() const;
  void tick();
  void begin_load(int64_t now);
  void begin_drain(int64_t now);
  void finish(int64_t now);
  void maybe_start_sample(int64_t now);
  void pace();
  uint64_t owed() const;
};

}  // namespace herd::bench::detail
