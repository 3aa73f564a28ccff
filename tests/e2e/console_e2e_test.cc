// End-to-end: the console's answers to an over-long line (admin port: answered,
// then closed; stdin: answered, dropped, reading goes on), and a herd whose stdin it
// may not read (a background job of a terminal, /dev/null) saying nothing about it.
#include <doctest/doctest.h>

#include <string>

#include "tests/e2e/faults_util.h"

namespace herd::e2e {
namespace {

constexpr const char* kTooLong = "error: line longer than 4096 bytes\n";

bool output_has(const HerdProcess& herd, const std::string& text, int timeout_ms = 5'000) {
  return wait_until([&] { return herd.output().find(text) != std::string::npos; }, timeout_ms);
}

TEST_CASE("e2e console: an over-long admin line is answered, then that connection closes") {
  HerdRun run;
  start_faulty(run, {});
  const int port = run.port("admin");
  Admin keep;
  REQUIRE(keep.open(port));
  for (size_t size : {size_t{4097}, size_t{5'000}, size_t{300'000}}) {
    CAPTURE(size);
    Client c;
    REQUIRE(c.connect(port));
    c.send(std::string(size, 'x') + "\nheal\n");  // May fail part-way once closed.
    CHECK(c.read_all_until_eof(5'000) == kTooLong);
    CHECK(c.peer_closed());
  }
  // Exactly at the limit is a line like any other.
  CHECK(keep.ask(std::string(4096, 'y')) == "error: unknown command '" + std::string(4096, 'y') +
                                                "' (cut, heal, partition, set, blackhole, reset, crash, restart, pause, resume, status, help)");
  CHECK(keep.ask("heal") == "ok: healed 0 directed links");
  stop_faulty(run);
}

TEST_CASE("e2e console: an over-long stdin line is answered and dropped; the next is read") {
  HerdRun run;
  run.herd.use_stdin_pipe();
  REQUIRE_MESSAGE(run.start(), run.herd.error());
  REQUIRE(run.herd.write_stdin(std::string(5'000, 'x') + "\ncut Riley Jaquez\n"));
  CHECK(output_has(run.herd, std::string("\n") + kTooLong + "ok: cut Riley>Jaquez Jaquez>Riley\n"));
  // Over the limit across writes, with no newline yet: the rest is dropped as it comes.
  REQUIRE(run.herd.write_stdin(std::string(3'000, 'a')));
  REQUIRE(run.herd.write_stdin(std::string(3'000, 'b')));
  pause_ms(100);
  REQUIRE(run.herd.write_stdin(std::string(70'000, 'c') + "d\nheal Riley Jaquez\n"));
  CHECK(output_has(run.herd, std::string(kTooLong) + "ok: healed Riley>Jaquez Jaquez>Riley\n"));
  const std::string out = run.herd.output();
  CHECK(out.find("dheal") == std::string::npos);
  CHECK(out.find("no longer reading stdin") == std::string::npos);
  stop_faulty(run);
}

TEST_CASE("e2e console: a background herd of a terminal, or one on /dev/null, says nothing of stdin") {
  HerdRun background;
  background.herd.use_background_tty();
  start_faulty(background, {});
  HerdRun devnull;  // The harness's default stdin.
  start_faulty(devnull, {});
  // Typed into the terminal: a read by the background job would fail (EIO) now.
  REQUIRE(background.herd.write_stdin("status\n"));
  pause_ms(500);
  Admin admin;
  REQUIRE(admin.open(background.port("admin")));
  CHECK(admin.ask("heal") == "ok: healed 0 directed links");
  for (HerdRun* run : {&background, &devnull}) {
    const std::string out = run->herd.output();
    CHECK_MESSAGE(out.find("stdin") == std::string::npos, out);
    CHECK(out.find("herd: ready (5 servers)") != std::string::npos);
  }
  stop_faulty(background);
  stop_faulty(devnull);
}

}  // namespace
}  // namespace herd::e2e
