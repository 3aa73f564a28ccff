// The process half of the harness: spawning, waiting for ready, stopping.
#include "tests/e2e/harness.h"
#include "tests/e2e/harness_deadline.h"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace herd::e2e {
namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}

ExitStatus status_from(int wstatus) {
  ExitStatus s;
  if (WIFEXITED(wstatus)) {
    s.exited = true;
    s.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    s.signal = WTERMSIG(wstatus);
  }
  return s;
}

// "herd: Riley listening on 127.0.0.1:12000" -> ("Riley", 12000).
bool parse_listening(std::string_view line, std::string* name, int* port) {
  constexpr std::string_view kPrefix = "herd: ", kMid = " listening on ";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  size_t mid = line.find(kMid);
  size_t colon = line.rfind(':');
  if (mid == std::string_view::npos || colon == std::string_view::npos || colon < mid) {
    return false;
  }
  *name = std::string(line.substr(kPrefix.size(), mid - kPrefix.size()));
  std::string digits(line.substr(colon + 1));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *port = std::atoi(digits.c_str());
  return !name->empty() && *port > 0 && *port < 65536;
}

// A pseudo-terminal's master side, its slave's path in `slave`; -1 on error.
int open_pty(char* slave, size_t size) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  if (::grantpt(master) != 0 || ::unlockpt(master) != 0 || ::ptsname_r(master, slave, size) != 0) {
    ::close(master);
    return -1;
  }
  return master;
}

// In a forked child (async-signal-safe calls only): a new session whose
// controlling terminal is `slave`, with a child of ours, in a process group of its
// own, as the terminal's foreground job, so we are a background job. Returns the
// terminal's descriptor, or -1.
int background_tty(const char* slave) {
  if (::setsid() < 0) return -1;
  const int fd = ::open(slave, O_RDWR);  // A session leader's first terminal: controlling.
  if (fd < 0 || ::ioctl(fd, TIOCSCTTY, 0) != 0) return -1;
  const pid_t foreground = ::fork();
  if (foreground == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::setpgid(0, 0);
    // Holds nothing open, so the herd's output pipe ends when the herd does.
    for (int i = 0; i < 1024; ++i) ::close(i);
    for (;;) ::pause();
  }
  if (foreground < 0) return -1;
  ::setpgid(foreground, foreground);  // Also here: the child may not have run yet.
  if (::tcsetpgrp(fd, foreground) != 0) return -1;
  return fd;
}

}  // namespace

// Absolute, so that paths built from it hold in files written elsewhere.
std::string herd_root() {
  const std::string root = env_or("HERD_ROOT", ".");
  char buf[PATH_MAX];
  return realpath(root.c_str(), buf) != nullptr ? std::string(buf) : root;
}
std::string herd_bin() { return env_or("HERD_BIN", herd_root() + "/build/herd"); }
std::string default_topology() { return herd_root() + "/topologies/cs131-spring21.json"; }

const std::vector<std::string>& default_servers() {
  static const std::vector<std::string> kServers = {"Riley", "Jaquez", "Juzang", "Campbell",
                                                    "Bernard"};
  return kServers;
}

std::vector<std::string> places_unreachable_args() {
  // Port 1 on loopback: nothing listens there, so curl fails with "connection refused"
  // at once and the WHATSAT reply carries an UNKNOWN_ERROR body.
  return {"--places-url", "http://127.0.0.1:1/maps/api/place/nearbysearch/json"};
}

TempDir::TempDir() {
  std::string tmpl = env_or("TMPDIR", "/tmp") + "/herd-e2e-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  if (!path_.empty()) ::nftw(path_.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

std::string ExitStatus::describe() const {
  if (exited) return "exited with code " + std::to_string(code);
  if (signal != 0) return std::string("killed by signal ") + ::strsignal(signal);
  return "not reaped";
}

HerdProcess::~HerdProcess() { stop(); }

bool HerdProcess::start(const std::vector<std::string>& args, int ready_timeout_ms) {
  if (pid_ > 0 && !status_) stop();
  error_.clear();
  ports_.clear();
  status_.reset();
  out_.clear();
  eof_ = false;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error_ = std::string("pipe2: ") + std::strerror(errno);
    return false;
  }
  int in_fds[2] = {-1, -1};
  if (want_stdin_pipe_ && ::pipe2(in_fds, O_CLOEXEC) != 0) {
    error_ = std::string("pipe2: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  int tty_master = -1;
  char tty_slave[128] = "";
  if (want_background_tty_ && (tty_master = open_pty(tty_slave, sizeof tty_slave)) < 0) {
    error_ = std::string("pseudo-terminal: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  std::string bin = herd_bin();
  std::vector<std::string> argv_store = {bin};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The child's environment is built here: nothing but async-signal-safe calls may
  // run between fork and exec.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (env_.count(std::string(entry.substr(0, entry.find('=')))) == 0) env_store.emplace_back(entry);
  }
  for (const auto& [name, value] : env_) {
    if (value) env_store.push_back(name + "=" + *value);
  }
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    error_ = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the test process has threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    int devnull = tty_master >= 0  ? background_tty(tty_slave)
                  : in_fds[0] >= 0 ? in_fds[0]
                                   : ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (nofile_hard_ > 0) {
      struct rlimit rl;
      rl.rlim_cur = nofile_soft_;
      rl.rlim_max = nofile_hard_;
      if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "herd e2e: execve failed\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(fds[1]);
  if (in_fds[0] >= 0) ::close(in_fds[0]);
  stdin_fd_ = tty_master >= 0 ? tty_master : in_fds[1];
  pid_ = pid;
  out_fd_ = fds[0];
  reader_ = std::thread([this] { drain(); });

  // Wait for "herd: ready" (a line beginning with it), parsing the ports on the way.
  auto deadline = deadline_in(ready_timeout_ms);
  bool ready = false;
  size_t scanned = 0;
  auto scan = [&] {  // REQUIRES: mu_ held.
    size_t nl;
    while (!ready && (nl = out_.find('\n', scanned)) != std::string::npos) {
      std::string_view line(out_.data() + scanned, nl - scanned);
      scanned = nl + 1;
      std::string name;
      int port = 0;
      if (parse_listening(line, &name, &port)) ports_[name] = port;
      if (line.substr(0, 11) == "herd: ready") ready = true;
    }
  };
  bool exited = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      scan();
      if (ready || eof_) break;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        scan();
        break;
      }
    }
    exited = eof_;
  }
  if (ready && !ports_.empty()) return true;
  error_ = ready ? "herd said ready but no 'listening on' line"
                 : (exited ? "herd closed its output before ready" : "herd not ready in time");
  ExitStatus st = stop(1'000);
  error_ += " (" + st.describe() + "); command: " + bin;
  for (const auto& a : args) error_ += " " + a;
  error_ += "\n--- herd output ---\n" + output();
  return false;
}

void HerdProcess::set_env(const std::string& name, std::optional<std::string> value) {
  env_[name] = std::move(value);
}

void HerdProcess::drain() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      eof_ = true;
      cv_.notify_all();
      return;
    }
    out_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
}

