#include "sim/cli.h"

#include <charconv>
#include <functional>
#include <map>

namespace herd {

const char kServeOptionsHelp[] =
    "  --topology FILE       the herd's topology (default: topologies/cs131-spring21.json\n"
    "                        in the current directory, else next to the executable)\n"
    "  --log-dir DIR         one log file per server, DIR/<Name>.log (default: logs)\n"
    "  --port-base N         server i (in file order) listens on N+i; 0 binds ephemeral\n"
    "                        ports (herd run only); default: the topology's ports\n"
    "  --host ADDR           listen on and dial ADDR for every server (default: each\n"
    "                        server's \"host\", else 127.0.0.1)\n"
    "  --max-clients N       client connections per server (default: 20000)\n"
    "  --places-url URL      Places Nearby Search endpoint (default: Google's)\n"
    "  --places-api API      legacy (GET nearbysearch/json, default) or new (POST\n"
    "                        places:searchNearby)\n"
    "  --places-cache-s N    cache Places answers for N seconds (default: 0, off)\n"
    "  -h, --help            this help\n"
    "The Places API key is read from the environment variable GOOGLE_API_KEY.\n";

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

namespace {

constexpr int64_t kPlacesCacheSecondsMax = 365 * 86'400;

using Setter = std::function<Result<bool>(std::string_view flag, const std::string& value,
                                          ServeOptions* options)>;

Result<bool> set_nonempty(std::string_view flag, const std::string& value, std::string* out) {
  if (value.empty()) return Error{std::string(flag) + ": expected a value, got \"\""};
  *out = value;
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

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> table = {
      {"--topology",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->topology_path); }},
      {"--log-dir",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->host.log_dir); }},
      {"--host",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->host.host); }},
      {"--places-url",
       [](auto f, auto& v, auto* o) { return set_nonempty(f, v, &o->host.places.url); }},
      {"--places-api",
       [](auto f, auto& v, auto* o) { return set_places_api(f, v, &o->host.places.api); }},
      {"--port-base",
       [](auto f, auto& v, auto* o) { return set_int(f, v, 0, 65535, &o->host.port_base); }},
      {"--max-clients",
       [](auto f, auto& v, auto* o) {
         return set_int(f, v, 1, 10'000'000, &o->host.max_clients);
       }},
      {"--places-cache-s",
       [](auto f, auto& v, auto* o) {
         return set_int(f, v, 0, kPlacesCacheSecondsMax, &o->host.places.cache_s);
       }},
  };
  return table;
}

}  // namespace

Result<ServeOptions> parse_serve_options(const std::vector<std::string>& args) {
  ServeOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      options.positional.push_back(arg);
      continue;
    }
    size_t eq = arg.find('=');
    std::string flag = arg.substr(0, eq);
    auto it = setters().find(flag);
    if (it == setters().end()) return Error{"unknown option " + flag};
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Error{flag + ": missing value"};
    }
    Result<bool> set = it->second(flag, value, &options);
    if (!set.ok()) return Error{set.error()};
  }
  return options;
}

}  // namespace herd
