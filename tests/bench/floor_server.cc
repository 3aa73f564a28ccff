// The floor: a libuv server that answers every line with one fixed AT-sized line and
// does nothing else (no parsing, no state, no log). No herd can beat it on the same
// machine, so the bench reports the herd's figures as fractions of the floor's.
//
//   floor_server [--host 127.0.0.1] [--port N]    (port 0: any free port)
// Prints "floor: listening on HOST:PORT", stops on SIGTERM or SIGINT.
#include <cstring>
#include <string>
#include <string_view>

#include <uv.h>

#include "tests/bench/uv_server.h"

namespace {

// As long as the herd's answer to the bench's IAMATs.
constexpr std::string_view kReply =
    "AT Riley +0.000012345 b1a2b3-123 +34.068930-118.445127 1700000000.123456789\n";
constexpr size_t kReadBufferBytes = 64 * 1024;

struct Conn {
  uv_tcp_t tcp;
  std::string out;
};

using uv_server::close_conn;
using uv_server::WriteReq;

char g_read_buffer[kReadBufferBytes];  // libuv hands it to read_cb before the next alloc.

void alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
  *buf = uv_buf_init(g_read_buffer, sizeof g_read_buffer);
}

void write_cb(uv_write_t* req, int status) noexcept {
  auto* w = reinterpret_cast<WriteReq*>(req);
  auto* c = static_cast<Conn*>(req->handle->data);
  delete w;
  if (status < 0) close_conn(c);
}

// One reply per '\n', all of a read's replies in one write (uv_try_write first).
void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Conn*>(stream->data);
  if (nread < 0) {
    close_conn(c);
    return;
  }
  size_t lines = 0;
  const char* end = buf->base + nread;
  for (const char* p = buf->base; p < end; ++p, ++lines) {
    p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (p == nullptr) break;
  }
  if (lines == 0) return;
  c->out.clear();
  for (size_t i = 0; i < lines; ++i) c->out += kReply;
  uv_buf_t b = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  int done = uv_try_write(stream, &b, 1);
  if (done == static_cast<int>(c->out.size())) return;
  if (done < 0 && done != UV_EAGAIN) {
    close_conn(c);
    return;
  }
  auto* w = new WriteReq;
  w->bytes.assign(c->out, done > 0 ? static_cast<size_t>(done) : 0);
  b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  if (uv_write(&w->req, stream, &b, 1, write_cb) != 0) {
    delete w;
    close_conn(c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return uv_server::serve<Conn, alloc_cb, read_cb>("floor", argc, argv, 4096);
}
