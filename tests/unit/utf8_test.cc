// valid_utf8 (node/utf8.h): valid text unchanged; each byte that begins no valid
// sequence becomes U+FFFD.
#include "node/utf8.h"

#include <doctest/doctest.h>

namespace herd {
namespace {

const std::string kBad = "\xef\xbf\xbd";  // U+FFFD

TEST_CASE("utf8: valid text is unchanged") {
  for (const std::string text : {"", "plain ASCII \x01\x7f", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                 "\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xef\xbf\xbd"}) {
    CAPTURE(text);
    CHECK(valid_utf8(text) == text);
  }
}

TEST_CASE("utf8: overlong forms, surrogates, past U+10FFFF, stray and cut-short bytes") {
  CHECK(valid_utf8("\xc0\x80") == kBad + kBad);              // Overlong NUL.
  CHECK(valid_utf8("\xe0\x80\x80") == kBad + kBad + kBad);   // Overlong, three bytes.
  CHECK(valid_utf8("\xed\xa0\x80") == kBad + kBad + kBad);   // U+D800, a surrogate.
  CHECK(valid_utf8("\xed\xb0\x80") == kBad + kBad + kBad);   // U+DC00, as \udc00 decodes.
  CHECK(valid_utf8("\xf4\x90\x80\x80") == kBad + kBad + kBad + kBad);  // U+110000.
  CHECK(valid_utf8("a\x80z") == "a" + kBad + "z");           // A stray continuation byte.
  CHECK(valid_utf8("a\xe2\x82") == "a" + kBad + kBad);       // Cut short at the end.
  CHECK(valid_utf8("\xe2\x82" "a") == kBad + kBad + "a");    // Cut short before ASCII.
  CHECK(valid_utf8("\xff\xfe") == kBad + kBad);
}

}  // namespace
}  // namespace herd
