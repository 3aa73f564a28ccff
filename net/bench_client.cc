#include "net/bench_client.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>

#include <uv.h>

namespace herd::bench {
namespace {

constexpr int kSubBits = 6;
constexpr uint64_t kSub = uint64_t{1} << kSubBits;
constexpr size_t kBuckets = 66 * kSub;  // Covers every non-negative int64.

size_t bucket_of(int64_t value) {
  uint64_t u = value < 0 ? 0 : static_cast<uint64_t>(value);
  if (u < 2 * kSub) return u;
  int shift = (63 - std::countl_zero(u)) - kSubBits;
  return kSub * shift + (u >> shift);
}

int64_t bucket_high(size_t index) {
  if (index < 2 * kSub) return static_cast<int64_t>(index);
  int shift = static_cast<int>(index / kSub) - 1;
  uint64_t m = index - kSub * shift;
  return static_cast<int64_t>(((m + 1) << shift) - 1);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

void LatencyHistogram::record(int64_t value) {
  if (value < 0) value = 0;
  ++counts_[bucket_of(value)];
  ++count_;
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

int64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_high(i), max_);
  }
  return max_;
}

bool parse_endpoint(std::string_view text, Endpoint* out) {
  Endpoint e;
  size_t colon = text.rfind(':');
  std::string_view port = text;
  if (colon != std::string_view::npos) {
    e.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (e.host == "localhost") e.host = "127.0.0.1";
  }
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), e.port);
  if (ec != std::errc() || end != port.data() + port.size() || e.port < 1 || e.port > 65535) {
    return false;
  }
  struct sockaddr_in probe;
  if (uv_ip4_addr(e.host.c_str(), e.port, &probe) != 0) return false;
  *out = std::move(e);
  return true;
}

std::string bench_client_id(std::string_view prefix, int64_t index) {
  return std::string(prefix) + "-" + std::to_string(index);
}

namespace {

// Appends "<seconds>.<nine digits>" without a float.
void append_time(std::string* out, int64_t time_ns) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, time_ns / 1'000'000'000);
  *r.ptr++ = '.';
  int64_t frac = time_ns % 1'000'000'000;
  for (int i = 8; i >= 0; --i, frac /= 10) r.ptr[i] = static_cast<char>('0' + frac % 10);
  out->append(buf, static_cast<size_t>(r.ptr + 9 - buf));
}

int64_t wall_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t mono_ns() { return static_cast<int64_t>(uv_hrtime()); }

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

void alloc_cb(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
  // One buffer for every connection: libuv hands it to read_cb before the next alloc.
  auto* c = static_cast<Conn*>(handle->data);
  *buf = uv_buf_init(c->run->read_buf.data(), static_cast<unsigned>(c->run->read_buf.size()));
}

void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Conn*>(stream->data);
  if (nread > 0) c->run->on_bytes(c, buf->base, static_cast<size_t>(nread));
  if (nread < 0) c->run->on_conn_closed(c);
}

void write_cb(uv_write_t* req, int status) noexcept {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* c = static_cast<Conn*>(req->handle->data);
  delete w;
  if (status < 0 && !c->closed) c->run->on_conn_closed(c);
}

void connect_cb(uv_connect_t* req, int status) noexcept {
  auto* c = static_cast<Conn*>(req->handle->data);
  if (!c->closed) c->run->on_connected(c, status);
}

void ticker_cb(uv_timer_t* timer) noexcept { static_cast<Run*>(timer->data)->tick(); }
void pacer_cb(uv_poll_t* poll, int, int) noexcept { static_cast<Run*>(poll->data)->pace(); }
void nothing_cb(uv_handle_t*) noexcept {}

Conn* Run::make_conn(Role role, int64_t index, const struct sockaddr_in* to) {
  auto owned = std::make_unique<Conn>();
  Conn* c = owned.get();
  c->run = this, c->role = role, c->index = index;
  uv_tcp_init(&loop, &c->tcp);
  c->tcp.data = c;
  if (role == Role::kLoad) load.push_back(std::move(owned));
  if (role == Role::kHold) hold.push_back(std::move(owned));
  if (role == Role::kVisIamat) vis_iamat = std::move(owned);
  if (role == Role::kVisPoll) vis_poll = std::move(owned);
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, reinterpret_cast<const struct sockaddr*>(to),
                          connect_cb);
  if (rc != 0) on_connected(c, rc);
  return c;
}

void Run::on_connected(Conn* c, int status) {
  if (status < 0) {
    if (c->role == Role::kLoad) ++rep.connect_failures;
    on_conn_closed(c);
    return;
  }
  c->connected = true;
  uv_tcp_nodelay(&c->tcp, 1);  // Why: a request must leave at once, not wait for an ACK.
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_cb, read_cb);
  if (c->role == Role::kLoad) ++rep.load_connected;
  if (c->role == Role::kHold) {
    ++rep.hold_connected;
    c->out = "IAMAT " + rep.id_prefix + "-h" + std::to_string(c->index) + std::string(kLocation);
    append_time(&c->out, wall_ns());
    c->out += '\n';
    flush(c);
  }
}

