#include "node/check.h"
#include "node/protocol.h"

#include <charconv>

namespace herd {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number as text: optional sign, integer digits, optional fraction.
struct Decimal {
  char sign = 0;             // '+', '-' or 0 when absent.
  std::string_view integer;  // At least one digit.
  std::string_view fraction; // Digits after '.', possibly empty.
};

// Parses [+-]?digits(.digits)? at the start of `text`; `used` gets the length.
std::optional<Decimal> parse_decimal(std::string_view text, size_t* used) {
  Decimal d;
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) d.sign = text[i++];
  size_t start = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == start) return std::nullopt;
  d.integer = text.substr(start, i - start);
  if (i < text.size() && text[i] == '.') {
    size_t frac = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == frac) return std::nullopt;  // "5." is not a number here.
    d.fraction = text.substr(frac, i - frac);
  }
  *used = i;
  return d;
}

std::optional<Decimal> parse_whole_decimal(std::string_view text) {
  size_t used = 0;
  auto d = parse_decimal(text, &used);
  if (!d || used != text.size()) return std::nullopt;
  return d;
}

// The integer part's value, or -1 when it has more than `max_digits` significant
// digits (so callers compare ranges without overflow).
int64_t integer_value(std::string_view digits, size_t max_digits) {
  size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  if (digits.size() - i > max_digits) return -1;
  int64_t v = 0;
  for (; i < digits.size(); ++i) v = v * 10 + (digits[i] - '0');
  return v;
}

bool all_zero(std::string_view digits) {
  for (char c : digits) {
    if (c != '0') return false;
  }
  return true;
}

// |value| <= limit, exactly on the digits.
bool within(const Decimal& d, int64_t limit) {
  int64_t v = integer_value(d.integer, 4);
  if (v < 0 || v > limit) return false;
  return v < limit || all_zero(d.fraction);
}

}  // namespace

Fields split_fields(std::string_view line, size_t max_fields) {
  HERD_ASSERT(max_fields < Fields::kFieldsMax);
  Fields fields;
  size_t i = 0;
  while (i < line.size() && fields.size() <= max_fields) {
    while (i < line.size() && is_field_space(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_field_space(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

bool is_blank(std::string_view line) {
  for (char c : line) {
    if (!is_field_space(c)) return false;
  }
  return true;
}

std::optional<Location> parse_location(std::string_view text) {
  size_t used = 0;
  auto lat = parse_decimal(text, &used);
  if (!lat || lat->sign == 0) return std::nullopt;
  std::string_view rest = text.substr(used);
  auto lng = parse_whole_decimal(rest);
  if (!lng || lng->sign == 0) return std::nullopt;
  if (!within(*lat, 90) || !within(*lng, 180)) return std::nullopt;
  return Location{text.substr(0, used), rest};
}

std::optional<int64_t> parse_time_ns(std::string_view text) {
  auto d = parse_whole_decimal(text);
  if (!d) return std::nullopt;
  // Below 9 * 10^9 s (year 2255), so nanoseconds fit in int64.
  int64_t seconds = integer_value(d->integer, 10);
  if (seconds < 0 || seconds >= kMaxTimeSeconds) return std::nullopt;
  int64_t frac_ns = 0;
  for (size_t i = 0; i < 9; ++i) {
    frac_ns = frac_ns * 10 + (i < d->fraction.size() ? d->fraction[i] - '0' : 0);
  }
  int64_t ns = seconds * 1'000'000'000 + frac_ns;
  return d->sign == '-' ? -ns : ns;
}

std::optional<int64_t> parse_radius_m(std::string_view text) {
  auto d = parse_whole_decimal(text);
  if (!d || d->sign == '-') return std::nullopt;
  if (!within(*d, 50)) return std::nullopt;
  int64_t km = integer_value(d->integer, 4);
  int64_t m = km * 1000;
  for (size_t i = 0; i < 3; ++i) {
    int64_t digit = i < d->fraction.size() ? d->fraction[i] - '0' : 0;
    m += digit * (i == 0 ? 100 : i == 1 ? 10 : 1);
  }
  // Round half up on the first dropped digit; r > 0 needs some non-zero digit.
  if (d->fraction.size() > 3 && d->fraction[3] >= '5') ++m;
  if (km == 0 && all_zero(d->fraction)) return std::nullopt;
  // A radius like 0.0001 km rounds to 0 m: Places would reject it, and the client
  // asked for something positive, so ask for the smallest radius there is.
  return m == 0 ? 1 : m;
}

std::optional<int> parse_bound(std::string_view text) {
  size_t i = (!text.empty() && text[0] == '+') ? 1 : 0;
  std::string_view digits = text.substr(i);
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
  }
  int64_t v = integer_value(digits, 3);
  if (v < 1 || v > 20) return std::nullopt;
  return static_cast<int>(v);
}

size_t format_time_diff(int64_t now_ns, int64_t client_ns, char* out) {
  // Both lie within +-9.2e18, so the difference can pass int64: use 128 bits.
  __int128 diff = static_cast<__int128>(now_ns) - client_ns;
  unsigned __int128 mag = diff < 0 ? -static_cast<unsigned __int128>(diff)
                                   : static_cast<unsigned __int128>(diff);
  out[0] = diff < 0 ? '-' : '+';
  // At most 20 digits of seconds, '.', 9 decimals: within kTimeDiffBytesMax.
  auto [end, ec] = std::to_chars(out + 1, out + kTimeDiffBytesMax - 10,
                                 static_cast<unsigned long long>(mag / 1'000'000'000));
  HERD_ASSERT(ec == std::errc());
  *end++ = '.';
  uint64_t frac = static_cast<uint64_t>(mag % 1'000'000'000);
  for (int i = 8; i >= 0; --i, frac /= 10) end[i] = static_cast<char>('0' + frac % 10);
  return static_cast<size_t>(end + 9 - out);
}

std::string format_time_diff(int64_t now_ns, int64_t client_ns) {
  char buf[kTimeDiffBytesMax];
  return std::string(buf, format_time_diff(now_ns, client_ns, buf));
}

std::string_view strip_plus(std::string_view degrees) {
  if (!degrees.empty() && degrees[0] == '+') degrees.remove_prefix(1);
  return degrees;
}

}  // namespace herd
