// ServerHost: its listeners, accepting (net/listener.h backs off when descriptors run
// out), and closing clients that have gone idle.
#include "node/check.h"
#include "net/server_host.h"

#include <algorithm>
#include <utility>

#include "net/address.h"

namespace herd {

Result<bool> ServerHost::listen() {
  for (Role role : {kClients, kPeers}) {
    if (!listeners_[role].wanted || listeners_[role].listener) continue;
    Result<bool> bound = listen_one(role);
    if (!bound.ok()) {
      close_listeners();
      return bound;
    }
  }
  return true;
}

// Binds the role's address and keeps the bound address there, so that a restart
// binds the same port even when the first bind chose it.
Result<bool> ServerHost::listen_one(Role role) {
  ListenSpec& spec = listeners_[role];
  auto* address = reinterpret_cast<struct sockaddr*>(&spec.address);
  Listener::Events events;
  events.accepted = [this, role](int fd) { on_connection(role, fd); };
  events.failed = [this](int status, bool backing_off) { accept_failed(status, backing_off); };
  spec.listener = std::make_unique<Listener>(loop_, std::move(events));
  Result<bool> listening = spec.listener->listen(address, config_.listen_backlog);
  if (!listening.ok()) {
    spec.listener.reset();
    std::string message = "cannot listen on " + format_address(address) + ": " + listening.error();
    log_.event("note", "-", message);
    return Error{message};
  }
  spec.address = spec.listener->address();
  spec.port = address_port(address);
  spec.text = format_address(address);
  log_.event("listen", role == kPeers ? name() + "(peers)" : name(), spec.text);
  return true;
}

// A connect from here on is refused.
void ServerHost::close_listeners() {
  for (ListenSpec& spec : listeners_) {
    if (!spec.listener) continue;
    spec.listener->close();
    spec.listener.reset();
  }
}

void ServerHost::on_connection(Role role, int fd) {
  LineStream::Limits limits;
  limits.max_line_bytes = role == kPeers ? config_.peer_max_line_bytes : config_.client_max_line_bytes;
  limits.max_output_bytes = config_.client_max_output_bytes;
  limits.lines_per_turn = config_.client_lines_per_turn;
  const ConnId id = next_conn_++;
  LineStream* stream = LineStream::create(loop_, this, id, limits);
  if (int rc = stream->open_accepted(fd); rc != 0) return accept_failed(rc, false);  // It closes itself.
  if (accept_failures_ > 0) {
    log_.event("note", "-", "accepting again after " + std::to_string(accept_failures_) + " failed accepts");
    accept_failures_ = 0;
  }
  if (client_count_ >= config_.max_clients) {
    // Why accept then close: refusing to accept would leave it in the backlog.
    log_.event("reject", "-", stream->remote_address() + " too-many-clients");
    stream->close("too-many-clients");
    return;
  }
  Conn& conn = conns_[id];
  conn.stream = stream;
  conn.peers_only = role == kPeers;
  conn.client = std::make_unique<ClientConn>(id, stream, &log_);
  ++client_count_;
  log_.event("accept", conn.client->label(), stream->remote_address() + (role == kPeers ? " peers" : ""));
  stream->start_reading();
  if (paused_) stream->set_paused(true);
}

// Logged once per burst (until an accept succeeds); out of descriptors, the listener
// itself waits Listener::kBackoffMs before it accepts again.
void ServerHost::accept_failed(int status, bool backing_off) {
  if (accept_failures_++ > 0) return;
  std::string text = std::string("accept failed: ") + uv_strerror(status);
  if (backing_off) text += "; not accepting for " + std::to_string(Listener::kBackoffMs) + " ms at a time";
  log_.event("note", "-", text);
}

// A client that for client_idle_ms neither sent a byte, nor took one of its replies,
// nor waits for Places, is closed: idle connections must not hold descriptors for good.
void ServerHost::close_idle_clients() {
  if (paused_ || crashed_ || closing_ || config_.client_idle_ms == 0) return;
  const uint64_t now_ms = uv_now(loop_);
  for (auto& [id, conn] : conns_) {
    if (!conn.client || conn.stream == nullptr || conn.stream->ending() || conn.client->pending() > 0) continue;
    const uint64_t since = std::max(conn.stream->last_io_ms(), resumed_ms_);
    if (now_ms - since >= config_.client_idle_ms) conn.stream->close("idle-timeout");
  }
}

uint64_t ServerHost::idle_sweep_ms() const {
  return std::clamp<uint64_t>(config_.client_idle_ms / 4, 50, 1000);
}

}  // namespace herd
