// The scaffolding shared by the benchmark's stand-alone libuv servers (floor_server.cc,
// places_standin.cc): the command line, the listener, accepting a client, closing one,
// and stopping on SIGTERM or SIGINT. Header-only: each bench program is built from its
// one .cc (tests/bench/NAME.cc -> build/bench/NAME).
//
// A server's Conn is any type with a `uv_tcp_t tcp` member; it is made with `new` when
// a client is accepted and deleted in its close callback (close_cb<Conn>), never before.
#pragma once
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <uv.h>

namespace uv_server {

// A write request that owns its bytes: the write callback deletes it.
struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

template <typename Conn>
void close_cb(uv_handle_t* handle) noexcept {
  delete static_cast<Conn*>(handle->data);
}

// Closes a client (at most once); its Conn is freed in the close callback.
template <typename Conn>
void close_conn(Conn* c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), close_cb<Conn>);
  }
}

// The listener's connection callback: accepts one client into a new Conn, with
// TCP_NODELAY, reading with Alloc and Read.
template <typename Conn, uv_alloc_cb Alloc, uv_read_cb Read>
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
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), Alloc, Read);
}

// The listener and its signals; a client TCP handle is closed with close_client.
struct Listener {
  uv_tcp_t server;
  uv_signal_t sigterm, sigint;
  uv_close_cb close_client;
};

inline void close_any(uv_handle_t* handle, void* arg) noexcept {
  auto* l = static_cast<Listener*>(arg);
  if (uv_is_closing(handle)) return;
  bool client = handle->type == UV_TCP && handle != reinterpret_cast<uv_handle_t*>(&l->server);
  uv_close(handle, client ? l->close_client : nullptr);
}

// Closes every handle, so that the loop ends.
inline void signal_cb(uv_signal_t* signal, int) noexcept {
  uv_walk(signal->loop, close_any, signal->data);
}

// The whole of a server's main(): `[--host 127.0.0.1] [--port N]` (port 0: any free
// port), listen with `backlog`, print "<name>: listening on HOST:PORT", run the default
// loop until SIGTERM or SIGINT. Returns the exit code: 2 for a bad address, 1 when it
// cannot listen or a handle is left open, else 0.
template <typename Conn, uv_alloc_cb Alloc, uv_read_cb Read>
int serve(const char* name, int argc, char** argv, int backlog) {
  std::string host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    else if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
  }
  uv_loop_t* loop = uv_default_loop();
  struct sockaddr_in addr;
  if (uv_ip4_addr(host.c_str(), port, &addr) != 0) {
    std::fprintf(stderr, "%s: bad address %s:%d\n", name, host.c_str(), port);
    return 2;
  }
  static Listener l;  // Static: handles outlive any frame until the loop is closed.
  l.close_client = close_cb<Conn>;
  uv_tcp_init(loop, &l.server);
  int rc = uv_tcp_bind(&l.server, reinterpret_cast<const struct sockaddr*>(&addr), 0);
  uv_connection_cb on_connection = connection_cb<Conn, Alloc, Read>;
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&l.server), backlog, on_connection);
  if (rc != 0) {
    std::fprintf(stderr, "%s: %s:%d: %s\n", name, host.c_str(), port, uv_strerror(rc));
    return 1;
  }
  struct sockaddr_in bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&l.server, reinterpret_cast<struct sockaddr*>(&bound), &len);
  std::printf("%s: listening on %s:%d\n", name, host.c_str(), ntohs(bound.sin_port));
  std::fflush(stdout);
  uv_signal_init(loop, &l.sigterm);
  l.sigterm.data = &l;
  uv_signal_start(&l.sigterm, signal_cb, SIGTERM);
  uv_signal_init(loop, &l.sigint);
  l.sigint.data = &l;
  uv_signal_start(&l.sigint, signal_cb, SIGINT);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}

}  // namespace uv_server
