// `herd admin [HOST:]PORT`: a console client. It relays stdin's lines to a herd's
// admin port and the answers to stdout; when the console asks for the herd secret
// ("challenge <nonce>", net/console.h), it answers with the proof, from
// --secret-file or HERD_SECRET_FILE, before any line of stdin goes out.
#include "sim/cli/admin_cli.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/sodium_mac.h"
#include "net/address.h"

namespace herd {
namespace {

constexpr const char* kUsage =
    "usage: herd admin [HOST:]PORT [--secret-file FILE]\n"
    "  Connects to a herd's console (herd run --admin-port PORT), sends it the lines of\n"
    "  stdin and prints its answers, until stdin ends and the answers are in.\n"
    "  HOST        the console's address (default: 127.0.0.1; [::1]:PORT for IPv6)\n"
    "  --secret-file FILE  the herd secret, when the console asks for its proof\n"
    "                      (default: the file named by HERD_SECRET_FILE)\n"
    "Exit status: 0 done, 1 the console refused or the connection failed, 2 bad usage.\n";

constexpr int kChallengeWaitMs = 1000;   // For the console's first line, when we hold a key.
constexpr size_t kMaxLineBytes = 1 << 20;  // Of an answer line.

int usage(const std::string& message) {
  fprintf(stderr, "herd: admin: %s (see herd admin --help)\n", message.c_str());
  return 2;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct Target {
  std::string host = "127.0.0.1";
  int port = -1;
};

std::optional<Target> parse_target(std::string_view text) {
  Target t;
  std::string_view port = text;
  if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return std::nullopt;
    t.host = std::string(host);
    port = text.substr(colon + 1);
  }
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), t.port);
  if (ec != std::errc() || end != port.data() + port.size() || t.port < 1 || t.port > 65535) return std::nullopt;
  return t;
}

// Reads what is there into *buf (bounded); false at EOF or on an error.
bool read_some(int fd, std::string* buf) {
  char chunk[16384];
  const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  buf->append(chunk, static_cast<size_t>(n));
  return true;
}

}  // namespace

int admin_command(int argc, char** argv) {
  std::string target_text, secret_flag;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--secret-file" || arg.starts_with("--secret-file=")) {
      if (arg.size() > 13) {
        secret_flag = std::string(arg.substr(14));
      } else if (i + 1 < argc) {
        secret_flag = argv[++i];
      }
      if (secret_flag.empty()) return usage("--secret-file: expected a value");
      continue;
    }
    if (arg.starts_with("-")) return usage("unknown option '" + std::string(arg) + "'");
    if (!target_text.empty()) return usage("unexpected argument \"" + std::string(arg) + "\"");
    target_text = std::string(arg);
  }
  if (target_text.empty()) return usage("expected [HOST:]PORT");
  const std::optional<Target> target = parse_target(target_text);
  if (!target) return usage("expected [HOST:]PORT (PORT 1..65535), got \"" + target_text + "\"");
  std::optional<AuthKey> key;
  if (const std::string path = secret_file_from(secret_flag); !path.empty()) {
    Result<AuthKey> loaded = herd_key_from_file(path);
    if (!loaded.ok()) return usage(loaded.error());
    key = loaded.value();
  }

  Result<struct sockaddr_storage> address = resolve_address(target->host, target->port);
  if (!address.ok()) return usage(address.error());
  const auto* addr = reinterpret_cast<const struct sockaddr*>(&address.value());
  const int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, addr, addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)) != 0) {
    fprintf(stderr, "herd: admin: cannot connect to %s: %s\n", format_address(addr).c_str(), strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  std::string in;  // From the console, not yet printed.
  // A console with a secret speaks first; one without says nothing until asked.
  if (key) {
    struct pollfd p = {fd, POLLIN, 0};
    while (in.find('\n') == std::string::npos && in.size() < kMaxLineBytes && poll(&p, 1, kChallengeWaitMs) > 0) {
      if (!read_some(fd, &in)) break;
    }
  }
  if (in.starts_with("challenge ")) {
    const size_t nl = in.find('\n');
    if (nl == std::string::npos) {
      fprintf(stderr, "herd: admin: the console's challenge was cut short\n");
      close(fd);
      return 1;
    }
    if (!key) {
      fprintf(stderr, "herd: admin: the console asks for the herd secret: give --secret-file FILE or set HERD_SECRET_FILE\n");
      close(fd);
      return 2;
    }
    const std::string challenge = in.substr(10, nl - 10);
    in.erase(0, nl + 1);
    const bool sent = write_all(fd, "auth " + admin_proof(*key, challenge) + "\n");
    struct pollfd p = {fd, POLLIN, 0};
    while (in.find('\n') == std::string::npos && poll(&p, 1, 5000) > 0 && read_some(fd, &in)) {
    }
    if (!sent || !in.starts_with("ok\n")) {
      fprintf(stderr, "herd: admin: the console refused: %s\n",
              in.empty() ? "no answer" : in.substr(0, in.find('\n')).c_str());
      close(fd);
      return 1;
    }
    in.erase(0, 3);
  }

  // Relay: stdin to the console, the console to stdout, until the console closes
  // after stdin's end (we half-close; it answers what it has, then closes).
  bool stdin_open = true;
  bool answered = false;  // The console has said something (not a challenge).
  int status = 0;
  for (;;) {
    if (!answered && !in.empty()) {
      // Without a key we did not wait: a challenge now means the secret was needed.
      if (std::string_view("challenge ").starts_with(std::string_view(in).substr(0, 10))) {
        if (in.size() < 10) {
          struct pollfd p = {fd, POLLIN, 0};
          if (poll(&p, 1, 1000) > 0 && read_some(fd, &in)) continue;
        } else {
          fprintf(stderr, "herd: admin: the console asks for the herd secret: give --secret-file FILE or set HERD_SECRET_FILE\n");
          close(fd);
          return 2;
        }
      }
      answered = true;
    }
    if (!in.empty()) {
      fwrite(in.data(), 1, in.size(), stdout);
      fflush(stdout);
      in.clear();
    }
    struct pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, static_cast<short>(stdin_open ? POLLIN : 0), 0}};
    if (poll(p, stdin_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      status = 1;
      break;
    }
    if (p[0].revents != 0 && !read_some(fd, &in)) break;  // The console closed.
    if (stdin_open && p[1].revents != 0) {
      char chunk[4096];
      const ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        stdin_open = false;
        shutdown(fd, SHUT_WR);
      } else if (!write_all(fd, std::string_view(chunk, static_cast<size_t>(n)))) {
        status = 1;
        break;
      }
    }
  }
  if (!in.empty()) fwrite(in.data(), 1, in.size(), stdout);
  close(fd);
  return status;
}

}  // namespace herd
