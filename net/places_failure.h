// Why a Places transfer failed, as the short reason that follows "Places " in a
// WHATSAT reply (PlacesResult::failure): made from curl's codes and counters, never
// from curl's messages, which hold URLs and so the key.
#pragma once
#include <curl/curl.h>

#include <string>

#include "net/places_client.h"

namespace herd {

// REQUIRES: `easy` is the finished transfer's handle and code != CURLE_OK. `too_big`:
// the write callback refused a body past config.max_body_bytes.
std::string places_failure_reason(CURL* easy, CURLcode code, bool too_big,
                                  const PlacesConfig& config);

// Replaces every copy of `key` in `text`, raw then URL-encoded, with "<key>". A key
// under 8 bytes is left alone: a very short test key would match ordinary words.
void mask_places_key(std::string* text, const std::string& key);

}  // namespace herd
