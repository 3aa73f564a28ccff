#include "node/node.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "node/peer_wire.h"
#include "node/protocol.h"

namespace herd {

Node::Node(NodeConfig config)
    : config_(std::move(config)), records_(config_.max_records) {
  assert(std::is_sorted(config_.neighbours.begin(), config_.neighbours.end()));
  assert(std::adjacent_find(config_.neighbours.begin(), config_.neighbours.end()) ==
         config_.neighbours.end());
}

int Node::peer_index(std::string_view name) const {
  auto it = std::lower_bound(config_.neighbours.begin(), config_.neighbours.end(), name);
  if (it == config_.neighbours.end() || *it != name) return -1;
  return static_cast<int>(it - config_.neighbours.begin());
}

void Node::on_client_line(ConnId conn, std::string_view line, Now now, Effects* out) {
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
  std::string at = "AT ";
  at.append(config_.name).append(" ").append(format_time_diff(now.wall_ns, *t));
  at.append(" ").append(f[1]).append(" ").append(f[2]).append(" ").append(f[3]);
  std::optional<AtFields> fields = parse_at_line(at);
  assert(fields);  // Every field was validated above.
  switch (records_.offer(*fields)) {
    case RecordTable::Offer::kStored:
      flood(at, 1, -1, out);
      break;
    case RecordTable::Offer::kStale:
      break;
    case RecordTable::Offer::kFull:
      ++counters_.table_full;
      log("record table full (" + std::to_string(records_.max_records()) +
              " clients): IAMAT refused",
          out);
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
  assert(loc);  // Stored records hold valid locations.
  Effect e;
  e.kind = EffectKind::kPlacesRequest;
  e.conn = conn;
  e.request = next_request_++;
  e.query = PlacesQuery{std::string(strip_plus(loc->lat)), std::string(strip_plus(loc->lng)),
                        *radius_m, *bound};
  pending_.emplace(e.request, Pending{conn, std::move(at), *bound});
  out->push_back(std::move(e));
}

void Node::on_places_result(RequestId request, const PlacesResult& result, Now, Effects* out) {
  auto it = pending_.find(request);
  if (it == pending_.end()) return;  // Lost in a crash: nobody waits for it.
  Pending p = std::move(it->second);
  pending_.erase(it);
  std::string bytes = std::move(p.at_line);
  bytes.append("\n").append(places_reply_body(config_.places_api, result, p.bound));
  bytes.append("\n\n");
  reply(p.conn, request, std::move(bytes), out);
}

void Node::on_peer_message(int peer, std::string_view message, Now, Effects* out) {
  assert(peer >= 0 && static_cast<size_t>(peer) < config_.neighbours.size());
  ++counters_.floods_in;
  std::optional<Flood> flood_msg = parse_flood(message);
  std::optional<AtFields> fields;
  if (flood_msg) fields = parse_at_line(flood_msg->at_line);
  if (!fields) {
    ++counters_.floods_bad;
    log("ignored a malformed message from " + config_.neighbours[peer], out);
    return;
  }
  // Most floods arrive stale (every server hears each update once per link), so
  // the record is only copied when the table stores it.
  switch (records_.offer(*fields)) {
    case RecordTable::Offer::kStored:
      ++counters_.floods_stored;
      flood(fields->line, flood_msg->hops + 1, peer, out);
      break;
    case RecordTable::Offer::kStale:
      ++counters_.floods_stale;
      break;
    case RecordTable::Offer::kFull:
      ++counters_.table_full;
      log("record table full: flooded record from " + config_.neighbours[peer] + " dropped",
          out);
      break;
  }
}

// Link changes need no state change: a server that comes back is simply flooded to
// again (PROTOCOL.md asks for no resynchronisation), so these are deliberately empty
// of effects and exist so that hosts report every input to the core, in order.
void Node::on_link_up(int peer, Now, Effects*) {
  assert(peer >= 0 && static_cast<size_t>(peer) < config_.neighbours.size());
}

void Node::on_link_down(int peer, Now, Effects*) {
  assert(peer >= 0 && static_cast<size_t>(peer) < config_.neighbours.size());
}

void Node::crash() {
  records_.clear();
  pending_.clear();
}

void Node::flood(std::string_view at_line, int hops, int except_peer, Effects* out) {
  std::string message = make_flood(hops, at_line);
  int last = static_cast<int>(config_.neighbours.size()) - 1;
  if (last == except_peer) --last;
  for (int i = 0; i <= last; ++i) {
    if (i == except_peer) continue;
    Effect e;
    e.kind = EffectKind::kSendPeer;
    e.peer = i;
    e.bytes = i == last ? std::move(message) : message;  // The last one takes it.
    out->push_back(std::move(e));
    ++counters_.floods_out;
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
