// JSON text for the simulator's outputs (reports, traces), written by hand so the
// bytes are the same on every platform: fixed-point numbers from integers (never
// printf of a double), and byte strings that survive a round trip exactly.
//
// Byte strings: a client may send any bytes (PROTOCOL.md), including invalid UTF-8,
// yet a JSON string holds Unicode. So a trace writes every byte outside printable
// ASCII as \u00XX (byte XX), and never writes raw non-ASCII. A reader that decodes
// JSON into UTF-8 (RapidJSON) then holds code points U+0000..U+00FF, which
// bytes_from_json maps back to single bytes. Plain ASCII text reads as itself.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd {

// Appends `bytes` as a quoted JSON string (see above).
void append_json_bytes(std::string& out, std::string_view bytes);
inline std::string json_bytes(std::string_view bytes) {
  std::string out;
  append_json_bytes(out, bytes);
  return out;
}

// Undoes append_json_bytes on a decoded (UTF-8) JSON string; nothing when the text
// holds a code point above U+00FF or is not UTF-8, i.e. was not written as bytes.
std::optional<std::string> bytes_from_json(std::string_view utf8);

// `value / 10^decimals` as a decimal with exactly `decimals` digits after the point
// ("-1.250" for (-1250, 3)). REQUIRES: 0 <= decimals <= 9.
std::string fixed_point(int64_t value, int decimals);
// round(numerator / denominator * 10^decimals) as fixed_point; "0" decimals when the
// denominator is 0. REQUIRES: numerator >= 0, denominator >= 0, no overflow of
// numerator * 10^decimals in 128 bits.
std::string ratio_text(uint64_t numerator, uint64_t denominator, int decimals);
// Nanoseconds as milliseconds with three decimals, rounded half up: "400.000".
std::string ms3(int64_t ns);

}  // namespace herd
