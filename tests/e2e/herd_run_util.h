// Helpers shared by the `herd run` end-to-end suites (herd_e2e_test.cc,
// herd_e2e_invalid_test.cc, herd_e2e_load_test.cc): starting the herd, stopping it
// cleanly, writing an IAMAT. They REQUIRE/CHECK through doctest: call them from inside
// a test case only.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "tests/e2e/harness.h"

namespace herd::e2e {

inline std::string iamat(std::string_view id, std::string_view loc, std::string_view t) {
  return "IAMAT " + std::string(id) + " " + std::string(loc) + " " + std::string(t) + "\n";
}

// Starts `herd run [extra...]` and requires every server of the default topology to
// have a port.
inline void start_run(HerdRun& run, const std::vector<std::string>& extra = {}) {
  REQUIRE_MESSAGE(run.start(extra), run.herd.error());
  for (const auto& name : default_servers()) REQUIRE_MESSAGE(run.port(name) > 0, name);
}

// After the test's traffic, SIGTERM must still end the herd with exit 0 (under
// ASan, that also means no leak and no memory error on the way out).
inline void stop_clean(HerdRun& run) {
  ExitStatus st = run.herd.stop();
  CHECK_MESSAGE(st.clean(), "herd ", st.describe(), "; output:\n", run.herd.output());
}

}  // namespace herd::e2e
