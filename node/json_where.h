// JSON for configuration files (topologies, fault files, scenarios) with errors a
// person can act on: every error names the source, the line and the field,
//   "topologies/x.json: line 4: nodes[1].port: must be an integer in 1..65535"
// JsonDoc is a parsed document that knows the line each value starts on; JsonField
// is one value in it together with the path that names it in messages.
//
// Typical use:
//   Result<JsonDoc> doc = parse_json(text, "x.json");
//   if (!doc.ok()) return Error{doc.error()};
//   JsonField root = doc.value().root();
//   if (auto e = root.expect_object({"name", "port"})) return *e;
//   Result<JsonField> port = root.required("port");
//   if (!port.ok()) return Error{port.error()};
//   Result<int64_t> n = port.value().expect_int(1, 65535);
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <rapidjson/document.h>

#include "node/result.h"

namespace herd {

// Larger texts are refused before parsing: configuration is small, and the limit
// bounds the memory a bad file can cost.
constexpr size_t kJsonBytesMax = 16 * 1024 * 1024;
// Deeper nesting is refused: no configuration needs it, and the limit bounds the
// parser's stack.
constexpr int kJsonDepthMax = 32;

class JsonField;

class JsonDoc {
 public:
  JsonDoc(JsonDoc&&) = default;
  JsonDoc& operator=(JsonDoc&&) = default;
  JsonDoc(const JsonDoc&) = delete;
  JsonDoc& operator=(const JsonDoc&) = delete;

  // The top-level value; its path is empty and messages call it "top level".
  JsonField root() const;
  const std::string& source() const { return source_; }
  // The line (1-based) on which `value` starts; 0 for a value not in this document.
  int line_of(const rapidjson::Value* value) const;

 private:
  friend Result<JsonDoc> parse_json(std::string_view text, std::string_view source_name);
  JsonDoc() = default;

  std::string source_;
  // Behind a pointer so that values (and the map's keys) keep their addresses
  // when the JsonDoc is moved, e.g. out of its Result.
  std::unique_ptr<rapidjson::Document> doc_;
  std::unordered_map<const rapidjson::Value*, int> lines_;  // Looked up, never iterated.
};

// Parses strict JSON (RFC 8259: no comments, no trailing commas, valid UTF-8, also
// in what escapes decode to: "\udc00", a lone surrogate, is an error). A
// number with a fraction or an exponent is the double nearest its text, as
// node/fault_text.h's parse_json_number reads it.
// Syntax errors give line and column (1-based, column in bytes):
//   "x.json: line 3, column 7: JSON syntax error: Missing a comma or ']' after an
//   array element."
Result<JsonDoc> parse_json(std::string_view text, std::string_view source_name);

// One value inside a JsonDoc and its path: "nodes[1].port", "links[3][0]".
// REQUIRES: the JsonDoc outlives the field.
class JsonField {
 public:
  JsonField(const JsonDoc* doc, const rapidjson::Value* value, std::string path);

  const rapidjson::Value& value() const { return *value_; }
  const std::string& path() const { return path_; }
  int line() const { return doc_->line_of(value_); }

  // "source: line L: path: what".
  Error error(std::string_view what) const;

  // REQUIRES: value().IsArray() && i < value().Size().
  JsonField element(size_t i) const;
  // The member `key`. Errors: "must be an object"; "path.key: is required" (at the
  // line of this object).
  Result<JsonField> required(std::string_view key) const;
  // The member `key`, or nothing when absent. REQUIRES: value().IsObject().
  std::optional<JsonField> optional(std::string_view key) const;

  // An object whose keys all come from `keys`, each at most once. Unknown keys are
  // errors naming the key, so a typo never silently becomes a default.
  std::optional<Error> expect_object(std::initializer_list<std::string_view> keys) const;
  // An array of size_min..size_max elements; returns its size.
  Result<size_t> expect_array(size_t size_min, size_t size_max) const;
  // An integer in min..max (12000.0 is not an integer).
  Result<int64_t> expect_int(int64_t min, int64_t max) const;
  // A string of at most bytes_max bytes (possibly empty).
  Result<std::string> expect_string(size_t bytes_max) const;
  // A name: a non-empty string of at most bytes_max bytes with no white space or
  // control characters, so it can stand as one field of a protocol line.
  Result<std::string> expect_word(size_t bytes_max) const;

 private:
  std::string member_path(std::string_view key) const;

  const JsonDoc* doc_;
  const rapidjson::Value* value_;
  std::string path_;
};

}  // namespace herd
