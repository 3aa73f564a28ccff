// Anti-entropy: two neighbours reconcile their record tables, so that what flooding
// missed (a partition, a crash, a lossy link, a full queue) is repaired without any
// client reporting again. Pure, like the rest of the core: it runs inside Node, on
// its links (node/link_machine.h), in both hosts.
//
// When: `link-up` (the default) starts a session whenever a link comes up (start,
// reconnect, restart: the dialer starts it), whenever a link resumes after a
// silence (a healed cut or pause: the side that noticed starts it) and whenever a
// link's queue drains after losing messages while full (the sender starts it); `periodic` does
// the same and also, every interval, starts one with a neighbour drawn from the
// node's Rng (which repairs message-level drops); `off` is the course protocol.
//
// A session (node/sync_wire.h for the bytes), initiator I and responder R:
//   I: ROOT (table size and root digest)       R: equal? DONE. Else SUMS (its buckets)
//   I: for each bucket that differs: its records directly when R's bucket is empty,
//      else its keys (client hash, time, tie hash); then DIFF (the differing buckets)
//   R: for each differing bucket: every record I lacks or holds older (REC), and a
//      GET for every key R lacks or holds older; then END
//   I: the records R asked for (REC)
// So only what the other side lacks or holds older crosses, judged by the protocol's
// total order (equal times with different origins or places are sent both ways and
// the table keeps the newer). A stored REC is flooded on like any new record.
//
// Bounds: every SYNC message waits in its link's queue and leaves at most
// `bytes_per_s` (a token bucket a second or 64 KiB deep, whichever is less); floods
// and replies never wait for it. A
// queue holds at most `queue_bytes_max`; output past it is dropped and the session
// ends "incomplete", so another follows. KEYS carry at most `keys_per_message` keys;
// a responder keeps at most `keys_max` keys of one session. A session that has heard
// nothing from the other side for `session_timeout` is abandoned and started again
// (messages of a lossy channel get lost; a long, paced one keeps hearing RECs). A message lost at the link (down,
// queue full) aborts the session. Malformed or unexpected messages are counted
// (`bad`), logged by the node, and ignored.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "node/clock.h"
#include "node/effects.h"
#include "node/fifo.h"
#include "node/record.h"
#include "node/rng.h"
#include "node/sync_wire.h"

namespace herd {

enum class SyncMode : uint8_t { kOff, kLinkUp, kPeriodic };
const char* sync_mode_name(SyncMode mode);  // "off", "link-up", "periodic".
std::optional<SyncMode> parse_sync_mode(std::string_view text);

struct SyncConfig {
  SyncMode mode = SyncMode::kLinkUp;
  int64_t interval_ns = 5'000'000'000;      // kPeriodic: one session per interval.
  uint64_t bytes_per_s = 1u << 20;          // Per link.
  int64_t session_timeout_ns = 2'000'000'000;  // Without a message of the session.
  uint64_t keys_per_message = 256;
  uint64_t queue_bytes_max = 8u << 20;      // Per link.
  uint64_t keys_max = 4'000'000;            // Per session, at the responder.
  friend bool operator==(const SyncConfig&, const SyncConfig&) = default;
};

struct SyncStats {
  uint64_t sessions = 0;   // Started here (as initiator).
  uint64_t agreed = 0;     // Of those, ended at the root: the tables agreed.
  uint64_t completed = 0;  // Ended with END.
  uint64_t aborted = 0;    // Link down, a message lost, or timed out.
  uint64_t messages = 0, bytes = 0;  // SYNC messages sent (bytes without the '\n').
  uint64_t records_sent = 0;         // REC messages sent.
  uint64_t records_stored = 0;       // RECs received that were newer here.
  uint64_t bad = 0;                  // Malformed or unexpected SYNC messages.
};

// What the engine needs of its node (Node implements it).
class SyncHost {
 public:
  virtual ~SyncHost() = default;
  virtual const RecordTable& sync_table() const = 0;
  virtual bool sync_link_up(int peer) const = 0;
  // Hands a message to the link (kProtocol traffic); false when the link lost it.
  virtual bool sync_send(int peer, std::string message, int64_t now_ns, Effects* out) = 0;
  // The link's timer must fire at `at_ns` (pacing, a session's timeout); INT64_MAX: none.
  virtual void sync_deadline(int peer, int64_t at_ns, Effects* out) = 0;
  // A record from the neighbour: parse, store if newer, flood on. Returns whether it
  // was stored; false also for a malformed line (the node counts and logs it).
  virtual bool sync_record(int peer, std::string_view at_line, Now now, Effects* out) = 0;
  virtual void sync_log(std::string text, Effects* out) = 0;
};

class SyncEngine {
 public:
  SyncEngine(const SyncConfig& config, int links);

  void reset();  // A crash: every session and queue is gone.
  const SyncStats& stats() const { return stats_; }
  bool active(int peer) const;  // A session of either role is under way on the link.

  void link_up(int peer, bool dialer, Now now, SyncHost& host, Effects* out);
  // The link stayed up but may have lost messages: it was silent for `suspect` or
  // more, or its queue drained after losing messages while full. A session starts
  // (unless sync is off).
  void link_gap(int peer, Now now, SyncHost& host, Effects* out);
  void link_down(int peer);
  void on_message(int peer, std::string_view line, Now now, SyncHost& host, Effects* out);
  // The link's timer fired: send what pacing allows; abandon a session past its time.
  void on_link_timer(int peer, Now now, SyncHost& host, Effects* out);
  // The periodic clock: a session with one up neighbour drawn from `rng`. Returns the
  // next tick's time.
  int64_t on_clock(Now now, Rng& rng, SyncHost& host, Effects* out);

 private:
  struct Outgoing {
    Fifo<std::string> queue;
    uint64_t bytes = 0;
    int64_t tokens = 0;
    int64_t refill_ns = INT64_MIN;
  };
  struct Initiated {
    uint64_t sid = 0;  // 0: none.
    int64_t deadline_ns = INT64_MAX;
    std::unordered_map<uint64_t, std::string> keyed;  // Client hash -> client, for GETs.
  };
  struct PerLink {
    Outgoing out;
    Initiated mine;
    bool again = false;             // Start another session when this one ends.
    uint64_t their_sid = 0;         // The session we answer.
    bool their_failed = false;      // Over keys_max: ignore the rest of it.
    std::map<int, std::vector<SyncKey>> their_keys;  // By bucket.
    uint64_t their_key_count = 0;
  };

  void start(int peer, Now now, SyncHost& host, Effects* out);
  void finish(int peer, Now now, SyncHost& host, Effects* out);
  // Queues a message; false when the queue bound refused it.
  bool enqueue(int peer, std::string message);
  // Queues a small message that must not be refused (DIFF, END).
  void force_enqueue(int peer, std::string message);
  void pump(int peer, Now now, SyncHost& host, Effects* out);
  void abort_link(int peer);
  void on_root(int peer, const SyncMessage& m, SyncHost& host);
  void on_sums(int peer, const SyncMessage& m, SyncHost& host);
  void on_keys(int peer, const SyncMessage& m, Now now, SyncHost& host, Effects* out);
  void on_diff(int peer, const SyncMessage& m, SyncHost& host);
  void on_get(int peer, const SyncMessage& m, SyncHost& host);
  bool queue_rec(int peer, uint64_t sid, const Record& r);

  SyncConfig config_;
  std::vector<PerLink> links_;
  uint64_t next_sid_ = 0;
  SyncStats stats_;
};

}  // namespace herd
