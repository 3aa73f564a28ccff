// One herd server as a pure state machine (DESIGN.md's one architectural rule).
// It owns its record table and its pending Places requests; it reads no clock,
// opens no socket and draws no random number. Every entry point takes the time and
// appends the effects the host must apply, in order, to `out`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "node/clock.h"
#include "node/effects.h"
#include "node/places.h"
#include "node/record.h"

namespace herd {

struct NodeConfig {
  std::string name;
  std::vector<std::string> neighbours;  // Sorted, unique: peer i is neighbours[i].
  size_t max_records = 2'000'000;       // Clients remembered; past it, new clients get '?'.
  size_t max_pending_places = 10'000;   // Places requests in flight; past it, UNKNOWN_ERROR.
  PlacesApi places_api = PlacesApi::kLegacy;
};

struct NodeCounters {
  uint64_t iamat = 0, whatsat = 0, invalid = 0;
  uint64_t floods_in = 0, floods_stored = 0, floods_stale = 0, floods_bad = 0;
  uint64_t floods_out = 0, table_full = 0;
};

class Node {
 public:
  explicit Node(NodeConfig config);

  // A complete line from a client (terminator already removed by the host's framing).
  // Appends at most one answer for `conn`: a kReply, or a kPlacesRequest whose
  // kReply comes later from on_places_result. Floods come before the answer.
  void on_client_line(ConnId conn, std::string_view line, Now now, Effects* out);

  // A message from neighbour `peer` (REQUIRES: 0 <= peer < neighbours.size()).
  void on_peer_message(int peer, std::string_view message, Now now, Effects* out);

  // The outcome of a kPlacesRequest. Unknown requests (crashed since) are ignored.
  void on_places_result(RequestId request, const PlacesResult& result, Now now, Effects* out);

  void on_link_up(int peer, Now now, Effects* out);
  void on_link_down(int peer, Now now, Effects* out);

  // A crash: every record and pending request is lost (fault injection, simulation).
  void crash();

  const NodeConfig& config() const { return config_; }
  const RecordTable& records() const { return records_; }
  const NodeCounters& counters() const { return counters_; }
  size_t pending_places() const { return pending_.size(); }
  int peer_index(std::string_view name) const;  // -1 when not a neighbour.

 private:
  struct Pending {
    ConnId conn;
    std::string at_line;
    int bound;
  };
  void iamat(ConnId conn, std::string_view line, Now now, Effects* out);
  void whatsat(ConnId conn, std::string_view line, Effects* out);
  void flood(std::string_view at_line, int hops, int except_peer, Effects* out);
  static void reply(ConnId conn, RequestId request, std::string bytes, Effects* out);
  void invalid(ConnId conn, std::string_view line, Effects* out);
  void log(std::string text, Effects* out);

  NodeConfig config_;
  RecordTable records_;
  std::map<RequestId, Pending> pending_;
  RequestId next_request_ = 1;
  NodeCounters counters_;
};

}  // namespace herd
