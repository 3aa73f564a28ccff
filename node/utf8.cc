#include "node/utf8.h"

#include <cstdint>

namespace herd {
namespace {

// The length of the valid sequence at the start of `s` (not empty), or 0.
size_t sequence_at(std::string_view s) {
  const auto b = static_cast<unsigned char>(s[0]);
  if (b < 0x80) return 1;
  const size_t n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (n == 0 || s.size() < n) return 0;
  uint32_t cp = b & (0x7f >> n);
  for (size_t i = 1; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (c & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = sequence_at(bytes.substr(i));
    out.append(n == 0 ? std::string_view("\xef\xbf\xbd") : bytes.substr(i, n));
    i += n == 0 ? 1 : n;
  }
  return out;
}

bool is_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = sequence_at(bytes.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace herd
