// The HTTP/1.1 wire format of the Places stand-in (places_standin.h): parsing one
// request off the front of a connection's bytes, and writing a response head. Enough
// HTTP for curl's GETs and POSTs: Content-Length bodies, no chunked encoding. Limits:
// a head past 64 KiB or a body past 1 MiB is a bad request.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/e2e/places_standin.h"

namespace herd::e2e::standin_http {

bool iequals(std::string_view a, std::string_view b);       // ASCII case-insensitive.
bool icontains(std::string_view text, std::string_view word);  // ASCII case-insensitive.

// "HTTP/1.1 <status> <reason>", a JSON Content-Type, Content-Length, and
// "Connection: close" unless keep_alive; ends with the blank line.
std::string response_head(int status, size_t content_length, bool keep_alive);

enum class Parse : uint8_t { kIncomplete, kDone, kBad };

// Takes one request off the front of `in` into `req` (fields other than `connection`)
// when it is whole (kDone); leaves `in` as is when more bytes are needed (kIncomplete).
Parse parse_request(std::string* in, StandinRequest* req);

}  // namespace herd::e2e::standin_http
