#include "sim/cli/cli.h"

#include "net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <functional>
#include <map>
#include <memory>

#include <curl/curl.h>

#include "node/fault_plan.h"

namespace herd {

const char kServeOptionsHelp[] =
    "  --topology FILE       the herd's topology (default: topologies/cs131-spring21.json\n"
    "                        in the current directory, else next to the executable)\n"
    "  --log-dir DIR         one log file per server, DIR/<Name>.log (default: logs)\n"
    "  --log-max-mb N        past N MiB a log file is renamed <Name>.log.1 (replacing an\n"
    "                        older one) and a new one begun (default: 256; 0: no cap)\n"
    "  --log LEVEL           all (default: every event, every line in and out, every\n"
    "                        peer message), events (connections, peers, faults, Places,\n"
    "                        errors and limits, but no in/out/send/recv lines), off (no\n"
    "                        log file; --log-dir is not created)\n"
    "  --port-base N         server i (in file order) listens on N+i; 0 binds ephemeral\n"
    "                        ports (herd run only); default: the topology's ports\n"
    "  --host ADDR           listen on and dial ADDR for every server (default: each\n"
    "                        server's \"host\", else 127.0.0.1)\n"
    "  --peer-port-offset N  peers listen and dial at each server's port + N, so the\n"
    "                        client port carries clients only (default: a node's\n"
    "                        \"peer_port\" in the topology, else the client port)\n"
    "  --max-clients N       client connections per server (default: 20000)\n"
    "  --client-idle-s N     close a client (or admin) connection idle for N seconds:\n"
    "                        nothing sent, no reply taken, no Places answer awaited\n"
    "                        (default: 60; 0: never)\n"
    "  --max-record-mb N     the bytes of one server's records, in MiB (default: 256);\n"
    "                        past it a new client's IAMAT is answered '?'\n"
    "  --max-clock-skew-s N  a client time more than N s ahead of the server's clock is\n"
    "                        answered but not stored or flooded (default: 86400; 0: none)\n"
    "  --places-url URL      Places Nearby Search endpoint (default: Google's)\n"
    "  --places-api API      legacy (GET nearbysearch/json, default) or new (POST\n"
    "                        places:searchNearby)\n"
    "  --places-cache-s N    cache Places answers for N seconds (default: 0, off)\n"
    "  --sync MODE           anti-entropy between neighbours: link-up (default: when a\n"
    "                        link comes up or resumes), periodic (also every interval),\n"
    "                        off (the course protocol: flooding alone)\n"
    "  --sync-interval-ms N  periodic sync's interval (default: 5000)\n"
    "  --record TRACE        write every input of every server, with a hash of its\n"
    "                        outputs, to TRACE (JSON lines) for `herd replay`\n"
    "  --secret-file FILE    the herd secret (at least 16 bytes): peers prove it to each\n"
    "                        other and seal every message (default: the file named by\n"
    "                        HERD_SECRET_FILE; none: peers are not authenticated)\n"
    "  --require-secret      refuse to start without a secret\n"
    "  -h, --help            this help\n"
    "The Places API key is read from the environment variable GOOGLE_API_KEY.\n";

const char kRunOptionsHelp[] =
    "  --seed N              the run's seed (default: 1, printed at start); the fault\n"
    "                        layer draws its sub-seed from it\n"
    "  --faults FILE         link faults, per-link overrides and a timeline (JSON)\n"
    "  --drop P              every link loses each message with probability P\n"
    "  --delay D             every link delays each message: MS, MIN-MAX (uniform) or\n"
    "                        exp:MIN:MEAN, milliseconds\n"
    "  --dup P               every link duplicates each message with probability P\n"
    "                        (--drop, --delay, --dup win over the file's \"links\")\n"
    "  --scenario FILE       run a scenario's workload and faults against this herd on\n"
    "                        loopback and print the same report as `herd sim FILE`\n"
    "                        (its topology, sync and faults; with --json, --output FILE,\n"
    "                        --html FILE for the HTML report of herd report)\n"
    "  --admin-port N        console on 127.0.0.1:N, line-based (0: ephemeral, printed);\n"
    "                        the same commands are read from stdin when it is a terminal\n"
    "                        or a pipe (type `help`); with a herd secret, a client\n"
    "                        proves it first (`herd admin` does)\n"
    "  --admin-host ADDR     the console's address (default: 127.0.0.1); one that is not\n"
    "                        loopback needs the herd secret\n";

Result<int64_t> parse_int_option(std::string_view flag, std::string_view text, int64_t min,
                                 int64_t max) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
    return Error{std::string(flag) + ": expected an integer in " + std::to_string(min) + ".." +
                 std::to_string(max) + ", got \"" + std::string(text) + "\""};
  }
  return value;
}

