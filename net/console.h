// The herd's console: command lines read from its stdin and from an admin TCP port
// on 127.0.0.1 (`--admin-port N`), each handed to `execute`, whose answer goes back
// where the line came from (stdout for stdin, the connection for an admin client).
// What the commands mean is the executor's business (net/live_faults.h).
//
// stdin is read only when it is a terminal of which the herd is the foreground job,
// a pipe or a socket; a regular file, /dev/null, a closed stdin or the terminal of a
// background job (`herd run &`) is left alone. At EOF or on a read error reading
// just stops and the herd runs on; EIO (the job was sent to the background) says
// nothing, another error says "herd: no longer reading stdin: <why>" on stderr.
// A line longer than kMaxLineBytes is answered "error: line longer than 4096 bytes"
// on either input; an admin connection is then closed, while on stdin the line is
// dropped and reading goes on. Admin: any number of clients up to kMaxAdminClients
// (one more is told "error: too many admin connections" and closed); EOF from a
// client closes it after its answers are written; one idle for the idle timeout
// (set_idle_timeout: nothing sent, no answer taken) is told "error: idle for N s;
// closing" and closed, so idle connections cannot lock everyone out. A failed accept
// (out of descriptors) says "herd: admin: accept failed: <why>" on stderr, once until
// an accept succeeds again.
//
// With a herd secret (set_secret: the console listens off loopback), every admin
// connection must prove it before its
// lines are read as commands: the console's first line is "challenge <32 hex
// digits>", a fresh nonce, and the client's first line must be "auth <proof>"
// (crypto/sodium_mac.h: admin_proof), answered "ok"; anything else is answered
// "error: authentication failed", logged on stderr with the client's address, and
// the connection closed. `herd admin` does it for a person.
//
// Owns its listener, admin connections and stdin handle; each handle is freed in
// its close callback. REQUIRES: close(), then run the loop dry, then destroy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <uv.h>

#include "net/line_framer.h"
#include "net/line_stream.h"
#include "net/listener.h"
#include "net/uv_timer.h"
#include "node/peer_auth.h"
#include "node/result.h"

namespace herd {

class Console final : private LineStream::Handler {
 public:
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxAdminClients = 16;
  static constexpr size_t kMaxOutputBytes = 1u << 20;

  // The answer to one line (empty: nothing to write). `source` is "stdin" or
  // "admin <client address>".
  using Execute = std::function<std::string(std::string_view line, std::string_view source)>;

  // Answers to stdin lines go to `out`.
  Console(uv_loop_t* loop, Execute execute, FILE* out = stdout);
  ~Console() override;
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Listens on host:port (0: an ephemeral port).
  // Errors: "admin: cannot listen on 127.0.0.1:12345: address already in use".
  Result<bool> listen(const std::string& host, int port);
  // Admin connections must prove they know the herd key. Before listen().
  void set_secret(const AuthKey& key) { key_ = key; }
  // Admin connections idle this long are closed (0: never). Before listen().
  void set_idle_timeout(uint64_t idle_ms) { idle_ms_ = idle_ms; }
  int port() const { return port_; }
  const std::string& listen_text() const { return listen_text_; }
  size_t admin_clients() const { return clients_.size(); }

  // Starts reading fd 0 when it is a terminal, a pipe or a socket. Once.
  void read_stdin();
  bool reading_stdin() const { return stdin_ != nullptr; }

  // Closes the listener, every admin connection and stdin. Idempotent.
  void close();

 private:
  struct StdinBox;
  static void stdin_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void stdin_close_cb(uv_handle_t* handle) noexcept;
  void on_connection(int fd);
  void accept_failed(int status);
  void close_idle();
  void on_stdin_read(ssize_t nread, const uv_buf_t* buf);
  void answer_stdin(std::string_view line);
  void write_stdin_answer(std::string_view answer);
  void stop_stdin(const char* why);
  static std::string too_long_answer();

  // Whether `line` is a command: false for an unproven connection's first line (the
  // proof, checked here: a wrong one closes the connection).
  bool proven(LineStream* stream, std::string_view line);
  void on_line(LineStream* stream, std::string_view line) override;
  void on_eof(LineStream* stream) override;
  void on_closed(LineStream* stream) override;
  void on_line_too_long(LineStream* stream) override;

  uv_loop_t* loop_;
  Execute execute_;
  FILE* out_;
  std::unique_ptr<Listener> listener_;
  int port_ = 0;
  std::string listen_text_;
  std::map<uint64_t, LineStream*> clients_;  // Each deletes itself after on_closed.
  std::optional<AuthKey> key_;               // set_secret's.
  std::map<uint64_t, std::string> challenges_;  // Connections not yet proven: their challenge.
  uint64_t idle_ms_ = 0;
  std::unique_ptr<Timer> idle_timer_;  // Sweeps idle admin connections.
  uint64_t accept_failures_ = 0;       // Since the last accept that succeeded.
  uint64_t next_client_ = 1;
  StdinBox* stdin_ = nullptr;  // Freed by its close callback.
  bool stdin_tried_ = false;
  bool closed_ = false;
};

}  // namespace herd
