// Peer authentication, live on loopback: with a herd secret only the herd's own
// servers can link and put a record into the herd. The test plays impersonators
// (no secret, a wrong proof, a replayed handshake), a peer that knows the secret (to
// show that what is refused would otherwise be taken), a proxy that alters a sealed
// message in flight between two `herd node` processes, and two herds of different
// secrets; and the console: loopback by default, elsewhere only with the secret,
// whose proof its clients give.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "crypto/sodium_mac.h"
#include "node/peer_auth.h"
#include "tests/e2e/faults_util.h"
#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

constexpr const char* kSecret = "the herd's own secret, 40 bytes long....";
constexpr const char* kLoc = "+34.068930-118.445127";

std::string secret_file(const TempDir& dir, const std::string& name, const std::string& secret) {
  const std::string path = dir.path() + "/" + name;
  REQUIRE(write_text_file(path, secret + "\n"));
  return path;
}

std::string hex(const AuthNonce& n) { return hex_of(n.data(), n.size()); }

// The WHATSAT answer's first line for `id` at `port`: "? WHATSAT ..." when unknown.
std::string whatsat(int port, const std::string& id) {
  return first_line(e2e::exchange(port, "WHATSAT " + id + " 10 1\n"));
}

bool known_nowhere(const HerdRun& run, const std::string& id) {
  bool none = true;
  for (const auto& name : default_servers()) {
    const std::string line = whatsat(run.port(name), id);
    CHECK_MESSAGE(line == "? WHATSAT " + id + " 10 1", name, " knows ", id, ": ", line);
    none = none && line.starts_with("? ");
  }
  return none;
}

// "FLOOD 1 AT Jaquez +0.000000001 <id> <loc> <now>", as Jaquez would send it.
std::string flood_line(const std::string& id) {
  return "FLOOD 1 AT Jaquez +0.000000001 " + id + " " + kLoc + " " + time_string();
}

// A peer the test plays: it dials Riley as Jaquez (Jaquez dials Riley: its name sorts
// first) and runs the handshake with `key`.
struct FakeJaquez {
  Client conn;
  AuthNonce nd{}, na{};
  std::string hello, auth;  // The lines it sent, for a replay.
  Sealer out;

