// A Places stand-in for benchmarks: a libuv HTTP/1.1 server that answers every
// request at once with one fixed Nearby Search body (ZERO_RESULTS), keeping the
// connection open. The bench's visibility probes and its no-loss check ask the far
// servers WHATSAT for known clients, and each of those makes a Places request; this
// keeps those requests off the network and fast, for the herd and the asyncio herd.
//
//   places_standin [--host 127.0.0.1] [--port N]    (port 0: any free port)
// Prints "places: listening on HOST:PORT", stops on SIGTERM or SIGINT.
#include <strings.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <uv.h>

#include "tests/bench/uv_server.h"

namespace {

constexpr std::string_view kBody =
    "{\n   \"html_attributions\" : [],\n   \"results\" : [],\n"
    "   \"status\" : \"ZERO_RESULTS\"\n}\n";
constexpr size_t kMaxRequestBytes = 64 * 1024;

struct Conn {
  uv_tcp_t tcp;
  std::string in;
  size_t body_left = 0;  // Bytes of a request body still to skip.
};

using uv_server::close_conn;
using uv_server::WriteReq;

std::string response() {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: " +
         std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
}

void alloc_cb(uv_handle_t*, size_t suggested, uv_buf_t* buf) noexcept {
  *buf = uv_buf_init(new char[suggested], static_cast<unsigned>(suggested));
}

void write_cb(uv_write_t* req, int) noexcept { delete reinterpret_cast<WriteReq*>(req); }

// The Content-Length of a header block, 0 when absent (GET).
size_t content_length(std::string_view head) {
  for (size_t at = 0; (at = head.find("\r\n", at)) != std::string_view::npos;) {
    at += 2;
    if (head.size() - at > 15 && strncasecmp(head.data() + at, "content-length:", 15) == 0) {
      return static_cast<size_t>(std::strtoull(head.data() + at + 15, nullptr, 10));
    }
  }
  return 0;
}

void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Conn*>(stream->data);
  if (nread > 0) c->in.append(buf->base, static_cast<size_t>(nread));
  delete[] buf->base;
  if (nread < 0 || c->in.size() > kMaxRequestBytes) {
    close_conn(c);
    return;
  }
  auto* w = new WriteReq;
  for (;;) {
    size_t skip = std::min(c->body_left, c->in.size());
    c->in.erase(0, skip);
    c->body_left -= skip;
    size_t end = c->in.find("\r\n\r\n");
    if (c->body_left > 0 || end == std::string::npos) break;
    c->body_left = content_length(std::string_view(c->in).substr(0, end + 2));
    c->in.erase(0, end + 4);
    w->bytes += response();
  }
  if (w->bytes.empty()) {
    delete w;
    return;
  }
  uv_buf_t b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  if (uv_write(&w->req, stream, &b, 1, write_cb) != 0) {
    delete w;
    close_conn(c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return uv_server::serve<Conn, alloc_cb, read_cb>("places", argc, argv, 1024);
}
