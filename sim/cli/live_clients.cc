#include "sim/cli/live_clients.h"

#include <netinet/in.h>

#include <utility>

namespace herd {

struct LiveClients::Command {
  LiveClients* owner;
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  uv_shutdown_t shutdown;
  std::string line;
  std::string reply;
  Done done;
  bool connected = false;
  bool finished = false;
  char buffer[16 * 1024];
};

void LiveClients::send(int port, std::string line, Done done) {
  if (in_flight_ >= kMaxInFlight) {
    done(false, "");
    return;
  }
  auto* c = new Command{this, {}, {}, {}, {}, std::move(line), {}, std::move(done)};
  c->line.push_back('\n');
  ++in_flight_;
  uv_tcp_init(loop_, &c->tcp);
  c->tcp.data = c;
  c->connect.data = c;
  struct sockaddr_in address;
  uv_ip4_addr("127.0.0.1", port, &address);
  if (uv_tcp_connect(&c->connect, &c->tcp, reinterpret_cast<const struct sockaddr*>(&address), &on_connect) != 0) {
    finish(c, false);
  }
}

void LiveClients::on_connect(uv_connect_t* req, int status) noexcept {
  auto* c = static_cast<Command*>(req->data);
  if (status != 0) return finish(c, false);
  c->connected = true;
  uv_tcp_nodelay(&c->tcp, 1);
  uv_buf_t buf = uv_buf_init(c->line.data(), static_cast<unsigned>(c->line.size()));
  c->write.data = c;
  if (uv_write(&c->write, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, &on_write) != 0) return finish(c, true);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), &on_alloc, &on_read);
}

void LiveClients::on_write(uv_write_t* req, int status) noexcept {
  auto* c = static_cast<Command*>(req->data);
  if (status != 0 || c->finished) return;
  c->shutdown.data = c;
  uv_shutdown(&c->shutdown, reinterpret_cast<uv_stream_t*>(&c->tcp), &on_shutdown);
}

void LiveClients::on_shutdown(uv_shutdown_t*, int) noexcept {}

void LiveClients::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
  auto* c = static_cast<Command*>(handle->data);
  *buf = uv_buf_init(c->buffer, sizeof c->buffer);
}

void LiveClients::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Command*>(stream->data);
  if (nread > 0) {
    if (c->reply.size() + static_cast<size_t>(nread) <= kMaxReplyBytes) c->reply.append(buf->base, static_cast<size_t>(nread));
    return;
  }
  if (nread < 0) finish(c, true);  // EOF (the server closed after its replies) or an error.
}

void LiveClients::finish(Command* c, bool connected) {
  if (c->finished) return;
  c->finished = true;
  c->done(connected, c->reply);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), &on_close);
}

void LiveClients::on_close(uv_handle_t* handle) noexcept {
  auto* c = static_cast<Command*>(handle->data);
  --c->owner->in_flight_;
  delete c;
}

}  // namespace herd
