#include "net/server_host.h"

#include <unistd.h>

#include <cassert>
#include <utility>

#include "net/address.h"
#include "net/live_clock.h"
#include "net/places_client.h"
#include "node/peer_wire.h"

namespace herd {

struct ServerHost::Listener {
  uv_tcp_t tcp;
  ServerHost* owner;
  ServerHost::Role role;
};

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

// A cleared effect list for one core call, reused across calls.
class ServerHost::EffectsScope {
 public:
  explicit EffectsScope(ServerHost* host) : host_(host) {
    if (host_->effects_pool_.size() <= host_->effects_depth_) {
      host_->effects_pool_.push_back(std::make_unique<Effects>());
    }
    effects_ = host_->effects_pool_[host_->effects_depth_++].get();
    effects_->clear();
  }
  ~EffectsScope() {
    effects_->clear();
    --host_->effects_depth_;
  }
  EffectsScope(const EffectsScope&) = delete;
  EffectsScope& operator=(const EffectsScope&) = delete;
  Effects* get() { return effects_; }

 private:
  ServerHost* host_;
  Effects* effects_;
};

namespace {

NodeConfig node_config(const ServerHostConfig& config) {
  NodeConfig node;
  node.name = config.name;
  node.neighbours = config.neighbours;
  node.places_api = config.places_api;
  return node;
}

std::string request_label(RequestId request) { return "r" + std::to_string(request); }

}  // namespace

ServerHost::ServerHost(uv_loop_t* loop, ServerHostConfig config, PlacesClient* places)
    : loop_(loop),
      config_(std::move(config)),
      places_(places),
      node_(node_config(config_)),
      log_(loop) {
  for (size_t i = 0; i < config_.neighbours.size(); ++i) {
    PeerLinkConfig link;
    link.self = config_.name;
    link.peer = config_.neighbours[i];
    link.index = static_cast<int>(i);
    link.dials = config_.name < link.peer;
    link.max_queued_bytes = config_.link_max_queued_bytes;
    PeerLink::Events* events = this;
    peers_.push_back(std::make_unique<PeerLink>(loop_, std::move(link), &log_, events));
    Link* send_link = peers_.back().get();
    if (config_.wrap_link) {
      wrapped_.push_back(config_.wrap_link(static_cast<int>(i), peers_.back().get()));
      send_link = wrapped_.back().get();
    }
    send_links_.push_back(send_link);
  }
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
  assert(listeners_[kClients].handle == nullptr && listeners_[kPeers].handle == nullptr);
  assert(flusher_ == nullptr);
}

Result<bool> ServerHost::open(const struct sockaddr_storage& listen_address,
                              const struct sockaddr_storage* peer_address) {
  Result<bool> opened = log_.open(config_.log_path);
  if (!opened.ok()) return opened;
  log_.event("start", config_.name, std::to_string(getpid()));
  listeners_[kClients].wanted = true;
  listeners_[kClients].address = listen_address;
  if (peer_address != nullptr) {
    listeners_[kPeers].wanted = true;
    listeners_[kPeers].address = *peer_address;
  }
  return listen();
}

int ServerHost::peer_port() const {
  return listeners_[kPeers].wanted ? listeners_[kPeers].port : listeners_[kClients].port;
}

Result<bool> ServerHost::listen() {
  for (Role role : {kClients, kPeers}) {
    if (!listeners_[role].wanted) continue;
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
  spec.handle = new Listener{{}, this, role};
  uv_tcp_init(loop_, &spec.handle->tcp);
  spec.handle->tcp.data = spec.handle;
  int rc = uv_tcp_bind(&spec.handle->tcp, address, 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&spec.handle->tcp), config_.listen_backlog,
                   &ServerHost::connection_cb);
  }
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&spec.handle->tcp), &ServerHost::listener_close_cb);
    spec.handle = nullptr;
    std::string message = "cannot listen on " + format_address(address) + ": " + uv_strerror(rc);
    log_.event("note", "-", message);
    return Error{message};
  }
  int length = sizeof spec.address;
  uv_tcp_getsockname(&spec.handle->tcp, address, &length);
  spec.port = address_port(address);
  spec.text = format_address(address);
  log_.event("listen", role == kPeers ? config_.name + "(peers)" : config_.name, spec.text);
  return true;
}

// uv_close closes the sockets now: a connect from here on is refused.
void ServerHost::close_listeners() {
  for (ListenSpec& spec : listeners_) {
    if (spec.handle == nullptr) continue;
    uv_close(reinterpret_cast<uv_handle_t*>(&spec.handle->tcp), &ServerHost::listener_close_cb);
    spec.handle = nullptr;
  }
}

