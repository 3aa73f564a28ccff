// The install path of `make deps` and `make fuzz-deps`, tried on a machine where
// everything is installed: pkg-config, apt-get, the doctest header and clang++ are
// replaced by stand-ins (the Makefile lets PKG_CONFIG, APT_GET, SUDO, DOCTEST_H and
// FUZZ_CXX be overridden) that say "missing", and the test checks what make prints
// and what it asked apt-get to do.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {
namespace {

void write_script(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  chmod(path.c_str(), 0755);
}

struct MakeResult {
  int code = -1;
  std::string output;
};

// `make -s TARGET VARS...` in the repository, with the outer make's flags cleared so
// the inner one is a plain, serial make.
MakeResult make_deps(const std::string& vars, const std::string& target = "deps") {
  const std::string command = "cd '" + herd_root() +
                              "' && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s --no-print-directory " + target +
                              " " + vars + " 2>&1";
  MakeResult result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A pkg-config that knows only the modules named in `present`, and an apt-get that
// records its arguments in <dir>/apt.log and exits with `apt_status`.
std::string stand_ins(const TempDir& dir, const std::string& present, int apt_status) {
  write_script(dir.path() + "/pkg-config",
               "[ \"$1\" = --exists ] || exit 1\nfor m in " + present +
                   "; do [ \"$2\" = \"$m\" ] && exit 0; done\nexit 1\n");
  write_script(dir.path() + "/apt-get",
               "echo \"$*\" >> '" + dir.path() + "/apt.log'\nexit " + std::to_string(apt_status) + "\n");
  return "PKG_CONFIG='" + dir.path() + "/pkg-config' APT_GET='" + dir.path() + "/apt-get' SUDO= ";
}

// A clang++ of version 14.0.6 whose sanitizer and libFuzzer runtimes are installed
// or not: -print-file-name gives a file's path when clang has it, else its bare name.
std::string clang_stand_in(const TempDir& dir, bool runtimes) {
  const std::string path = dir.path() + "/clang++";
  write_script(path, std::string("case \"$1\" in\n") + "  -dumpversion) echo 14.0.6 ;;\n" +
                         (runtimes ? "  -print-file-name=*) echo " + path + " ;;\n"
                                   : "  -print-file-name=*) echo \"${1#-print-file-name=}\" ;;\n") +
                         "  *) exit 1 ;;\nesac\n");
  return "FUZZ_CXX='" + path + "' ";
}

}  // namespace

TEST_CASE("deps: every library missing: one apt-get install naming exactly the missing packages") {
  TempDir dir;
  const MakeResult r = make_deps(stand_ins(dir, "", 0) + "DOCTEST_H=" + dir.path() + "/none.h");
  CHECK(r.code == 0);
  const std::string packages = "libuv1-dev libcurl4-openssl-dev rapidjson-dev libsodium-dev doctest-dev";
  CHECK(r.output.find("herd: missing Debian packages: " + packages + "\n") != std::string::npos);
  CHECK(r.output.find("herd: running: " + dir.path() + "/apt-get install -y -q " + packages + "\n") !=
        std::string::npos);
  CHECK(read_text_file(dir.path() + "/apt.log") == "update -q\ninstall -y -q " + packages + "\n");
}

TEST_CASE("deps: only what is missing is installed; nothing at all when everything is there") {
  TempDir dir;
  const MakeResult some = make_deps(stand_ins(dir, "libuv RapidJSON libsodium", 0));
  CHECK(some.code == 0);
  CHECK(some.output.find("herd: missing Debian packages: libcurl4-openssl-dev\n") != std::string::npos);
  CHECK(read_text_file(dir.path() + "/apt.log") == "update -q\ninstall -y -q libcurl4-openssl-dev\n");

  TempDir all;
  const MakeResult none = make_deps(stand_ins(all, "libuv libcurl RapidJSON libsodium", 0));
  CHECK(none.code == 0);
  CHECK(none.output.empty());
  CHECK(read_text_file(all.path() + "/apt.log").empty());
}

TEST_CASE("deps: no pkg-config at all: pkg-config is installed with the libraries") {
  TempDir dir;
  const std::string vars = stand_ins(dir, "", 0);
  const MakeResult r = make_deps(vars + "PKG_CONFIG=" + dir.path() + "/no-such-pkg-config");
  CHECK(r.code == 0);
  CHECK(r.output.find("herd: missing Debian packages: pkg-config libuv1-dev libcurl4-openssl-dev rapidjson-dev libsodium-dev\n") !=
        std::string::npos);
}

TEST_CASE("deps: apt-get fails: make fails and names the packages to install by hand") {
  TempDir dir;
  const MakeResult r = make_deps(stand_ins(dir, "libuv libcurl libsodium", 100));
  CHECK(r.code != 0);
  CHECK(r.output.find("herd: apt-get failed; install by hand: rapidjson-dev\n") != std::string::npos);
}

TEST_CASE("fuzz-deps: no clang at all: clang and its runtimes are installed") {
  TempDir dir;
  const MakeResult r =
      make_deps(stand_ins(dir, "libuv libcurl RapidJSON libsodium", 0) + "FUZZ_CXX=" + dir.path() + "/no-clang++", "fuzz-deps");
  CHECK(r.code == 0);
  CHECK(r.output.find("herd: missing Debian packages: clang libclang-rt-dev\n") != std::string::npos);
  CHECK(read_text_file(dir.path() + "/apt.log") == "update -q\ninstall -y -q clang libclang-rt-dev\n");
}

TEST_CASE("fuzz-deps: clang without its runtimes gets the runtimes of its own version; nothing when all is there") {
  TempDir dir;
  const MakeResult r = make_deps(stand_ins(dir, "libuv libcurl RapidJSON libsodium", 0) + clang_stand_in(dir, false), "fuzz-deps");
  CHECK(r.code == 0);
  CHECK(r.output.find("herd: missing Debian packages: libclang-rt-14-dev\n") != std::string::npos);
  CHECK(read_text_file(dir.path() + "/apt.log") == "update -q\ninstall -y -q libclang-rt-14-dev\n");

  TempDir all;
  const MakeResult none = make_deps(stand_ins(all, "libuv libcurl RapidJSON libsodium", 0) + clang_stand_in(all, true), "fuzz-deps");
  CHECK(none.code == 0);
  CHECK(none.output.empty());
  CHECK(read_text_file(all.path() + "/apt.log").empty());
}

TEST_CASE("fuzz-deps: apt-get fails: make fails and names the packages; the libraries come first") {
  TempDir dir;
  const MakeResult r = make_deps(stand_ins(dir, "libuv libcurl RapidJSON libsodium", 100) + clang_stand_in(dir, false), "fuzz-deps");
  CHECK(r.code != 0);
  CHECK(r.output.find("herd: apt-get failed; install by hand: libclang-rt-14-dev\n") != std::string::npos);

  TempDir libs;
  const MakeResult both = make_deps(stand_ins(libs, "libuv libcurl libsodium", 0) + clang_stand_in(libs, false), "fuzz-deps");
  CHECK(both.code == 0);
  CHECK(read_text_file(libs.path() + "/apt.log") ==
        "update -q\ninstall -y -q rapidjson-dev\nupdate -q\ninstall -y -q libclang-rt-14-dev\n");
}

}  // namespace herd::e2e