Result<uint64_t> parse_seed_option(std::string_view flag, std::string_view text) {
  uint64_t seed = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, seed);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Error{std::string(flag) + ": expected an integer in 0..18446744073709551615, got \"" +
                 std::string(text) + "\""};
  }
  return seed;
}

bool is_option_word(std::string_view arg) {
  if (arg.starts_with("--")) return true;
  // "-" alone (stdin, by convention) and "-1" (a number) are values.
  return arg.size() >= 2 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9') && arg[1] != '.';
}

Result<std::string> option_value(const std::vector<std::string>& args, size_t* i,
                                 std::string_view flag) {
  const std::string& arg = args[*i];
  if (arg.size() > flag.size() && arg[flag.size()] == '=') return arg.substr(flag.size() + 1);
  if (*i + 1 >= args.size() || is_option_word(args[*i + 1])) {
    return Error{std::string(flag) + ": expected a value"};
  }
  return args[++*i];
}

bool is_option(std::string_view arg, std::string_view flag) {
  return arg.starts_with(flag) && (arg.size() == flag.size() || arg[flag.size()] == '=');
}

Result<bool> check_places_url(std::string_view url) {
  const std::string text(url);
  auto fail = [&](std::string why) {
    return Error{"--places-url: expected an http:// or https:// URL with a host, got \"" + text +
                 "\"" + (why.empty() ? "" : " (" + why + ")")};
  };
  std::unique_ptr<CURLU, void (*)(CURLU*)> handle(curl_url(), curl_url_cleanup);
  if (!handle) return fail("out of memory");
  const CURLUcode rc = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (rc != CURLUE_OK) return fail(curl_url_strerror(rc));
  auto part = [&](CURLUPart which) {
    char* value = nullptr;
    std::string out;
    if (curl_url_get(handle.get(), which, &value, 0) == CURLUE_OK && value != nullptr) out = value;
    curl_free(value);
    return out;
  };
  const std::string scheme = part(CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") return fail("");
  if (part(CURLUPART_HOST).empty()) return fail("no host");
  return true;
}

Result<bool> check_host_syntax(std::string_view host) {
  const std::string text(host);
  auto fail = [&] {
    return Error{"--host: expected an IPv4 or IPv6 address or a host name, got \"" + text + "\""};
  };
  unsigned char buffer[sizeof(struct in6_addr)];
  if (text.find(':') != std::string::npos) {
    return inet_pton(AF_INET6, text.c_str(), buffer) == 1 ? Result<bool>(true) : fail();
  }
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    return inet_pton(AF_INET, text.c_str(), buffer) == 1 ? Result<bool>(true) : fail();
  }
  // RFC 1123 labels (and '_', which resolvers accept in local names).
  std::string_view rest = host;
  if (rest.ends_with('.')) rest.remove_suffix(1);
  if (rest.empty() || rest.size() > 253) return fail();
  while (!rest.empty()) {
    const size_t dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return fail();
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
      if (!ok) return fail();
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
    if (rest.empty()) return fail();
  }
  return true;
}

Result<bool> check_admin_port(const ServeOptions& options, const Topology& topology) {
  const int admin = options.host.admin_port;
  if (options.host.admin_host != "127.0.0.1") {
    if (admin < 0) return Error{"--admin-host: goes with --admin-port"};
    Result<struct sockaddr_storage> address = resolve_address(options.host.admin_host, 0);
    if (!address.ok()) return Error{"--admin-host: " + address.error()};
    if (!is_loopback(reinterpret_cast<const struct sockaddr*>(&address.value())) && !options.host.herd_key) {
      return Error{"--admin-host " + options.host.admin_host +
                   ": not a loopback address; anyone who reaches the console could inject faults, so it "
                   "needs the herd secret (--secret-file FILE or HERD_SECRET_FILE), which admin clients "
                   "then prove"};
    }
  }
  // Port 0 asks the kernel, and --port-base 0 gives the servers ports it picks: no clash.
  if (admin <= 0 || options.host.port_base == 0) return true;
  for (size_t i = 0; i < topology.nodes.size(); ++i) {
    const int port = options.host.port_base > 0 ? options.host.port_base + static_cast<int>(i)
                                                : topology.nodes[i].port;
    if (port == admin) {
      return Error{"--admin-port " + std::to_string(admin) + ": used by server " +
                   topology.nodes[i].name};
    }
  }
  return true;
}

