// ServerHost: listeners, connections and the server's life (crash, restart, pause).
// The node's effects are applied in net/server_effects.cc.
#include "node/check.h"
#include "net/server_host.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "crypto/sodium_mac.h"
#include "net/address.h"
#include "net/live_clock.h"
#include "net/live_faults.h"
#include "net/places_client.h"

namespace herd {

// Why both: a message buffered by an I/O callback is flushed by the check handle
// right after the poll phase; one buffered by a timer (the fault layer's delays) by
// the prepare handle, before the loop blocks in poll.
struct ServerHost::Flusher {
  uv_prepare_t prepare;
  uv_check_t check;
  ServerHost* owner;
  int open = 2;
  static void prepare_cb(uv_prepare_t* handle) noexcept {
    static_cast<Flusher*>(handle->data)->owner->flush_links();
  }
  static void check_cb(uv_check_t* handle) noexcept {
    static_cast<Flusher*>(handle->data)->owner->flush_links();
  }
  static void close_cb(uv_handle_t* handle) noexcept {
    auto* self = static_cast<Flusher*>(handle->data);
    if (--self->open == 0) delete self;
  }
};

ServerHost::ServerHost(uv_loop_t* loop, ServerHostConfig config, PlacesClient* places)
    : loop_(loop),
      config_(std::move(config)),
      places_(places),
      driver_(config_.node, config_.node_index),
      log_(loop, config_.log_level) {
  const size_t peers = config_.node.neighbours.size();
  peer_addresses_.resize(peers);
  last_dial_error_.resize(peers);
  timer_fired_.assign(peers + 1, 0);
  for (size_t t = 0; t <= peers; ++t) {
    timers_.push_back(std::make_unique<Timer>(loop_, [this, t] { on_timer(static_cast<TimerId>(t)); }));
  }
  idle_timer_ = std::make_unique<Timer>(loop_, [this] { close_idle_clients(); });
  flusher_ = new Flusher;
  flusher_->owner = this;
  uv_prepare_init(loop_, &flusher_->prepare);
  uv_check_init(loop_, &flusher_->check);
  flusher_->prepare.data = flusher_;
  flusher_->check.data = flusher_;
  uv_prepare_start(&flusher_->prepare, &Flusher::prepare_cb);
  uv_check_start(&flusher_->check, &Flusher::check_cb);
  // Why unref: they must not keep the loop running once everything else is closed.
  uv_unref(reinterpret_cast<uv_handle_t*>(&flusher_->prepare));
  uv_unref(reinterpret_cast<uv_handle_t*>(&flusher_->check));
}

ServerHost::~ServerHost() {
  // REQUIRES: close() ran and the loop ran dry, so no stream refers to us.
  HERD_ASSERT(!listeners_[kClients].listener && !listeners_[kPeers].listener);
  HERD_ASSERT(flusher_ == nullptr);
}

Result<bool> ServerHost::open(const struct sockaddr_storage& listen_address,
                              const struct sockaddr_storage* peer_address) {
  if (config_.log_level != LogLevel::kOff) {
    Result<bool> opened = log_.open(config_.log_path, config_.log_max_bytes);
    if (!opened.ok()) return opened;
  }
  log_.event("start", name(), std::to_string(getpid()));
  // Why say so: `herd report` needs the lines this level leaves out.
  if (config_.log_level == LogLevel::kEvents) log_.event("log", name(), "events (no in, out, send or recv lines)");
  listeners_[kClients].wanted = true;
  listeners_[kClients].address = listen_address;
  if (peer_address != nullptr) {
    listeners_[kPeers].wanted = true;
    listeners_[kPeers].address = *peer_address;
  }
  if (config_.client_idle_ms > 0) idle_timer_->start(idle_sweep_ms(), idle_sweep_ms());
  return listen();
}

int ServerHost::peer_port() const {
  return listeners_[kPeers].wanted ? listeners_[kPeers].port : listeners_[kClients].port;
}

void ServerHost::set_peer_address(const std::string& neighbour, const struct sockaddr* address) {
  const int index = node().peer_index(neighbour);
  HERD_ASSERT(index >= 0);
  const size_t size = address->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
  memcpy(&peer_addresses_[static_cast<size_t>(index)], address, size);
}

void ServerHost::start() {
  Input in;
  in.kind = InputKind::kStart;
  in.now = live_now();
  feed(in);
}

bool ServerHost::peer_up(const std::string& neighbour) const {
  const int index = node().peer_index(neighbour);
  return index >= 0 && node().link(index).up();
}

size_t ServerHost::clients() const { return client_count_; }

ServerHost::Conn* ServerHost::find(ConnId id) {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : &it->second;
}

const ServerHost::Conn* ServerHost::find(ConnId id) const {
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : &it->second;
}

bool ServerHost::conn_open(ConnId id) const {
  const Conn* conn = find(id);
  return conn != nullptr && conn->stream != nullptr && !conn->stream->ending();
}

// A connection's log subject: the client's label, or the neighbour's name.
std::string ServerHost::label(const Conn& conn, ConnId id) const {
  if (conn.peer >= 0) return config_.node.neighbours[static_cast<size_t>(conn.peer)];
  return "c" + std::to_string(id);
}

void ServerHost::close(std::string_view why) {
  if (closing_) return;
  closing_ = true;
  log_.event("stop", name(), why);
  close_listeners();
  flush_links();
  close_everything("shutdown");
  for (auto& timer : timers_) timer->close();
  idle_timer_->close();
  if (flusher_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(&flusher_->prepare), &Flusher::close_cb);
    uv_close(reinterpret_cast<uv_handle_t*>(&flusher_->check), &Flusher::close_cb);
    flusher_ = nullptr;
  }
  log_.close();
}

