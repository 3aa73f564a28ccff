// Every input a host feeds a node, observed as it happens: the seam through which
// a host (live or virtual) records a trace (sim/trace.h) without knowing its format.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "node/clock.h"
#include "node/effects.h"
#include "node/places.h"

namespace herd {

enum class InputKind : uint8_t {
  kClientLine, kPeerMessage, kPlacesResult, kLinkUp, kLinkDown, kCrash, kRestart,
};

// One input to one node, as its host fed it. Views are valid during the call only.
struct TraceInput {
  InputKind kind = InputKind::kClientLine;
  int node = 0;          // Index into the header's nodes.
  Now now;
  ConnId conn = 0;       // kClientLine.
  int peer = -1;         // kPeerMessage, kLinkUp, kLinkDown: index into the node's neighbours.
  RequestId request = 0;              // kPlacesResult.
  std::string_view text;              // kClientLine: the line; kPeerMessage: the message.
  const PlacesResult* places = nullptr;  // kPlacesResult.
};

// Receives every input a host feeds its nodes, with the effects it produced.
class InputObserver {
 public:
  virtual ~InputObserver() = default;
  virtual void on_input(const TraceInput& input, std::span<const Effect> outputs) = 0;
};

// Effects appended since `before` (a host's effects vector may hold earlier ones).
inline std::span<const Effect> effects_since(const Effects& out, size_t before) {
  return std::span<const Effect>(out).subspan(before);
}

}  // namespace herd
