#include "node/check.h"
#include "node/json_where.h"
#include "node/utf8.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace herd {
namespace {

// Iterative, so even a hostile document cannot exhaust the C++ stack; validating
// the bytes, and LineRecorder what escapes decode to, so every string handed on is
// UTF-8. Not RapidJSON's full precision: LineRecorder
// reads every fraction again from its text (see there).
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag |
                                 rapidjson::kParseValidateEncodingFlag;

bool is_number_byte(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

std::string format_error(const std::string& source, int line, const std::string& path,
                         std::string_view what) {
  std::string out = source + ": line " + std::to_string(line) + ": ";
  out += path.empty() ? "top level" : path;
  out += ": ";
  out += what;
  return out;
}

// Sits between the reader and the Document: forwards every event and notes, for
// each value in the order values start (pre-order), the line it starts on. Lines
// are known only here, while the reader's position is at hand; values get their
// final addresses only once the Document is complete, so the two are matched
// afterwards by walking the Document in the same order.
class LineRecorder {
 public:
  using Ch = char;
  using Stream = rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>;

  LineRecorder(rapidjson::Document* doc, std::string_view text, const Stream* stream)
      : doc_(doc), text_(text), stream_(stream) {}

  bool Null() { note(); return doc_->Null(); }
  bool Bool(bool b) { note(); return doc_->Bool(b); }
  bool Int(int i) { note(); return doc_->Int(i); }
  bool Uint(unsigned u) { note(); return doc_->Uint(u); }
  bool Int64(int64_t i) { note(); return doc_->Int64(i); }
  bool Uint64(uint64_t u) { note(); return doc_->Uint64(u); }
  bool Double(double d) {
    note();
    return doc_->Double(reread(d));
  }
  bool RawNumber(const Ch* s, rapidjson::SizeType n, bool copy) {
    note();
    return doc_->RawNumber(s, n, copy);
  }
  bool String(const Ch* s, rapidjson::SizeType n, bool copy) {
    note();
    return text_ok(s, n) && doc_->String(s, n, copy);
  }
  bool Key(const Ch* s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && doc_->Key(s, n, copy); }
  bool StartObject() { return open() && doc_->StartObject(); }
  bool EndObject(rapidjson::SizeType n) { --depth_; return doc_->EndObject(n); }
  bool StartArray() { return open() && doc_->StartArray(); }
  bool EndArray(rapidjson::SizeType n) { --depth_; return doc_->EndArray(n); }

  bool too_deep() const { return too_deep_; }
  bool lone_surrogate() const { return lone_surrogate_; }
  const std::vector<int>& lines() const { return lines_; }

 private:
  // The reader calls a handler just after the token that starts a value (its last
  // byte, for a scalar); no token spans lines, so that is the value's line.
  void note() {
    size_t offset = stream_->Tell();
    for (; scanned_ < offset && scanned_ < text_.size(); ++scanned_) {
      if (text_[scanned_] == '\n') ++line_;
    }
    lines_.push_back(line_);
  }
  // A number that is no integer, as the nearest double to its text: std::from_chars,
  // as node/fault_text.h's parse_json_number reads a flag or a console word, so the
  // same text means the same double everywhere. RapidJSON's own conversion is only
  // approximate, and its full-precision one (1.1.0) is wrong for a zero with a large
  // negative exponent (it reads 0.0e-100 as -4.7e21). The reader calls Double just
  // past the number, so its text is the run of number bytes before that point.
  double reread(double approximate) const {
    const size_t end = std::min(stream_->Tell(), text_.size());
    size_t start = end;
    while (start > 0 && is_number_byte(text_[start - 1])) --start;
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text_.data() + start, text_.data() + end, value);
    if (ec == std::errc::result_out_of_range) return 0.0;  // Too small: RapidJSON refuses too large.
    if (ec != std::errc() || ptr != text_.data() + end) return approximate;  // Not expected.
    return value;
  }
  // The reader checks the bytes of a string, but decodes an escaped lone low
  // surrogate ("\udc00") to bytes that are no UTF-8: such a string is refused, so
  // every string handed on is UTF-8 (a name goes into AT lines and logs).
  bool text_ok(const Ch* s, rapidjson::SizeType n) {
    if (is_utf8(std::string_view(s, n))) return true;
    lone_surrogate_ = true;
    return false;
  }
  bool open() {
    note();
    if (++depth_ > kJsonDepthMax) too_deep_ = true;
    return !too_deep_;
  }

  rapidjson::Document* doc_;
  std::string_view text_;
  const Stream* stream_;
  size_t scanned_ = 0;
  int line_ = 1;
  int depth_ = 0;
  bool too_deep_ = false;
  bool lone_surrogate_ = false;
  std::vector<int> lines_;
};

// Runs the reader on behalf of Document::Populate, which hands us the Document as
// the handler and takes over the value it built when we return true.
struct Generator {
  std::string_view text;
  rapidjson::Reader reader;
  bool too_deep = false;
  bool lone_surrogate = false;
  std::vector<int> lines;

  bool operator()(rapidjson::Document& doc) {
    rapidjson::MemoryStream memory(text.data(), text.size());
    LineRecorder::Stream stream(memory);
    LineRecorder recorder(&doc, text, &stream);
    bool ok = !reader.Parse<kParseFlags>(stream, recorder).IsError();
    too_deep = recorder.too_deep();
    lone_surrogate = recorder.lone_surrogate();
    lines = recorder.lines();
    return ok;
  }
};

// Pairs each value with its line, in the pre-order the recorder saw. Depth is at
// most kJsonDepthMax, so the recursion is bounded.
void assign_lines(const rapidjson::Value& v, const std::vector<int>& lines, size_t* next,
                  std::unordered_map<const rapidjson::Value*, int>* out) {
  HERD_ASSERT(*next < lines.size());
  (*out)[&v] = lines[(*next)++];
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) assign_lines(m.value, lines, next, out);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) assign_lines(e, lines, next, out);
  }
}

