// The link layer between a node and one neighbour (DESIGN.md): one direction of a
// topology link, as the sending node sees it. Implementations: a TCP link (net/),
// a simulated link (sim/), and a fault-injecting decorator wrapping either (in the
// manner of leveldb's Env/EnvWrapper). Delivery at the far end is the receiving
// host's business: it calls Node::on_peer_message.
#pragma once
#include <string_view>

namespace herd {

class Link {
 public:
  virtual ~Link() = default;
  // Hands one message (no '\n') to the link. The link may deliver it, queue it, or,
  // for a faulty or down link, not deliver it; it never blocks.
  virtual void send(std::string_view message) = 0;
  // Whether the link currently has a connection to its peer.
  virtual bool up() const = 0;
};

}  // namespace herd
