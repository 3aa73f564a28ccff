// ServerHost: feeding the node and applying its effects.
#include <algorithm>
#include <optional>
#include <utility>

#include "crypto/sodium_mac.h"
#include "net/live_clock.h"
#include "net/live_faults.h"
#include "net/places_client.h"
#include "net/server_host.h"

namespace herd {
namespace {

std::string request_label(RequestId request) { return "r" + std::to_string(request); }

}  // namespace

void ServerHost::feed(const Input& in) {
  if (paused_ && in.kind != InputKind::kCrash) {
    // As SIGSTOP would: the input waits, and is seen at resume() with that time.
    Input copy = in;
    std::string text(in.text);
    std::optional<PlacesResult> places;
    if (in.places != nullptr) places = *in.places;
    held_back_.push_back([this, copy, text = std::move(text), places = std::move(places)]() mutable {
      copy.text = text;
      if (places) copy.places = &*places;
      copy.now = live_now();
      feed(copy);
    });
    return;
  }
  NodeDriver::Step step = driver_.step(in);
  apply(step.effects());
}

void ServerHost::apply(Effects& effects) {
  for (Effect& effect : effects) {
    switch (effect.kind) {
      case EffectKind::kReply:
        apply_reply(effect);
        break;
      case EffectKind::kSend:
        apply_send(effect);
        break;
      case EffectKind::kPlacesRequest:
        if (Conn* conn = find(effect.conn); conn != nullptr && conn->client) conn->client->open_pending(effect.request);
        start_places(effect);
        break;
      case EffectKind::kDial:
        apply_dial(effect);
        break;
      case EffectKind::kClose:
        if (Conn* conn = find(effect.conn); conn != nullptr && conn->stream != nullptr) {
          conn->quiet = true;
          // The node closes a connection for a reason (a failed proof, a replaced
          // link): logged with the connection's address.
          log_.event("drop", label(*conn, effect.conn), effect.bytes + " " + conn->stream->remote_address());
          conn->stream->close(effect.bytes);
        }
        break;
      case EffectKind::kAdopt:
      case EffectKind::kLinkUp:
      case EffectKind::kLinkDown:
        apply_link(effect);
        break;
      case EffectKind::kTimer:
        apply_timer(effect);
        break;
      case EffectKind::kLog:
        log_.event("note", "-", effect.bytes);
        break;
    }
  }
}

void ServerHost::apply_reply(Effect& effect) {
  Conn* conn = find(effect.conn);
  if (conn == nullptr || !conn->client) {
    log_.event("drop", "c" + std::to_string(effect.conn), "closed " + effect.bytes);
    return;
  }
  // Outside a batch the reply may be written at once: the floods go first.
  if (!conn->client->batching()) flush_links();
  if (effect.request == 0) {
    const std::string& b = effect.bytes;
    const bool echo = effect.conn == echo_conn_ && b.size() == echo_line_.size() + 3 && b.starts_with("? ") &&
                      b.back() == '\n' && std::string_view(b).substr(2, echo_line_.size()) == echo_line_;
    conn->client->add_reply(std::move(effect.bytes), echo ? echo_line_no_ : 0);
  } else if (!conn->client->fill(effect.request, effect.bytes)) {
    log_.event("drop", "c" + std::to_string(effect.conn), "unexpected " + effect.bytes);
  }
}

void ServerHost::apply_send(Effect& effect) {
  if (config_.faults == nullptr) {
    write_peer(effect.conn, effect.traffic, effect.bytes);
    return;
  }
  const Conn* conn = find(effect.conn);
  if (conn == nullptr || conn->link < 0) {
    // Gone already: the node counted it sent, so it is counted lost.
    const int link = config_.faults->state().link_id(name(), config_.node.neighbours[static_cast<size_t>(effect.peer)]);
    if (effect.traffic == Traffic::kProtocol && link >= 0) count_link(link, 0, 1);
    return;
  }
  config_.faults->send(this, conn->link, effect.conn, effect.traffic, std::move(effect.bytes));
}

bool ServerHost::write_peer(ConnId id, Traffic traffic, std::string_view message) {
  Conn* conn = find(id);
  const bool protocol = traffic == Traffic::kProtocol;
  if (conn == nullptr || conn->stream == nullptr || conn->stream->ending()) {
    if (conn != nullptr && protocol && conn->link >= 0) count_link(conn->link, 0, 1);
    return false;
  }
  if (log_.messages()) log_.message("send", label(*conn, id), message);
  if (protocol) ++conn->queued;
  if (!conn->stream->has_buffered_output()) unflushed_.push_back(id);
  // Why buffer: one write per message was most of the herd's CPU; the server
  // flushes every link at the end of each read batch and loop iteration.
  conn->stream->buffer_output(message, true, protocol ? 1 : 0);
  return true;
}

void ServerHost::count_link(int link, uint64_t written, uint64_t lost) {
  if (config_.faults == nullptr) return;
  FaultState& state = config_.faults->state();
  if (written > 0) state.count_delivered(link, written);
  if (lost > 0) state.count_lost(link, lost);
}

// Why a list: walking every connection twice per loop iteration cost as much as the
// work itself once thousands of clients were connected.
void ServerHost::flush_links() {
  if (unflushed_.empty()) return;
  std::vector<ConnId> ids;
  ids.swap(unflushed_);
  for (ConnId id : ids) {
    Conn* conn = find(id);
    if (conn != nullptr && conn->stream != nullptr && conn->stream->has_buffered_output()) conn->stream->flush_output();
  }
  ids.clear();
  if (unflushed_.empty()) unflushed_.swap(ids);  // Keeps the capacity.
}

void ServerHost::apply_dial(const Effect& effect) {
  LineStream::Limits limits;
  limits.max_line_bytes = config_.peer_max_line_bytes;
  // Why unbounded: the node bounds its queue (backpressure); pausing our reads
  // because our writes are slow could deadlock two servers flooding each other.
  limits.max_output_bytes = SIZE_MAX;
  limits.backpressure_bytes = config_.link_max_queued_bytes;
  limits.lines_per_turn = config_.peer_lines_per_turn;
  const ConnId id = next_conn_++;
  LineStream* stream = LineStream::create(loop_, this, id, limits);
  Conn& conn = conns_[id];
  conn.stream = stream;
  conn.peer = effect.peer;
  conn.dial_attempt = effect.request;
  if (config_.faults != nullptr) conn.link = config_.faults->state().link_id(name(), config_.node.neighbours[effect.peer]);
  const auto* address = reinterpret_cast<const struct sockaddr*>(&peer_addresses_[static_cast<size_t>(effect.peer)]);
  const int rc = stream->connect(address);
  if (rc != 0) {
    conn.quiet = true;
    stream->close(std::string("connect ") + uv_strerror(rc));
    Input in;
    in.kind = InputKind::kDialed;
    in.now = live_now();
    in.peer = effect.peer;
    in.request = effect.request;
    const std::string why = std::string("connect ") + uv_strerror(rc);
    in.text = why;
    feed(in);
  }
}

namespace {

// A peer connection's kernel buffers are bounded (node/link_machine.h).
void bound_socket_buffers(LineStream* stream) {
  auto* handle = reinterpret_cast<uv_handle_t*>(stream->uv_stream());
  int send = kPeerSocketSendBytes, recv = kPeerSocketRecvBytes;
  uv_send_buffer_size(handle, &send);  // Why ignore a failure: the limit is a bound, not a need.
  uv_recv_buffer_size(handle, &recv);
}

}  // namespace

void ServerHost::on_connected(LineStream* stream, int status) {
  Conn* conn = find(stream->id());
  if (conn == nullptr || conn->dial_attempt == 0) return;
  const int peer = conn->peer;
  Input in;
  in.kind = InputKind::kDialed;
  in.now = live_now();
  in.peer = peer;
  in.request = conn->dial_attempt;
  conn->dial_attempt = 0;
  std::string why;
  if (status == 0) {
    in.conn = stream->id();
    if (config_.node.auth.on()) in.nonce = random_nonce();  // The dialer's, for its hello.
    bound_socket_buffers(stream);
    stream->start_reading();
    if (paused_) stream->set_paused(true);
  } else {
    why = std::string("connect ") + uv_strerror(status);
    conn->quiet = true;
    stream->close(why);
    in.text = why;
    std::string& last = last_dial_error_[static_cast<size_t>(peer)];
    // Why compare: a neighbour that is not running would log every retry.
    if (why != last) log_.event("peer-down", config_.node.neighbours[static_cast<size_t>(peer)], why);
    last = why;
  }
  feed(in);
}

void ServerHost::apply_link(const Effect& effect) {
  const std::string& peer = config_.node.neighbours[static_cast<size_t>(effect.peer)];
  if (effect.kind == EffectKind::kAdopt) {
    Conn* conn = find(effect.conn);
    if (conn == nullptr) return;
    conn->peer = effect.peer;
    if (config_.faults != nullptr) conn->link = config_.faults->state().link_id(name(), peer);
    if (conn->client) --client_count_;
    conn->client.reset();  // Its only line was the hello: nothing is owed.
    LineStream::Limits limits;
    limits.max_line_bytes = config_.peer_max_line_bytes;
    limits.max_output_bytes = SIZE_MAX;
    limits.backpressure_bytes = config_.link_max_queued_bytes;
    limits.lines_per_turn = config_.peer_lines_per_turn;
    if (conn->stream != nullptr) {
      conn->stream->set_limits(limits);
      bound_socket_buffers(conn->stream);
    }
    return;
  }
  if (effect.kind == EffectKind::kLinkUp) {
    last_dial_error_[static_cast<size_t>(effect.peer)].clear();
    const Conn* conn = find(effect.conn);
    std::string how = effect.bytes;
    if (conn != nullptr && conn->stream != nullptr) {
      how += effect.bytes == "dialed" ? " " + conn->stream->remote_address() : " c" + std::to_string(effect.conn);
    }
    log_.event("peer-up", peer, how);
  } else {
    log_.event("peer-down", peer, effect.bytes);
  }
  if (on_peer_change_) on_peer_change_();
}

void ServerHost::apply_timer(const Effect& effect) {
  Timer& timer = *timers_[effect.timer];
  if (effect.at_ns < 0) {
    timer.stop();
    timer_fired_[effect.timer] = 0;
    return;
  }
  // libuv counts whole milliseconds: round up, so a timer never fires early by much
  // (the node checks its own deadlines and re-arms when it fires early anyway).
  const int64_t wait_ns = std::max<int64_t>(0, effect.at_ns - live_now().mono_ns);
  timer.start(static_cast<uint64_t>((wait_ns + kNsPerMs - 1) / kNsPerMs));
}

void ServerHost::on_timer(TimerId timer) {
  if (closing_ || crashed_) return;
  if (paused_) {
    timer_fired_[timer] = 1;
    return;
  }
  Input in;
  in.kind = InputKind::kTimer;
  in.now = live_now();
  in.timer = timer;
  feed(in);
}

void ServerHost::start_places(const Effect& effect) {
  std::string label = "c" + std::to_string(effect.conn);
  log_.event("places-request", label, request_label(effect.request) + " " + places_->describe(effect.query));
  ConnId conn = effect.conn;
  RequestId request = effect.request;
  // Why capturing `this` is safe: PlacesClient never calls Done after close(),
  // which HerdHost calls before any ServerHost is destroyed.
  places_->fetch(effect.query, [this, conn, request](PlacesResult result, int64_t latency_ms) {
    on_places_done(conn, request, std::move(result), latency_ms);
  });
}

void ServerHost::on_places_done(ConnId conn, RequestId request, PlacesResult result, int64_t latency_ms) {
  std::string text = request_label(request) + " ";
  if (result.transport_ok) {
    text += std::to_string(result.http_status);
  } else {
    text += "failed " + result.failure;
  }
  text += " " + std::to_string(latency_ms) + "ms";
  log_.event("places-result", "c" + std::to_string(conn), text);
  // A crashed node forgot the request: nothing to feed.
  if (closing_ || crashed_) return;
  Input in;
  in.kind = InputKind::kPlacesResult;
  in.now = live_now();
  in.request = request;
  in.places = &result;
  feed(in);
}

}  // namespace herd
