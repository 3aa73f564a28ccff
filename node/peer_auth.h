// Peer authentication (node/PROTOCOL.md, "Authentication"): with a herd secret, the
// PEER handshake is a mutual challenge-response over fresh nonces from both sides,
// and every later line of the connection is sealed with a MAC under a key of that
// connection and a sequence number, so that only the herd's own servers can link,
// and bytes injected, altered or replayed into a connection are refused.
//
//   dialer D:    PEER <D> <A> <nd>                 nd: D's nonce (32 hex digits)
//   acceptor A:  PEER <A> <D> <na> <tag_a>         na: A's nonce; tag_a proves A knows K
//   dialer D:    AUTH <tag_d>                      tag_d proves D knows K
//   then either: M <seq> <tag> <message>           every message, each direction
//
// with K the herd key, tag_a = MAC(K, "herd-accept" D A nd na), tag_d = MAC(K,
// "herd-dial" D A nd na), the connection's key S = MAC(K, "herd-session" D A nd na)
// and a sealed message's tag MAC(S, direction, seq, message), every tag its first 16
// bytes in hex. Sequence numbers count from 1 in each direction; a receiver accepts
// each number once, within a window of the highest it has seen (so the fault layer's
// reordering passes and its duplicates, like any replay, are refused).
//
// The core computes none of it itself: the MAC is the host's (a Mac, libsodium's
// HMAC-SHA-512-256 in crypto/sodium_mac.h), handed in with the key, and each nonce
// comes with the input that needs it (a dial's answer, a connection's first line):
// so the core stays free of I/O and of randomness it was not handed, and a replay
// sees the same nonces.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd {

using AuthKey = std::array<uint8_t, 32>;
using AuthNonce = std::array<uint8_t, 16>;
constexpr size_t kTagBytes = 16;  // Of a MAC, on the wire.

// A keyed MAC. Implemented by the hosts; the core only calls it.
class Mac {
 public:
  virtual ~Mac() = default;
  // The MAC of `data` under `key`.
  virtual AuthKey tag(const AuthKey& key, std::string_view data) const = 0;
  // Whether two byte strings of the same length are equal, in constant time.
  virtual bool same(const uint8_t* a, const uint8_t* b, size_t n) const = 0;
};

// A node's authentication: off (the course protocol) when `mac` is null.
struct PeerAuth {
  const Mac* mac = nullptr;
  AuthKey key{};
  bool on() const { return mac != nullptr; }
};

std::string hex_of(const uint8_t* bytes, size_t n);
// Exactly 2n lower- or upper-case hex digits into n bytes.
bool bytes_of_hex(std::string_view hex, uint8_t* out, size_t n);

// The handshake's values, from the dialer's and the acceptor's names and nonces.
struct Handshake {
  std::string_view dialer, acceptor;
  AuthNonce nd{}, na{};
};
AuthKey handshake_tag(const PeerAuth& auth, const Handshake& h, std::string_view purpose);

// One direction of a sealed connection.
class Sealer {
 public:
  Sealer() = default;
  Sealer(const Mac* mac, const AuthKey& key, char direction) : mac_(mac), key_(key), direction_(direction) {}
  // "M <seq> <tag> <message>", the next number.
  std::string seal(std::string_view message);
  // The message of a sealed line whose tag is right, or nullopt (`*replayed` tells a
  // line whose tag is right but whose number was seen or is too old).
  std::optional<std::string_view> open(std::string_view line, bool* replayed);

 private:
  AuthKey tag_of(uint64_t seq, std::string_view message) const;
  bool accept(uint64_t seq);

  static constexpr uint64_t kWindow = 4096;  // Sequence numbers remembered below the highest.
  const Mac* mac_ = nullptr;
  AuthKey key_{};
  char direction_ = 'D';
  uint64_t next_ = 1;     // Sending.
  uint64_t highest_ = 0;  // Receiving: the highest accepted.
  std::array<uint64_t, kWindow / 64> seen_{};  // Bit (highest - seq) for seq in the window.
};

// The message of `line` when it is sealed ("M <seq> <tag> <message>"), else `line`:
// for observers, which see the wire.
std::string_view sealed_message(std::string_view line);

}  // namespace herd