void ServerHost::set_peer_address(const std::string& neighbour, const struct sockaddr* address) {
  int index = node_.peer_index(neighbour);
  assert(index >= 0);
  peers_[index]->set_address(address);
}

void ServerHost::start_peers() {
  for (auto& peer : peers_) peer->start();
}

bool ServerHost::peer_up(const std::string& neighbour) const {
  int index = node_.peer_index(neighbour);
  return index >= 0 && peers_[index]->up();
}

void ServerHost::close(std::string_view why) {
  if (closing_) return;
  closing_ = true;
  log_.event("stop", config_.name, why);
  close_listeners();
  // close() only asks libuv: on_closed (which erases) comes from the loop later.
  for (auto& [id, client] : clients_) {
    if (client->stream() != nullptr) client->stream()->close("shutdown");
  }
  flush_links();
  for (auto& peer : peers_) peer->close();
  if (flusher_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(&flusher_->prepare), &Flusher::close_cb);
    uv_close(reinterpret_cast<uv_handle_t*>(&flusher_->check), &Flusher::close_cb);
    flusher_ = nullptr;
  }
  log_.close();
}

void ServerHost::crash() {
  if (closing_ || crashed_) return;
  crashed_ = true;
  close_listeners();
  for (auto& [id, client] : clients_) {
    if (client->stream() != nullptr) client->stream()->close("crash");
  }
  for (auto& peer : peers_) peer->suspend("crash");
  node_.crash();
  // A restart needs no input of its own: the crashed node already holds nothing.
  observe(TraceInput{.kind = InputKind::kCrash, .now = live_now()}, Effects{});
}

Result<bool> ServerHost::restart() {
  if (closing_ || !crashed_) return true;
  Result<bool> listening = listen();
  if (!listening.ok()) return listening;
  crashed_ = false;
  for (auto& peer : peers_) peer->resume();
  return true;
}

void ServerHost::connection_cb(uv_stream_t* server, int status) noexcept {
  auto* listener = static_cast<Listener*>(server->data);
  listener->owner->on_connection(listener->role, status);
}

void ServerHost::listener_close_cb(uv_handle_t* handle) noexcept {
  delete static_cast<Listener*>(handle->data);
}

void ServerHost::on_connection(Role role, int status) {
  if (status < 0) {
    log_.event("note", "-", std::string("accept failed: ") + uv_strerror(status));
    return;
  }
  LineStream::Limits limits;
  limits.max_line_bytes = config_.client_max_line_bytes;
  limits.max_output_bytes = config_.client_max_output_bytes;
  ConnId id = next_conn_++;
  LineStream* stream = LineStream::create(loop_, this, id, limits);
  int rc = stream->accept_from(reinterpret_cast<uv_stream_t*>(&listeners_[role].handle->tcp));
  if (rc != 0) {
    log_.event("note", "-", std::string("accept failed: ") + uv_strerror(rc));
    return;  // The stream closes itself; no ClientConn refers to it.
  }
  if (clients_.size() >= config_.max_clients) {
    // Why accept then close: refusing to accept would leave it in the backlog.
    log_.event("reject", "-", stream->remote_address() + " too-many-clients");
    stream->close("too-many-clients");
    return;
  }
  auto client = std::make_unique<ClientConn>(id, stream, &log_);
  if (role == kPeers) client->set_peers_only();
  log_.event("accept", client->label(), stream->remote_address() + (role == kPeers ? " peers" : ""));
  clients_.emplace(id, std::move(client));
  stream->start_reading();
}

