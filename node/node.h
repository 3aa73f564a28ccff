// One herd server as a pure state machine (the project's one architectural rule).
// It owns its record table, its pending Places requests, one LinkMachine per
// neighbour and its sync sessions; it reads no clock, opens no socket and draws
// random numbers only from the seed in its configuration. step() is its one entry
// point: an input (node/input.h) and its time in, the effects the host must apply,
// in order, appended to `out`.
//
// Life: a node is off until its first kStart; kCrash loses every record, pending
// request, connection and session (the process died), and a later kStart starts it
// again, empty. An off node ignores every input but kStart (counted in `ignored`).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/clock.h"
#include "node/effects.h"
#include "node/input.h"
#include "node/link_machine.h"
#include "node/places.h"
#include "node/record.h"
#include "node/rng.h"
#include "node/sync.h"

namespace herd {

struct NodeConfig {
  std::string name;
  std::vector<std::string> neighbours;  // Sorted, unique: peer i is neighbours[i].
  size_t max_records = 2'000'000;       // Clients remembered; past it, new clients get '?'.
  size_t max_record_bytes = 256u << 20; // Their records' bytes (RecordTable::bytes()): the same.
  // A record whose client time is more than this ahead of the server's wall clock is
  // answered but neither stored nor flooded (a client's clock far in the future would
  // pin its location for good); from a neighbour, it is not stored. 0: no bound.
  int64_t max_clock_skew_ns = 86'400'000'000'000;
  size_t max_pending_places = 10'000;   // Places requests in flight; past it, UNKNOWN_ERROR.
  PlacesApi places_api = PlacesApi::kLegacy;
  uint64_t seed = 1;   // The node's Rng is derive(seed, name): backoff jitter, sync choices.
  LinkTimings link;
  SyncConfig sync;
  PeerAuth auth;       // Off: peers are not authenticated (the course protocol).
};

struct NodeCounters {
  uint64_t iamat = 0, whatsat = 0, invalid = 0;
  uint64_t floods_in = 0, floods_stored = 0, floods_stale = 0, floods_bad = 0;
  uint64_t floods_out = 0, table_full = 0;
  uint64_t future = 0;     // Records refused for a client time past max_clock_skew_ns.
  uint64_t peer_bad = 0;   // Lines on a link that are no message of the protocol.
  uint64_t ignored = 0;    // Inputs fed while the node was off.
  uint64_t stores = 0;     // Records stored, however they came.
  uint64_t offers = 0;     // Records offered to the table: stored ones, and floods and
                           // sync records that were not newer.
};

// The last record offered to the table (for observers such as the metrics): a client's
// stored IAMAT, or a record from a neighbour, stored or not.
enum class StoredVia : uint8_t { kClient, kFlood, kSync };
struct OfferNote {
  uint64_t offers = 0;        // NodeCounters::offers when it was offered.
  StoredVia via = StoredVia::kClient;
  bool stored = false;
  int peer = -1;              // kFlood, kSync: the neighbour it came from.
  int hops = 0;               // kFlood: the links it crossed; kClient 0; kSync 0.
  std::string_view at_line;   // Valid until the step's input and the next step end.
};

class Node final : private SyncHost {
 public:
  explicit Node(NodeConfig config);

  void step(const Input& in, Effects* out);

  bool running() const { return running_; }
  const NodeConfig& config() const { return config_; }
  const RecordTable& records() const { return records_; }
  const NodeCounters& counters() const { return counters_; }
  const LinkMachine& link(int peer) const { return links_[static_cast<size_t>(peer)]; }
  const SyncStats& sync_stats() const { return sync_.stats(); }
  bool sync_active(int peer) const { return sync_.active(peer); }
  const OfferNote& last_offer() const { return last_offer_; }
  size_t pending_places() const { return pending_.size(); }
  int peer_index(std::string_view name) const;  // -1 when not a neighbour.
  // The timer id of the sync clock (link timers are 0..neighbours-1).
  TimerId sync_timer() const { return static_cast<TimerId>(links_.size()); }

 private:
  struct Pending {
    ConnId conn;
    std::string at_line;
    int bound;
  };
  void start(Now now, Effects* out);
  void crash(Effects* out);
  void line(const Input& in, Effects* out);
  bool adopt_hello(const Input& in, Effects* out);
  void client_line(ConnId conn, std::string_view line, Now now, Effects* out);
  void peer_line(int peer, ConnId conn, std::string_view line, Now now, Effects* out);
  void closed(ConnId conn, std::string_view why, Now now, Effects* out);
  void timer(TimerId timer, Now now, Effects* out);
  void iamat(ConnId conn, std::string_view line, Now now, Effects* out);
  void whatsat(ConnId conn, std::string_view line, Effects* out);
  void places_result(RequestId request, const PlacesResult& result, Effects* out);
  void flood_in(int peer, std::string_view message, Now now, Effects* out);
  // Stores a record that came from a neighbour (a flood or a sync) and floods it on.
  void offer_from_peer(int peer, const AtFields& fields, StoredVia via, int hops, Now now,
                       Effects* out);
  void flood(std::string_view at_line, int hops, int except_peer, Now now, Effects* out);
  // Whether client time `time_ns` is more than max_clock_skew_ns ahead of `now`.
  bool from_the_future(int64_t time_ns, Now now) const;
  std::string full_text(RecordTable::Offer full) const;  // "record table full (N clients)".
  void note_offer(StoredVia via, bool stored, int peer, int hops, std::string_view at_line);
  int link_of(ConnId conn) const;
  static void reply(ConnId conn, RequestId request, std::string bytes, Effects* out);
  void invalid(ConnId conn, std::string_view line, Effects* out);
  void log(std::string text, Effects* out);

  // SyncHost: the sync engine's view of this node.
  const RecordTable& sync_table() const override { return records_; }
  bool sync_link_up(int peer) const override { return links_[static_cast<size_t>(peer)].up(); }
  bool sync_send(int peer, std::string message, int64_t now_ns, Effects* out) override;
  void sync_deadline(int peer, int64_t at_ns, Effects* out) override;
  bool sync_record(int peer, std::string_view at_line, Now now, Effects* out) override;
  void sync_log(std::string text, Effects* out) override { log(std::move(text), out); }

  NodeConfig config_;
  Rng rng_;
  RecordTable records_;
  std::vector<LinkMachine> links_;
  SyncEngine sync_;
  std::map<RequestId, Pending> pending_;
  RequestId next_request_ = 1;
  NodeCounters counters_;
  OfferNote last_offer_;
  bool running_ = false;
};

}  // namespace herd
