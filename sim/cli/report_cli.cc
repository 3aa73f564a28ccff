#include "sim/cli/report_cli.h"

#include "sim/read_line.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>

#include "crypto/sodium_mac.h"
#include "node/driver.h"
#include "node/protocol.h"
#include "node/trace_format.h"
#include "sim/cli/cli.h"
#include "sim/cli/report_logs.h"
#include "sim/cli/scenario_file.h"
#include "sim/html_report.h"
#include "sim/report.h"
#include "sim/run_metrics.h"

namespace herd {

HtmlOut::~HtmlOut() {
  if (file_ != nullptr) std::fclose(file_);
}

Result<bool> HtmlOut::open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) return Error{"--html " + path + ": " + std::strerror(errno)};
  return true;
}

std::string HtmlOut::write(const std::string& text) {
  if (file_ == nullptr) return "--html: not open";
  bool ok = std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  return ok ? "" : "--html " + path_ + ": " + std::strerror(errno);
}

namespace {

constexpr const char* kReportUsage =
    "usage: herd report INPUT --html OUT.html [--secret-file FILE]\n"
    "  Writes a self-contained HTML report (space-time diagram, convergence, links, checks).\n"
    "  INPUT is one of:\n"
    "    a trace (herd sim --record, herd run --record): replayed to see every message\n"
    "    a live run's log directory (herd run --log-dir): read from the send/recv lines\n"
    "    a sweep's JSON lines (herd sweep): a grid of seeds by pass/fail, with rerun commands\n"
    "  --html OUT.html      where the report goes\n"
    "  --secret-file FILE   the herd secret of a trace whose peers authenticated\n"
    "Exit status: 0 written, 2 bad usage or input (file, line and field named).\n";

// A sweep's lines and a trace's input lines: at most this long.
constexpr size_t kSweepLineBytesMax = 1u << 20;
constexpr size_t kSweepLinesMax = 1'000'000;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

// ---- a trace ----------------------------------------------------------------------

struct TraceSource {
  std::string path;
  TraceHeader header;
  std::vector<std::string> clients;  // Every client that sent an IAMAT, in order of first.
};

// Reads the header and every line once: validates them and collects the clients.
Result<TraceSource> scan_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": " + std::strerror(errno)};
  TraceSource src;
  src.path = path;
  std::string line;
  ReadLine r = read_line(in, kTraceHeaderBytesMax, &line);
  if (r == ReadLine::kEof) return Error{path + ": line 1: empty trace"};
  if (r == ReadLine::kTooLong) return Error{path + ": line 1: header longer than " + std::to_string(kTraceHeaderBytesMax) + " bytes"};
  Result<TraceHeader> header = parse_trace_header(line);
  if (!header.ok()) return Error{path + ": line 1: " + header.error()};
  src.header = std::move(header.value());
  std::unordered_map<std::string, uint32_t> seen;
  TraceRecord record;
  TraceEnd end;
  for (uint64_t line_no = 2;; ++line_no) {
    r = read_line(in, kTraceLineBytesMax, &line);
    if (r == ReadLine::kEof) break;
    if (r == ReadLine::kTooLong) return Error{path + ": line " + std::to_string(line_no) + ": longer than " + std::to_string(kTraceLineBytesMax) + " bytes"};
    Result<TraceLineKind> kind = parse_trace_line(line, src.header, &record, &end);
    if (!kind.ok()) return Error{path + ": line " + std::to_string(line_no) + ": " + kind.error()};
    if (kind.value() != TraceLineKind::kInput || record.input.kind != InputKind::kLine) continue;
    if (!record.text.starts_with("IAMAT ")) continue;
    const Fields f = split_fields(record.text, 4);
    if (f.size() < 2 || f[1].empty()) continue;
    if (seen.emplace(std::string(f[1]), static_cast<uint32_t>(src.clients.size())).second) {
      src.clients.emplace_back(f[1]);
    }
  }
  return src;
}