namespace herd::e2e {

constexpr const char* kAllLibraries = "libuv libcurl RapidJSON libsodium";

TEST_CASE("browser-deps: chromium missing: apt-get installs Debian's chromium; present: nothing is run") {
  TempDir dir;
  const std::string vars = stand_ins(dir, kAllLibraries, 0);
  const MakeResult missing = make_deps(vars + "CHROMIUM=" + dir.path() + "/no-chromium", "browser-deps");
  CHECK(missing.code == 0);
  CHECK(missing.output.find("herd: missing Debian packages: chromium\n") != std::string::npos);
  CHECK(missing.output.find("herd: running: " + dir.path() + "/apt-get install -y -q chromium\n") != std::string::npos);
  CHECK(read_text_file(dir.path() + "/apt.log") == "update -q\ninstall -y -q chromium\n");

  TempDir failing;
  const MakeResult refused = make_deps(stand_ins(failing, kAllLibraries, 1) + "CHROMIUM=" + failing.path() + "/no-chromium",
                                       "browser-deps");
  CHECK(refused.code != 0);
  CHECK(refused.output.find("herd: apt-get failed; install by hand: chromium\n") != std::string::npos);

  TempDir present;
  const MakeResult there = make_deps(stand_ins(present, kAllLibraries, 0) + "CHROMIUM=sh", "browser-deps");
  CHECK(there.code == 0);
  CHECK(there.output.empty());
  CHECK(read_text_file(present.path() + "/apt.log").empty());
}

// A fresh machine's `make test` needs the libraries and chromium; make runs the two
// installs as parallel prerequisites, and two apt-gets at once fail on apt's lock
// ("Could not get lock /var/lib/apt/lists/lock"). The stand-in apt-get holds a lock
// directory for a moment and records any overlap.
TEST_CASE("browser-deps after deps: with make -j4 and everything missing, one apt-get at a time") {
  TempDir dir;
  const std::string vars = stand_ins(dir, "", 0);
  write_script(dir.path() + "/apt-get",
               "mkdir '" + dir.path() + "/lock' 2>/dev/null || echo OVERLAP >> '" + dir.path() + "/apt.log'\n" +
                   "echo \"$*\" >> '" + dir.path() + "/apt.log'\nsleep 0.3\nrmdir '" + dir.path() + "/lock'\n");
  const MakeResult r = make_deps("-j4 " + vars + "CHROMIUM=" + dir.path() + "/no-chromium", "deps browser-deps");
  CHECK(r.code == 0);
  CHECK(read_text_file(dir.path() + "/apt.log") ==
        "update -q\ninstall -y -q libuv1-dev libcurl4-openssl-dev rapidjson-dev libsodium-dev\n"
        "update -q\ninstall -y -q chromium\n");
}

}  // namespace herd::e2e
