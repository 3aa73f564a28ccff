#include "node/check.h"
#include "node/node.h"

#include <algorithm>
#include <utility>

#include "node/peer_wire.h"
#include "node/protocol.h"

namespace herd {

Node::Node(NodeConfig config)
    : config_(std::move(config)),
      rng_(derive(config_.seed, config_.name)),
      records_(config_.max_records, config_.max_record_bytes),
      sync_(config_.sync, static_cast<int>(config_.neighbours.size())) {
  HERD_ASSERT(std::is_sorted(config_.neighbours.begin(), config_.neighbours.end()));
  HERD_ASSERT(std::adjacent_find(config_.neighbours.begin(), config_.neighbours.end()) ==
         config_.neighbours.end());
  HERD_ASSERT(config_.sync.bytes_per_s > 0 && config_.sync.interval_ns > 0);
  links_.reserve(config_.neighbours.size());
  for (size_t i = 0; i < config_.neighbours.size(); ++i) {
    links_.emplace_back(config_.name, config_.neighbours[i], static_cast<int>(i), config_.link, config_.auth);
  }
}

int Node::peer_index(std::string_view name) const {
  auto it = std::lower_bound(config_.neighbours.begin(), config_.neighbours.end(), name);
  if (it == config_.neighbours.end() || *it != name) return -1;
  return static_cast<int>(it - config_.neighbours.begin());
}

void Node::step(const Input& in, Effects* out) {
  if (!running_ && in.kind != InputKind::kStart) {
    ++counters_.ignored;
    return;
  }
  switch (in.kind) {
    case InputKind::kLine:
      line(in, out);
      break;
    case InputKind::kClosed:
      closed(in.conn, in.text, in.now, out);
      break;
    case InputKind::kDialed:
      HERD_ASSERT(in.peer >= 0 && static_cast<size_t>(in.peer) < links_.size());
      links_[static_cast<size_t>(in.peer)].on_dialed(in.request, in.conn, in.text, in.nonce, in.now.mono_ns, rng_,
                                                     out);
      break;
    case InputKind::kBackpressure:
      if (int p = link_of(in.conn); p >= 0 && links_[static_cast<size_t>(p)].on_backpressure(in.conn, in.flags != 0)) {
        sync_.link_gap(p, in.now, *this, out);
      }
      break;
    case InputKind::kTimer:
      timer(in.timer, in.now, out);
      break;
    case InputKind::kPlacesResult:
      places_result(in.request, *in.places, out);
      break;
    case InputKind::kCrash:
      crash(out);
      break;
    case InputKind::kStart:
      start(in.now, out);
      break;
  }
}

void Node::start(Now now, Effects* out) {
  if (running_) return;  // A second start of a running server changes nothing.
  running_ = true;
  for (LinkMachine& link : links_) link.start(now.mono_ns, out);
  if (config_.sync.mode == SyncMode::kPeriodic && !links_.empty()) {
    Effect e;
    e.kind = EffectKind::kTimer;
    e.timer = sync_timer();
    e.at_ns = now.mono_ns + config_.sync.interval_ns;
    out->push_back(std::move(e));
  }
}

void Node::crash(Effects* out) {
  running_ = false;
  records_.clear();
  pending_.clear();
  sync_.reset();
  for (LinkMachine& link : links_) link.stop(out);
  if (config_.sync.mode == SyncMode::kPeriodic && !links_.empty()) {
    Effect e;
    e.kind = EffectKind::kTimer;
    e.timer = sync_timer();
    e.at_ns = -1;
    out->push_back(std::move(e));
  }
}

int Node::link_of(ConnId conn) const {
  if (conn == 0) return -1;
  for (size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].owns(conn)) return static_cast<int>(i);
  }
  return -1;
}

void Node::line(const Input& in, Effects* out) {
  if (int p = link_of(in.conn); p >= 0) return peer_line(p, in.conn, in.text, in.now, out);
  if ((in.flags & kFirstLine) && adopt_hello(in, out)) return;
  if (in.flags & kPeerPort) {  // Only the server-to-server protocol is spoken there.
    Effect e;
    e.kind = EffectKind::kClose;
    e.conn = in.conn;
    e.bytes = "not-a-peer";
    out->push_back(std::move(e));
    return;
  }
  client_line(in.conn, in.text, in.now, out);
}

