// Shaping Google's Nearby Search answers into WHATSAT reply bodies (the requests are
// built in places_request.cc). Pure code: RapidJSON only, no I/O.
//
// Bodies this file writes itself (failures, the New API's answers and its errors) use
// RapidJSON's PrettyWriter with a 3-space indent and no trailing newline, so every body
// the herd makes up has one layout, close to the legacy API's own:
//   {
//      "html_attributions": [],
//      "results": [],
//      "status": "UNKNOWN_ERROR",
//      "error_message": "Places answered HTTP 500"
//   }
//
// Places API (New) errors, {"error": {"code": 403, "message": "...", "status":
// "PERMISSION_DENIED"}}, become legacy-shaped bodies with Google's message as
// error_message; the status is chosen from Google's status name first, then its code:
//   PERMISSION_DENIED / UNAUTHENTICATED, 403 / 401  -> REQUEST_DENIED
//   RESOURCE_EXHAUSTED, 429                          -> OVER_QUERY_LIMIT
//   INVALID_ARGUMENT, 400                            -> INVALID_REQUEST
//   anything else                                    -> UNKNOWN_ERROR
#include "node/places.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/utf8.h"

namespace herd {
namespace {

// Iterative parsing: a hostile body nested a million deep must not overflow the stack.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag;

using Pretty = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

// The layout of every body this file writes: 3-space indent.
class Pretty3 : public Pretty {
 public:
  explicit Pretty3(rapidjson::StringBuffer& buffer) : Pretty(buffer) { SetIndent(' ', 3); }
};

// Writes `s` as a JSON string of valid UTF-8, each byte that begins no valid sequence
// replaced by U+FFFD. Google's text reaches here decoded: an escape such as "\udc00"
// (a lone surrogate) decodes to bytes that are not UTF-8, and JSON text must be.
void write_string(Pretty& w, std::string_view s) {
  const std::string valid = valid_utf8(s);
  w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

void write_string(Pretty& w, const rapidjson::Value& s) {
  write_string(w, std::string_view(s.GetString(), s.GetStringLength()));
}

// Opens the legacy shape, {"html_attributions": [], "results": [ : the caller writes the
// results, ends the array and the object.
void start_legacy_body(Pretty& w) {
  w.StartObject();
  w.Key("html_attributions");
  w.StartArray();
  w.EndArray();
  w.Key("results");
  w.StartArray();
}

// {"html_attributions": [], "results": [], "status": status, "error_message": message}
std::string legacy_error_body(std::string_view status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  Pretty3 w(buffer);
  start_legacy_body(w);
  w.EndArray();
  w.Key("status");
  write_string(w, status);
  w.Key("error_message");
  write_string(w, message);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string http_status_reason(int http_status) {
  return "Places answered HTTP " + std::to_string(http_status);
}

constexpr std::string_view kNotJson = "Places answered with something that is not JSON";

// Folds every run of two or more '\n' into one and removes trailing '\n's, and
// leading ones too: the reply's AT line ends with '\n' just before the body, so a
// body that began with one would put an empty line, the reply's end, after the AT
// line. JSON strings cannot hold a raw newline, so this never alters a string's
// contents.
std::string fold_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' && (out.empty() || out.back() == '\n')) continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A string stream for the SAX reader. Unlike rapidjson::StringStream it has no
// StreamTraits copy optimization, which makes the reader work on a private copy of the
// stream while it reads a scalar: the handler's Tell() would lag behind.
class TextStream {
 public:
  using Ch = char;
  explicit TextStream(const char* text) : begin_(text), at_(text) {}
  Ch Peek() const { return *at_; }
  Ch Take() { return *at_++; }
  size_t Tell() const { return static_cast<size_t>(at_ - begin_); }
  // Writing is for in-situ parsing only, which this file does not do.
  Ch* PutBegin() { RAPIDJSON_ASSERT(false); return nullptr; }
  void Put(Ch) { RAPIDJSON_ASSERT(false); }
  void Flush() { RAPIDJSON_ASSERT(false); }
  size_t PutEnd(Ch*) { RAPIDJSON_ASSERT(false); return 0; }

 private:
  const char* begin_;
  const char* at_;
};

// SAX handler that finds, in the original text, what to drop from each `results`
// array of the root object: the bytes from the end of the bound-th element to the end
// of the last element. What follows the last element (the white space before `]`) is
// kept, so the array closes the way Google closed it.
// Relies on the iterative parser's positions: Tell() is just past a scalar when its
// event fires, and on the bracket itself for Start/End events.
class ResultsCutter : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, ResultsCutter> {
 public:
  struct Cut {
    size_t from;
    size_t to;
  };

  ResultsCutter(const TextStream& stream, size_t bound)
      : stream_(stream), bound_(bound) {}

  const std::vector<Cut>& cuts() const { return cuts_; }

  bool Default() {
    element_end(stream_.Tell());
    return true;
  }
  bool Key(const char* str, rapidjson::SizeType length, bool) {
    if (depth_ == 1) key_is_results_ = length == 7 && std::memcmp(str, "results", 7) == 0;
    return true;
  }
  bool StartObject() {
    if (depth_ == 1) key_is_results_ = false;
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    element_end(stream_.Tell() + 1);
    return true;
  }
  bool StartArray() {
    if (depth_ == 1 && key_is_results_ && results_depth_ == 0) {
      results_depth_ = depth_ + 1;
      open_end_ = stream_.Tell() + 1;
      count_ = 0;
    }
    key_is_results_ = false;
    ++depth_;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    if (results_depth_ == depth_) {
      if (count_ > bound_) cuts_.push_back({bound_ > 0 ? kept_end_ : open_end_, last_end_});
      results_depth_ = 0;
    }
    --depth_;
    element_end(stream_.Tell() + 1);
    return true;
  }

 private:
  // A value ended at `pos` (exclusive); counts it when it is an element of `results`.
  void element_end(size_t pos) {
    if (results_depth_ == 0 || depth_ != results_depth_) return;
    ++count_;
    if (count_ == bound_) kept_end_ = pos;
    last_end_ = pos;
  }

  const TextStream& stream_;
  size_t bound_;
  int depth_ = 0;              // Containers open around the current position.
  bool key_is_results_ = false;
  int results_depth_ = 0;      // depth_ inside the `results` array being read; 0: none.
  size_t open_end_ = 0;        // Just past its '['.
  size_t count_ = 0;
  size_t kept_end_ = 0;        // Just past element number bound_.
  size_t last_end_ = 0;        // Just past its last element so far.
  std::vector<Cut> cuts_;
};

// Parses `body` with RapidJSON and cuts its results arrays. False: not JSON.
bool cut_results(const std::string& body, int bound, std::string* out) {
  TextStream stream(body.c_str());
  ResultsCutter cutter(stream, bound > 0 ? static_cast<size_t>(bound) : 0);
  rapidjson::Reader reader;
  if (reader.Parse<kParseFlags>(stream, cutter).IsError()) return false;
  // The stream stops at a NUL byte: a body with one inside is not JSON.
  if (stream.Tell() != body.size()) return false;
  out->clear();
  size_t at = 0;
  for (const ResultsCutter::Cut& cut : cutter.cuts()) {
    out->append(body, at, cut.from - at);
    at = cut.to;
  }
  out->append(body, at, std::string::npos);
  return true;
}

std::string legacy_reply_body(const PlacesResult& result, int bound) {
  if (result.http_status != 200) return places_error_body(http_status_reason(result.http_status));
  std::string cut;
  if (!cut_results(result.body, bound, &cut)) return places_error_body(kNotJson);
  return fold_newlines(cut);
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

const rapidjson::Value* string_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = member(object, name);
  return v != nullptr && v->IsString() ? v : nullptr;
}

// A number that JSON can hold: RapidJSON reads a number too large for a double
// (38e307) as infinity, which its writer cannot write; such a field is left out.
const rapidjson::Value* number_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = member(object, name);
  return v != nullptr && v->IsNumber() && std::isfinite(v->GetDouble()) ? v : nullptr;
}

// Keys in the legacy API's own (alphabetical) order; a field the place lacks is left out.
void write_place(Pretty& w, const rapidjson::Value& place) {
  w.StartObject();
  const rapidjson::Value* location = member(place, "location");
  const rapidjson::Value* lat = location ? number_member(*location, "latitude") : nullptr;
  const rapidjson::Value* lng = location ? number_member(*location, "longitude") : nullptr;
  if (lat != nullptr && lng != nullptr) {
    w.Key("geometry");
    w.StartObject();
    w.Key("location");
    w.StartObject();
    w.Key("lat");
    lat->Accept(w);
    w.Key("lng");
    lng->Accept(w);
    w.EndObject();
    w.EndObject();
  }
  const rapidjson::Value* display_name = member(place, "displayName");
  if (const rapidjson::Value* name = display_name ? string_member(*display_name, "text") : nullptr) {
    w.Key("name");
    write_string(w, *name);
  }
  if (const rapidjson::Value* id = string_member(place, "id")) {
    w.Key("place_id");
    write_string(w, *id);
  }
  if (const rapidjson::Value* rating = number_member(place, "rating")) {
    w.Key("rating");
    rating->Accept(w);
  }
  const rapidjson::Value* types = member(place, "types");
  if (types != nullptr && types->IsArray()) {
    w.Key("types");
    w.StartArray();
    // Strings only: copying arbitrary values would recurse as deep as Google nests.
    for (const rapidjson::Value& type : types->GetArray()) {
      if (type.IsString()) write_string(w, type);
    }
    w.EndArray();
  }
  const rapidjson::Value* vicinity = string_member(place, "shortFormattedAddress");
  if (vicinity == nullptr) vicinity = string_member(place, "formattedAddress");
  if (vicinity != nullptr) {
    w.Key("vicinity");
    write_string(w, *vicinity);
  }
  w.EndObject();
}

// {"places": [...]} (or {} when nothing is near) -> the legacy shape.
std::string map_new_places(const rapidjson::Value& places, int bound) {
  rapidjson::StringBuffer buffer;
  Pretty3 w(buffer);
  start_legacy_body(w);
  int written = 0;
  if (places.IsArray()) {
    for (const rapidjson::Value& place : places.GetArray()) {
      if (written >= bound) break;
      if (!place.IsObject()) continue;
      write_place(w, place);
      ++written;
    }
  }
  w.EndArray();
  w.Key("status");
  w.String(written > 0 ? "OK" : "ZERO_RESULTS");
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string_view legacy_status_for(std::string_view status, int64_t code) {
  if (status == "PERMISSION_DENIED" || status == "UNAUTHENTICATED") return "REQUEST_DENIED";
  if (status == "RESOURCE_EXHAUSTED") return "OVER_QUERY_LIMIT";
  if (status == "INVALID_ARGUMENT") return "INVALID_REQUEST";
  if (code == 403 || code == 401) return "REQUEST_DENIED";
  if (code == 429) return "OVER_QUERY_LIMIT";
  if (code == 400) return "INVALID_REQUEST";
  return "UNKNOWN_ERROR";
}

std::string map_new_error(const rapidjson::Value& error, int http_status) {
  const rapidjson::Value* status = string_member(error, "status");
  const rapidjson::Value* code = member(error, "code");
  int64_t code_value = code != nullptr && code->IsInt64() ? code->GetInt64() : http_status;
  const rapidjson::Value* message = string_member(error, "message");
  std::string text = message != nullptr
                         ? std::string(message->GetString(), message->GetStringLength())
                         : http_status_reason(http_status);
  std::string_view status_text =
      status != nullptr ? std::string_view(status->GetString(), status->GetStringLength())
                        : std::string_view();
  return legacy_error_body(legacy_status_for(status_text, code_value), text);
}

std::string new_reply_body(const PlacesResult& result, int bound) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(result.body.data(), result.body.size());
  bool json = !doc.HasParseError();
  if (json && doc.IsObject()) {
    const rapidjson::Value* error = member(doc, "error");
    if (error != nullptr && error->IsObject()) return map_new_error(*error, result.http_status);
  }
  if (result.http_status != 200) return places_error_body(http_status_reason(result.http_status));
  if (!json) return places_error_body(kNotJson);
  if (!doc.IsObject()) return places_error_body("Places answered JSON that is not an object");
  const rapidjson::Value* places = member(doc, "places");
  if (places != nullptr && !places->IsArray()) {
    return places_error_body("Places answered a `places` that is not an array");
  }
  static const rapidjson::Value kNoPlaces(rapidjson::kArrayType);
  return map_new_places(places != nullptr ? *places : kNoPlaces, bound);
}

}  // namespace

std::string places_reply_body(PlacesApi api, const PlacesResult& result, int bound) {
  if (!result.transport_ok) return places_error_body("Places " + result.failure);
  if (api == PlacesApi::kNew) return new_reply_body(result, bound);
  return legacy_reply_body(result, bound);
}

std::string places_error_body(std::string_view reason) {
  return legacy_error_body("UNKNOWN_ERROR", reason);
}

}  // namespace herd