void Run::on_conn_closed(Conn* c) {
  if (c->closed) return;
  if (c->role == Role::kLoad && c->connected) {
    ++rep.closed_by_server;
    rep.unanswered += c->sent_ns.size();
    c->sent_ns.clear();
  }
  if (c->role == Role::kHold && !c->answered) --hold_pending;
  if (c->role == Role::kVisPoll && probe != Probe::kIdle) {
    ++rep.visibility_lost;
    probe = Probe::kIdle;
  }
  close_conn(c);
}

void Run::close_conn(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  c->out.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), nothing_cb);
}

void Run::flush(Conn* c) {
  if (c->closed || c->out.empty()) return;
  int64_t now = mono_ns();
  for (size_t i = c->sent_ns.size() - c->unstamped; i < c->sent_ns.size(); ++i) c->sent_ns[i] = now;
  c->unstamped = 0;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  uv_buf_t b = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  int done = uv_try_write(stream, &b, 1);
  if (done == static_cast<int>(c->out.size())) {
    c->out.clear();
    return;
  }
  if (done < 0 && done != UV_EAGAIN) {
    on_conn_closed(c);
    return;
  }
  auto* w = new WriteReq;
  w->bytes.assign(c->out, done > 0 ? static_cast<size_t>(done) : 0);
  c->out.clear();
  b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  if (uv_write(&w->req, stream, &b, 1, write_cb) != 0) {
    delete w;
    on_conn_closed(c);
  }
}

// Queues one IAMAT; connection c owns clients c, c + C, c + 2C... (C connections),
// so each client's requests go in order on one connection and every one is newer.
bool Run::append_request(Conn* c) {
  if (cfg.count > 0 && seq >= cfg.count) return false;
  int64_t conns = static_cast<int64_t>(load.size());
  int64_t mine = (rep.clients - c->index + conns - 1) / conns;
  int64_t client = c->index + (c->next_k++ % mine) * conns;
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, client);
  c->out += "IAMAT ";
  c->out += rep.id_prefix;
  c->out += '-';
  c->out.append(buf, static_cast<size_t>(r.ptr - buf));
  c->out += kLocation;
  append_time(&c->out, rep.request_time_ns(seq));
  c->out += '\n';
  rep.last_seq[static_cast<size_t>(client)] = seq;
  ++seq;
  ++rep.sent;
  c->sent_ns.push_back(0);
  ++c->unstamped;
  return true;
}

void Run::on_bytes(Conn* c, const char* data, size_t n) {
  int64_t now = mono_ns();
  switch (c->role) {
    case Role::kLoad:
      on_load_bytes(c, data, n, now);
      break;
    case Role::kVisPoll:
      on_poll_bytes(c, data, n, now);
      break;
    case Role::kHold:
      if (!c->answered && std::memchr(data, '\n', n) != nullptr) {
        c->answered = true;
        ++rep.hold_answered;
        --hold_pending;
      }
      break;
    case Role::kVisIamat:
      break;
  }
}

void Run::on_load_bytes(Conn* c, const char* data, size_t n, int64_t now) {
  uint64_t lines = 0;
  for (const char *p = data, *end = data + n; p < end;) {
    if (c->line_start && *p == '?') ++rep.error_replies;
    c->line_start = false;
    auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) break;
    ++lines;
    c->line_start = true;
    p = nl + 1;
  }
  bool measured = now >= measure_from && now <= stop_send && phase != Phase::kConnect;
  for (uint64_t i = 0; i < lines && !c->sent_ns.empty(); ++i) {
    if (measured) rep.latency.record(now - c->sent_ns.front());
    c->sent_ns.pop_front();
  }
  rep.replies += lines;
  if (measured) rep.measured_replies += lines, last_measured = now;
  if (sending && cfg.rate == 0) {
    for (uint64_t i = 0; i < lines && append_request(c); ++i) {}
    flush(c);
  }
}