bool Node::adopt_hello(const Input& in, Effects* out) {
  const Fields f = split_fields(in.text, 2);
  if (f.size() < 3 || f[0] != "PEER") return false;
  const int peer = peer_index(f[1]);
  if (peer < 0) return false;
  LinkMachine& link = links_[static_cast<size_t>(peer)];
  const bool was_up = link.up();
  switch (link.on_hello(in.conn, in.text, in.nonce, in.now.mono_ns, rng_, out)) {
    case LinkMachine::Hello::kNotHello:
      return false;
    case LinkMachine::Hello::kRefused:
      log("refused a connection claiming to be " + config_.neighbours[static_cast<size_t>(peer)] +
              ": it did not offer the herd's authentication",
          out);
      return true;
    case LinkMachine::Hello::kPending:
      return true;
    case LinkMachine::Hello::kUp:
      if (was_up) sync_.link_down(peer);  // Replaced: its sessions die with it.
      sync_.link_up(peer, link.dials(), in.now, *this, out);
      return true;
  }
  return false;
}

void Node::peer_line(int peer, ConnId conn, std::string_view line, Now now, Effects* out) {
  LinkMachine& link = links_[static_cast<size_t>(peer)];
  const bool was_up = link.up();
  const LinkMachine::LineOutcome o = link.on_line(conn, line, now.mono_ns, rng_, out);
  const std::string& name = config_.neighbours[static_cast<size_t>(peer)];
  if (o.kind == LinkMachine::Line::kUp) {
    if (o.replaced) sync_.link_down(peer);
    sync_.link_up(peer, link.dials(), now, *this, out);
    return;
  }
  if (was_up && !link.up()) {
    sync_.link_down(peer);
    log("closed the connection of " + name + ": a line failed authentication", out);
    return;
  }
  if (o.refused != nullptr) {
    log(std::string("refused ") + o.refused + " (" + name + ")", out);
    return;
  }
  if (o.kind != LinkMachine::Line::kMessage) return;
  line = o.message;
  if (o.resumed) sync_.link_gap(peer, now, *this, out);
  if (is_heartbeat(line)) return;
  if (line.starts_with("FLOOD ")) return flood_in(peer, line, now, out);
  if (line.starts_with("SYNC ")) return sync_.on_message(peer, line, now, *this, out);
  ++counters_.peer_bad;
  log("ignored a malformed message from " + config_.neighbours[static_cast<size_t>(peer)], out);
}

void Node::closed(ConnId conn, std::string_view why, Now now, Effects* out) {
  const int peer = link_of(conn);
  if (peer < 0) return;  // A client: its owed replies are the host's to drop.
  if (links_[static_cast<size_t>(peer)].on_closed(conn, why, now.mono_ns, rng_, out)) sync_.link_down(peer);
}

void Node::timer(TimerId id, Now now, Effects* out) {
  if (id == sync_timer()) {
    if (config_.sync.mode != SyncMode::kPeriodic) return;
    Effect e;
    e.kind = EffectKind::kTimer;
    e.timer = id;
    e.at_ns = sync_.on_clock(now, rng_, *this, out);
    out->push_back(std::move(e));
    return;
  }
  if (id >= links_.size()) return;
  LinkMachine& link = links_[id];
  const bool was_up = link.up();
  // Sync first, so the link arms its timer once, for every deadline it has.
  if (was_up) sync_.on_link_timer(static_cast<int>(id), now, *this, out);
  link.on_timer(now.mono_ns, rng_, out);
  if (was_up && !link.up()) sync_.link_down(static_cast<int>(id));
}

void Node::client_line(ConnId conn, std::string_view line, Now now, Effects* out) {
  if (is_blank(line)) return;
  Fields f = split_fields(line, 1);
  if (f[0] == "IAMAT") {
    iamat(conn, line, now, out);
  } else if (f[0] == "WHATSAT") {
    whatsat(conn, line, out);
  } else {
    invalid(conn, line, out);
  }
}

