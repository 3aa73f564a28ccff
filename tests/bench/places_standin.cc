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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <uv.h>

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

struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

uv_tcp_t g_server;
uv_signal_t g_sigterm, g_sigint;

std::string response() {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: " +
         std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
}

void close_cb(uv_handle_t* handle) noexcept { delete static_cast<Conn*>(handle->data); }

void close_conn(Conn* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), close_cb);
  }
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
  if (uv_is_closing(handle)) return;
  bool client = handle->type == UV_TCP && handle != reinterpret_cast<uv_handle_t*>(&g_server);
  uv_close(handle, client ? close_cb : nullptr);
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
    std::fprintf(stderr, "places: bad address %s:%d\n", host.c_str(), port);
    return 2;
  }
  uv_tcp_init(loop, &g_server);
  int rc = uv_tcp_bind(&g_server, reinterpret_cast<const struct sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&g_server), 1024, connection_cb);
  if (rc != 0) {
    std::fprintf(stderr, "places: %s:%d: %s\n", host.c_str(), port, uv_strerror(rc));
    return 1;
  }
  struct sockaddr_in bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&g_server, reinterpret_cast<struct sockaddr*>(&bound), &len);
  std::printf("places: listening on %s:%d\n", host.c_str(), ntohs(bound.sin_port));
  std::fflush(stdout);
  uv_signal_init(loop, &g_sigterm);
  uv_signal_start(&g_sigterm, signal_cb, SIGTERM);
  uv_signal_init(loop, &g_sigint);
  uv_signal_start(&g_sigint, signal_cb, SIGINT);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