Error syntax_error(std::string_view source, std::string_view text, size_t offset,
                   std::string_view what) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t column = offset - line_start + 1;
  return Error{std::string(source) + ": line " + std::to_string(line) + ", column " +
               std::to_string(column) + ": JSON syntax error: " + std::string(what)};
}

}  // namespace

Result<JsonDoc> parse_json(std::string_view text, std::string_view source_name) {
  if (text.size() > kJsonBytesMax) {
    return Error{std::string(source_name) + ": too large: " + std::to_string(text.size()) +
                 " bytes (at most " + std::to_string(kJsonBytesMax) + ")"};
  }
  JsonDoc out;
  out.source_ = std::string(source_name);
  out.doc_ = std::make_unique<rapidjson::Document>();
  Generator gen;
  gen.text = text;
  out.doc_->Populate(gen);
  if (gen.reader.HasParseError()) {
    size_t offset = gen.reader.GetErrorOffset();
    if (gen.too_deep) {
      return syntax_error(source_name, text, offset,
                          "nested deeper than " + std::to_string(kJsonDepthMax) + " levels");
    }
    if (gen.lone_surrogate) {
      return syntax_error(source_name, text, offset,
                          "a string escapes a lone surrogate (\\udc00-\\udfff is no character)");
    }
    return syntax_error(source_name, text, offset,
                        rapidjson::GetParseError_En(gen.reader.GetParseErrorCode()));
  }
  size_t next = 0;
  out.lines_.reserve(gen.lines.size());
  assign_lines(*out.doc_, gen.lines, &next, &out.lines_);
  HERD_ASSERT(next == gen.lines.size());
  return out;
}

JsonField JsonDoc::root() const { return JsonField(this, doc_.get(), ""); }

int JsonDoc::line_of(const rapidjson::Value* value) const {
  auto it = lines_.find(value);
  return it == lines_.end() ? 0 : it->second;
}

JsonField::JsonField(const JsonDoc* doc, const rapidjson::Value* value, std::string path)
    : doc_(doc), value_(value), path_(std::move(path)) {}

Error JsonField::error(std::string_view what) const {
  return Error{format_error(doc_->source(), line(), path_, what)};
}

std::string JsonField::member_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

JsonField JsonField::element(size_t i) const {
  HERD_ASSERT(value_->IsArray() && i < value_->Size());
  return JsonField(doc_, &(*value_)[static_cast<rapidjson::SizeType>(i)],
                   path_ + "[" + std::to_string(i) + "]");
}

Result<JsonField> JsonField::required(std::string_view key) const {
  if (!value_->IsObject()) return error("must be an object");
  if (std::optional<JsonField> f = optional(key)) return *f;
  return Error{format_error(doc_->source(), line(), member_path(key), "is required")};
}

std::optional<JsonField> JsonField::optional(std::string_view key) const {
  HERD_ASSERT(value_->IsObject());
  rapidjson::Value name(rapidjson::StringRef(key.data(), key.size()));
  auto it = value_->FindMember(name);
  if (it == value_->MemberEnd()) return std::nullopt;
  return JsonField(doc_, &it->value, member_path(key));
}

std::optional<Error> JsonField::expect_object(
    std::initializer_list<std::string_view> keys) const {
  if (!value_->IsObject()) return error("must be an object");
  std::vector<bool> seen(keys.size(), false);
  for (const auto& m : value_->GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    JsonField field(doc_, &m.value, member_path(name));
    size_t i = 0;
    for (std::string_view k : keys) {
      if (k == name) break;
      ++i;
    }
    if (i == keys.size()) {
      std::string expected;
      for (std::string_view k : keys) expected += (expected.empty() ? "" : ", ") + std::string(k);
      return field.error("unknown key (expected one of: " + expected + ")");
    }
    if (seen[i]) return field.error("duplicate key");
    seen[i] = true;
  }
  return std::nullopt;
}

Result<size_t> JsonField::expect_array(size_t size_min, size_t size_max) const {
  if (!value_->IsArray()) return error("must be an array");
  size_t n = value_->Size();
  std::string has = " (has " + std::to_string(n) + ")";
  if (size_min == size_max && n != size_min) {
    return error("must have exactly " + std::to_string(size_min) + " elements" + has);
  }
  if (n < size_min) return error("must have at least " + std::to_string(size_min) + " elements" + has);
  if (n > size_max) return error("must have at most " + std::to_string(size_max) + " elements" + has);
  return n;
}

Result<int64_t> JsonField::expect_int(int64_t min, int64_t max) const {
  if (!value_->IsInt64() || value_->GetInt64() < min || value_->GetInt64() > max) {
    return error("must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return value_->GetInt64();
}

Result<std::string> JsonField::expect_string(size_t bytes_max) const {
  if (!value_->IsString()) return error("must be a string");
  if (value_->GetStringLength() > bytes_max) {
    return error("must be at most " + std::to_string(bytes_max) + " bytes");
  }
  return std::string(value_->GetString(), value_->GetStringLength());
}

Result<std::string> JsonField::expect_word(size_t bytes_max) const {
  Result<std::string> s = expect_string(bytes_max);
  if (!s.ok()) return s;
  if (s.value().empty()) return error("must not be empty");
  for (unsigned char c : s.value()) {
    if (c <= 0x20 || c == 0x7f) return error("must not contain white space or control characters");
  }
  return s;
}

}  // namespace herd