void Node::iamat(ConnId conn, std::string_view line, Now now, Effects* out) {
  ++counters_.iamat;
  Fields f = split_fields(line, 4);
  std::optional<int64_t> t;
  if (f.size() != 4 || !parse_location(f[2]) || !(t = parse_time_ns(f[3]))) {
    return invalid(conn, line, out);
  }
  // Why reserve: the line (and its reply's '\n') in one allocation, not one per growth.
  char diff[kTimeDiffBytesMax];
  const std::string_view diff_text(diff, format_time_diff(now.wall_ns, *t, diff));
  std::string at;
  at.reserve(3 + config_.name.size() + 1 + diff_text.size() + 1 + f[1].size() + 1 + f[2].size() + 1 +
             f[3].size() + 1);
  at.append("AT ").append(config_.name).append(" ").append(diff_text);
  at.append(" ").append(f[1]).append(" ").append(f[2]).append(" ").append(f[3]);
  std::optional<AtFields> fields = parse_at_line(at);
  HERD_ASSERT(fields);  // Every field was validated above.
  if (from_the_future(*t, now)) {
    ++counters_.future;
    log("IAMAT from the future: " + std::string(f[1]) + "'s client time " + std::string(f[3]) +
            " is more than " + std::to_string(config_.max_clock_skew_ns / kNsPerSec) +
            " s ahead of this server's clock; answered, not stored",
        out);
    at.push_back('\n');
    return reply(conn, 0, std::move(at), out);
  }
  const RecordTable::Offer offered = records_.offer(*fields);
  switch (offered) {
    case RecordTable::Offer::kStored:
      note_offer(StoredVia::kClient, true, -1, 0, records_.find(fields->client)->at_line());
      flood(at, 1, -1, now, out);
      break;
    case RecordTable::Offer::kStale:
      break;
    case RecordTable::Offer::kFull:
    case RecordTable::Offer::kFullBytes:
      ++counters_.table_full;
      log(full_text(offered) + ": IAMAT refused", out);
      return invalid(conn, line, out);
  }
  at.push_back('\n');
  reply(conn, 0, std::move(at), out);
}

void Node::whatsat(ConnId conn, std::string_view line, Effects* out) {
  ++counters_.whatsat;
  Fields f = split_fields(line, 4);
  if (f.size() != 4) return invalid(conn, line, out);
  std::optional<int64_t> radius_m = parse_radius_m(f[2]);
  std::optional<int> bound = parse_bound(f[3]);
  const Record* record = records_.find(f[1]);
  if (!radius_m || !bound || record == nullptr) return invalid(conn, line, out);
  std::string at(record->at_line());
  if (pending_.size() >= config_.max_pending_places) {
    log("too many Places requests in flight; answering without Places", out);
    return reply(conn, 0,
                 at + "\n" + places_error_body("too many Places requests in flight") + "\n\n",
                 out);
  }
  std::optional<Location> loc = parse_location(record->location());
  HERD_ASSERT(loc);  // Stored records hold valid locations.
  Effect e;
  e.kind = EffectKind::kPlacesRequest;
  e.conn = conn;
  e.request = next_request_++;
  e.query = PlacesQuery{std::string(strip_plus(loc->lat)), std::string(strip_plus(loc->lng)),
                        *radius_m, *bound};
  pending_.emplace(e.request, Pending{conn, std::move(at), *bound});
  out->push_back(std::move(e));
}

void Node::places_result(RequestId request, const PlacesResult& result, Effects* out) {
  auto it = pending_.find(request);
  if (it == pending_.end()) return;  // Lost in a crash: nobody waits for it.
  Pending p = std::move(it->second);
  pending_.erase(it);
  std::string bytes = std::move(p.at_line);
  bytes.append("\n").append(places_reply_body(config_.places_api, result, p.bound));
  bytes.append("\n\n");
  reply(p.conn, request, std::move(bytes), out);
}

void Node::flood_in(int peer, std::string_view message, Now now, Effects* out) {
  ++counters_.floods_in;
  std::optional<Flood> flood_msg = parse_flood(message);
  std::optional<AtFields> fields;
  if (flood_msg) fields = parse_at_line(flood_msg->at_line);
  if (!fields) {
    ++counters_.floods_bad;
    log("ignored a malformed message from " + config_.neighbours[static_cast<size_t>(peer)], out);
    return;
  }
  offer_from_peer(peer, *fields, StoredVia::kFlood, flood_msg->hops, now, out);
}

