// Everything that happens to a node, as one value (Node::step's argument). A host
// turns its I/O into inputs: lines read, connections closed, dials answered, a send
// queue over or back under its limit, timers, Places answers, a crash and a start.
// The node's whole behaviour is a function of its configuration and this sequence,
// which is what a trace records and a replay feeds again.
#pragma once
#include <cstdint>
#include <string_view>

#include "node/clock.h"
#include "node/effects.h"
#include "node/peer_auth.h"
#include "node/places.h"

namespace herd {

enum class InputKind : uint8_t {
  kLine,          // `conn` delivered line `text` (terminator removed); `flags` below.
  kClosed,        // `conn` is gone (either side closed it, or it failed); `text` says why.
  kDialed,        // The kDial for `peer` ended: connected as `conn`, or failed (conn 0,
                  // `text` says why).
  kBackpressure,  // `conn`'s unsent bytes went over its limit (flags 1) or back under half
                  // of it (flags 0).
  kTimer,         // Timer `timer` fired (perhaps early or late: the node checks its clocks).
  kPlacesResult,  // The answer to Places request `request`.
  kCrash,         // The process died: every connection is gone, memory is lost.
  kStart,         // The server is listening: its first start, or a restart after kCrash.
};

// kLine flags.
constexpr uint8_t kFirstLine = 1;  // The first line of a connection the host accepted.
constexpr uint8_t kPeerPort = 2;   // Accepted on the peer port (only peers speak there).

struct Input {
  InputKind kind = InputKind::kLine;
  uint8_t flags = 0;
  int peer = -1;          // kDialed.
  TimerId timer = 0;      // kTimer.
  ConnId conn = 0;        // kLine, kClosed, kDialed, kBackpressure.
  RequestId request = 0;  // kPlacesResult.
  Now now;
  std::string_view text;                 // kLine, kClosed, kDialed.
  const PlacesResult* places = nullptr;  // kPlacesResult.
  // kDialed and a kFirstLine line, when the herd authenticates its peers: fresh random
  // bytes for the handshake (node/peer_auth.h), from the host; else zero.
  AuthNonce nonce{};
};

}  // namespace herd
