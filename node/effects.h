// What a node asks its host to do. The core returns effects as data and never
// performs I/O; the live host (net/) and the virtual host (sim/) apply them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace herd {

using ConnId = uint64_t;     // A client connection, numbered by the host.
using RequestId = uint64_t;  // A Places request, numbered by the node.

// The Places Nearby Search a WHATSAT needs. Built by the core from the stored
// record; the host turns it into HTTP (it alone knows the API key).
struct PlacesQuery {
  std::string lat;     // The stored latitude's digits, no leading '+': "34.068930".
  std::string lng;     // The stored longitude's digits, no leading '+': "-118.445127".
  int64_t radius_m = 0;  // round(km * 1000), 1..50000.
  int bound = 0;         // 1..20: results kept in the reply.
};

enum class EffectKind : uint8_t {
  kReply,          // Write `bytes` to client `conn` (a whole reply, ends with '\n').
  kSendPeer,       // Send `bytes` (one message, no '\n') to neighbour `peer`.
  kPlacesRequest,  // Start Places `query` as `request`; answer with on_places_result.
  kLog,            // A decision the host cannot see from I/O alone; `bytes` is the text.
};

struct Effect {
  EffectKind kind = EffectKind::kLog;
  ConnId conn = 0;        // kReply, kPlacesRequest: the client the answer is for.
  int peer = -1;          // kSendPeer: index into the node's sorted neighbour list.
  RequestId request = 0;  // kPlacesRequest, and kReply when it answers a request (else 0).
  std::string bytes;
  PlacesQuery query;      // kPlacesRequest only.
};

using Effects = std::vector<Effect>;

}  // namespace herd