void Node::offer_from_peer(int peer, const AtFields& fields, StoredVia via, int hops, Now now,
                           Effects* out) {
  if (from_the_future(fields.time_ns, now)) {
    ++counters_.future;
    log("record from " + config_.neighbours[static_cast<size_t>(peer)] + " with client time " +
            std::string(fields.time_text) + " more than " + std::to_string(config_.max_clock_skew_ns / kNsPerSec) +
            " s ahead: not stored",
        out);
    return;
  }
  // Most floods arrive stale (every server hears each update once per link), so
  // the record is only copied when the table stores it.
  const RecordTable::Offer offered = records_.offer(fields);
  switch (offered) {
    case RecordTable::Offer::kStored:
      if (via == StoredVia::kFlood) ++counters_.floods_stored;
      note_offer(via, true, peer, hops, records_.find(fields.client)->at_line());
      flood(last_offer_.at_line, hops + 1, peer, now, out);
      break;
    case RecordTable::Offer::kStale:
      if (via == StoredVia::kFlood) ++counters_.floods_stale;
      note_offer(via, false, peer, hops, fields.line);
      break;
    case RecordTable::Offer::kFull:
      ++counters_.table_full;
      log("record table full: flooded record from " + config_.neighbours[static_cast<size_t>(peer)] +
              " dropped",
          out);
      break;
    case RecordTable::Offer::kFullBytes:
      ++counters_.table_full;
      log(full_text(offered) + ": record from " + config_.neighbours[static_cast<size_t>(peer)] + " dropped", out);
      break;
  }
}

bool Node::from_the_future(int64_t time_ns, Now now) const {
  if (config_.max_clock_skew_ns <= 0) return false;
  return static_cast<__int128>(time_ns) - now.wall_ns > config_.max_clock_skew_ns;
}

std::string Node::full_text(RecordTable::Offer full) const {
  if (full == RecordTable::Offer::kFullBytes) {
    return "record table full (" + std::to_string(records_.max_bytes()) + " bytes)";
  }
  return "record table full (" + std::to_string(records_.max_records()) + " clients)";
}

void Node::note_offer(StoredVia via, bool stored, int peer, int hops, std::string_view at_line) {
  if (stored) ++counters_.stores;
  ++counters_.offers;
  last_offer_ = OfferNote{counters_.offers, via, stored, peer, hops, at_line};
}

bool Node::sync_send(int peer, std::string message, int64_t now_ns, Effects* out) {
  return links_[static_cast<size_t>(peer)].send(std::move(message), Traffic::kProtocol, now_ns, out);
}

void Node::sync_deadline(int peer, int64_t at_ns, Effects* out) {
  links_[static_cast<size_t>(peer)].want_timer(at_ns, out);
}

bool Node::sync_record(int peer, std::string_view at_line, Now now, Effects* out) {
  std::optional<AtFields> fields = parse_at_line(at_line);
  if (!fields) {
    log("ignored a malformed sync record from " + config_.neighbours[static_cast<size_t>(peer)], out);
    return false;
  }
  const uint64_t before = counters_.stores;
  offer_from_peer(peer, *fields, StoredVia::kSync, 0, now, out);
  return counters_.stores != before;
}

void Node::flood(std::string_view at_line, int hops, int except_peer, Now now, Effects* out) {
  std::string message = make_flood(hops, at_line);
  int last = static_cast<int>(links_.size()) - 1;
  if (last == except_peer) --last;
  for (int i = 0; i <= last; ++i) {
    if (i == except_peer) continue;
    ++counters_.floods_out;
    // The last one takes the message; the others copy it.
    links_[static_cast<size_t>(i)].send(i == last ? std::move(message) : message, Traffic::kProtocol,
                                        now.mono_ns, out);
  }
}

void Node::reply(ConnId conn, RequestId request, std::string bytes, Effects* out) {
  Effect e;
  e.kind = EffectKind::kReply;
  e.conn = conn;
  e.request = request;
  e.bytes = std::move(bytes);
  out->push_back(std::move(e));
}

void Node::invalid(ConnId conn, std::string_view line, Effects* out) {
  ++counters_.invalid;
  std::string bytes = "? ";
  bytes.append(line).append("\n");
  reply(conn, 0, std::move(bytes), out);
}

void Node::log(std::string text, Effects* out) {
  Effect e;
  e.kind = EffectKind::kLog;
  e.bytes = std::move(text);
  out->push_back(std::move(e));
}

}  // namespace herd
