#include "node/sync.h"

#include <algorithm>
#include <utility>

namespace herd {
namespace {

// The token bucket's depth: at most a second of the rate, at most 64 KiB. One message
// larger than the depth still leaves, on a full bucket.
constexpr int64_t kBurstBytesMax = 64 * 1024;

SyncKey key_of(const Record& r) {
  return SyncKey{client_hash64(r.client()), r.time_ns(), tie_hash(r.origin(), r.location())};
}

// Whether a record with key `mine` should be offered to a side that holds `theirs`:
// it is newer, or equal in time but different (then both sides offer, and the total
// order decides).
bool worth_sending(const SyncKey& mine, const SyncKey& theirs) {
  return mine.time_ns > theirs.time_ns ||
         (mine.time_ns == theirs.time_ns && mine.tie_hash != theirs.tie_hash);
}

}  // namespace

const char* sync_mode_name(SyncMode mode) {
  switch (mode) {
    case SyncMode::kOff: return "off";
    case SyncMode::kLinkUp: return "link-up";
    case SyncMode::kPeriodic: return "periodic";
  }
  return "?";
}

std::optional<SyncMode> parse_sync_mode(std::string_view text) {
  if (text == "off") return SyncMode::kOff;
  if (text == "link-up") return SyncMode::kLinkUp;
  if (text == "periodic") return SyncMode::kPeriodic;
  return std::nullopt;
}

SyncEngine::SyncEngine(const SyncConfig& config, int links)
    : config_(config), links_(static_cast<size_t>(links)) {}

void SyncEngine::reset() {
  for (PerLink& l : links_) l = PerLink{};
}

bool SyncEngine::active(int peer) const {
  const PerLink& l = links_[static_cast<size_t>(peer)];
  return l.mine.sid != 0 || !l.out.queue.empty();
}

void SyncEngine::link_up(int peer, bool dialer, Now now, SyncHost& host, Effects* out) {
  if (config_.mode == SyncMode::kOff || !dialer) return;
  start(peer, now, host, out);
}

void SyncEngine::link_gap(int peer, Now now, SyncHost& host, Effects* out) {
  if (config_.mode == SyncMode::kOff) return;
  start(peer, now, host, out);
}

void SyncEngine::link_down(int peer) { abort_link(peer); }

void SyncEngine::abort_link(int peer) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  if (l.mine.sid != 0) ++stats_.aborted;
  const bool again = l.mine.sid != 0 || l.again;
  l = PerLink{};
  l.again = again;
}

void SyncEngine::start(int peer, Now now, SyncHost& host, Effects* out) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  if (l.mine.sid != 0) {
    l.again = true;
    return;
  }
  l.again = false;
  l.mine = Initiated{};
  l.mine.sid = ++next_sid_;
  l.mine.deadline_ns = now.mono_ns + config_.session_timeout_ns;
  ++stats_.sessions;
  const RecordTable& t = host.sync_table();
  enqueue(peer, sync_root(l.mine.sid, t.size(), t.root_digest()));
  pump(peer, now, host, out);
}

void SyncEngine::finish(int peer, Now now, SyncHost& host, Effects* out) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  l.mine = Initiated{};
  if (l.again) start(peer, now, host, out);
}

bool SyncEngine::enqueue(int peer, std::string message) {
  Outgoing& o = links_[static_cast<size_t>(peer)].out;
  if (o.bytes + message.size() + 1 > config_.queue_bytes_max) return false;
  o.bytes += message.size() + 1;
  o.queue.push_back(std::move(message));
  return true;
}

void SyncEngine::force_enqueue(int peer, std::string message) {
  Outgoing& o = links_[static_cast<size_t>(peer)].out;
  o.bytes += message.size() + 1;
  o.queue.push_back(std::move(message));
}

void SyncEngine::pump(int peer, Now now, SyncHost& host, Effects* out) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  Outgoing& o = l.out;
  const int64_t rate = static_cast<int64_t>(config_.bytes_per_s);
  const int64_t kBurstBytes = std::min(kBurstBytesMax, rate);
  if (o.refill_ns == INT64_MIN) {
    o.tokens = kBurstBytes;
  } else if (now.mono_ns > o.refill_ns) {
    const __int128 earned = static_cast<__int128>(now.mono_ns - o.refill_ns) * rate / kNsPerSec;
    o.tokens = static_cast<int64_t>(std::min<__int128>(kBurstBytes, o.tokens + earned));
  }
  o.refill_ns = std::max(o.refill_ns, now.mono_ns);
  while (!o.queue.empty()) {
    const int64_t cost = static_cast<int64_t>(o.queue.front().size() + 1);
    if (o.tokens < cost && o.tokens < kBurstBytes) break;
    o.tokens -= cost;
    o.bytes -= static_cast<uint64_t>(cost);
    std::string message = std::move(o.queue.front());
    o.queue.pop_front();
    const size_t size = message.size();
    if (!host.sync_send(peer, std::move(message), now.mono_ns, out)) {
      abort_link(peer);
      break;
    }
    ++stats_.messages;
    stats_.bytes += size;
  }
  int64_t deadline = l.mine.sid != 0 ? l.mine.deadline_ns : INT64_MAX;
  if (!o.queue.empty()) {
    const int64_t need = std::min<int64_t>(static_cast<int64_t>(o.queue.front().size() + 1), kBurstBytes) - o.tokens;
    const int64_t wait_ns = static_cast<int64_t>((static_cast<__int128>(need) * kNsPerSec + rate - 1) / rate);
    deadline = std::min(deadline, now.mono_ns + std::max<int64_t>(wait_ns, 1));
  }
  host.sync_deadline(peer, deadline, out);
}

