// node/check.h: assertions stay on in every build. The failing call lives in a file
// compiled with NDEBUG (tests/unit/check_ndebug.cc); a child process makes it.
#include "node/check.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

namespace herd::test {
void assert_false_without_debug();
}

TEST_CASE("assertions: HERD_ASSERT aborts also where NDEBUG is defined") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The default action for SIGABRT (doctest's handler would report a crash from the
    // child), and quiet: glibc's message goes to stderr; the parent checks the ending.
    signal(SIGABRT, SIG_DFL);
    (void)!freopen("/dev/null", "w", stderr);
    (void)!freopen("/dev/null", "w", stdout);
    herd::test::assert_false_without_debug();
    _exit(0);  // Reached only if the assertion did not fire.
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  HERD_ASSERT(1 + 1 == 2);  // A true condition is nothing.
}