void Run::on_poll_bytes(Conn* c, const char* data, size_t n, int64_t now) {
  c->in.append(data, n);
  size_t pos = 0;
  for (size_t nl; (nl = c->in.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    on_poll_line(std::string_view(c->in).substr(pos, nl - pos), now);
  }
  c->in.erase(0, pos);
}

void Run::on_poll_line(std::string_view line, int64_t now) {
  if (probe == Probe::kDraining) {
    if (line.empty()) probe = Probe::kIdle;  // The WHATSAT reply's closing blank line.
    return;
  }
  if (probe != Probe::kPolling) return;
  if (line.substr(0, 3) == "AT ") {
    rep.visibility.record(poll_sent - probe_t0);
    probe = Probe::kDraining;
    return;
  }
  rep.poll_rtt.record(now - poll_sent);
  if (now - probe_t0 > cfg.visibility_timeout_ms * 1'000'000) {
    ++rep.visibility_lost;
    probe = Probe::kIdle;
    return;
  }
  send_poll();
}

void Run::send_poll() {
  vis_poll->out += "WHATSAT " + probe_id + " 10 1\n";
  poll_sent = mono_ns();
  flush(vis_poll.get());
}

void Run::maybe_start_sample(int64_t now) {
  if (!vis_poll || probe != Probe::kIdle || now < next_sample) return;
  if (samples_started >= cfg.visibility_samples) return;
  if (!vis_poll->connected || vis_poll->closed || !vis_iamat->connected || vis_iamat->closed) {
    return;
  }
  probe_id = rep.id_prefix + "-v" + std::to_string(samples_started++);
  vis_iamat->out = "IAMAT " + probe_id + std::string(kLocation);
  append_time(&vis_iamat->out, wall_ns());
  vis_iamat->out += '\n';
  probe_t0 = mono_ns();
  flush(vis_iamat.get());
  probe = Probe::kPolling;
  send_poll();
  next_sample = now + cfg.visibility_interval_ms * 1'000'000;
}

void Run::continue_holds() {
  while (static_cast<int>(hold.size()) < cfg.hold && hold_pending < kMaxHoldConnecting) {
    ++hold_pending;
    make_conn(Role::kHold, static_cast<int64_t>(hold.size()), &target);
  }
}

bool Run::connects_done() const {
  for (auto& c : load) {
    if (!c->connected && !c->closed) return false;
  }
  for (const Conn* c : {vis_iamat.get(), vis_poll.get()}) {
    if (c != nullptr && !c->connected && !c->closed) return false;
  }
  return static_cast<int>(hold.size()) == cfg.hold && hold_pending == 0;
}

uint64_t Run::owed() const {
  uint64_t n = 0;
  for (auto& c : load) n += c->closed ? 0 : c->sent_ns.size();
  return n;
}

// User + system clock ticks of `pids` so far (proc(5) stat fields 14 and 15).
int64_t cpu_ticks(const std::vector<int>& pids) {
  int64_t total = 0;
  for (int pid : pids) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* p = std::strrchr(buf, ')');  // The command name may hold spaces.
    long long utime = 0, stime = 0;
    if (p != nullptr && std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
                                    &utime, &stime) == 2) {
      total += utime + stime;
    }
  }
  return total;
}

void Run::tick() {
  int64_t now = mono_ns();
  if (phase == Phase::kLoad && cpu_ticks_from < 0 && now >= measure_from && !cfg.cpu_pids.empty()) {
    cpu_ticks_from = cpu_ticks(cfg.cpu_pids);
  }
  if (phase == Phase::kConnect) {
    continue_holds();
    if (connects_done() || now >= phase_deadline) begin_load(now);
  } else if (phase == Phase::kLoad) {
    maybe_start_sample(now);
    bool samples_done = !vis_poll || (samples_started >= cfg.visibility_samples &&
                                      probe == Probe::kIdle);
    bool count_done = cfg.count > 0 && seq >= cfg.count;
    bool no_load = load.empty() && cfg.hold == 0;
    if (now >= stop_send || (count_done && samples_done) || (no_load && samples_done)) {
      begin_drain(now);
    }
  } else if (phase == Phase::kDrain) {
    if ((owed() == 0 && probe == Probe::kIdle) || now >= phase_deadline) finish(now);
  }
}

void Run::begin_load(int64_t now) {
  phase = Phase::kLoad;
  load_start = now;
  measure_from = now + cfg.warmup_ms * 1'000'000;
  stop_send = measure_from + cfg.duration_ms * 1'000'000;
  next_sample = now;
  sending = true;
  if (cfg.rate == 0) {
    for (auto& c : load) {
      if (!c->connected || c->closed) continue;
      for (int i = 0; i < cfg.pipeline && append_request(c.get()); ++i) {}
      flush(c.get());
    }
    return;
  }
  if (load.empty()) return;
  pacer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  assert(pacer_fd >= 0);
  // Why a timerfd: libuv timers tick in whole ms, which would send in ms bursts.
  int64_t step_ns = std::clamp<int64_t>(1'000'000'000 / cfg.rate, 100'000, 1'000'000);
  struct itimerspec spec = {};
  spec.it_interval.tv_nsec = step_ns;
  spec.it_value.tv_nsec = step_ns;
  timerfd_settime(pacer_fd, 0, &spec, nullptr);
  uv_poll_init(&loop, &pacer, pacer_fd);
  pacer.data = this;
  uv_poll_start(&pacer, UV_READABLE, pacer_cb);
}