void SyncEngine::on_link_timer(int peer, Now now, SyncHost& host, Effects* out) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  if (l.mine.sid != 0 && now.mono_ns >= l.mine.deadline_ns) {
    // Something of it was lost (a cut, a drop): try again, at most once a timeout.
    ++stats_.aborted;
    host.sync_log("sync session " + std::to_string(l.mine.sid) + " timed out", out);
    l.mine = Initiated{};
    l.again = true;
    finish(peer, now, host, out);
    return;
  }
  pump(peer, now, host, out);
}

int64_t SyncEngine::on_clock(Now now, Rng& rng, SyncHost& host, Effects* out) {
  std::vector<int> up;
  for (size_t i = 0; i < links_.size(); ++i) {
    if (host.sync_link_up(static_cast<int>(i))) up.push_back(static_cast<int>(i));
  }
  if (!up.empty()) {
    const int peer = up[rng.uniform_u64(0, up.size() - 1)];
    if (links_[static_cast<size_t>(peer)].mine.sid == 0) start(peer, now, host, out);
  }
  return now.mono_ns + config_.interval_ns;
}

void SyncEngine::on_message(int peer, std::string_view line, Now now, SyncHost& host, Effects* out) {
  std::optional<SyncMessage> m = parse_sync(line);
  PerLink& l = links_[static_cast<size_t>(peer)];
  // Any word from the peer on our session is progress: its timeout starts again.
  if (m && l.mine.sid != 0 && (m->sid == l.mine.sid || m->kind == SyncKind::kRec)) {
    l.mine.deadline_ns = now.mono_ns + config_.session_timeout_ns;
  }
  bool expected = m.has_value();
  if (m) {
    switch (m->kind) {
      case SyncKind::kRoot: on_root(peer, *m, host); break;
      case SyncKind::kKeys: on_keys(peer, *m, now, host, out); break;
      case SyncKind::kDiff:
        expected = m->sid == l.their_sid;
        if (expected && !l.their_failed) on_diff(peer, *m, host);
        break;
      case SyncKind::kRec:
        // Accepted whatever its session: a record is judged by the total order alone,
        // and delayed copies may arrive after their session ended.
        if (host.sync_record(peer, m->at_line, now, out)) ++stats_.records_stored;
        break;
      case SyncKind::kSums:
        expected = m->sid == l.mine.sid && l.mine.sid != 0;
        if (expected) on_sums(peer, *m, host);
        break;
      case SyncKind::kGet:
        expected = m->sid == l.mine.sid && l.mine.sid != 0;
        if (expected) on_get(peer, *m, host);
        break;
      case SyncKind::kDone:
      case SyncKind::kEnd:
        expected = m->sid == l.mine.sid && l.mine.sid != 0;
        if (expected) {
          ++(m->kind == SyncKind::kDone ? stats_.agreed : stats_.completed);
          if (m->more) l.again = true;
          finish(peer, now, host, out);
        }
        break;
    }
  }
  if (!expected) {
    // A late reply to a session that ended or timed out is normal under delays; only
    // a malformed line is worth a log line.
    ++stats_.bad;
    if (!m) host.sync_log("ignored a malformed sync message", out);
  }
  pump(peer, now, host, out);
}

void SyncEngine::on_root(int peer, const SyncMessage& m, SyncHost& host) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  l.their_sid = m.sid;
  l.their_failed = false;
  l.their_keys.clear();
  l.their_key_count = 0;
  const RecordTable& t = host.sync_table();
  if (m.count == t.size() && m.hash == t.root_digest()) {
    enqueue(peer, sync_done(m.sid));
    return;
  }
  std::vector<SyncSum> sums;
  for (int b = 0; b < RecordTable::kBuckets; ++b) {
    if (t.bucket_count(b) > 0) sums.push_back({b, t.bucket_count(b), t.bucket_digest(b)});
  }
  enqueue(peer, sync_sums(m.sid, sums));
}

bool SyncEngine::queue_rec(int peer, uint64_t sid, const Record& r) {
  if (!enqueue(peer, sync_rec(sid, r.at_line()))) return false;
  ++stats_.records_sent;
  return true;
}

