// Text that must be UTF-8 (JSON that the herd writes) made from bytes that may not
// be: Google's strings as RapidJSON decodes them (a lone surrogate's escape decodes
// to bytes that are not UTF-8), or raw bytes from anywhere.
#pragma once
#include <string>
#include <string_view>

namespace herd {

// `bytes` with every byte that begins no valid UTF-8 sequence (RFC 3629: no overlong
// form, no surrogate, nothing past U+10FFFF) replaced by U+FFFD; valid text is
// returned unchanged.
std::string valid_utf8(std::string_view bytes);

// Whether `bytes` is valid UTF-8 (valid_utf8 would return it unchanged).
bool is_utf8(std::string_view bytes);

}  // namespace herd
