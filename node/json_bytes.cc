#include "node/check.h"
#include "node/json_bytes.h"


namespace herd {

void append_json_bytes(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(ch);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\t') {
      out.append("\\t");
    } else {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
}

std::optional<std::string> bytes_from_json(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    // U+0080..U+00FF is C2 80..C3 BF in UTF-8; anything else was not a byte.
    if ((c != 0xC2 && c != 0xC3) || i + 1 >= utf8.size()) return std::nullopt;
    const auto d = static_cast<unsigned char>(utf8[++i]);
    if ((d & 0xC0) != 0x80) return std::nullopt;
    out.push_back(static_cast<char>(((c & 0x03) << 6) | (d & 0x3F)));
  }
  return out;
}

std::string fixed_point(int64_t value, int decimals) {
  HERD_ASSERT(decimals >= 0 && decimals <= 9);
  const bool negative = value < 0;
  // Via unsigned, so INT64_MIN has a magnitude too.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / scale);
  if (decimals > 0) {
    std::string fraction = std::to_string(magnitude % scale);
    out += "." + std::string(static_cast<size_t>(decimals) - fraction.size(), '0') + fraction;
  }
  return out;
}

std::string ratio_text(uint64_t numerator, uint64_t denominator, int decimals) {
  if (denominator == 0) return fixed_point(0, decimals);
  unsigned __int128 scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  const unsigned __int128 scaled = (numerator * scale * 2 + denominator) / (2 * static_cast<unsigned __int128>(denominator));
  return fixed_point(static_cast<int64_t>(scaled), decimals);
}

std::string ms3(int64_t ns) {
  // Half up, away from zero for negatives, so a value and its negation print alike.
  const int64_t us = ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
  return fixed_point(us, 3);
}

}  // namespace herd
