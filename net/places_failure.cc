#include "net/places_failure.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "node/places.h"

namespace herd {
namespace {

std::string format_ms(int64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

void replace_all(std::string* text, const std::string& what, std::string_view with) {
  // A real key is 39 bytes; a very short test key would match ordinary words.
  if (what.size() < 8) return;
  for (size_t at = text->find(what); at != std::string::npos; at = text->find(what, at + with.size())) {
    text->replace(at, what.size(), with);
  }
}

}  // namespace

// Short reasons made from curl's codes, never from its messages (they hold URLs).
std::string places_failure_reason(CURL* easy, CURLcode code, bool too_big,
                                  const PlacesConfig& config) {
  switch (code) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      if (too_big || code == CURLE_FILESIZE_EXCEEDED) {
        return "answered more than " + std::to_string(config.max_body_bytes) + " bytes";
      }
      break;
    case CURLE_OPERATION_TIMEDOUT: {
      long sent = 0;  // Request bytes sent: 0 means no connection was ever made.
      curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &sent);
      if (sent == 0) {
        return "unreachable: no connection within " +
               format_ms(std::min(config.connect_timeout_ms, config.timeout_ms));
      }
      return "timed out after " + format_ms(config.timeout_ms);
    }
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno != 0) return std::string("unreachable: ") + std::strerror(static_cast<int>(os_errno));
      return "unreachable: cannot connect";
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return "unreachable: cannot resolve the host name";
    case CURLE_GOT_NOTHING:
      return "closed the connection without answering";
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
      return "closed the connection mid-answer";
    case CURLE_SEND_ERROR:
      return "closed the connection mid-request";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return std::string("TLS failure: ") + curl_easy_strerror(code);
    default:
      break;
  }
  return std::string("failed: ") + curl_easy_strerror(code);
}

void mask_places_key(std::string* text, const std::string& key) {
  replace_all(text, key, "<key>");
  replace_all(text, url_encode(key), "<key>");
}

}  // namespace herd
