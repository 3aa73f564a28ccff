#include "node/peer_wire.h"

#include <vector>

#include "node/protocol.h"

namespace herd {

std::string make_peer_hello(std::string_view from, std::string_view to) {
  std::string s = "PEER ";
  s.append(from).append(" ").append(to);
  return s;
}

std::optional<PeerHello> parse_peer_hello(std::string_view line) {
  Fields f = split_fields(line, 3);
  if (f.size() != 3 || f[0] != "PEER") return std::nullopt;
  return PeerHello{f[1], f[2]};
}

std::string make_flood(int hops, std::string_view at_line) {
  std::string s = "FLOOD ";
  s.append(std::to_string(hops)).append(" ").append(at_line);
  return s;
}

std::optional<Flood> parse_flood(std::string_view line) {
  constexpr std::string_view kPrefix = "FLOOD ";
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  size_t i = kPrefix.size();
  int hops = 0;
  size_t start = i;
  // Hops never exceed the number of servers; 7 digits bounds a typo, not a herd.
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && i - start < 7) {
    hops = hops * 10 + (line[i++] - '0');
  }
  if (i == start || i >= line.size() || line[i] != ' ' || hops < 1) return std::nullopt;
  return Flood{hops, line.substr(i + 1)};
}

}  // namespace herd
