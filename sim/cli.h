// The herd command line's option parsing, shared by its subcommands and free of
// I/O so that it can be tested. Errors are the message after "herd: ", e.g.
//   --port-base: expected an integer in 0..65535, got "x"
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/herd_host.h"
#include "node/result.h"

namespace herd {

// `herd run` and `herd node NAME` options (see kServeOptionsHelp).
struct ServeOptions {
  std::string topology_path;             // Empty: default_topology_path().
  HostOptions host;                      // log dir, ports, address, limits, Places.
  std::vector<std::string> positional;   // Arguments that are not options.
  bool help = false;                     // --help or -h was given.
};

// Accepts "--flag value" and "--flag=value". Does not read GOOGLE_API_KEY.
Result<ServeOptions> parse_serve_options(const std::vector<std::string>& args);

// An integer flag value in [min, max]; the error names the flag and the range.
Result<int64_t> parse_int_option(std::string_view flag, std::string_view text, int64_t min,
                                 int64_t max);

// The option lines of `herd run --help` and `herd node --help`.
extern const char kServeOptionsHelp[];

}  // namespace herd
