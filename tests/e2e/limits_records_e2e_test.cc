// End-to-end limits on what clients may make the herd remember (issue 16): a client
// time far in the future, and records whose bytes (not their count) are the problem.
//
// Every wait is bounded; every herd is stopped (HerdProcess's destructor).
#include <doctest/doctest.h>

#include <string>

#include "tests/e2e/harness.h"
#include "tests/e2e/herd_run_util.h"

namespace herd::e2e {
namespace {

constexpr const char* kLoc = "+34.068930-118.445127";

TEST_CASE("e2e limits: a plain client's time far in the future is answered but pins nothing") {
  HerdRun run;
  start_run(run);
  const std::string future = exchange(run.port("Riley"), iamat("kiwi", kLoc, "8999999999"));
  CHECK_MESSAGE(is_at_reply(future, "Riley", "kiwi", kLoc, "8999999999", '-'), future);
  // Not stored: Riley knows no kiwi, and a real report later is stored and flooded.
  CHECK(exchange(run.port("Riley"), "WHATSAT kiwi 10 1\n") == "? WHATSAT kiwi 10 1\n");
  const std::string t = time_string();
  const std::string now = exchange(run.port("Riley"), iamat("kiwi", "+1+1", t));
  REQUIRE(is_at_reply(now, "Riley", "kiwi", "+1+1", t));
  CHECK(wait_for_record(run.port("Bernard"), "kiwi", first_line(now), 5'000));
  stop_clean(run);
  CHECK(read_text_file(run.logs.path() + "/Riley.log")
            .find(" note - IAMAT from the future: kiwi's client time 8999999999 is more than 86400 s ahead "
                  "of this server's clock; answered, not stored\n") != std::string::npos);
}

TEST_CASE("e2e limits: --max-clock-skew-s 0 turns the bound off (the course's behaviour)") {
  HerdRun run;
  start_run(run, {"--max-clock-skew-s", "0"});
  const std::string future = exchange(run.port("Riley"), iamat("kiwi", kLoc, "8999999999"));
  REQUIRE(is_at_reply(future, "Riley", "kiwi", kLoc, "8999999999", '-'));
  // Stored and flooded; a real report is then "not newer".
  CHECK(wait_for_record(run.port("Bernard"), "kiwi", first_line(future), 5'000));
  exchange(run.port("Riley"), iamat("kiwi", "+1+1", time_string()));
  CHECK(first_line(exchange(run.port("Riley"), "WHATSAT kiwi 10 1\n")) == first_line(future));
  stop_clean(run);
}

}  // namespace
}  // namespace herd::e2e