bool HerdProcess::write_stdin(std::string_view bytes) {
  if (stdin_fd_ < 0) return false;
  ::signal(SIGPIPE, SIG_IGN);  // Why: a child that exited must be an error, not a kill.
  while (!bytes.empty()) {
    ssize_t n = ::write(stdin_fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void HerdProcess::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void HerdProcess::finish() {
  close_stdin();
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
}

bool HerdProcess::wait_exit(int timeout_ms) {
  if (status_) return true;
  if (pid_ <= 0) return true;
  auto deadline = deadline_in(timeout_ms);
  for (;;) {
    int ws = 0;
    pid_t r = ::waitpid(pid_, &ws, WNOHANG);
    if (r == pid_) {
      status_ = status_from(ws);
      return true;
    }
    if (r < 0 && errno != EINTR) {  // Not our child any more: nothing to wait for.
      status_ = ExitStatus{};
      return true;
    }
    if (ms_left(deadline) == 0) return false;
    sleep_ms(5);
  }
}

bool HerdProcess::running() {
  if (pid_ <= 0 || status_) return false;
  return !wait_exit(0);
}

ExitStatus HerdProcess::stop(int term_timeout_ms) { return stop_with(SIGTERM, term_timeout_ms); }

ExitStatus HerdProcess::stop_with(int signal, int timeout_ms) {
  if (pid_ <= 0) return status_.value_or(ExitStatus{});
  if (!status_) {
    ::kill(pid_, signal);
    if (!wait_exit(timeout_ms)) {
      ::kill(pid_, SIGKILL);
      wait_exit(5'000);
    }
  }
  finish();
  return status_.value_or(ExitStatus{});
}

ExitStatus HerdProcess::kill_now() { return stop_with(SIGKILL, 5'000); }

int HerdProcess::port(const std::string& name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? -1 : it->second;
}

std::string HerdProcess::output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

ExitStatus run_to_end(const std::vector<std::string>& args, int timeout_ms,
                      std::string* output) {
  output->clear();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ExitStatus{};
  std::vector<std::string> argv_store = {herd_bin()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    *output = std::string("posix_spawn: ") + std::strerror(rc);
    return ExitStatus{};
  }
  auto deadline = deadline_in(timeout_ms);
  for (;;) {
    struct pollfd p = {fds[0], POLLIN, 0};
    if (::poll(&p, 1, ms_left(deadline)) <= 0) {
      ::kill(pid, SIGKILL);  // Timed out: the status says so.
      break;
    }
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output->append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  return status_from(ws);
}

bool HerdRun::start(const std::vector<std::string>& extra, int ready_timeout_ms) {
  std::vector<std::string> args = {"run", "--topology", default_topology(), "--log-dir",
                                   logs.path(), "--port-base", "0", "--host", "127.0.0.1"};
  for (auto& a : places_unreachable_args()) args.push_back(a);
  args.insert(args.end(), extra.begin(), extra.end());
  return herd.start(args, ready_timeout_ms);
}

namespace {

int64_t status_kb(pid_t pid, std::string_view key) {
  const std::string text = read_text_file("/proc/" + std::to_string(pid) + "/status");
  const size_t at = text.find("\n" + std::string(key) + ":");
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + key.size() + 2, nullptr, 10);
}

}  // namespace

int64_t rss_kb(pid_t pid) { return status_kb(pid, "VmRSS"); }
int64_t peak_rss_kb(pid_t pid) { return status_kb(pid, "VmHWM"); }

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace herd::e2e