void Run::pace() {
  uint64_t expirations;
  if (read(pacer_fd, &expirations, sizeof expirations) < 0 || !sending) return;
  int64_t now = mono_ns();
  auto due = static_cast<int64_t>(static_cast<__int128>(now - load_start) * cfg.rate /
                                  1'000'000'000);
  if (cfg.count > 0) due = std::min(due, cfg.count);
  if (due <= scheduled) return;
  auto first_ns = static_cast<int64_t>(static_cast<__int128>(scheduled) * 1'000'000'000 / cfg.rate);
  rep.send_lag.record(now - (load_start + first_ns));
  for (; scheduled < due; ++scheduled) {
    bool sent = false;
    for (size_t tries = 0; tries < load.size() && !sent; ++tries) {
      Conn* c = load[round_robin++ % load.size()].get();
      if (c->connected && !c->closed && c->sent_ns.size() < kMaxOwedOpenLoop) {
        sent = append_request(c);
      }
    }
    if (!sent) ++rep.open_loop_skipped;
  }
  for (auto& c : load) flush(c.get());
}

void Run::begin_drain(int64_t now) {
  if (cpu_ticks_from >= 0) {
    rep.server_cpu_s = static_cast<double>(cpu_ticks(cfg.cpu_pids) - cpu_ticks_from) /
                       static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  phase = Phase::kDrain;
  phase_deadline = now + cfg.drain_timeout_ms * 1'000'000;
  sending = false;
  if (pacer_fd >= 0) uv_poll_stop(&pacer);
}

void Run::finish(int64_t now) {
  phase = Phase::kDone;
  rep.unanswered += owed();
  int64_t end = std::min(stop_send, last_measured > 0 ? last_measured : now);
  rep.measured_s = end > measure_from ? static_cast<double>(end - measure_from) / 1e9 : 0.0;
  for (auto& c : hold) rep.hold_open_at_end += c->connected && !c->closed ? 1 : 0;
  for (auto& c : load) close_conn(c.get());
  for (auto& c : hold) close_conn(c.get());
  if (vis_iamat) close_conn(vis_iamat.get());
  if (vis_poll) close_conn(vis_poll.get());
  uv_close(reinterpret_cast<uv_handle_t*>(&ticker), nothing_cb);
  if (pacer_fd >= 0) uv_close(reinterpret_cast<uv_handle_t*>(&pacer), nothing_cb);
}

std::string default_prefix() {
  uint64_t x = static_cast<uint64_t>(wall_ns()) ^ (static_cast<uint64_t>(getpid()) << 32);
  x *= 0x9E3779B97F4A7C15ull;
  char buf[16];
  std::snprintf(buf, sizeof buf, "b%05llx", static_cast<unsigned long long>(x >> 44));
  return buf;
}

}  // namespace

std::string bench_time_text(int64_t time_ns) {
  std::string s;
  append_time(&s, time_ns);
  return s;
}

Result<BenchReport> run_bench(const BenchConfig& config) {
  auto run = std::make_unique<Run>();
  run->cfg = config;
  BenchReport& rep = run->rep;
  rep.id_prefix = config.id_prefix.empty() ? default_prefix() : config.id_prefix;
  rep.base_time_ns = wall_ns();
  rep.clients = std::max<int64_t>(config.clients, std::max(1, config.connections));
  rep.last_seq.assign(static_cast<size_t>(rep.clients), -1);
  if (uv_ip4_addr(config.target.host.c_str(), config.target.port, &run->target) != 0) {
    return Error{"bad target address " + config.target.text()};
  }
  bool far = config.visibility.port != 0;
  if (far && uv_ip4_addr(config.visibility.host.c_str(), config.visibility.port, &run->far) != 0) {
    return Error{"bad visibility address " + config.visibility.text()};
  }
  if (uv_loop_init(&run->loop) != 0) return Error{"uv_loop_init failed"};
  for (int i = 0; i < config.connections; ++i) run->make_conn(Role::kLoad, i, &run->target);
  if (far) {
    run->make_conn(Role::kVisIamat, 0, &run->target);
    run->make_conn(Role::kVisPoll, 0, &run->far);
  }
  run->phase_deadline = mono_ns() + config.connect_timeout_ms * 1'000'000;
  uv_timer_init(&run->loop, &run->ticker);
  run->ticker.data = run.get();
  uv_timer_start(&run->ticker, ticker_cb, 1, 1);
  uv_run(&run->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&run->loop);
  assert(rc == 0);
  (void)rc;
  if (run->pacer_fd >= 0) close(run->pacer_fd);
  return std::move(run->rep);
}

}  // namespace herd::bench
