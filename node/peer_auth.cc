#include "node/peer_auth.h"

#include "node/check.h"

namespace herd {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Fields of a MAC's input, each length-prefixed, so no two tuples read alike.
void put(std::string* s, std::string_view field) {
  s->append(std::to_string(field.size())).push_back(':');
  s->append(field);
}

}  // namespace

std::string hex_of(const uint8_t* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return s;
}

bool bytes_of_hex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

AuthKey handshake_tag(const PeerAuth& auth, const Handshake& h, std::string_view purpose) {
  HERD_ASSERT(auth.on());
  std::string data;
  put(&data, purpose);
  put(&data, h.dialer);
  put(&data, h.acceptor);
  put(&data, std::string_view(reinterpret_cast<const char*>(h.nd.data()), h.nd.size()));
  put(&data, std::string_view(reinterpret_cast<const char*>(h.na.data()), h.na.size()));
  return auth.mac->tag(auth.key, data);
}

AuthKey Sealer::tag_of(uint64_t seq, std::string_view message) const {
  std::string data(1, direction_);
  put(&data, std::to_string(seq));
  put(&data, message);
  return mac_->tag(key_, data);
}

std::string Sealer::seal(std::string_view message) {
  HERD_ASSERT(mac_ != nullptr);
  const uint64_t seq = next_++;
  const AuthKey tag = tag_of(seq, message);
  std::string line = "M ";
  line.append(std::to_string(seq)).push_back(' ');
  line.append(hex_of(tag.data(), kTagBytes)).push_back(' ');
  line.append(message);
  return line;
}

std::optional<std::string_view> Sealer::open(std::string_view line, bool* replayed) {
  HERD_ASSERT(mac_ != nullptr);
  *replayed = false;
  // "M <seq> <tag> <message>", single spaces: a sealed line is written by a server.
  if (!line.starts_with("M ")) return std::nullopt;
  const size_t seq_end = line.find(' ', 2);
  if (seq_end == std::string_view::npos || seq_end == 2 || seq_end - 2 > 19) return std::nullopt;
  uint64_t seq = 0;
  for (size_t i = 2; i < seq_end; ++i) {
    if (line[i] < '0' || line[i] > '9') return std::nullopt;
    seq = seq * 10 + static_cast<uint64_t>(line[i] - '0');
  }
  const size_t tag_start = seq_end + 1;
  if (line.size() < tag_start + 2 * kTagBytes + 1 || line[tag_start + 2 * kTagBytes] != ' ') return std::nullopt;
  uint8_t got[kTagBytes];
  if (!bytes_of_hex(line.substr(tag_start, 2 * kTagBytes), got, kTagBytes)) return std::nullopt;
  const std::string_view message = line.substr(tag_start + 2 * kTagBytes + 1);
  const AuthKey want = tag_of(seq, message);
  if (!mac_->same(got, want.data(), kTagBytes)) return std::nullopt;
  if (!accept(seq)) {
    *replayed = true;
    return std::nullopt;
  }
  return message;
}

bool Sealer::accept(uint64_t seq) {
  auto bit = [this](uint64_t s) -> std::pair<uint64_t&, uint64_t> {
    const uint64_t i = s % kWindow;
    return {seen_[i / 64], uint64_t{1} << (i % 64)};
  };
  if (seq == 0) return false;
  if (seq > highest_) {
    if (seq - highest_ >= kWindow) {
      seen_.fill(0);
    } else {
      for (uint64_t s = highest_ + 1; s < seq; ++s) {
        auto [word, mask] = bit(s);
        word &= ~mask;
      }
    }
    highest_ = seq;
    auto [word, mask] = bit(seq);
    word |= mask;
    return true;
  }
  if (highest_ - seq >= kWindow) return false;
  auto [word, mask] = bit(seq);
  if (word & mask) return false;
  word |= mask;
  return true;
}

std::string_view sealed_message(std::string_view line) {
  if (!line.starts_with("M ")) return line;
  const size_t seq_end = line.find(' ', 2);
  if (seq_end == std::string_view::npos) return line;
  const size_t message = seq_end + 1 + 2 * kTagBytes + 1;
  return message <= line.size() ? line.substr(message) : line;
}

}  // namespace herd
