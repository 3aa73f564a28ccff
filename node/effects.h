// What a node asks its host to do. The core returns effects as data and never
// performs I/O; the live host (net/) and the virtual host (sim/) apply them the same
// way, in order. Connections are the host's (it numbers them); the node decides what
// is written to them, when they are opened and closed, and when it wants a timer.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

using ConnId = uint64_t;     // A connection, numbered by the host (never 0).
using RequestId = uint64_t;  // A Places request, numbered by the node.
using TimerId = uint32_t;    // A node's timer: 0..n-1 its links, n its sync clock.

// The Places Nearby Search a WHATSAT needs. Built by the core from the stored
// record; the host turns it into HTTP (it alone knows the API key).
struct PlacesQuery {
  std::string lat;     // The stored latitude's digits, no leading '+': "34.068930".
  std::string lng;     // The stored longitude's digits, no leading '+': "-118.445127".
  int64_t radius_m = 0;  // round(km * 1000), 1..50000.
  int bound = 0;         // 1..20: results kept in the reply.
};

// Which faults a message to a neighbour may meet on its way (node/fault_channel.h).
enum class Traffic : uint8_t {
  kControl,   // The link's own messages (hello, heartbeat): only what a network does.
  kProtocol,  // Flooding and sync: also the message-level drop, delay and duplicate.
};

enum class EffectKind : uint8_t {
  kReply,          // Write `bytes` to client `conn` (a whole reply, ends with '\n').
  kPlacesRequest,  // Start Places `query` as `request`; answer with a kPlacesResult input.
  kLog,            // A decision the host cannot see from I/O alone; `bytes` is the text.
  kSend,           // Write `bytes` (one message, no '\n') to `conn`, the link to `peer`.
  kDial,           // Open a connection to neighbour `peer`; answer with a kDialed input.
  kClose,          // Close `conn` now (unsent bytes are lost); `bytes` is the reason.
  kAdopt,          // Accepted connection `conn` is now the link to `peer`.
  kTimer,          // Fire timer `timer` at monotonic `at_ns` (replacing it); -1 cancels.
  kLinkUp,         // The link to `peer` is up on `conn`; `bytes`: "dialed" or "accepted".
  kLinkDown,       // The link to `peer` is down; `bytes` is the reason.
};

struct Effect {
  EffectKind kind = EffectKind::kLog;
  Traffic traffic = Traffic::kControl;  // kSend.
  int peer = -1;          // kSend, kDial, kAdopt, kLinkUp, kLinkDown: index into the
                          // node's sorted neighbour list.
  TimerId timer = 0;      // kTimer.
  ConnId conn = 0;        // kReply, kPlacesRequest, kSend, kClose, kAdopt, kLinkUp.
  RequestId request = 0;  // kPlacesRequest, and kReply when it answers a request (else 0).
  int64_t at_ns = 0;      // kTimer.
  std::string bytes;
  uint32_t body = 0;      // kSend: where the node's message starts in `bytes` (after a seal).
  PlacesQuery query;      // kPlacesRequest only.
  std::string_view message() const { return std::string_view(bytes).substr(body); }
};

using Effects = std::vector<Effect>;

}  // namespace herd
