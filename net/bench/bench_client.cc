// run_bench and the connections of a bench run: connecting, writing, reading load
// replies. Phases are in bench_phases.cc, visibility probes in bench_visibility.cc.
#include "node/check.h"
#include "net/bench/bench_client.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

#include <uv.h>

#include "net/bench/bench_run.h"

namespace herd::bench {

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

namespace detail {

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

namespace {

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

}  // namespace

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

}  // namespace detail

using detail::append_time;
using detail::mono_ns;
using detail::Role;
using detail::Run;
using detail::ticker_cb;
using detail::wall_ns;

namespace {

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
  HERD_ASSERT(rc == 0);
  (void)rc;
  if (run->pacer_fd >= 0) close(run->pacer_fd);
  return std::move(run->rep);
}

}  // namespace herd::bench
