#include "node/fault_text.h"

#include <charconv>

#include "node/fault_model.h"

namespace herd {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The length of the run of digits at text[at...].
size_t digits_at(std::string_view text, size_t at) {
  size_t n = 0;
  while (at + n < text.size() && is_digit(text[at + n])) ++n;
  return n;
}

// Whether `text` is exactly one JSON number; *negative_exponent tells an underflow
// from an overflow when the value does not fit a double.
bool json_number_grammar(std::string_view text, bool* negative_exponent) {
  size_t at = 0;
  if (at < text.size() && text[at] == '-') ++at;
  const size_t whole = digits_at(text, at);
  if (whole == 0 || (whole > 1 && text[at] == '0')) return false;
  at += whole;
  if (at < text.size() && text[at] == '.') {
    const size_t fraction = digits_at(text, at + 1);
    if (fraction == 0) return false;
    at += 1 + fraction;
  }
  *negative_exponent = false;
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
      *negative_exponent = text[at] == '-';
      ++at;
    }
    const size_t exponent = digits_at(text, at);
    if (exponent == 0) return false;
    at += exponent;
  }
  return at == text.size();
}

}  // namespace

std::optional<double> parse_json_number(std::string_view text) {
  bool negative_exponent = false;
  if (!json_number_grammar(text, &negative_exponent)) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range && negative_exponent) return 0.0;
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_ms(std::string_view text) {
  const std::optional<double> ms = parse_json_number(text);
  if (!ms) return std::nullopt;
  return ms_to_ns(*ms);
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
  const std::optional<double> p = parse_json_number(text);
  if (!p) return std::nullopt;
  return probability_from(*p);
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
