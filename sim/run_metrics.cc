#include "node/check.h"
#include "sim/run_metrics.h"

#include "node/fault_state.h"


#include <algorithm>
#include <unordered_map>

#include "node/node.h"
#include "node/peer_auth.h"
#include "node/protocol.h"
#include "sim/report.h"

namespace herd {
namespace {

uint64_t key_of(int server, uint64_t id) { return static_cast<uint64_t>(server) << 40 | (id & ((uint64_t{1} << 40) - 1)); }

// A std::string's heap block for `n` bytes (none within its inline 15), in malloc's
// 16-byte granules with its 8-byte header.
uint64_t heap_bytes(size_t n) { return n > 15 ? (n + 1 + 8 + 15) / 16 * 16 : 0; }

// A record table's bytes: its records' costs and the slot array (load at most one
// half: 16 to 32 bytes a record), and its bucket digests.
uint64_t table_bytes(const RecordTable& t) {
  return t.size() == 0 ? 0 : t.bytes() + 24 * t.size() + RecordTable::kBuckets * 16;
}

std::string_view first_line(std::string_view bytes) { return bytes.substr(0, bytes.find('\n')); }

// A reply is "? <line>\n", "AT ...\n" (an IAMAT's), or "AT ...\n{...}\n\n" (a WHATSAT's).
bool well_formed(std::string_view bytes) {
  if (bytes.empty() || bytes.back() != '\n') return false;
  if (bytes.starts_with("? ")) return bytes.find('\n') == bytes.size() - 1;
  const std::string_view at = first_line(bytes);
  if (!parse_at_line(at)) return false;
  const std::string_view rest = bytes.substr(at.size() + 1);
  return rest.empty() || (rest.size() >= 4 && rest.front() == '{' && rest.ends_with("}\n\n"));
}

bool is_whatsat_reply(std::string_view bytes) {
  const size_t nl = bytes.find('\n');
  return bytes.starts_with("AT ") && nl != std::string_view::npos && nl + 1 < bytes.size();
}

}  // namespace

RunMetrics::RunMetrics(int servers, uint32_t clients, std::function<uint32_t(std::string_view)> client_index)
    : servers_(servers),
      clients_(clients),
      client_index_(std::move(client_index)),
      tracker_(servers),
      offers_seen_(static_cast<size_t>(servers), 0),
      newest_update_(clients, kNoUpdate),
      holds_(static_cast<size_t>(servers) * clients, 0),
      waiting_(static_cast<size_t>(servers) * clients, 0),
      stored_ns_(static_cast<size_t>(servers) * clients, INT64_MIN),
      live_(static_cast<size_t>(servers), 0),
      table_bytes_(static_cast<size_t>(servers), 0),
      last_read_(clients),
      newest_lines_(clients) {}

void RunMetrics::on_input(int s, const Input& in, std::span<const Effect> outputs, const Node& node) {
  ++inputs_;
  uint64_t& table = table_bytes_[static_cast<size_t>(s)];
  const uint64_t now_bytes = table_bytes(node.records());
  records_bytes_ += now_bytes - table;  // Modulo 2^64: a table may shrink (a crash).
  table = now_bytes;
  if (in.kind == InputKind::kCrash) on_crash(s);
  if (in.kind == InputKind::kStart && !live_[static_cast<size_t>(s)]) {
    live_[static_cast<size_t>(s)] = 1;
    ++live_count_;
  }
  // Fewer offers than before: another Node object serves as `s` now (a new
  // process); counting starts again from it.
  uint64_t& seen = offers_seen_[static_cast<size_t>(s)];
  if (node.counters().offers != seen) {
    const bool offered = node.counters().offers > seen;
    seen = node.counters().offers;
    if (offered) on_offer(s, in.now.mono_ns, node);
  }
  // After the offer: a client's IAMAT is an update before its floods are counted.
  uint32_t last = kNoUpdate;
  std::string_view last_line;
  for (const Effect& e : outputs) {
    const std::string_view message = e.message();  // Without its seal, when sealed.
    if (e.kind != EffectKind::kSend || e.traffic != Traffic::kProtocol || !message.starts_with("FLOOD ")) continue;
    ++flood_messages_;
    const std::string_view at = message.substr(message.find(' ', 6) + 1);
    if (at != last_line) last = tracker_.find(at), last_line = at;
    tracker_.sent(last);
  }
  if (in.kind == InputKind::kLine) on_client_line(s, in, outputs, node);
  on_replies(s, outputs);
}

void RunMetrics::on_client_line(int s, const Input& in, std::span<const Effect> outputs, const Node& node) {
  if (in.flags & kPeerPort) return;
  for (size_t p = 0; p < node.config().neighbours.size(); ++p) {
    if (node.link(static_cast<int>(p)).conn() != in.conn) continue;
    if (sealed_message(in.text).starts_with("FLOOD ")) ++deliveries_;
    return;  // A peer's line, or a hello adopted now.
  }
  if (is_blank(in.text)) return;
  ++owed_[key_of(s, in.conn)];
  ++outstanding_total_;
  for (const Effect& e : outputs) {
    if (e.kind != EffectKind::kPlacesRequest) continue;
    const Fields f = split_fields(in.text, 4);  // WHATSAT <client> <radius> <bound>
    const Record* held = node.records().find(f[1]);
    if (held == nullptr) continue;
    std::string& asked = asked_[key_of(s, e.request)];
    asked_bytes_ -= heap_bytes(asked.size());
    asked = std::string(held->at_line());
    asked_bytes_ += heap_bytes(asked.size());
  }
}

void RunMetrics::on_replies(int s, std::span<const Effect> outputs) {
  for (const Effect& e : outputs) {
    if (e.kind != EffectKind::kReply) continue;
    auto it = owed_.find(key_of(s, e.conn));
    if (it == owed_.end()) {
      ++safety_.answered_twice;
    } else {
      --outstanding_total_;
      if (--it->second == 0) owed_.erase(it);
    }
    if (!well_formed(e.bytes)) {
      ++safety_.malformed_replies;
      continue;
    }
    if (!is_whatsat_reply(e.bytes)) continue;
    const std::string_view at = first_line(e.bytes);
    if (e.request != 0) {
      auto asked = asked_.find(key_of(s, e.request));
      if (asked != asked_.end()) {
        if (asked->second != at) ++safety_.serve_regressions;
        asked_bytes_ -= heap_bytes(asked->second.size());
        asked_.erase(asked);
      }
    }
    const std::optional<AtFields> read = parse_at_line(at);
    const uint32_t client = client_index_(read->client);
    if (client == kNoUpdate) continue;
    std::string& seen = last_read_[client];
    if (!seen.empty()) {
      const std::optional<Record> before = Record::from_at_line(seen);
      const std::optional<Record> got = Record::from_at_line(at);
      // Older than what a client already read somewhere: a monotonic-read violation.
      if (newer(*parse_at_line(seen), *got)) ++safety_.monotonic_read_violations;
      if (!newer(*read, *before)) continue;
    }
    if (seen.empty()) line_bytes_ += heap_bytes(at.size());
    seen = std::string(at);
  }
}

uint64_t RunMetrics::memory_bytes() const {
  const uint64_t pairs = holds_.capacity() + waiting_.capacity() + stored_ns_.capacity() * sizeof(int64_t);
  const uint64_t clients = newest_update_.capacity() * sizeof(uint32_t) +
                           (last_read_.capacity() + newest_lines_.capacity()) * sizeof(std::string) + line_bytes_;
  // unordered_map nodes: next pointer, key, value, cached hash; asked_'s with its line.
  const uint64_t maps = (owed_.bucket_count() + asked_.bucket_count()) * sizeof(void*) + owed_.size() * 32 +
                        asked_.size() * (16 + sizeof(std::string)) + asked_bytes_;
  return pairs + clients + maps + series_.capacity() * 16 + after_.repair_ns.capacity() * sizeof(int64_t) +
         tracker_.memory_bytes();
}

void RunMetrics::on_offer(int s, int64_t now, const Node& node) {
  const OfferNote& note = node.last_offer();
  const std::optional<AtFields> fields = parse_at_line(note.at_line);
  HERD_ASSERT(fields);  // The table only takes valid lines.
  const uint32_t client = client_index_(fields->client);
  if (client == kNoUpdate) return;
  if (note.stored) {
    int64_t& last = stored_ns_[pair(s, client)];
    if (fields->time_ns < last) ++safety_.store_regressions;
    last = fields->time_ns;
  }
  if (note.via == StoredVia::kClient) return on_new_update(s, client, now, note.at_line);
  const uint32_t u = tracker_.find(note.at_line);
  tracker_.arrive(u, s, now, note.via == StoredVia::kFlood ? note.hops : 0);
  if (note.stored && u != kNoUpdate && u == newest_update_[client]) set_holding(s, client, true, now);
}

void RunMetrics::on_new_update(int origin, uint32_t client, int64_t now, std::string_view at_line) {
  const uint32_t u = tracker_.add(origin, now, client, at_line);
  // The client's newest record is the greatest by the protocol's order, which is not
  // always the last one stored at an origin (a line held by a paused server is
  // stored when it resumes, perhaps after newer ones elsewhere).
  std::string& newest = newest_lines_[client];
  if (!newest.empty() && !newer(*parse_at_line(at_line), *Record::from_at_line(newest))) return;
  if (newest.empty()) ++reported_, line_bytes_ += heap_bytes(at_line.size());
  for (int s = 0; s < servers_; ++s) set_holding(s, client, false, now);
  newest = std::string(at_line);
  newest_update_[client] = u;
  if (u != kNoUpdate) set_holding(origin, client, true, now);
}

void RunMetrics::set_holding(int s, uint32_t client, bool holds, int64_t now) {
  uint8_t& h = holds_[pair(s, client)];
  if (h == static_cast<uint8_t>(holds)) return;
  h = holds ? 1 : 0;
  if (live_[static_cast<size_t>(s)]) holding_live_ += holds ? 1 : static_cast<uint64_t>(-1);
  if (!holds) return;
  uint8_t& w = waiting_[pair(s, client)];
  if (!w) return;
  w = 0;
  ++after_.repaired;
  after_.repair_ns.push_back(now - after_.last_fault_ns);
}

void RunMetrics::on_crash(int s) {
  if (!live_[static_cast<size_t>(s)]) return;
  for (uint32_t c = 0; c < clients_; ++c) {
    if (holds_[pair(s, c)]) --holding_live_;
    holds_[pair(s, c)] = 0;
    waiting_[pair(s, c)] = 0;
    stored_ns_[pair(s, c)] = INT64_MIN;  // A new process may hold anything again.
  }
  live_[static_cast<size_t>(s)] = 0;
  --live_count_;
}

void RunMetrics::fault_at(int64_t now_ns) {
  after_ = AfterFaults{};
  after_.last_fault_ns = now_ns;
  for (int s = 0; s < servers_; ++s) {
    for (uint32_t c = 0; c < clients_; ++c) {
      const bool stale = live_[static_cast<size_t>(s)] && newest_update_[c] != kNoUpdate && !holds_[pair(s, c)];
      waiting_[pair(s, c)] = stale ? 1 : 0;
      after_.stale += stale ? 1 : 0;
    }
  }
}

uint64_t RunMetrics::never_repaired() const {
  uint64_t n = 0;
  for (int s = 0; s < servers_; ++s) {
    if (!live_[static_cast<size_t>(s)]) continue;
    for (uint32_t c = 0; c < clients_; ++c) n += waiting_[pair(s, c)];
  }
  return n;
}

std::string RunMetrics::first_behind(const std::vector<std::string>& servers,
                                     const std::vector<std::string>& clients) const {
  for (uint32_t c = 0; c < clients_; ++c) {
    if (newest_update_[c] == kNoUpdate) continue;
    for (int s = 0; s < servers_; ++s) {
      if (live_[static_cast<size_t>(s)] && !holds_[pair(s, c)]) {
        return "client " + clients[c] + " at server " + servers[static_cast<size_t>(s)];
      }
    }
  }
  return "";
}

void fill_report(const RunMetrics& m, uint32_t clients, const std::vector<const Node*>& nodes, Report* r,
                 int64_t origin_ns) {
  const UpdateTracker& t = m.tracker();
  r->updates = t.updates();
  r->untracked = t.untracked();
  std::vector<int64_t> latencies;
  for (uint32_t u = 0; u < t.updates(); ++u) {
    if (t.converged(u)) latencies.push_back(t.latency_ns(u));
  }
  r->reached_all = latencies.size();
  r->superseded = t.superseded(clients);
  std::sort(latencies.begin(), latencies.end());
  // Nearest rank: the smallest value with at least q% of the values at or below it.
  auto rank = [](const std::vector<int64_t>& v, uint64_t q) {
    return v.empty() ? 0 : v[(q * v.size() + 99) / 100 - 1];
  };
  r->latency_p50_ns = rank(latencies, 50), r->latency_p95_ns = rank(latencies, 95);
  r->latency_p99_ns = rank(latencies, 99), r->latency_max_ns = latencies.empty() ? 0 : latencies.back();
  r->sends = m.flood_messages();
  r->duplicates = t.duplicates();
  r->arrivals = t.flood_arrivals(), r->hops_sum = t.hops_sum(), r->hops_max = t.hops_max();
  r->residue_pairs = m.pairs();
  r->residue_stale = m.stale_pairs();
  for (const auto& [at, stale] : m.series()) r->residue_series.emplace_back(at - origin_ns, stale);
  const AfterFaults& a = m.after_faults();
  r->last_fault_ns = a.last_fault_ns < 0 ? -1 : a.last_fault_ns - origin_ns;
  r->fault_stale = a.stale, r->fault_repaired = a.repaired, r->fault_never = m.never_repaired();
  std::vector<int64_t> repairs = a.repair_ns;
  std::sort(repairs.begin(), repairs.end());
  r->repair_p50_ns = rank(repairs, 50), r->repair_max_ns = repairs.empty() ? 0 : repairs.back();
  const SafetyFigures& s = m.safety();
  r->store_regressions = s.store_regressions, r->serve_regressions = s.serve_regressions;
  r->malformed_replies = s.malformed_replies, r->answered_twice = s.answered_twice;
  r->monotonic_read_violations = s.monotonic_read_violations;
  for (const Node* node : nodes) {
    const SyncStats& sync = node->sync_stats();
    r->sync_sessions += sync.sessions, r->sync_messages += sync.messages, r->sync_bytes += sync.bytes;
    r->sync_records_sent += sync.records_sent, r->sync_records_stored += sync.records_stored;
    for (size_t p = 0; p < node->config().neighbours.size(); ++p) {
      const LinkStats& st = node->link(static_cast<int>(p)).stats();
      r->link_lost_down += st.lost_down, r->link_lost_full += st.lost_full;
      r->link_lost += st.lost_down + st.lost_full;
    }
  }
}

void add_fault_counters(const FaultState& faults, Report* r) {
  for (int link = 0; link < faults.link_count(); ++link) {
    const LinkCounters& c = faults.counters(link);
    r->dropped += c.dropped, r->cut += c.cut, r->overflow += c.overflow, r->blackholed += c.blackholed;
    r->link_lost_closed += c.lost;
    r->link_lost += c.lost;
  }
}

// Bounds per update over its origin's component (report.h): one component gives
// the classic n-1 and 2m-(n-1).
void add_bounds(const Topology& topology, const UpdateTracker& tracker, Report* r) {
  const int n = static_cast<int>(topology.nodes.size());
  const std::vector<std::vector<int>> parts = topology.components();
  r->components = static_cast<int>(parts.size());
  const auto links = static_cast<uint64_t>(topology.links.size());
  if (parts.size() <= 1) {
    r->bound_tree = static_cast<uint64_t>(n > 0 ? n - 1 : 0);
    r->bound_flood = 2 * links - r->bound_tree;
    r->bounds_per = 1;
    return;
  }
  std::vector<int> part_of(static_cast<size_t>(n));
  for (size_t c = 0; c < parts.size(); ++c) {
    for (int node : parts[c]) part_of[static_cast<size_t>(node)] = static_cast<int>(c);
  }
  std::unordered_map<std::string_view, int> index;  // Looked up, never iterated.
  for (int s = 0; s < n; ++s) index.emplace(topology.nodes[static_cast<size_t>(s)].name, s);
  std::vector<uint64_t> part_links(parts.size(), 0);
  for (const auto& link : topology.links) {
    ++part_links[static_cast<size_t>(part_of[static_cast<size_t>(index.at(link.first))])];
  }
  r->bound_tree = r->bound_flood = 0;
  auto count = [&](int origin) {
    const auto c = static_cast<size_t>(part_of[static_cast<size_t>(origin)]);
    const uint64_t tree = parts[c].size() - 1;
    r->bound_tree += tree;
    r->bound_flood += 2 * part_links[c] - tree;
  };
  for (uint32_t u = 0; u < tracker.updates(); ++u) count(tracker.origin(u));
  r->bounds_per = tracker.updates();
  if (r->bounds_per == 0) {
    for (int s = 0; s < n; ++s) count(s);
    r->bounds_per = static_cast<uint64_t>(n);
  }
}

}  // namespace herd
