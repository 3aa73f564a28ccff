// Prints `make bench`'s figures from the JSON files that `herd bench --json` wrote
// (tests/bench/run_bench.sh), so that the bench needs no Python of its own.
//
//   bench_summary line NAME FILE        one run, one or more lines
//   bench_summary summary DIR IAMATS    the tables, the ratios and the targets
//   bench_summary field FILE KEY        one top-level number of FILE ("replies_per_s")
// A run whose file is absent or unreadable is "not run". DIR/asyncio_skipped, when
// present, says why the asyncio herd was not run. Targets are reported, never
// asserted: a benchmark is a program that prints figures.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <rapidjson/document.h>

namespace {

using Json = rapidjson::Document;
using Runs = std::map<std::string, std::optional<Json>>;

std::optional<Json> load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  Json d;
  d.Parse(text.str().c_str());
  if (!in || d.HasParseError() || !d.IsObject()) return std::nullopt;
  return d;
}

double num(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : 0;
}
double num(const rapidjson::Value& v, const char* object, const char* key) {
  auto it = v.FindMember(object);
  return it != v.MemberEnd() && it->value.IsObject() ? num(it->value, key) : 0;
}
long long whole(double x) { return static_cast<long long>(x); }

std::string ratio(double a, double b) {
  if (a == 0 || b == 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", a / b);
  return buf;
}

const rapidjson::Value& verify_list(const Json& d) {
  static const rapidjson::Value kNone(rapidjson::kArrayType);
  auto it = d.FindMember("verify");
  return it != d.MemberEnd() && it->value.IsArray() ? it->value : kNone;
}

void line(const std::string& name, const std::string& path) {
  std::optional<Json> r = load(path);
  if (!r) {
    std::printf("bench: %s: no result\n", name.c_str());
    return;
  }
  const Json& d = *r;
  std::printf("bench: %-22s ", name.c_str());
  const char* next = "";  // Before each further part: a new line, indented.
  char indent[64];
  std::snprintf(indent, sizeof indent, "\nbench: %-22s ", "");
  if (num(d, "connections") > 0) {
    std::string mode = "closed loop";
    if (d.HasMember("mode") && d["mode"] == "open") {
      mode = "open loop at " + std::to_string(whole(num(d, "rate"))) + "/s";
    }
    std::printf("%.0f replies/s (%s), latency p50 %.1f p99 %.1f max %.1f us, '?' %lld, "
                "unanswered %lld", num(d, "replies_per_s"), mode.c_str(),
                num(d, "latency_us", "p50"), num(d, "latency_us", "p99"),
                num(d, "latency_us", "max"), whole(num(d, "error_replies")),
                whole(num(d, "unanswered")));
    next = indent;
  }
  if (num(d, "visibility_us", "n") > 0 || num(d, "visibility_lost") > 0) {
    std::printf("%svisibility p50 %.1f p99 %.1f max %.1f us (n=%lld, lost %lld, poll rtt p50 "
                "%.1f us)", next, num(d, "visibility_us", "p50"), num(d, "visibility_us", "p99"),
                num(d, "visibility_us", "max"), whole(num(d, "visibility_us", "n")),
                whole(num(d, "visibility_lost")), num(d, "poll_rtt_us", "p50"));
    next = indent;
  }
  if (num(d, "hold", "requested") > 0) {
    std::printf("%shold %lld: %lld connected, %lld answered, %lld open at end", next,
                whole(num(d, "hold", "requested")), whole(num(d, "hold", "connected")),
                whole(num(d, "hold", "answered")), whole(num(d, "hold", "open_at_end")));
    next = indent;
  }
  for (const rapidjson::Value& v : verify_list(d).GetArray()) {
    const char* server = v.HasMember("server") && v["server"].IsString() ? v["server"].GetString()
                                                                          : "?";
    std::printf("%sverify %s: %lld/%lld current (%lld stale, %lld missing, %lld not answered)",
                next, server,
                whole(num(v, "current")), whole(num(v, "checked")), whole(num(v, "stale")),
                whole(num(v, "missing")), whole(num(v, "failed")));
    next = indent;
  }
  std::printf("\n");
}

std::string no_loss(const std::optional<Json>& d) {
  if (!d) return "not run";
  if (verify_list(*d).Empty()) return "not checked";
  double current = 0, checked = 0;
  for (const rapidjson::Value& v : verify_list(*d).GetArray()) {
    current += num(v, "current");
    checked += num(v, "checked");
  }
  char buf[200];
  std::snprintf(buf, sizeof buf, "%lld/%lld records current over %zu servers%s", whole(current),
                whole(checked), static_cast<size_t>(verify_list(*d).Size()),
                current == checked ? ""
                                   : "  <-- not all current by the deadline (loss, or a flood "
                                     "backlog)");
  return buf;
}

const char* const kSystems[][2] = {{"floor", "floor (libuv, fixed reply)"},
                                   {"herd", "herd (1 process, 5 servers)"},
                                   {"herd_events", "herd, --log events"},
                                   {"herd_off", "herd, --log off"},
                                   {"asyncio", "asyncio herd"},
                                   {"asyncio_persistent", "asyncio herd, persistent"}};

// One throughput table (runs "<system><suffix>"); replies/s per system, 0 when not run.
// A figure against its target: "0.436 (target >= 0.6: not met)".
std::string against(double a, double floor, double target) {
  char text[64];
  std::snprintf(text, sizeof text, " (target >= %.2f%s)", target,
                a == 0 || floor == 0 ? "" : a / floor >= target ? ": met" : ": not met");
  return ratio(a, floor) + text;
}

// The targets (issue 14), by table and log level; 0: none.
struct Targets {
  double all = 0, events = 0;
};

std::map<std::string, double> throughput_table(const Runs& runs, const std::string& suffix,
                                               const char* title, Targets targets) {
  std::map<std::string, double> peak, per_cpu;
  for (const auto& s : kSystems) {
    const std::optional<Json>& d = runs.at(s[0] + suffix);
    peak[s[0]] = d ? num(*d, "replies_per_s") : 0;
  }
  if (peak["floor"] == 0) return peak;
  const Json& d0 = *runs.at("floor" + suffix);
  std::printf("-- IAMAT throughput at one server, %s (%lld connections x %lld in flight) --\n",
              title, whole(num(d0, "connections")), whole(num(d0, "pipeline")));
  std::printf("%-28s %10s %9s %9s %8s %12s\n", "", "replies/s", "p50 us", "p99 us", "x floor",
              "CPU us/reply");
  for (const auto& s : kSystems) {
    const std::optional<Json>& d = runs.at(s[0] + suffix);
    if (!d) {
      std::printf("%-28s %10s\n", s[1], "not run");
      continue;
    }
    double cpu = num(*d, "server_cpu_us_per_reply");
    if (cpu > 0) per_cpu[s[0]] = 1.0 / cpu;
    char cpu_text[32] = "n/a";
    if (cpu > 0) std::snprintf(cpu_text, sizeof cpu_text, "%.2f", cpu);
    std::printf("%-28s %10.0f %9.1f %9.1f %8s %12s\n", s[1], num(*d, "replies_per_s"),
                num(*d, "latency_us", "p50"), num(*d, "latency_us", "p99"),
                ratio(num(*d, "replies_per_s"), peak["floor"]).c_str(), cpu_text);
  }
  std::printf("targets: herd/floor %s", against(peak["herd"], peak["floor"], targets.all).c_str());
  if (targets.events > 0) {
    std::printf(", with --log events %s", against(peak["herd_events"], peak["floor"], targets.events).c_str());
  }
  std::printf("\nratios: herd/floor %s, --log events %s, --log off %s, asyncio/floor %s, "
              "asyncio-persistent/floor %s, herd/asyncio %s, herd/asyncio-persistent %s\n",
              ratio(peak["herd"], peak["floor"]).c_str(), ratio(peak["herd_events"], peak["floor"]).c_str(),
              ratio(peak["herd_off"], peak["floor"]).c_str(),
              ratio(peak["asyncio"], peak["floor"]).c_str(),
              ratio(peak["asyncio_persistent"], peak["floor"]).c_str(),
              ratio(peak["herd"], peak["asyncio"]).c_str(),
              ratio(peak["herd"], peak["asyncio_persistent"]).c_str());
  std::printf("per CPU second (as if each had a core of its own): herd/floor %s, asyncio/floor %s, "
              "asyncio-persistent/floor %s, herd/asyncio-persistent %s\n",
              ratio(per_cpu["herd"], per_cpu["floor"]).c_str(),
              ratio(per_cpu["asyncio"], per_cpu["floor"]).c_str(),
              ratio(per_cpu["asyncio_persistent"], per_cpu["floor"]).c_str(),
              ratio(per_cpu["herd"], per_cpu["asyncio_persistent"]).c_str());
  return peak;
}

void latency_and_visibility(const Runs& runs) {
  for (const char* k : {"herd", "floor"}) {
    const std::optional<Json>& d = runs.at(std::string(k) + "_half");
    if (!d) continue;
    std::printf("%s at half the herd's peak (%lld/s, open loop): p50 %.1f p99 %.1f us, achieved "
                "%.0f/s%s\n", k, whole(num(*d, "rate")), num(*d, "latency_us", "p50"),
                num(*d, "latency_us", "p99"), num(*d, "replies_per_s"),
                std::string(k) == "herd" ? " (target p99 < 1000 us)" : "");
  }
  for (const char* k : {"herd", "asyncio", "asyncio_persistent"}) {
    const std::optional<Json>& d = runs.at(std::string(k) + "_visibility");
    if (!d) continue;
    std::printf("flood visibility, farthest server, light load, %s: p50 %.1f p99 %.1f us (n=%lld, "
                "lost %lld)%s\n", k, num(*d, "visibility_us", "p50"),
                num(*d, "visibility_us", "p99"), whole(num(*d, "visibility_us", "n")),
                whole(num(*d, "visibility_lost")),
                std::string(k) == "herd" ? " (target p50 < 1000 us)" : "");
  }
  for (const char* k : {"herd", "herd_events", "herd_off", "asyncio", "asyncio_persistent"}) {
    std::printf("no loss, %s: %s\n", k, no_loss(runs.at(std::string(k) + "_peak")).c_str());
  }
}

void memory_and_hold(const Runs& runs, long long iamats) {
  if (const std::optional<Json>& h = runs.at("herd_hold")) {
    std::printf("connections held by the herd: %lld requested, %lld connected, %lld answered, "
                "%lld open at end\n", whole(num(*h, "hold", "requested")),
                whole(num(*h, "hold", "connected")), whole(num(*h, "hold", "answered")),
                whole(num(*h, "hold", "open_at_end")));
  }
  if (const std::optional<Json>& rm = runs.at("record_memory")) {
    std::printf("memory, one RecordTable of %lld records: %.1f heap bytes/record, %.1f RSS "
                "bytes/record (target <= 200)\n", whole(num(*rm, "records")),
                num(*rm, "heap_bytes_per_record"), num(*rm, "rss_bytes_per_record"));
  }
  const std::optional<Json>& m = runs.at("herd_memory");
  const std::optional<Json>& r = runs.at("herd_rss");
  if (!m || !r) return;
  long long stored = std::min(whole(num(*m, "replies")), iamats);
  double per = stored > 0 ? (num(*r, "rss1_kb") - num(*r, "rss0_kb")) * 1024.0 /
                                (static_cast<double>(stored) * 5)
                          : 0;
  std::printf("memory, live herd: RSS %lld -> %lld kB after %lld new clients x 5 servers: %.1f "
              "bytes/record/server (%.0f IAMAT/s; %s)\n", whole(num(*r, "rss0_kb")),
              whole(num(*r, "rss1_kb")), stored, per, num(*m, "replies_per_s"),
              no_loss(m).c_str());
}

// Each server's allocations per IAMAT at the target (the first server), and the herd's sum.
void allocations(const Runs& runs) {
  bool any = false;
  for (const char* level : {"all", "events"}) {
    const std::optional<Json>& d = runs.at(std::string("alloc_") + level + "_count");
    if (!d || num(*d, "replies") <= 0 || !d->HasMember("servers") || !(*d)["servers"].IsArray()) continue;
    const double replies = num(*d, "replies");
    if (!any) {
      std::printf("heap allocations per IAMAT (one counting process per server; %lld pipelined IAMATs of known "
                  "clients at the first; target <= 1 at that server):\n", whole(replies));
      any = true;
    }
    std::string parts;
    double sum = 0, target = -1;
    for (const rapidjson::Value& v : (*d)["servers"].GetArray()) {
      const double per = num(v, "allocations") / replies;
      if (target < 0) target = per;
      sum += per;
      char part[128];
      std::snprintf(part, sizeof part, "%s%s %.2f (new %.2f)", parts.empty() ? "" : ", ",
                    v.HasMember("server") && v["server"].IsString() ? v["server"].GetString() : "?", per,
                    num(v, "news") / replies);
      parts += part;
    }
    std::printf("  --log %-6s %s; herd %.2f; at the target %.2f: %s\n", level, parts.c_str(), sum, target,
                target <= 1 ? "met" : "not met");
  }
  if (!any) std::printf("heap allocations per IAMAT: not run\n");
}

void summary(const std::string& dir, long long iamats) {
  Runs runs;
  for (const char* n : {"floor_peak", "floor_half", "floor_shallow", "herd_shallow",
                        "asyncio_shallow", "asyncio_persistent_shallow", "herd_peak", "herd_half",
                        "herd_visibility", "herd_hold", "herd_memory", "herd_rss", "asyncio_peak",
                        "asyncio_visibility", "asyncio_persistent_peak",
                        "asyncio_persistent_visibility", "record_memory", "herd_events_peak",
                        "herd_events_shallow", "herd_off_peak", "herd_off_shallow", "alloc_all_count",
                        "alloc_events_count"}) {
    runs[n] = load(dir + "/" + n + ".json");
  }
  std::printf("\n== make bench summary (servers and load generator share %ld cores) ==\n",
              sysconf(_SC_NPROCESSORS_ONLN));
  throughput_table(runs, "_peak", "deep pipeline", Targets{0.25, 0.5});
  throughput_table(runs, "_shallow", "one request in flight per connection", Targets{0.6, 0});
  std::ifstream skipped(dir + "/asyncio_skipped");
  std::string why;
  if (std::getline(skipped, why)) std::printf("asyncio herd: not run (%s)\n", why.c_str());
  latency_and_visibility(runs);
  memory_and_hold(runs, iamats);
  allocations(runs);
}

int usage() {
  std::fputs("usage: bench_summary line NAME FILE | summary DIR IAMATS | field FILE KEY\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return usage();
  std::string what = argv[1];
  if (what == "line") {
    line(argv[2], argv[3]);
  } else if (what == "summary") {
    summary(argv[2], std::atoll(argv[3]));
  } else if (what == "field") {
    std::optional<Json> d = load(argv[2]);
    if (!d || !d->HasMember(argv[3]) || !(*d)[argv[3]].IsNumber()) return 1;
    std::printf("%.0f\n", (*d)[argv[3]].GetDouble());
  } else {
    return usage();
  }
  return 0;
}
