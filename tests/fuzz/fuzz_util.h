// What the fuzz targets share: a check that fails loudly with its reason (libFuzzer
// saves the input that made it fail), a cursor over the input's bytes for targets
// that take their settings from the first bytes, and line splitting as a host frames
// lines. Header-only: each target is one .cc linked with the project's sources.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace herd::fuzz {

// An invariant the target checks on the product's output. On failure it prints what
// was expected and aborts, which libFuzzer reports as a crash with the input saved.
[[noreturn]] inline void fail(const char* file, int line, const char* condition, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n  %s\n", file, line, condition, what.c_str());
  std::abort();
}
#define FUZZ_CHECK(condition, what) \
  ((condition) ? void(0) : ::herd::fuzz::fail(__FILE__, __LINE__, #condition, (what)))

// The input, consumed from the front. Past the end every byte reads as 0.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}
  uint8_t take() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// The input's lines as a host hands them to a node: split at '\n', one '\r' before
// it dropped, an unterminated last line kept (EOF delivers it).
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

// Text in `where`, quoted and cut short, for a failure message.
inline std::string shown(std::string_view text) {
  constexpr size_t kShownMax = 300;
  std::string out = "\"";
  for (char c : text.substr(0, kShownMax)) {
    if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + (text.size() > kShownMax ? "\"..." : "\"");
}

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
inline bool is_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xe0) == 0xc0) {
      n = 1, cp = b & 0x1f, min = 0x80;
    } else if ((b & 0xf0) == 0xe0) {
      n = 2, cp = b & 0x0f, min = 0x800;
    } else if ((b & 0xf8) == 0xf0) {
      n = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // Cut short.
    for (size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// Whether `text` is one JSON document (RapidJSON's grammar, iterative so a deep one
// cannot overflow the stack); `utf8` also demands valid UTF-8. `error` says why not.
inline bool is_json(std::string_view text, bool utf8, std::string* error = nullptr) {
  rapidjson::Document doc;
  if (utf8) {
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  } else {
    doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  }
  if (doc.HasParseError() && error != nullptr) {
    *error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
             std::to_string(doc.GetErrorOffset());
  }
  return !doc.HasParseError();
}

}  // namespace herd::fuzz
