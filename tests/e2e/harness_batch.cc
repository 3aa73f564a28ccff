// The batch half of the harness: a `herd` command run to its end, its stdout and
// stderr kept apart (a usage error goes to stderr, a report to stdout).
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "tests/e2e/harness.h"
#include "tests/e2e/harness_deadline.h"

extern char** environ;

namespace herd::e2e {
namespace {

constexpr uid_t kNobody = 65534;

// Reads both pipes until both end or the deadline passes; false on timeout.
bool drain_both(int out_fd, int err_fd, std::string* out, std::string* err, Clock::time_point deadline) {
  struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {out, err};
  int open = 2;
  char buf[4096];
  while (open > 0) {
    const int left = ms_left(deadline);
    if (left == 0) return false;
    const int n = ::poll(fds, 2, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      sinks[i]->append(buf, static_cast<size_t>(got));
    }
  }
  return true;
}

}  // namespace

BatchRun run_herd(const std::vector<std::string>& args, int timeout_ms, const BatchOptions& options) {
  BatchRun result;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  std::vector<std::string> argv_store = {herd_bin()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  const bool drop = options.drop_root && ::geteuid() == 0;
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the test process has threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (cwd != nullptr && ::chdir(cwd) != 0) ::_exit(126);
    if (drop && (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) {
      ::_exit(126);
    }
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }
  const Clock::time_point deadline = deadline_in(timeout_ms);
  result.timed_out = !drain_both(out_pipe[0], err_pipe[0], &result.out, &result.err, deadline);
  if (result.timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result.max_rss_kb = usage.ru_maxrss;
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (WIFEXITED(status)) {
    result.status.exited = true;
    result.status.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.status.signal = WTERMSIG(status);
  }
  return result;
}

bool write_text_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  return static_cast<bool>(out.flush());
}

}  // namespace herd::e2e
