// The Places stand-in's HTTP/1.1 wire format; see standin_http.h.
#include "tests/e2e/standin_http.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace herd::e2e {
namespace standin_http {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;  // A request head past this is refused.
constexpr size_t kMaxBodyBytes = 1 << 20;

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool icontains(std::string_view text, std::string_view word) {
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (iequals(text.substr(i, word.size()), word)) return true;
  }
  return false;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

std::string response_head(int status, size_t content_length, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  head += "Content-Type: application/json; charset=UTF-8\r\n";
  head += "Content-Length: " + std::to_string(content_length) + "\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  return head + "\r\n";
}

Parse parse_request(std::string* in, StandinRequest* req) {
  size_t head_end = in->find("\r\n\r\n");
  if (head_end == std::string::npos) return in->size() > kMaxHeaderBytes ? Parse::kBad : Parse::kIncomplete;
  std::string_view head(in->data(), head_end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return Parse::kBad;
  req->method = std::string(line.substr(0, sp1));
  req->target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req->version = std::string(line.substr(sp2 + 1));
  size_t content_length = 0;
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    size_t end = rest.find("\r\n");
    std::string_view h = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) return Parse::kBad;
    std::string_view name = h.substr(0, colon);
    std::string_view value = trim(h.substr(colon + 1));
    req->headers.emplace_back(std::string(name), std::string(value));
    if (iequals(name, "Transfer-Encoding")) return Parse::kBad;  // Not needed by curl's POSTs.
    if (iequals(name, "Content-Length")) content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
  }
  if (content_length > kMaxBodyBytes) return Parse::kBad;
  if (in->size() < head_end + 4 + content_length) return Parse::kIncomplete;
  req->body = in->substr(head_end + 4, content_length);
  in->erase(0, head_end + 4 + content_length);
  return Parse::kDone;
}

}  // namespace standin_http

using standin_http::iequals;

std::string StandinRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return "";
}

std::string StandinRequest::query_param(std::string_view name) const {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::string_view query = std::string_view(target).substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
  }
  return "";
}

}  // namespace herd::e2e
