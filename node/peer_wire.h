// The server-to-server protocol, one message per '\n'-terminated line (node/PROTOCOL.md
// has the whole of it, with the SYNC messages of node/sync_wire.h):
//   PEER <from> <to>        first line of a connection, from the side that opened it;
//                           the other side answers with PEER <to> <from>.
//   FLOOD <hops> <AT line>  a record; hops counts the links it has crossed (1 at the
//                           origin's neighbours).
//   HB                      a heartbeat: sent by a link that has sent nothing for a while.
// Anything else on a peer connection is logged and ignored.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace herd {

struct PeerHello {
  std::string_view from;
  std::string_view to;
};
std::string make_peer_hello(std::string_view from, std::string_view to);
std::optional<PeerHello> parse_peer_hello(std::string_view line);

struct Flood {
  int hops = 0;
  std::string_view at_line;
};
std::string make_flood(int hops, std::string_view at_line);
inline std::string make_heartbeat() { return "HB"; }
inline bool is_heartbeat(std::string_view line) { return line == "HB"; }
std::optional<Flood> parse_flood(std::string_view line);

}  // namespace herd
