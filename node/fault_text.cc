#include "node/fault_text.h"

#include <charconv>

#include "node/fault_model.h"

namespace herd {

std::optional<int64_t> parse_ms(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 7 || fraction.size() > 6) return std::nullopt;
  if (dot != std::string_view::npos && fraction.empty()) return std::nullopt;
  int64_t ns = 0;
  for (const char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    ns = ns * 10 + (c - '0');
  }
  int64_t fraction_ns = 0;
  int64_t scale = 100'000;  // The first decimal is 100000 ns.
  for (const char c : fraction) {
    if (c < '0' || c > '9') return std::nullopt;
    fraction_ns += (c - '0') * scale;
    scale /= 10;
  }
  ns = ns * 1'000'000 + fraction_ns;
  if (ns > kMaxDelayNs) return std::nullopt;
  return ns;
}

std::optional<int64_t> ms_to_ns(double ms) {
  // Written so that NaN fails the test.
  if (!(ms >= 0.0 && ms <= 3'600'000.0)) return std::nullopt;
  return static_cast<int64_t>(ms * 1'000'000.0 + 0.5);
}

std::string ms_text(int64_t ns) {
  std::string text = std::to_string(ns / 1'000'000);
  int64_t fraction = ns % 1'000'000;
  if (fraction == 0) return text;
  std::string digits = std::to_string(fraction);
  digits.insert(0, 6 - digits.size(), '0');
  while (digits.back() == '0') digits.pop_back();
  return text + "." + digits;
}

std::optional<Probability> parse_probability(std::string_view text) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  double p = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, p, std::chars_format::fixed);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return probability_from(p);
}

std::optional<Probability> probability_from(double p) {
  if (!(p >= 0.0 && p <= 1.0)) return std::nullopt;
  return Probability::of(p);
}

std::string probability_text(Probability p) {
  char buffer[32];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, p.value());
  if (ec != std::errc()) return "?";
  return std::string(buffer, ptr);
}

}  // namespace herd