// The initiator, with the responder's buckets: records where the responder has none,
// keys where both have some, then the list of differing buckets.
void SyncEngine::on_sums(int peer, const SyncMessage& m, SyncHost& host) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  const RecordTable& t = host.sync_table();
  std::vector<SyncSum> theirs(RecordTable::kBuckets);
  for (const SyncSum& s : m.sums) theirs[static_cast<size_t>(s.bucket)] = s;
  // Buckets the responder has none of get our records now and are not its to
  // answer; the rest that differ are listed in DIFF (with our keys, if we have any).
  std::vector<int> differ;
  std::vector<char> scan(RecordTable::kBuckets, 0);
  for (int b = 0; b < RecordTable::kBuckets; ++b) {
    const SyncSum& s = theirs[static_cast<size_t>(b)];
    if (s.count == t.bucket_count(b) && s.hash == t.bucket_digest(b)) continue;
    if (s.count > 0) differ.push_back(b);
    scan[static_cast<size_t>(b)] = t.bucket_count(b) > 0;
  }
  std::map<int, std::vector<SyncKey>> keys;
  bool cut = false;
  t.for_each_in(scan, [&](const Record& r) {
    const int b = RecordTable::bucket_of(r.client_hash());
    if (theirs[static_cast<size_t>(b)].count == 0) {
      cut = !queue_rec(peer, l.mine.sid, r) || cut;
      return;
    }
    SyncKey k = key_of(r);
    l.mine.keyed.emplace(k.client_hash, std::string(r.client()));
    keys[b].push_back(k);
  });
  for (auto& [b, list] : keys) {
    for (size_t at = 0; at < list.size(); at += config_.keys_per_message) {
      const size_t end = std::min<size_t>(list.size(), at + config_.keys_per_message);
      std::vector<SyncKey> part(list.begin() + static_cast<ptrdiff_t>(at), list.begin() + static_cast<ptrdiff_t>(end));
      cut = !enqueue(peer, sync_keys(l.mine.sid, b, part)) || cut;
    }
  }
  // DIFF goes even past the queue bound: without it the session would wait for its
  // timeout.
  force_enqueue(peer, sync_diff(l.mine.sid, differ));
  if (cut) l.again = true;
}

void SyncEngine::on_keys(int peer, const SyncMessage& m, Now now, SyncHost& host, Effects* out) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  if (m.sid != l.their_sid || l.their_failed) {
    ++stats_.bad;
    return;
  }
  if (l.their_key_count + m.keys.size() > config_.keys_max) {
    l.their_failed = true;
    l.their_keys.clear();
    host.sync_log("sync session " + std::to_string(m.sid) + ": more than " +
                      std::to_string(config_.keys_max) + " keys; ignored",
                  out);
    (void)now;
    return;
  }
  l.their_key_count += m.keys.size();
  std::vector<SyncKey>& list = l.their_keys[m.bucket];
  list.insert(list.end(), m.keys.begin(), m.keys.end());
}

// The responder, with the initiator's keys: send what it lacks or holds older, ask
// for what we lack or hold older.
void SyncEngine::on_diff(int peer, const SyncMessage& m, SyncHost& host) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  const RecordTable& t = host.sync_table();
  std::vector<char> scan(RecordTable::kBuckets, 0);
  for (int b : m.buckets) scan[static_cast<size_t>(b)] = 1;
  std::unordered_map<uint64_t, SyncKey> theirs;
  for (int b : m.buckets) {
    auto it = l.their_keys.find(b);
    if (it == l.their_keys.end()) continue;
    for (const SyncKey& k : it->second) theirs.emplace(k.client_hash, k);
  }
  std::unordered_map<uint64_t, SyncKey> mine;
  bool cut = false;
  t.for_each_in(scan, [&](const Record& r) {
    const SyncKey k = key_of(r);
    mine.emplace(k.client_hash, k);
    auto it = theirs.find(k.client_hash);
    if (it == theirs.end() || worth_sending(k, it->second)) cut = !queue_rec(peer, m.sid, r) || cut;
  });
  std::vector<uint64_t> want;
  for (int b : m.buckets) {  // In the order the keys came: deterministic.
    auto it = l.their_keys.find(b);
    if (it == l.their_keys.end()) continue;
    for (const SyncKey& k : it->second) {
      auto have = mine.find(k.client_hash);
      if (have == mine.end() || worth_sending(k, have->second)) want.push_back(k.client_hash);
    }
  }
  for (size_t at = 0; at < want.size(); at += config_.keys_per_message) {
    const size_t end = std::min<size_t>(want.size(), at + config_.keys_per_message);
    std::vector<uint64_t> part(want.begin() + static_cast<ptrdiff_t>(at), want.begin() + static_cast<ptrdiff_t>(end));
    cut = !enqueue(peer, sync_get(m.sid, part)) || cut;
  }
  l.their_keys.clear();
  l.their_key_count = 0;
  // END goes even when the queue is full: it is small, and without it the initiator
  // waits for its timeout.
  force_enqueue(peer, sync_end(m.sid, cut));
}

void SyncEngine::on_get(int peer, const SyncMessage& m, SyncHost& host) {
  PerLink& l = links_[static_cast<size_t>(peer)];
  const RecordTable& t = host.sync_table();
  for (uint64_t h : m.hashes) {
    auto it = l.mine.keyed.find(h);
    if (it == l.mine.keyed.end()) continue;
    const Record* r = t.find(it->second);
    if (r == nullptr) continue;
    if (!queue_rec(peer, m.sid, *r)) {
      l.again = true;
      break;
    }
  }
}

}  // namespace herd