  // Sends the hello; returns Riley's answer line.
  std::string greet(int port, const AuthNonce& nonce) {
    REQUIRE(conn.connect(port));
    nd = nonce;
    hello = "PEER Jaquez Riley " + hex(nd) + "\n";
    REQUIRE(conn.send(hello));
    return first_line(conn.read_lines(1, 3'000));
  }

  // Checks Riley's proof and sends Jaquez's, computed with `key`; then seals lines.
  void prove(const std::string& answer, const AuthKey& key) {
    const std::vector<std::string> f = [&] {
      std::vector<std::string> v;
      size_t at = 0;
      while (at <= answer.size()) {
        const size_t sp = answer.find(' ', at);
        v.push_back(answer.substr(at, sp == std::string::npos ? std::string::npos : sp - at));
        if (sp == std::string::npos) break;
        at = sp + 1;
      }
      return v;
    }();
    REQUIRE_MESSAGE(f.size() == 5, answer);
    CHECK(f[0] == "PEER");
    CHECK(f[1] == "Riley");
    CHECK(f[2] == "Jaquez");
    REQUIRE(bytes_of_hex(f[3], na.data(), na.size()));
    const PeerAuth peer_auth{&sodium_mac(), key};
    const Handshake h{"Jaquez", "Riley", nd, na};
    const AuthKey accept = handshake_tag(peer_auth, h, "herd-accept");
    CHECK(f[4] == hex_of(accept.data(), kTagBytes));  // Riley knows the secret.
    const AuthKey dial = handshake_tag(peer_auth, h, "herd-dial");
    auth = "AUTH " + hex_of(dial.data(), kTagBytes) + "\n";
    REQUIRE(conn.send(auth));
    out = Sealer(&sodium_mac(), handshake_tag(peer_auth, h, "herd-session"), 'D');
  }

  std::string seal(const std::string& message) { return out.seal(message) + "\n"; }
};

AuthNonce nonce_of(uint8_t fill) {
  AuthNonce n;
  n.fill(fill);
  return n;
}

}  // namespace

TEST_CASE("e2e auth: an impersonator without the secret is refused, logged with its address, and nothing it sent is stored") {
  TempDir dir;
  HerdRun run;
  REQUIRE_MESSAGE(run.start({"--secret-file", secret_file(dir, "s", kSecret)}), run.herd.error());
  CHECK(run.herd.output().find("herd: peers authenticate with the herd secret (key id ") != std::string::npos);
  CHECK(run.herd.output().find(kSecret) == std::string::npos);  // Never echoed.

  // The course's handshake: refused at once, its FLOOD never read as one.
  Client plain;
  REQUIRE(plain.connect(run.port("Riley")));
  REQUIRE(plain.send("PEER Jaquez Riley\n" + flood_line("evil1") + "\n"));
  CHECK(plain.read_all_until_eof(3'000).empty());
  CHECK(plain.peer_closed());

  // The new handshake without the secret: Riley answers with its nonce and proof, the
  // impersonator's proof is wrong, the connection is closed before its FLOOD counts.
  FakeJaquez guess;
  const std::string answer = guess.greet(run.port("Riley"), nonce_of(7));
  CHECK(answer.starts_with("PEER Riley Jaquez "));
  REQUIRE(guess.conn.send("AUTH 00112233445566778899aabbccddeeff\n" + flood_line("evil2") + "\n"));
  CHECK(guess.conn.read_all_until_eof(3'000).empty());
  CHECK(guess.conn.peer_closed());

  const std::string log = run.logs.path() + "/Riley.log";
  CHECK(log_has(log, "refused a connection claiming to be Jaquez: it did not offer the herd's authentication"));
  CHECK(log_has(log, "auth-required 127.0.0.1:"));
  CHECK(log_has(log, "refused a connection whose proof of the herd secret was wrong (Jaquez)"));
  CHECK(log_has(log, "auth-failed 127.0.0.1:"));
  known_nowhere(run, "evil1");
  known_nowhere(run, "evil2");
  CHECK(read_text_file(log).find(kSecret) == std::string::npos);
  // The real Jaquez kept its link: a client's report still reaches Riley.
  const std::string at = first_line(e2e::exchange(run.port("Jaquez"), "IAMAT real " + std::string(kLoc) + " " + time_string() + "\n"));
  CHECK(wait_for_record(run.port("Riley"), "real", at, 3'000));
  CHECK(run.herd.stop().clean());
}

namespace {

// Two `herd node` processes, Riley and Jaquez, one link; Jaquez dials Riley at
// `dial_port` (a proxy, or Riley's own peer port), each with its own secret.
struct TwoNodes {
  TempDir dir;
  int base = -1;
  HerdProcess riley, jaquez;
  int riley_port() const { return base; }
  int riley_peer_port() const { return base + 1; }
  int jaquez_port() const { return base + 2; }
  int proxy_port() const { return base + 3; }

  TwoNodes() {
    base = find_free_port_range(4);
    REQUIRE(base > 0);
  }
  std::string topology(const std::string& name, int riley_peer) {
    const std::string path = dir.path() + "/" + name + ".json";
    REQUIRE(write_text_file(path, "{\"name\": \"pair\", \"nodes\": [{\"name\": \"Riley\", \"port\": " +
                                      std::to_string(riley_port()) + ", \"peer_port\": " +
                                      std::to_string(riley_peer) + "}, {\"name\": \"Jaquez\", \"port\": " +
                                      std::to_string(jaquez_port()) + "}], \"links\": [[\"Riley\", \"Jaquez\"]]}\n"));
    return path;
  }
  std::vector<std::string> args(const std::string& name, const std::string& topo, const std::string& secret) {
    std::vector<std::string> a = {"node", name, "--topology", topo, "--log-dir", dir.path() + "/logs",
                                  "--secret-file", secret_file(dir, name + ".secret", secret)};
    for (auto& p : places_unreachable_args()) a.push_back(p);
    return a;
  }
  void start_riley(const std::string& secret) {
    REQUIRE_MESSAGE(riley.start(args("Riley", topology("riley", riley_peer_port()), secret)), riley.error());
  }
  void start(const std::string& riley_secret, const std::string& jaquez_secret, int dial_port) {
    start_riley(riley_secret);
    REQUIRE_MESSAGE(jaquez.start(args("Jaquez", topology("jaquez", dial_port), jaquez_secret)), jaquez.error());
  }
  std::string log(const std::string& name) const { return dir.path() + "/logs/" + name + ".log"; }
  ~TwoNodes() {
    jaquez.stop(3'000);
    riley.stop(3'000);
  }
};

// A TCP proxy on loopback that relays every connection to `to`, and in the dialer's
// direction alters the first sealed FLOOD: one digit of its location changes.
class AlteringProxy {
 public:
  AlteringProxy(int listen_port, int to) : to_(to) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(listen_port));
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~AlteringProxy() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int altered() const { return altered_; }
  const std::string& original() const { return original_; }

 private:
  void serve() {
    std::vector<int> open;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) == 1) {
        const int in = accept(fd_, nullptr, nullptr);
        const int out = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(to_));
        if (connect(out, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
          relay(in, out);
        }
        ::close(in);
        ::close(out);
      }
    }
  }
  // One connection at a time, until either side closes or the proxy stops.
  void relay(int in, int out) {
    std::string pending;  // Dialer to acceptor, by whole lines.
    while (!stop_) {
      pollfd p[2] = {{in, POLLIN, 0}, {out, POLLIN, 0}};
      if (poll(p, 2, 50) <= 0) continue;
      char buf[65536];
      if (p[1].revents != 0) {
        const ssize_t n = recv(out, buf, sizeof buf, 0);
        if (n <= 0 || send(in, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return;
      }
      if (p[0].revents != 0) {
        const ssize_t n = recv(in, buf, sizeof buf, 0);
        if (n <= 0) return;
        pending.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = pending.substr(0, nl + 1);
          pending.erase(0, nl + 1);
          if (altered_ == 0 && line.starts_with("M ") && line.find(" FLOOD ") != std::string::npos) {
            original_ = line;
            const size_t digit = line.find(kLoc + 1);  // A digit of the location.
            if (digit != std::string::npos) {
              line[digit] = line[digit] == '3' ? '4' : '3';
              ++altered_;
            }
          }
          if (send(out, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return;
        }
      }
    }
  }

  int to_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> altered_{0};
  std::string original_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("e2e auth: a peer with the secret links and floods; a replayed handshake and a replayed line are refused") {
  // Riley alone: the test is its only Jaquez (a live one would take the link back).
  TwoNodes herd;
  herd.start_riley(kSecret);
  const AuthKey key = herd_key(kSecret);
  const int riley = herd.riley_peer_port();
  const std::string log = herd.log("Riley");

  // Knowing the secret, the test is Jaquez: its sealed FLOOD is stored (so what the
  // other cases refuse is refused for want of the secret, not for a wrong format).
  FakeJaquez real;
  real.prove(real.greet(riley, nonce_of(1)), key);
  const std::string good = real.seal(flood_line("good"));
  REQUIRE(real.conn.send(good));
  const std::string good_at = good.substr(good.find("AT Jaquez"), good.size() - good.find("AT Jaquez") - 1);
  CHECK(wait_for_record(herd.riley_port(), "good", good_at, 3'000));
  // The same sealed line again on the same connection: refused as a replay, and the
  // connection stays (a duplicate is what the network may do).
  REQUIRE(real.conn.send(good));
  CHECK(log_has(log, "refused a replayed message (Jaquez)"));
  const std::string next = real.seal(flood_line("next"));
  REQUIRE(real.conn.send(next));
  CHECK(wait_for_record(herd.riley_port(), "next", next.substr(next.find("AT Jaquez"), next.size() - next.find("AT Jaquez") - 1),
                        3'000));
  // A line sealed for this connection, kept back and sent on another.
  const std::string kept = real.seal(flood_line("kept"));
  real.conn.close();

  // A recording of that handshake, replayed on a new connection: Riley draws a new
  // nonce, so the recorded proof is wrong, and the kept line is never opened.
  Client replay;
  REQUIRE(replay.connect(riley));
  REQUIRE(replay.send(real.hello));
  const std::string fresh = first_line(replay.read_lines(1, 3'000));
  CHECK(fresh.starts_with("PEER Riley Jaquez "));
  CHECK(fresh.find(hex(real.na)) == std::string::npos);
  REQUIRE(replay.send(real.auth + kept));
  replay.read_all_until_eof(3'000);
  CHECK(replay.peer_closed());
  CHECK(log_has(log, "refused a connection whose proof of the herd secret was wrong (Jaquez)"));
  CHECK(whatsat(herd.riley_port(), "kept") == "? WHATSAT kept 10 1");
  CHECK(herd.riley.stop().clean());
}

TEST_CASE("e2e auth: a sealed message altered in flight is dropped and its connection closed; the link heals") {
  TwoNodes herd;
  AlteringProxy proxy(herd.proxy_port(), herd.riley_peer_port());
  herd.start(kSecret, kSecret, herd.proxy_port());
  REQUIRE(log_has(herd.log("Riley"), "peer-up Jaquez", 5'000));

  const std::string at = first_line(e2e::exchange(herd.jaquez_port(), "IAMAT moved " + std::string(kLoc) + " " + time_string() + "\n"));
  REQUIRE(at.starts_with("AT Jaquez "));
  CHECK(log_has(herd.log("Riley"), "closed the connection of Jaquez: a line failed authentication"));
  CHECK(log_has(herd.log("Riley"), "drop Jaquez auth-failed 127.0.0.1:"));
  CHECK(proxy.altered() == 1);
  // Jaquez redials and the link-up sync brings the genuine record; the altered one
  // was never stored, never answered.
  std::string last;
  CHECK_MESSAGE(wait_for_record(herd.riley_port(), "moved", at, 10'000, &last), last);
  CHECK(wait_until(
      [&] {
        const std::string text = read_text_file(herd.log("Riley"));
        const size_t failed = text.find("auth-failed");
        return failed != std::string::npos && text.find("peer-up Jaquez", failed) != std::string::npos;
      },
      3'000, 50));
}

TEST_CASE("e2e auth: two herds with different secrets do not link") {
  TwoNodes herd;
  herd.start(kSecret, "another herd's secret, quite different", herd.riley_peer_port());
  CHECK(log_has(herd.log("Jaquez"), "refused to link: the acceptor's proof of the herd secret was wrong (Riley)"));
  const std::string at = first_line(e2e::exchange(herd.jaquez_port(), "IAMAT lonely " + std::string(kLoc) + " " + time_string() + "\n"));
  REQUIRE(at.starts_with("AT Jaquez "));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CHECK(whatsat(herd.riley_port(), "lonely") == "? WHATSAT lonely 10 1");
  CHECK(read_text_file(herd.log("Riley")).find("peer-up") == std::string::npos);
  CHECK(read_text_file(herd.log("Jaquez")).find("peer-up") == std::string::npos);
}

TEST_CASE("e2e auth: the console is on loopback; elsewhere only with the secret, whose proof its clients give") {
  TempDir dir;
  // Not loopback, no secret: refused before anything listens.
  std::string out;
  ExitStatus refused = run_to_end({"run", "--port-base", "0", "--admin-port", "0", "--admin-host", "0.0.0.0"}, 10'000, &out);
  CHECK(refused.exited);
  CHECK(refused.code == 2);
  CHECK(out.find("--admin-host 0.0.0.0: not a loopback address") != std::string::npos);
  CHECK(out.find("needs the herd secret") != std::string::npos);
  ExitStatus alone = run_to_end({"run", "--port-base", "0", "--admin-host", "127.0.0.2"}, 10'000, &out);
  CHECK(alone.code == 2);
  CHECK(out.find("--admin-host: goes with --admin-port") != std::string::npos);

  // The default: 127.0.0.1, and no proof asked without a secret.
  {
    HerdRun run;
    REQUIRE_MESSAGE(run.start({"--admin-port", "0"}), run.herd.error());
    CHECK(run.herd.output().find("herd: admin listening on 127.0.0.1:") != std::string::npos);
    CHECK(first_line(e2e::exchange(run.port("admin"), "status\n")).starts_with("link "));
  }

  // With a secret, on loopback: still the machine's own console, no proof asked.
  HerdRun run;
  const std::string secret = secret_file(dir, "s", kSecret);
  REQUIRE_MESSAGE(run.start({"--admin-port", "0", "--secret-file", secret}), run.herd.error());
  CHECK(first_line(e2e::exchange(run.port("admin"), "status\n")).starts_with("link "));
  CHECK(run.herd.stop().clean());
}

TEST_CASE("e2e auth: a console off loopback asks every client for the proof of the secret; herd admin gives it") {
  // Off loopback, in a network namespace of the test's own (whose only interface is
  // lo, with a second address 10.77.0.1 that is not loopback): the herd, and three
  // `herd admin` clients, without the secret, with a wrong one and with the right one.
  TempDir dir;
  const std::string secret = secret_file(dir, "s", kSecret);
  const std::string wrong = secret_file(dir, "w", "a wrong secret, also long enough");
  std::string herd_args = "run --port-base 0 --admin-host 10.77.0.1 --admin-port 40000 --secret-file '" + secret +
                          "' --log-dir '" + dir.path() + "/logs'";
  for (const std::string& a : places_unreachable_args()) herd_args += " " + a;
  const std::string bin = "'" + herd_bin() + "'";
  const std::string out = dir.path() + "/herd.out";
  const std::string script =
      "ip link set lo up && ip addr add 10.77.0.1/32 dev lo || exit 77\n" + bin + " " + herd_args + " > '" + out +
      "' 2>&1 &\npid=$!\nfor i in $(seq 100); do grep -q 'herd: ready' '" + out +
      "' && break; sleep 0.1; done\n"
      "printf 'status\\n' | " + bin + " admin 10.77.0.1:40000; echo \"none=$?\"\n"
      "printf 'status\\n' | " + bin + " admin 10.77.0.1:40000 --secret-file '" + wrong + "'; echo \"wrong=$?\"\n"
      "printf 'status\\n' | " + bin + " admin 10.77.0.1:40000 --secret-file '" + secret + "' | head -n 1; echo \"right=$?\"\n"
      "kill $pid; wait $pid; echo \"herd=$?\"\n";
  REQUIRE(write_text_file(dir.path() + "/ns.sh", script));
  FILE* pipe = popen(("unshare -n sh '" + dir.path() + "/ns.sh' 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string printed;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) printed.append(buf, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && printed.find("none=") == std::string::npos) {
    // unshare needs CAP_SYS_ADMIN (root): say so rather than pass.
    WARN_MESSAGE(false, "not run: no network namespace here (run as root): ", printed);
    return;
  }
  const std::string herd_out = read_text_file(out);
  CHECK_MESSAGE(herd_out.find("herd: admin listening on 10.77.0.1:40000") != std::string::npos, herd_out);
  CHECK_MESSAGE(printed.find("herd: admin: the console asks for the herd secret: give --secret-file FILE or set "
                             "HERD_SECRET_FILE\nnone=2\n") != std::string::npos,
                printed);
  CHECK_MESSAGE(printed.find("herd: admin: the console refused: error: authentication failed\nwrong=1\n") !=
                    std::string::npos,
                printed);
  CHECK_MESSAGE(printed.find("\nlink ") != std::string::npos, printed);
  CHECK_MESSAGE(printed.find("right=0\n") != std::string::npos, printed);
  CHECK_MESSAGE(printed.find("herd=0\n") != std::string::npos, printed);
  CHECK(herd_out.find("failed authentication; closed") != std::string::npos);
}

}  // namespace herd::e2e