namespace {

constexpr int64_t kPlacesCacheSecondsMax = 365 * 86'400;
constexpr int64_t kRecordMbMax = 1 << 20;                 // A TiB: more is a typo.
constexpr int64_t kLogMbMax = 1 << 20;
constexpr int64_t kClientIdleSecondsMax = 7 * 86'400;
constexpr int64_t kClockSkewSecondsMax = 100LL * 365 * 86'400;  // A century.

using Setter = std::function<Result<bool>(std::string_view flag, const std::string& value,
                                          ServeOptions* options)>;

Result<bool> set_nonempty(std::string_view flag, const std::string& value, std::string* out) {
  if (value.empty()) return Error{std::string(flag) + ": expected a value, got \"\""};
  *out = value;
  return true;
}

Result<bool> set_sync(std::string_view flag, const std::string& value, SyncMode* out) {
  std::optional<SyncMode> mode = parse_sync_mode(value);
  if (!mode) return Error{std::string(flag) + ": expected off, link-up or periodic, got \"" + value + "\""};
  *out = *mode;
  return true;
}

Result<bool> set_places_url(const std::string& value, std::string* out) {
  if (value.empty()) return Error{"--places-url: expected a value, got \"\""};
  Result<bool> checked = check_places_url(value);
  if (!checked.ok()) return checked;
  *out = value;
  return true;
}

Result<bool> set_host(const std::string& value, std::string* out) {
  if (value.empty()) return Error{"--host: expected a value, got \"\""};
  Result<bool> checked = check_host_syntax(value);
  if (!checked.ok()) return checked;
  *out = value;
  return true;
}

Result<bool> set_log_level(std::string_view flag, const std::string& value, LogLevel* out) {
  std::optional<LogLevel> level = parse_log_level(value);
  if (!level) return Error{std::string(flag) + ": expected all, events or off, got \"" + value + "\""};
  *out = *level;
  return true;
}

Result<bool> set_places_api(std::string_view flag, const std::string& value, PlacesApi* out) {
  if (value == "legacy") {
    *out = PlacesApi::kLegacy;
  } else if (value == "new") {
    *out = PlacesApi::kNew;
  } else {
    return Error{std::string(flag) + ": expected legacy or new, got \"" + value + "\""};
  }
  return true;
}

template <class T>
Result<bool> set_int(std::string_view flag, const std::string& value, int64_t min, int64_t max,
                     T* out) {
  Result<int64_t> n = parse_int_option(flag, value, min, max);
  if (!n.ok()) return Error{n.error()};
  *out = static_cast<T>(n.value());
  return true;
}

Result<bool> set_seed(std::string_view flag, const std::string& value,
                      std::optional<uint64_t>* out) {
  Result<uint64_t> seed = parse_seed_option(flag, value);
  if (!seed.ok()) return Error{seed.error()};
  *out = seed.value();
  return true;
}

// --drop P, --delay D, --dup P: the console's `set` syntax (key=value); the last wins.
Result<bool> set_link_fault(std::string_view flag, const std::string& value,
                            LinkSettings* out) {
  const std::string key = flag == "--drop" ? "drop" : flag == "--delay" ? "delay" : "dup";
  LinkSettings one;
  std::string error = parse_setting(key + "=" + value, one);
  if (!error.empty()) return Error{std::string(flag) + ": " + error};
  if (one.drop) out->drop = one.drop;
  if (one.delay) out->delay = one.delay;
  if (one.duplicate) out->duplicate = one.duplicate;
  return true;
}

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> table = {
      {"--topology",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->topology_path); }},
      {"--log-dir",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->host.log_dir); }},
      {"--log", [](auto f, auto& v, auto* o) { return set_log_level(f, v, &o->host.log_level); }},
      {"--host", [](auto, auto& v, auto* o) { return set_host(v, &o->host.host); }},
      {"--admin-host",
       [](auto, auto& v, auto* o) {
         Result<bool> set = set_host(v, &o->host.admin_host);
         if (!set.ok()) return Result<bool>(Error{"--admin-host" + set.error().substr(6)});
         return set;
       }},
      {"--places-url",
       [](auto, auto& v, auto* o) { return set_places_url(v, &o->host.places.url); }},
      {"--places-api",
       [](auto f, auto& v, auto* o) { return set_places_api(f, v, &o->host.places.api); }},
      {"--port-base",
       [](auto f, auto& v, auto* o) { return set_int(f, v, 0, 65535, &o->host.port_base); }},
      {"--peer-port-offset",
       [](auto f, auto& v, auto* o) { return set_int(f, v, 1, 65535, &o->host.peer_port_offset); }},
      {"--max-clients",
       [](auto f, auto& v, auto* o) {
         return set_int(f, v, 1, 10'000'000, &o->host.max_clients);
       }},
      {"--client-idle-s",
       [](auto f, auto& v, auto* o) {
         uint64_t s = 0;
         Result<bool> set = set_int(f, v, 0, kClientIdleSecondsMax, &s);
         o->host.client_idle_ms = s * 1000;
         return set;
       }},
      {"--log-max-mb",
       [](auto f, auto& v, auto* o) {
         uint64_t mb = 0;
         Result<bool> set = set_int(f, v, 0, kLogMbMax, &mb);
         o->host.log_max_bytes = mb << 20;
         return set;
       }},
      {"--max-record-mb",
       [](auto f, auto& v, auto* o) {
         size_t mb = 0;
         Result<bool> set = set_int(f, v, 1, kRecordMbMax, &mb);
         o->host.max_record_bytes = mb << 20;
         return set;
       }},
      {"--max-clock-skew-s",
       [](auto f, auto& v, auto* o) {
         int64_t s = 0;
         Result<bool> set = set_int(f, v, 0, kClockSkewSecondsMax, &s);
         o->host.max_clock_skew_ns = s * kNsPerSec;
         return set;
       }},
      {"--record",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->record_path); }},
      {"--sync", [](auto f, auto& v, auto* o) { return set_sync(f, v, &o->host.sync.mode); }},
      {"--sync-interval-ms",
       [](auto f, auto& v, auto* o) {
         int64_t ms = 0;
         Result<bool> set = set_int(f, v, 1, 86'400'000, &ms);
         o->host.sync.interval_ns = ms * kNsPerMs;
         return set;
       }},
      {"--faults",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->faults_path); }},
      {"--scenario",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->scenario_path); }},
      {"--output", [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->output_path); }},
      {"--html", [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->html_path); }},
      {"--secret-file", [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->secret_file); }},
      {"--seed", [](auto f, auto& v, auto* o) { return set_seed(f, v, &o->seed); }},
      {"--drop", [](auto f, auto& v, auto* o) { return set_link_fault(f, v, &o->link_faults); }},
      {"--delay", [](auto f, auto& v, auto* o) { return set_link_fault(f, v, &o->link_faults); }},
      {"--dup", [](auto f, auto& v, auto* o) { return set_link_fault(f, v, &o->link_faults); }},
      {"--admin-port",
       [](auto f, auto& v, auto* o) { return set_int(f, v, 0, 65535, &o->host.admin_port); }},
      {"--places-cache-s",
       [](auto f, auto& v, auto* o) {
         return set_int(f, v, 0, kPlacesCacheSecondsMax, &o->host.places.cache_s);
       }},
  };
  return table;
}

}  // namespace

