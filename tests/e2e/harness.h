// The end-to-end harness: starts the real `herd` binary as a child process, talks to
// it over loopback TCP with plain blocking sockets, and cleans up after itself.
// Every wait is bounded (a timeout in milliseconds, always the last argument), and a
// HerdProcess stops its child in its destructor, so a failing CHECK or REQUIRE never
// leaks a process. The child also gets SIGKILL if the test process dies.
//
// The binary is $HERD_BIN (set by `make test`), the repository $HERD_ROOT; without
// them, build/herd and the current directory.
#pragma once
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace herd::e2e {

std::string herd_bin();
std::string herd_root();
// <root>/topologies/cs131-spring21.json.
std::string default_topology();
// The default topology's servers, in file order (node i listens on port-base + i).
const std::vector<std::string>& default_servers();

// Arguments that make every WHATSAT's Places request fail at once (a closed loopback
// port), so a WHATSAT answers "AT line\n{UNKNOWN_ERROR body}\n\n" without the network.
std::vector<std::string> places_unreachable_args();

// A fresh directory (mkdtemp) removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ExitStatus {
  bool exited = false;  // Exited by itself: `code` holds its exit code.
  int code = -1;
  int signal = 0;       // Killed by this signal when !exited.
  bool clean() const { return exited && code == 0; }
  std::string describe() const;
};

// One `herd` child. Its stdout and stderr go to one pipe that a thread drains into
// output(), so the child never blocks on a full pipe.
class HerdProcess {
 public:
  HerdProcess() = default;
  ~HerdProcess();  // Stops the child (SIGTERM, then SIGKILL) if still running.
  HerdProcess(const HerdProcess&) = delete;
  HerdProcess& operator=(const HerdProcess&) = delete;

