// The client protocol's field rules (PROTOCOL.md), as pure functions: splitting a
// line into fields, validating locations, times, radii and bounds exactly (decimal
// text, never floats), and formatting the AT line's time difference.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

// Space, tab, CR, FF, VT: the bytes that separate fields.
inline bool is_field_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// At most kFieldsMax fields, held inline: splitting a line allocates nothing.
class Fields {
 public:
  static constexpr size_t kFieldsMax = 8;
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::string_view operator[](size_t i) const { return v_[i]; }
  void push_back(std::string_view f) { v_[n_++] = f; }

 private:
  std::array<std::string_view, kFieldsMax> v_;
  size_t n_ = 0;
};

// Splits on runs of field space; leading and trailing space is ignored.
// Returns at most `max_fields + 1` fields, so a caller can tell "too many" cheaply.
// REQUIRES: max_fields < Fields::kFieldsMax.
Fields split_fields(std::string_view line, size_t max_fields);

// True when the line holds nothing but field space (such lines get no reply).
bool is_blank(std::string_view line);

// An ISO 6709 location: "+34.068930-118.445127". Both parts keep their sign.
struct Location {
  std::string_view lat;  // With its sign: "+34.068930".
  std::string_view lng;  // With its sign: "-118.445127".
};
// Signed decimal degrees, latitude in [-90, 90], longitude in [-180, 180], compared
// exactly on the digits. Views point into `text`.
std::optional<Location> parse_location(std::string_view text);

// POSIX seconds with an optional fraction, optional sign: "1621464827.959498503".
// Digits past the ninth decimal are ignored. Magnitude below kMaxTimeSeconds.
constexpr int64_t kMaxTimeSeconds = 9'000'000'000;
std::optional<int64_t> parse_time_ns(std::string_view text);

// WHATSAT radius in km, 0 < r <= 50, as metres rounded half up: "10" -> 10000.
std::optional<int64_t> parse_radius_m(std::string_view text);

// WHATSAT bound, an integer 1 <= b <= 20.
std::optional<int> parse_bound(std::string_view text);

// now - client as "+0.263873386" / "-1.500000000": sign, seconds, nine decimals.
std::string format_time_diff(int64_t now_ns, int64_t client_ns);
// The same written at `out` (room for kTimeDiffBytesMax bytes, no NUL); returns its length.
constexpr size_t kTimeDiffBytesMax = 32;
size_t format_time_diff(int64_t now_ns, int64_t client_ns, char* out);

// A degree value without its leading '+', for the Places request: "+34.1" -> "34.1".
std::string_view strip_plus(std::string_view degrees);

}  // namespace herd
