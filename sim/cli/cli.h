// The herd command line's option parsing, shared by its subcommands and free of
// I/O so that it can be tested. Errors are the message after "herd: ", e.g.
//   --port-base: expected an integer in 0..65535, got "x"
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/herd_host.h"
#include "node/fault_action.h"
#include "node/result.h"
#include "node/topology.h"

namespace herd {

// The seed of a run given no --seed.
constexpr uint64_t kDefaultSeed = 1;

// `herd run` and `herd node NAME` options (see kServeOptionsHelp, kRunOptionsHelp).
struct ServeOptions {
  std::string topology_path;             // Empty: default_topology_path().
  HostOptions host;                      // log dir, ports, address, limits, Places,
                                         // admin port.
  std::string faults_path;               // --faults FILE (herd run only).
  std::string record_path;               // --record TRACE: every node input, for replay.
  std::string scenario_path;             // --scenario FILE (herd run only).
  std::string html_path;                 // --html FILE: the HTML report (with --scenario).
  bool json = false;                     // --json: the scenario's report as JSON.
  std::string output_path;               // --output FILE: the scenario's report there.
  std::optional<uint64_t> seed;          // --seed N (herd run only).
  LinkSettings link_faults;              // --drop, --delay, --dup: every link.
  std::string secret_file;               // --secret-file FILE (else HERD_SECRET_FILE).
  bool require_secret = false;           // --require-secret: refuse to start without one.
  std::vector<std::string> positional;   // Arguments that are not options.
  bool help = false;                     // --help or -h was given.
};

// Accepts "--flag value" and "--flag=value". Does not read GOOGLE_API_KEY. A flag
// whose value is missing, or is the next option ("--topology --port-base 1"), is
// "--topology: expected a value"; --places-url and --host are checked here
// (check_places_url, check_host_syntax).
Result<ServeOptions> parse_serve_options(const std::vector<std::string>& args);

// The option parsing shared by every subcommand (run, node, sim, replay).
// Whether `arg` reads as an option ("--x", "-x") rather than a value ("-", "-1").
bool is_option_word(std::string_view arg);
// Whether `arg` is `flag` or "flag=...".
bool is_option(std::string_view arg, std::string_view flag);
// The value of the option `flag` at args[*i]: after its '=', or the next argument
// (then *i moves onto it). Error "FLAG: expected a value" when there is no next
// argument or it is an option. REQUIRES: is_option(args[*i], flag).
Result<std::string> option_value(const std::vector<std::string>& args, size_t* i,
                                 std::string_view flag);

// An http:// or https:// URL with a host, as libcurl parses it. Error:
//   --places-url: expected an http:// or https:// URL with a host, got "ftp://x"
Result<bool> check_places_url(std::string_view url);
// An IPv4 or IPv6 literal or a syntactically valid host name (it may still not
// resolve: the caller resolves it before binding anything). Error:
//   --host: expected an IPv4 or IPv6 address or a host name, got "999.1.1.1"
Result<bool> check_host_syntax(std::string_view host);
// --admin-port N must not be a port one of the herd's servers listens on (from the
// topology, or --port-base): "--admin-port 12000: used by server Riley".
Result<bool> check_admin_port(const ServeOptions& options, const Topology& topology);

// Whether any option of kRunOptionsHelp was given (`herd node` refuses them).
bool has_run_only_options(const ServeOptions& options);

// The fault layer of `herd run`: the faults file's plan (`faults_text`, the file
// options.faults_path as read by the caller; ignored when the path is empty), then
// --drop/--delay/--dup over its "links" defaults (its link_overrides still apply on
// top), and the seed (kDefaultSeed without --seed). Errors are the parser's, naming
// the file, line and key: "f.json: line 2: links.drop: must be a probability, ...".
Result<FaultSetup> make_fault_setup(const ServeOptions& options, const Topology& topology,
                                    std::string_view faults_text);

// A seed: an integer in 0..2^64-1; the error names the flag and the range.
Result<uint64_t> parse_seed_option(std::string_view flag, std::string_view text);

// An integer flag value in [min, max]; the error names the flag and the range.
Result<int64_t> parse_int_option(std::string_view flag, std::string_view text, int64_t min,
                                 int64_t max);

// The option lines of `herd run --help` and `herd node --help`.
extern const char kServeOptionsHelp[];
// The further option lines of `herd run --help` (faults and console).
extern const char kRunOptionsHelp[];

}  // namespace herd