// close() only asks libuv: on_closed (which erases) comes from the loop later.
void ServerHost::close_everything(const char* why) {
  for (auto& [id, conn] : conns_) {
    conn.quiet = true;
    if (conn.stream != nullptr) conn.stream->close(why);
  }
}

void ServerHost::crash() {
  if (closing_ || crashed_) return;
  if (paused_) resume();  // What waited for the paused server dies with it now.
  crashed_ = true;
  close_listeners();
  for (size_t p = 0; p < config_.node.neighbours.size(); ++p) {
    if (node().link(static_cast<int>(p)).up()) log_.event("peer-down", config_.node.neighbours[p], "crash");
  }
  close_everything("crash");
  Input in;
  in.kind = InputKind::kCrash;
  in.now = live_now();
  feed(in);
}

Result<bool> ServerHost::restart() {
  if (closing_ || !crashed_) return true;
  Result<bool> listening = listen();
  if (!listening.ok()) return listening;
  crashed_ = false;
  start();
  return true;
}

void ServerHost::pause() {
  if (closing_ || crashed_ || paused_) return;
  paused_ = true;
  flush_links();
  for (auto& [id, conn] : conns_) {
    if (conn.stream != nullptr) conn.stream->set_paused(true);
  }
}

void ServerHost::resume() {
  if (!paused_) return;
  paused_ = false;
  resumed_ms_ = uv_now(loop_);
  for (auto& [id, conn] : conns_) {
    // A client held back by its own limits stays so (hold_reading is apart).
    if (conn.stream != nullptr) conn.stream->set_paused(false);
  }
  std::vector<std::function<void()>> waiting = std::move(held_back_);
  held_back_.clear();
  for (auto& run : waiting) run();
  for (size_t t = 0; t < timer_fired_.size(); ++t) {
    if (timer_fired_[t]) {
      timer_fired_[t] = 0;
      on_timer(static_cast<TimerId>(t));
    }
  }
}