ClientConn* ServerHost::find_client(ConnId id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

bool ServerHost::adopt_if_peer(LineStream* stream, std::string_view line) {
  std::optional<PeerHello> hello = parse_peer_hello(line);
  if (!hello || hello->to != config_.name) return false;
  int index = node_.peer_index(hello->from);
  if (index < 0) return false;
  peers_[index]->adopt(stream);
  return true;
}

void ServerHost::on_line(LineStream* stream, std::string_view line) {
  ClientConn* client = find_client(stream->id());
  assert(client != nullptr);
  log_.event("in", client->label(), line);
  client->count_line();
  if (client->lines_seen() == 1 && adopt_if_peer(stream, line)) {
    clients_.erase(stream->id());  // The stream now belongs to the PeerLink.
    return;
  }
  if (client->peers_only()) {  // The peer port speaks only the server-to-server protocol.
    stream->close("not-a-peer");
    return;
  }
  client->begin_batch();
  EffectsScope scope(this);
  Effects& effects = *scope.get();
  Now now = live_now();
  node_.on_client_line(client->id(), line, now, &effects);
  observe({.kind = InputKind::kClientLine, .now = now, .conn = client->id(), .text = line},
          effects);
  apply(&effects);
}

void ServerHost::on_batch_end(LineStream* stream) {
  ClientConn* client = find_client(stream->id());
  if (client == nullptr) return;
  // PROTOCOL.md: a newer record is flooded before the reply is written.
  flush_links();
  client->end_batch();
}

void ServerHost::flush_links() {
  for (auto& peer : peers_) peer->flush();
}

void ServerHost::on_eof(LineStream* stream) {
  if (ClientConn* client = find_client(stream->id())) client->on_eof();
}

void ServerHost::on_closed(LineStream* stream) {
  auto it = clients_.find(stream->id());
  if (it == clients_.end()) return;  // Rejected, or never accepted.
  std::string text = stream->close_reason();
  if (it->second->owed() > 0) text += " (" + std::to_string(it->second->owed()) + " owed)";
  log_.event("close", it->second->label(), text);
  it->second->stream_closed();
  clients_.erase(it);
}

void ServerHost::apply(Effects* effects) {
  for (Effect& effect : *effects) {
    switch (effect.kind) {
      case EffectKind::kReply:
        apply_reply(effect);
        break;
      case EffectKind::kSendPeer:
        assert(effect.peer >= 0 && static_cast<size_t>(effect.peer) < send_links_.size());
        send_links_[effect.peer]->send(effect.bytes);
        break;
      case EffectKind::kPlacesRequest:
        if (ClientConn* client = find_client(effect.conn)) client->open_pending(effect.request);
        start_places(effect);
        break;
      case EffectKind::kLog:
        log_.event("note", "-", effect.bytes);
        break;
    }
  }
}

void ServerHost::apply_reply(Effect& effect) {
  ClientConn* client = find_client(effect.conn);
  if (client == nullptr) {
    log_.event("drop", "c" + std::to_string(effect.conn), "closed " + effect.bytes);
    return;
  }
  // Outside a batch the reply may be written at once: the floods go first.
  if (!client->batching()) flush_links();
  if (effect.request == 0) {
    client->add_reply(std::move(effect.bytes));
  } else if (!client->fill(effect.request, effect.bytes)) {
    log_.event("drop", "c" + std::to_string(effect.conn), "unexpected " + effect.bytes);
  }
}

void ServerHost::start_places(const Effect& effect) {
  std::string label = "c" + std::to_string(effect.conn);
  log_.event("places-request", label,
             request_label(effect.request) + " " + places_->describe(effect.query));
  ConnId conn = effect.conn;
  RequestId request = effect.request;
  // Why capturing `this` is safe: PlacesClient never calls Done after close(),
  // which HerdHost calls before any ServerHost is destroyed.
  places_->fetch(effect.query, [this, conn, request](PlacesResult result, int64_t latency_ms) {
    on_places_done(conn, request, result, latency_ms);
  });
}

void ServerHost::on_places_done(ConnId conn, RequestId request, const PlacesResult& result,
                                int64_t latency_ms) {
  std::string text = request_label(request) + " ";
  if (result.transport_ok) {
    text += std::to_string(result.http_status);
  } else {
    text += "failed " + result.failure;
  }
  text += " " + std::to_string(latency_ms) + "ms";
  log_.event("places-result", "c" + std::to_string(conn), text);
  if (closing_) return;
  EffectsScope scope(this);
  Effects& effects = *scope.get();
  Now now = live_now();
  node_.on_places_result(request, result, now, &effects);
  observe({.kind = InputKind::kPlacesResult, .now = now, .request = request, .places = &result},
          effects);
  apply(&effects);
}

void ServerHost::on_peer_up(int index) {
  EffectsScope scope(this);
  Effects& effects = *scope.get();
  Now now = live_now();
  node_.on_link_up(index, now, &effects);
  observe({.kind = InputKind::kLinkUp, .now = now, .peer = index}, effects);
  apply(&effects);
  if (on_peer_change_) on_peer_change_();
}

void ServerHost::on_peer_down(int index) {
  EffectsScope scope(this);
  Effects& effects = *scope.get();
  Now now = live_now();
  node_.on_link_down(index, now, &effects);
  observe({.kind = InputKind::kLinkDown, .now = now, .peer = index}, effects);
  apply(&effects);
  if (on_peer_change_) on_peer_change_();
}

void ServerHost::on_peer_message(int index, std::string_view message) {
  EffectsScope scope(this);
  Effects& effects = *scope.get();
  Now now = live_now();
  node_.on_peer_message(index, message, now, &effects);
  observe({.kind = InputKind::kPeerMessage, .now = now, .peer = index, .text = message},
          effects);
  apply(&effects);
}

void ServerHost::observe(TraceInput input, const Effects& effects) {
  if (observer_ == nullptr) return;
  input.node = node_index_;
  observer_->on_input(input, effects);
}

}  // namespace herd
