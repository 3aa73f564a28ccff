// The floor: a libuv server that answers every line with one fixed AT-sized line and
// does nothing else (no parsing, no state, no log). No herd can beat it on the same
// machine, so the bench reports the herd's figures as fractions of the floor's.
//
//   floor_server [--host 127.0.0.1] [--port N]    (port 0: any free port)
// Prints "floor: listening on HOST:PORT", stops on SIGTERM or SIGINT.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <uv.h>

namespace {

// As long as the herd's answer to the bench's IAMATs.
constexpr std::string_view kReply =
    "AT Riley +0.000012345 b1a2b3-123 +34.068930-118.445127 1700000000.123456789\n";
constexpr size_t kReadBufferBytes = 64 * 1024;

struct Conn {
  uv_tcp_t tcp;
  std::string out;
};

struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

char g_read_buffer[kReadBufferBytes];  // libuv hands it to read_cb before the next alloc.
uv_tcp_t g_server;
uv_signal_t g_sigterm, g_sigint;

void close_cb(uv_handle_t* handle) noexcept { delete static_cast<Conn*>(handle->data); }

void close_conn(Conn* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), close_cb);
  }
}

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

void connection_cb(uv_stream_t* server, int status) noexcept {
  if (status < 0) return;
  auto* c = new Conn;
  uv_tcp_init(server->loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    close_conn(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), alloc_cb, read_cb);
}

void close_any(uv_handle_t* handle, void*) noexcept {
  if (!uv_is_closing(handle)) {
    uv_close(handle, handle->type == UV_TCP && handle != reinterpret_cast<uv_handle_t*>(&g_server)
                         ? close_cb : nullptr);
  }
}

void signal_cb(uv_signal_t* signal, int) noexcept { uv_walk(signal->loop, close_any, nullptr); }

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    else if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
  }
  uv_loop_t* loop = uv_default_loop();
  struct sockaddr_in addr;
  if (uv_ip4_addr(host.c_str(), port, &addr) != 0) {
    std::fprintf(stderr, "floor: bad address %s:%d\n", host.c_str(), port);
    return 2;
  }
  uv_tcp_init(loop, &g_server);
  int rc = uv_tcp_bind(&g_server, reinterpret_cast<const struct sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&g_server), 4096, connection_cb);
  if (rc != 0) {
    std::fprintf(stderr, "floor: %s:%d: %s\n", host.c_str(), port, uv_strerror(rc));
    return 1;
  }
  struct sockaddr_in bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&g_server, reinterpret_cast<struct sockaddr*>(&bound), &len);
  std::printf("floor: listening on %s:%d\n", host.c_str(), ntohs(bound.sin_port));
  std::fflush(stdout);
  uv_signal_init(loop, &g_sigterm);
  uv_signal_start(&g_sigterm, signal_cb, SIGTERM);
  uv_signal_init(loop, &g_sigint);
  uv_signal_start(&g_sigint, signal_cb, SIGINT);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