void ServerHost::reset_link(const std::string& neighbour) {
  const int peer = node().peer_index(neighbour);
  if (peer < 0 || closing_ || crashed_) return;
  const ConnId id = node().link(peer).conn();
  Conn* conn = find(id);
  if (conn != nullptr && conn->stream != nullptr) conn->stream->reset("reset");
}

LinkHostView ServerHost::link_view(int peer) const {
  LinkHostView v;
  const LinkMachine& link = node().link(peer);
  // Up at the node and open here: a paused node may not have heard of a close yet.
  v.conn_up = link.up() && conn_open(link.conn());
  v.sent = link.stats().sent;
  v.lost_at_node = link.stats().lost_down + link.stats().lost_full;
  for (const auto& [id, conn] : conns_) {
    if (conn.peer == peer) v.queued += conn.queued;
  }
  return v;
}

void ServerHost::on_line(LineStream* stream, std::string_view line) {
  Conn* conn = find(stream->id());
  HERD_ASSERT(conn != nullptr);
  Input in;
  in.kind = InputKind::kLine;
  in.now = live_now();
  in.conn = stream->id();
  in.text = line;
  if (conn->client) {
    log_.message("in", conn->client->label(), line);
    conn->client->count_line();
    in.flags = static_cast<uint8_t>((conn->client->lines_seen() == 1 ? kFirstLine : 0) |
                                    (conn->peers_only ? kPeerPort : 0));
    // A hello's handshake needs the acceptor's nonce (node/peer_auth.h).
    if ((in.flags & kFirstLine) && config_.node.auth.on()) in.nonce = random_nonce();
    conn->client->begin_batch();
    echo_conn_ = stream->id();
    echo_line_ = line;
    echo_line_no_ = conn->client->lines_seen();
  } else {
    if (log_.messages()) log_.message("recv", label(*conn, stream->id()), line);
  }
  feed(in);
  echo_conn_ = 0;
}

void ServerHost::on_batch_end(LineStream* stream) {
  Conn* conn = find(stream->id());
  if (conn == nullptr || !conn->client) return;
  // A newer record is flooded before the reply is written.
  flush_links();
  conn->client->end_batch();
}

void ServerHost::on_eof(LineStream* stream) {
  Conn* conn = find(stream->id());
  if (conn != nullptr && conn->client) {
    conn->client->on_eof();
  } else {
    stream->close("eof");
  }
}

void ServerHost::on_closed(LineStream* stream) {
  auto it = conns_.find(stream->id());
  if (it == conns_.end()) return;  // Rejected, or never accepted.
  Conn& conn = it->second;
  if (conn.client) {
    std::string text = stream->close_reason();
    if (conn.client->owed() > 0) text += " (" + std::to_string(conn.client->owed()) + " owed)";
    log_.event("close", conn.client->label(), text);
    conn.client->stream_closed();
    --client_count_;
  }
  if (conn.link >= 0 && config_.faults != nullptr) config_.faults->closed(conn.link);
  const bool tell = conn.peer >= 0 && !conn.quiet && conn.dial_attempt == 0;
  std::string why = stream->close_reason();
  conns_.erase(it);
  if (!tell) return;
  Input in;
  in.kind = InputKind::kClosed;
  in.now = live_now();
  in.conn = stream->id();
  in.text = why;
  feed(in);
}

void ServerHost::on_messages(LineStream* stream, uint64_t written, uint64_t lost) {
  Conn* conn = find(stream->id());
  if (conn == nullptr) return;
  conn->queued -= std::min(conn->queued, written + lost);
  if (conn->link >= 0) count_link(conn->link, written, lost);
}

void ServerHost::on_backpressure(LineStream* stream, bool full) {
  Conn* conn = find(stream->id());
  if (conn == nullptr || conn->peer < 0 || conn->quiet) return;
  Input in;
  in.kind = InputKind::kBackpressure;
  in.now = live_now();
  in.conn = stream->id();
  in.flags = full ? 1 : 0;
  feed(in);
}

}  // namespace herd
