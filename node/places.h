// Places Nearby Search: the requests the host sends and the shaping of Google's
// answer into the WHATSAT reply body. Pure code (RapidJSON); the host does the HTTP.
#pragma once
#include <string>
#include <string_view>

#include "node/effects.h"

namespace herd {

enum class PlacesApi : uint8_t { kLegacy, kNew };

// What the host got back for one request.
struct PlacesResult {
  bool transport_ok = false;  // False: unreachable, timeout, closed mid-answer...
  int http_status = 0;        // When transport_ok.
  std::string body;           // When transport_ok: the body as received.
  std::string failure;        // When !transport_ok: a short reason, e.g. "timed out after 10 s".
                              // The reply says "Places " + failure; never holds the key.
};

// The reply body (between the AT line and the closing "\n\n"), per PROTOCOL.md:
// legacy: Google's body with `results` cut to its first `bound` elements (cut from
// the original text), newline runs folded to one, leading and trailing newlines
// removed (so the reply's only empty line is its end);
// new: the answer mapped to the legacy shape, 3-space indent; its error answers map to
// legacy statuses (REQUEST_DENIED...). A failure, a non-200 answer, or a body that is
// not JSON gives an UNKNOWN_ERROR body. REQUIRES: 1 <= bound (0 keeps no result).
std::string places_reply_body(PlacesApi api, const PlacesResult& result, int bound);

// {"html_attributions": [], "results": [], "status": "UNKNOWN_ERROR", "error_message": reason}
// written with a 3-space indent, one member per line, no trailing newline:
// {\n   "html_attributions": [],\n   "results": [],\n   "status": "UNKNOWN_ERROR",\n
//    "error_message": "<reason, JSON-escaped>"\n}
std::string places_error_body(std::string_view reason);

// Percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view text);

// Legacy GET URL: <base>?location=<lat>,<lng>&radius=<m>&key=<key> (key URL-encoded).
std::string places_legacy_url(std::string_view base_url, const PlacesQuery& query,
                              std::string_view key);

// Places API (New) POST body: maxResultCount and a locationRestriction circle.
std::string places_new_request_body(const PlacesQuery& query);

// The X-Goog-FieldMask header value that the New API mapping needs.
std::string_view places_new_field_mask();

}  // namespace herd