bool has_run_only_options(const ServeOptions& options) {
  return !options.faults_path.empty() || options.seed || !options.link_faults.empty() ||
         options.host.admin_port >= 0 || options.host.admin_host != "127.0.0.1" ||
         !options.scenario_path.empty() || options.json ||
         !options.output_path.empty() || !options.html_path.empty();
}

Result<FaultSetup> make_fault_setup(const ServeOptions& options, const Topology& topology,
                                    std::string_view faults_text) {
  FaultSetup setup;
  setup.seed = options.seed.value_or(kDefaultSeed);
  if (!options.faults_path.empty()) {
    Result<FaultPlan> plan =
        parse_fault_plan(faults_text, options.faults_path, fault_topology(topology));
    if (!plan.ok()) return Error{plan.error()};
    setup.plan = std::move(plan.value());
  }
  setup.plan.defaults = options.link_faults.applied_to(setup.plan.defaults);
  return setup;
}

Result<ServeOptions> parse_serve_options(const std::vector<std::string>& args) {
  ServeOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    if (arg == "--json") {
      options.json = true;
      continue;
    }
    if (arg == "--require-secret") {
      options.require_secret = true;
      continue;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      options.positional.push_back(arg);
      continue;
    }
    std::string flag = arg.substr(0, arg.find('='));
    auto it = setters().find(flag);
    if (it == setters().end()) return Error{"unknown option " + flag};
    Result<std::string> value = option_value(args, &i, flag);
    if (!value.ok()) return Error{value.error()};
    Result<bool> set = it->second(flag, value.value(), &options);
    if (!set.ok()) return Error{set.error()};
  }
  return options;
}

}  // namespace herd