int report_trace(const std::string& path, HtmlOut& out, const std::optional<AuthKey>& key) {
  Result<TraceSource> scanned = scan_trace(path);
  if (!scanned.ok()) return usage_error(scanned.error());
  TraceSource& src = scanned.value();
  TraceHeader& header = src.header;
  if (!header.auth.empty()) {
    if (!key) return usage_error(path + ": line 1: auth: recorded by a herd whose peers authenticate (key id " + header.auth + "): give its --secret-file");
    if (key_id(*key) != header.auth) return usage_error(path + ": line 1: auth: recorded with the herd key " + header.auth + "; this secret's is " + key_id(*key));
    for (NodeConfig& node : header.nodes) node.auth = PeerAuth{&sodium_mac(), *key};
  }
  std::optional<Scenario> scenario;
  std::vector<std::string> notes;
  if (!header.scenario.empty()) {
    Result<Scenario> loaded = load_scenario(header.scenario);
    if (loaded.ok()) scenario = std::move(loaded.value());
    else notes.push_back("the scenario the trace names could not be read (" + loaded.error() + "): no timeline and no expectations");
  }
  // Traces name their nodes in header order; the topology's order may differ.
  std::vector<std::string> servers;
  for (const NodeConfig& c : header.nodes) servers.push_back(c.name);
  std::vector<std::pair<int, int>> links;
  HtmlRun run(servers, {});
  for (const auto& [a, b] : header.topology.links) {
    const int ia = run.server_index(a), ib = run.server_index(b);
    if (ia >= 0 && ib >= 0) links.push_back({ia, ib});
  }
  run = HtmlRun(servers, links);
  HtmlCollector collector(&run);
  std::unordered_map<std::string, uint32_t> client_index;
  for (uint32_t c = 0; c < src.clients.size(); ++c) client_index.emplace(src.clients[c], c);
  const uint32_t clients = static_cast<uint32_t>(src.clients.size());
  RunMetrics metrics(static_cast<int>(servers.size()), clients, [&client_index](std::string_view client) {
    auto it = client_index.find(std::string(client));
    return it == client_index.end() ? kNoUpdate : it->second;
  });
  std::vector<std::unique_ptr<NodeDriver>> drivers;
  for (size_t i = 0; i < header.nodes.size(); ++i) {
    drivers.push_back(std::make_unique<NodeDriver>(header.nodes[i], static_cast<int>(i)));
    drivers.back()->add_observer(&metrics);
    drivers.back()->add_observer(&collector);
  }
  std::ifstream in(path, std::ios::binary);
  std::string line;
  read_line(in, kTraceHeaderBytesMax, &line);
  TraceRecord record;
  TraceEnd end;
  bool started = false, diverged = false, ended = false;
  int64_t origin = 0, last = 0;
  size_t next_fault = 0;
  int64_t next_sample = 0, sample_every = 1;
  int64_t liveness_at = INT64_MAX;
  bool liveness_done = false;
  uint64_t liveness_stale = 0;
  std::string liveness_behind;
  std::vector<std::pair<int64_t, bool>> timeline;  // (time, heals), in the nodes' clock once started.
  const auto check_liveness = [&] {
    liveness_done = true;
    liveness_stale = metrics.stale_pairs();
    if (liveness_stale != 0) liveness_behind = metrics.first_behind(servers, src.clients);
  };
  const auto advance = [&](int64_t t) {
    while (next_fault < timeline.size() && timeline[next_fault].first <= t) metrics.fault_at(timeline[next_fault++].first);
    while (next_sample <= t) {
      metrics.sample(next_sample);
      next_sample += sample_every;
    }
    if (!liveness_done && t >= liveness_at) check_liveness();
  };
  for (uint64_t line_no = 2; read_line(in, kTraceLineBytesMax, &line) == ReadLine::kOk; ++line_no) {
    Result<TraceLineKind> kind = parse_trace_line(line, header, &record, &end);
    if (!kind.ok()) return usage_error(path + ": line " + std::to_string(line_no) + ": " + kind.error());
    if (kind.value() == TraceLineKind::kEnd) {
      ended = true;
      break;
    }
    const int64_t t = record.input.now.mono_ns;
    if (!started) {
      started = true;
      origin = t;
      next_sample = t;
      if (scenario) {
        sample_every = std::max<int64_t>(1'000'000, scenario->duration_ns / 100);
        int64_t last_fault = 0;
        for (const TimelineEvent& e : scenario->plan.timeline) {
          timeline.push_back({origin + e.at_ms * 1'000'000, action_heals(e.action)});
          last_fault = std::max(last_fault, e.at_ms * 1'000'000);
        }
        if (scenario->expect.converge_after_faults_ns) {
          liveness_at = origin + std::max(last_fault, scenario->duration_ns) + *scenario->expect.converge_after_faults_ns;
        }
      } else {
        sample_every = 100'000'000;
      }
    }
    advance(t);
    last = std::max(last, t);
    NodeDriver::Step step = drivers[static_cast<size_t>(record.node)]->step(record.input);
    if (!diverged && (output_hash(step.effects()) != record.out_hash || step.effects().size() != record.out_count)) {
      diverged = true;
      notes.push_back("replay diverged from the trace at input " + std::to_string(record.index) + " (line " +
                      std::to_string(line_no) + "): what follows may not be what the run did");
    }
  }
  if (!ended) notes.push_back("the trace has no end line (a recording cut short)");
  advance(last);
  metrics.sample(last);
  if (!liveness_done && liveness_at != INT64_MAX) check_liveness();
  std::vector<const Node*> nodes;
  for (const auto& d : drivers) nodes.push_back(&d->node());
  Report r;
  r.host = header.source;
  r.scenario = scenario ? scenario->name : header.scenario;
  r.topology = header.topology.name;
  r.seed = header.seed.value_or(0);
  r.servers = static_cast<int>(servers.size());
  r.links = static_cast<int>(header.topology.links.size());
  fill_report(metrics, clients, nodes, &r, origin);
  add_bounds(header.topology, metrics.tracker(), &r);
  r.liveness_checked = liveness_done;
  r.liveness_at_ns = liveness_at == INT64_MAX ? 0 : liveness_at - origin;
  r.liveness_stale = liveness_stale;
  r.liveness_behind = liveness_behind;
  r.sim_ns = last - origin;
  if (scenario) {
    for (Check& c : expectation_checks(r, scenario->expect)) r.checks.push_back(std::move(c));
    add_timeline(&run, scenario->plan, origin);
  }
  for (Check& c : safety_checks(r)) r.checks.push_back(std::move(c));
  for (std::string& n : notes) run.note(std::move(n));
  HtmlMeta meta;
  meta.title = (r.scenario.empty() ? std::string("trace") : r.scenario) + " (" + header.source +
               (header.seed ? ", seed " + std::to_string(*header.seed) : "") + ")";
  meta.source = "herd report " + path + " (a " + header.source + " trace, replayed)";
  if (header.source == "sim" && !header.scenario.empty() && header.seed) {
    meta.rerun = "herd sim " + header.scenario + " --seed " + std::to_string(*header.seed);
  }
  if (const std::string error = out.write(render_run_html(run, r, meta)); !error.empty()) {
    std::fprintf(stderr, "herd: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

// ---- a sweep ----------------------------------------------------------------------

Result<std::string> string_field(const rapidjson::Value& v, const char* name, bool required) {
  if (!v.HasMember(name)) {
    if (required) return Error{std::string(name) + ": missing"};
    return std::string();
  }
  if (!v[name].IsString()) return Error{std::string(name) + ": expected a string"};
  return std::string(v[name].GetString(), v[name].GetStringLength());
}

Result<bool> parse_sweep_line(const rapidjson::Value& v, SweepSeed* s, SweepSummary* summary) {
  if (!v.IsObject()) return Error{"expected a JSON object"};
  if (v.HasMember("summary")) {
    const rapidjson::Value& m = v["summary"];
    if (!m.IsObject()) return Error{"summary: expected an object"};
    if (!m.HasMember("seeds") || !m["seeds"].IsUint64()) return Error{"summary.seeds: expected a count"};
    if (!m.HasMember("failed") || !m["failed"].IsUint64()) return Error{"summary.failed: expected a count"};
    if (m.HasMember("seeds_per_s") && !m["seeds_per_s"].IsNumber()) return Error{"summary.seeds_per_s: expected a number"};
    summary->present = true;
    summary->seeds = m["seeds"].GetUint64();
    summary->failed = m["failed"].GetUint64();
    summary->seeds_per_s = m.HasMember("seeds_per_s") ? m["seeds_per_s"].GetDouble() : 0;
    return false;
  }
  if (!v.HasMember("seed") || !v["seed"].IsUint64()) return Error{"seed: expected an unsigned integer"};
  if (!v.HasMember("pass") || !v["pass"].IsBool()) return Error{"pass: expected true or false"};
  s->seed = v["seed"].GetUint64();
  s->pass = v["pass"].GetBool();
  if (v.HasMember("wall_ms")) {
    if (!v["wall_ms"].IsNumber()) return Error{"wall_ms: expected a number"};
    s->wall_ms = v["wall_ms"].GetDouble();
  }
  Result<std::string> digest = string_field(v, "digest", false);
  if (!digest.ok()) return Error{digest.error()};
  s->digest = digest.value();
  Result<std::string> rerun = string_field(v, "rerun", true);
  if (!rerun.ok()) return Error{rerun.error()};
  s->rerun = rerun.value();
  if (v.HasMember("checks")) {
    if (!v["checks"].IsArray()) return Error{"checks: expected an array"};
    const auto& checks = v["checks"].GetArray();
    for (rapidjson::SizeType i = 0; i < checks.Size(); ++i) {
      const std::string where = "checks[" + std::to_string(i) + "]";
      const rapidjson::Value& c = checks[i];
      if (!c.IsObject()) return Error{where + ": expected an object"};
      SweepCheck check;
      for (const char* key : {"name", "figure", "bound"}) {
        // herd sweep writes a figure and a bound as JSON numbers: their shortest text.
        if (std::string(key) != "name" && c.HasMember(key) && c[key].IsNumber()) {
          char text[32];
          const auto [end, ec] = c[key].IsInt64() ? std::to_chars(text, text + sizeof text, c[key].GetInt64())
                                                  : std::to_chars(text, text + sizeof text, c[key].GetDouble());
          (std::string(key) == "figure" ? check.figure : check.bound) = ec == std::errc() ? std::string(text, end) : "?";
          continue;
        }
        Result<std::string> f = string_field(c, key, std::string(key) == "name");
        if (!f.ok()) return Error{where + "." + f.error()};
        (std::string(key) == "name" ? check.name : std::string(key) == "figure" ? check.figure : check.bound) = f.value();
      }
      if (!c.HasMember("pass") || !c["pass"].IsBool()) return Error{where + ".pass: expected true or false"};
      check.pass = c["pass"].GetBool();
      s->checks.push_back(std::move(check));
    }
  }
  if (v.HasMember("failed")) {
    if (!v["failed"].IsArray()) return Error{"failed: expected an array"};
    for (const auto& f : v["failed"].GetArray()) {
      if (f.IsString()) s->failed.emplace_back(f.GetString(), f.GetStringLength());
      else if (f.IsObject() && f.HasMember("name") && f["name"].IsString()) s->failed.emplace_back(f["name"].GetString());
      else return Error{"failed: expected strings (or checks with a name)"};
    }
  }
  return true;
}

int report_sweep(const std::string& path, HtmlOut& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error(path + ": " + std::strerror(errno));
  std::vector<SweepSeed> seeds;
  SweepSummary summary;
  std::string line;
  uint64_t line_no = 0;
  for (;;) {
    ++line_no;
    const ReadLine r = read_line(in, kSweepLineBytesMax, &line);
    if (r == ReadLine::kEof) break;
    const std::string where = path + ": line " + std::to_string(line_no) + ": ";
    if (r == ReadLine::kTooLong) return usage_error(where + "longer than " + std::to_string(kSweepLineBytesMax) + " bytes");
    if (line_no > kSweepLinesMax) return usage_error(where + "more than " + std::to_string(kSweepLinesMax) + " lines");
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (summary.present) return usage_error(where + "a line after the summary line");
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag>(line.c_str(), line.size());
    if (doc.HasParseError()) return usage_error(where + "not JSON (at byte " + std::to_string(doc.GetErrorOffset()) + ")");
    SweepSeed seed;
    Result<bool> parsed = parse_sweep_line(doc, &seed, &summary);
    if (!parsed.ok()) return usage_error(where + parsed.error());
    if (parsed.value()) seeds.push_back(std::move(seed));
  }
  if (seeds.empty()) return usage_error(path + ": line 1: seed: no seed lines");
  HtmlMeta meta;
  meta.title = "sweep: " + std::to_string(seeds.size()) + " seeds";
  meta.source = "herd report " + path + " (a sweep's JSON lines)";
  if (const std::string error = out.write(render_sweep_html(seeds, summary, meta)); !error.empty()) {
    std::fprintf(stderr, "herd: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int report_command(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
  std::string input, html, secret_file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kReportUsage, stdout);
      return 0;
    }
    if (is_option(arg, "--html") || is_option(arg, "--secret-file")) {
      const std::string flag = arg.substr(0, arg.find('='));
      Result<std::string> v = option_value(args, &i, flag);
      if (!v.ok()) return usage_error(v.error());
      if (v.value().empty()) return usage_error(flag + ": expected a file name");
      (flag == "--html" ? html : secret_file) = v.value();
    } else if (is_option_word(arg)) {
      return usage_error("report: unknown option '" + arg + "' (see herd report --help)");
    } else if (input.empty()) {
      input = arg;
    } else {
      return usage_error("report: one INPUT only (got '" + input + "' and '" + arg + "')");
    }
  }
  if (input.empty()) return usage_error("report: expected an INPUT: a trace, a log directory or a sweep's lines (see herd report --help)");
  if (html.empty()) return usage_error("report: expected --html OUT.html");
  struct stat st;
  if (stat(input.c_str(), &st) != 0) return usage_error(input + ": " + std::strerror(errno));
  std::optional<AuthKey> key;
  if (const std::string path = secret_file_from(secret_file); !path.empty()) {
    Result<AuthKey> loaded = herd_key_from_file(path);
    if (!loaded.ok()) return usage_error("--secret-file: " + loaded.error());
    key = loaded.value();
  }
  HtmlOut out;
  if (S_ISDIR(st.st_mode)) {
    if (Result<bool> opened = out.open(html); !opened.ok()) return usage_error(opened.error());
    return report_logs(input, out);
  }
  // What the first line is says what the file is.
  std::string first;
  {
    std::ifstream in(input, std::ios::binary);
    if (!in) return usage_error(input + ": " + std::strerror(errno));
    char buf[4096];
    in.read(buf, sizeof buf);
    first.assign(buf, static_cast<size_t>(in.gcount()));
    first = first.substr(0, first.find('\n'));
    if (first.empty()) return usage_error(input + ": line 1: empty: neither a trace nor a sweep's lines");
  }
  const bool trace = first.find("\"herd_trace\"") != std::string::npos;
  const bool sweep = !trace && (first.find("\"seed\"") != std::string::npos || first.find("\"summary\"") != std::string::npos);
  if (!trace && !sweep) {
    return usage_error(input + ": line 1: neither a trace (no \"herd_trace\") nor a sweep's line (no \"seed\")");
  }
  if (Result<bool> opened = out.open(html); !opened.ok()) return usage_error(opened.error());
  return trace ? report_trace(input, out, key) : report_sweep(input, out);
}

}  // namespace herd
