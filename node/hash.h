// A 64-bit hash for digests and output checksums (FNV-1a over bytes, finished
// with splitmix64's mixer so nearby inputs differ in every bit). Integers are fed
// as fixed-width little-endian bytes, so a digest is the same on every machine.
// Not cryptographic: it detects divergence, it does not resist forgery.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "node/rng.h"

namespace herd {

class Hasher {
 public:
  void bytes(std::string_view data) {
    for (const char c : data) {
      h_ ^= static_cast<unsigned char>(c);
      h_ *= 0x100000001B3ull;
    }
  }
  // Length first, so ("ab","c") and ("a","bc") differ.
  void text(std::string_view data) {
    u64(data.size());
    bytes(data);
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= (v >> (8 * i)) & 0xFF;
      h_ *= 0x100000001B3ull;
    }
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  uint64_t value() const { return mix64(h_); }

 private:
  uint64_t h_ = 0xCBF29CE484222325ull;
};

// Sixteen lower-case hex digits.
inline std::string hex16(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kDigits[v & 15];
  return out;
}

}  // namespace herd