  // Spawns `herd args...` and waits for its "herd: ready" line. On failure (the
  // child exited, timed out, or said no "listening on" line) the child is killed,
  // and error() says why, with the child's output.
  // REQUIRES: not running.
  bool start(const std::vector<std::string>& args, int ready_timeout_ms = 10'000);

  // Changes the environment of the children the following start() calls spawn:
  // `value` sets `name`, nullopt removes it. The rest of this process's environment is
  // passed on unchanged (this process's own is never modified).
  void set_env(const std::string& name, std::optional<std::string> value);

  // From the "herd: <Name> listening on <host>:<port>" lines; -1 when absent.
  int port(const std::string& name) const;
  const std::map<std::string, int>& ports() const { return ports_; }

  // Before start(): the child's stdin becomes a pipe (instead of /dev/null) that
  // write_stdin() writes to and close_stdin() closes (the child sees EOF).
  void use_stdin_pipe() { want_stdin_pipe_ = true; }
  bool write_stdin(std::string_view bytes);  // Every byte, or false (never SIGPIPE).
  void close_stdin();
  // Before start(): the child's stdin becomes a terminal (a pseudo-terminal this
  // process holds) of which the child is a background job, as `herd run &` in an
  // interactive shell: another process group of its session is in the foreground.
  // write_stdin() then types into that terminal.
  void use_background_tty() { want_background_tty_ = true; }
  // Before start(): the child's RLIMIT_NOFILE becomes soft/hard (set between fork and
  // exec), so that a test can give the herd few descriptors without losing its own.
  void set_nofile_limit(uint64_t soft, uint64_t hard) {
    nofile_soft_ = soft;
    nofile_hard_ = hard;
  }

  // SIGTERM, then up to `term_timeout_ms` for the exit, then SIGKILL. Returns how the
  // child ended; harmless when it already ended (returns that status again).
  ExitStatus stop(int term_timeout_ms = 5'000);
  ExitStatus stop_with(int signal, int timeout_ms = 5'000);
  ExitStatus kill_now();  // SIGKILL and reap.

  bool running();  // Reaps the child when it has exited.
  pid_t pid() const { return pid_; }
  std::string output() const;  // Everything the child wrote so far.
  const std::string& error() const { return error_; }

 private:
  bool wait_exit(int timeout_ms);  // Reaps into status_; false on timeout.
  void drain();                    // The reader thread's body.
  void finish();                   // Joins the reader and closes the pipe.

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int stdin_fd_ = -1;            // The write end of the child's stdin pipe, or the
                                 // master side of its terminal.
  bool want_stdin_pipe_ = false;
  bool want_background_tty_ = false;
  uint64_t nofile_soft_ = 0, nofile_hard_ = 0;  // 0: inherited.
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;  // Guarded by mu_.
  bool eof_ = false;  // Guarded by mu_.
  std::optional<ExitStatus> status_;
  std::map<std::string, int> ports_;
  std::string error_;
  std::map<std::string, std::optional<std::string>> env_;  // set_env()'s changes.
};

// Runs `herd args...` to its end: stdin is /dev/null, stdout and stderr go together
// into *output. Past `timeout_ms` the child gets SIGKILL, which the status shows.
ExitStatus run_to_end(const std::vector<std::string>& args, int timeout_ms,
                      std::string* output);

// `herd run` hosting the default topology's five servers on ephemeral loopback ports
// (--port-base 0), logging to its own temporary directory, Places unreachable.
// Members are destroyed in reverse order: the process stops before its logs go.
struct HerdRun {
  TempDir logs;
  HerdProcess herd;
  bool start(const std::vector<std::string>& extra = {}, int ready_timeout_ms = 10'000);
  int port(const std::string& name) const { return herd.port(name); }
};

// A blocking TCP client on 127.0.0.1 whose reads are bounded by poll(). Bytes read
// and not yet returned wait in a buffer for the next read call.
class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connect(int port, int timeout_ms = 3'000);
  bool send(std::string_view bytes);  // Every byte, or false (never SIGPIPE).
  // One byte per send() with a pause between (TCP_NODELAY is on).
  bool send_slowly(std::string_view bytes, int pause_us);
  void shutdown_write();
  void close();

  // Reads until done(buffered bytes) holds, EOF, or timeout; returns and consumes
  // everything buffered.
  std::string read_until(const std::function<bool(std::string_view)>& done,
                         int timeout_ms);
  // Returns the first `n` lines (through the n-th '\n'), or everything buffered when
  // they do not arrive in time; the rest stays buffered.
  std::string read_lines(size_t n, int timeout_ms);
  // Reads until the server closes (EOF or reset) or timeout; returns everything.
  std::string read_all_until_eof(int timeout_ms);

  bool peer_closed() const { return eof_; }  // EOF or reset seen.
  bool reset() const { return reset_; }
  int fd() const { return fd_; }

 private:
  bool fill(int timeout_ms);  // One bounded read into buf_; false on timeout or EOF.

  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool reset_ = false;
};

// The grading client's exchange: connect, send, half-close, read until the server
// closes. Empty on connect failure.
std::string exchange(int port, std::string_view request, int timeout_ms = 5'000);

// `count` consecutive free loopback ports (bind-probed, then released), or -1.
int find_free_port_range(int count);

// Raises this process's soft RLIMIT_NOFILE towards `want` (children inherit it).
// Returns the soft limit in force afterwards.
uint64_t raise_nofile_limit(uint64_t want);

// Wall-clock nanoseconds since the epoch.
int64_t wall_ns();
// "1621464827.959498503": POSIX seconds with nine decimals, for now + offset_ns.
std::string time_string(int64_t offset_ns = 0);

// True when `reply` is exactly "AT <server> <diff> <id> <loc> <time>\n" with <diff>
// matching [+-]\d+\.\d{9}; `sign`, when not 0, must be the diff's sign.
bool is_at_reply(std::string_view reply, std::string_view server, std::string_view id,
                 std::string_view loc, std::string_view time, char sign = 0);

// A `herd` command that ends by itself (sim, replay, a refused start): its exit
// status and what it wrote to stdout and to stderr, apart. Stdin is /dev/null. The
// child is killed when it has not ended after `timeout_ms`.
struct BatchRun {
  ExitStatus status;
  std::string out, err;
  bool timed_out = false;
  int64_t max_rss_kb = 0;  // The child's peak resident memory (wait4's ru_maxrss).
};
struct BatchOptions {
  // As root, run the child as user and group 65534 ("nobody"), so that file
  // permissions apply to it; exits 126 when that is not allowed.
  bool drop_root = false;
  std::string cwd;  // Empty: this process's.
};
BatchRun run_herd(const std::vector<std::string>& args, int timeout_ms = 30'000,
                  const BatchOptions& options = {});

// Writes `text` to `path` (truncating); false on error.
bool write_text_file(const std::string& path, std::string_view text);

// The first line of `text`, without its '\n' (all of it when there is none).
std::string first_line(std::string_view text);
std::vector<std::string> split_lines(std::string_view text);  // Drops the '\n's.

// Polls `WHATSAT <id> 10 1` at `port` until the reply's first line equals `at_line`
// (no '\n') or `timeout_ms` passes. The last reply is left in *last when given.
bool wait_for_record(int port, std::string_view id, std::string_view at_line,
                     int timeout_ms, std::string* last = nullptr);

std::string read_text_file(const std::string& path);  // Empty when unreadable.

// A process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB, from
// /proc/<pid>/status; -1 when unreadable.
int64_t rss_kb(pid_t pid);
int64_t peak_rss_kb(pid_t pid);

}  // namespace herd::e2e
