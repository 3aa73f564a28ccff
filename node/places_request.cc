// Building the Places requests the host sends (node/places.h): the legacy GET URL and
// the New API's POST body. Pure code: RapidJSON only, no I/O.
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/places.h"

namespace herd {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal degree as JSON number text, keeping its digits: "+034.50" -> "34.50",
// ".5" -> "0.5", "5." -> "5". Empty when `text` is not [+-]digits[.digits].
std::string json_number_text(std::string_view text) {
  std::string out;
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    if (text[i] == '-') out.push_back('-');
    ++i;
  }
  size_t int_begin = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  std::string_view int_part = text.substr(int_begin, i - int_begin);
  std::string_view frac_part;
  if (i < text.size() && text[i] == '.') {
    size_t frac_begin = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    frac_part = text.substr(frac_begin, i - frac_begin);
  }
  if (i != text.size() || (int_part.empty() && frac_part.empty())) return {};
  while (int_part.size() > 1 && int_part.front() == '0') int_part.remove_prefix(1);
  out.append(int_part.empty() ? std::string_view("0") : int_part);
  if (!frac_part.empty()) out.append(".").append(frac_part);
  return out;
}

void write_degrees(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view degrees) {
  std::string number = json_number_text(degrees);
  if (number.empty()) {
    // The core validated the location; this is only a guard against a caller's bug.
    w.Double(std::strtod(std::string(degrees).c_str(), nullptr));
    return;
  }
  w.RawValue(number.data(), number.size(), rapidjson::kNumberType);
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(static_cast<char>(c)) ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string places_legacy_url(std::string_view base_url, const PlacesQuery& query,
                              std::string_view key) {
  std::string url(base_url);
  url.push_back(base_url.find('?') == std::string_view::npos ? '?' : '&');
  url.append("location=").append(url_encode(query.lat));
  url.append(",").append(url_encode(query.lng));
  url.append("&radius=").append(std::to_string(query.radius_m));
  url.append("&key=").append(url_encode(key));
  return url;
}

std::string places_new_request_body(const PlacesQuery& query) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("maxResultCount");
  w.Int(query.bound);
  w.Key("locationRestriction");
  w.StartObject();
  w.Key("circle");
  w.StartObject();
  w.Key("center");
  w.StartObject();
  w.Key("latitude");
  write_degrees(w, query.lat);
  w.Key("longitude");
  write_degrees(w, query.lng);
  w.EndObject();
  w.Key("radius");
  w.Int64(query.radius_m);
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string_view places_new_field_mask() {
  return "places.id,places.displayName,places.shortFormattedAddress,places.formattedAddress,"
         "places.location,places.rating,places.types";
}

}  // namespace herd
