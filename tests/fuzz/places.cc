// Fuzz target: Places answers shaped into WHATSAT reply bodies (node/places.h), both
// APIs. Input: a byte for the API and the transport outcome, a byte for the bound, a
// byte for the HTTP status, then the body (or, when the transport failed, the failure
// text). Checks the reply framing PROTOCOL.md promises (the body never holds an empty
// line, so the client's "\n\n" can only be the reply's end), that every body is JSON
// (valid UTF-8 whenever Google's was), and that no more than `bound` results are kept.
#include <cstddef>
#include <cstdint>
#include <string>

#include <rapidjson/document.h>

#include "node/places.h"
#include "tests/fuzz/fuzz_util.h"

namespace herd::fuzz {
namespace {

// The statuses Places answers with, and one from the input for the rest.
int status_of(uint8_t b) {
  static const int kStatuses[] = {200, 200, 200, 200, 400, 401, 403, 404, 429, 500, 503, 0};
  constexpr size_t kCount = sizeof kStatuses / sizeof kStatuses[0];
  return b < kCount ? kStatuses[b] : b;
}

// The number of elements of the root object's `results` array, or -1 when there is none.
int results_count(const rapidjson::Document& doc) {
  if (!doc.IsObject()) return -1;
  auto it = doc.FindMember("results");
  if (it == doc.MemberEnd() || !it->value.IsArray()) return -1;
  return static_cast<int>(it->value.Size());
}

void check_body(PlacesApi api, const PlacesResult& result, int bound, const std::string& body) {
  FUZZ_CHECK(body.find("\n\n") == std::string::npos, "an empty line inside the body: " + shown(body));
  FUZZ_CHECK(body.empty() || (body.front() != '\n' && body.back() != '\n'),
             "a newline at an end of the body, so the reply has an empty line: " + shown(body));
  std::string why;
  FUZZ_CHECK(is_json(body, false, &why), "the body is not JSON (" + why + "): " + shown(body));
  // Bytes the herd was given in UTF-8 come out in UTF-8.
  if (is_utf8(result.body) && is_utf8(result.failure)) {
    FUZZ_CHECK(is_json(body, true, &why), "the body is not UTF-8 JSON (" + why + "): " + shown(body));
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  const int kept = results_count(doc);
  // A legacy body with no results array passes through; the herd's own always have one.
  FUZZ_CHECK(kept <= bound, std::to_string(kept) + " results kept for a bound of " + std::to_string(bound));
  if (api == PlacesApi::kNew || !result.transport_ok || result.http_status != 200) {
    FUZZ_CHECK(kept >= 0, "no results array in a body the herd wrote: " + shown(body));
    auto status = doc.FindMember("status");
    FUZZ_CHECK(status != doc.MemberEnd() && status->value.IsString(), "no status: " + shown(body));
  }
}

}  // namespace
}  // namespace herd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace herd;
  fuzz::Bytes in(data, size);
  const uint8_t how = in.take();
  const int bound = 1 + in.take() % 20;
  const int status = fuzz::status_of(in.take());
  PlacesResult result;
  result.transport_ok = (how & 2) == 0;
  result.http_status = status;
  (result.transport_ok ? result.body : result.failure) = std::string(in.rest());
  const PlacesApi api = (how & 1) ? PlacesApi::kNew : PlacesApi::kLegacy;
  fuzz::check_body(api, result, bound, places_reply_body(api, result, bound));
  return 0;
}
