// `herd compare A.json B.json`: two reports (`herd sim --json`, `herd run --scenario
// --json`) side by side, each figure with its difference: how a live run and a
// simulated one of the same scenario and seed agree.
#include "sim/cli/compare_cli.h"

#include <rapidjson/document.h>

#include <cmath>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "net/files.h"

namespace herd {
namespace {

constexpr const char* kUsage =
    "usage: herd compare [--fidelity] A.json B.json\n"
    "  Prints two reports (herd sim --json, herd run --scenario --json) side by side, each\n"
    "  figure with B's difference from A.\n"
    "  --fidelity  also checks that B predicts A: reached all within 5 points, latency\n"
    "              p50 within 10% + 2 ms (the simulator's promise, A live and B simulated\n"
    "              or the other way round)\n"
    "Exit status: 0 printed (and within the bounds), 1 outside the fidelity bounds,\n"
    "2 bad usage or a file that is not a report.\n";

struct Figure {
  const char* label;
  std::vector<const char*> path;  // Keys from the top.
  int decimals;
  bool percent_of_updates = false;  // Shown as a percentage of "updates".
};

const Figure kFigures[] = {
    {"updates", {"updates"}, 0},
    {"reached all %", {"reached_all"}, 1, true},
    {"superseded %", {"superseded"}, 1, true},
    {"lost %", {"lost"}, 1, true},
    {"latency p50 ms", {"latency_ms", "p50"}, 3},
    {"latency p95 ms", {"latency_ms", "p95"}, 3},
    {"latency max ms", {"latency_ms", "max"}, 3},
    {"msgs/update", {"msgs_per_update"}, 3},
    {"residue", {"residue"}, 6},
    {"holding at end", {"holds_at_end", "holding"}, 0},
    {"repair p50 ms", {"after_faults", "p50_ms"}, 3},
    {"repair max ms", {"after_faults", "max_ms"}, 3},
    {"sync messages", {"sync", "messages"}, 0},
    {"sync bytes", {"sync", "bytes"}, 0},
    {"dropped", {"dropped"}, 0},
    {"cut", {"cut"}, 0},
    {"lost at links", {"link_lost"}, 0},
    {"refused clients", {"clients", "refused"}, 0},
};

std::optional<double> number_at(const rapidjson::Value& root, const std::vector<const char*>& path) {
  const rapidjson::Value* v = &root;
  for (const char* key : path) {
    if (!v->IsObject() || !v->HasMember(key)) return std::nullopt;
    v = &(*v)[key];
  }
  if (!v->IsNumber()) return std::nullopt;
  return v->GetDouble();
}

std::string text_of(const rapidjson::Value& root, const char* key) {
  return root.IsObject() && root.HasMember(key) && root[key].IsString() ? root[key].GetString() : "?";
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

Result<rapidjson::Document> load_report(const std::string& path) {
  Result<std::string> text = read_text_file(path);
  if (!text.ok()) return Error{text.error()};
  rapidjson::Document doc;
  doc.Parse(text.value().data(), text.value().size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("updates")) {
    return Error{path + ": not a herd report (herd sim --json, herd run --scenario --json)"};
  }
  return doc;
}

// The fidelity bounds: whether B's figures are within the simulator's promise of A's.
bool print_fidelity(const rapidjson::Value& x, const rapidjson::Value& y) {
  const double ua = number_at(x, {"updates"}).value_or(0), ub = number_at(y, {"updates"}).value_or(0);
  const double ra = ua > 0 ? number_at(x, {"reached_all"}).value_or(0) * 100 / ua : 0;
  const double rb = ub > 0 ? number_at(y, {"reached_all"}).value_or(0) * 100 / ub : 0;
  const double pa = number_at(x, {"latency_ms", "p50"}).value_or(0);
  const double pb = number_at(y, {"latency_ms", "p50"}).value_or(0);
  const double p_bound = std::fabs(pa) * 0.10 + 2.0;
  const bool reached_ok = std::fabs(rb - ra) <= 5.0;
  const bool p50_ok = std::fabs(pb - pa) <= p_bound;
  std::printf("  fidelity: reached all %s%s pts (bound 5) %s; latency p50 %s%s ms (bound %s) %s: %s\n",
              rb - ra >= 0 ? "+" : "", fixed(rb - ra, 1).c_str(), reached_ok ? "ok" : "OUTSIDE",
              pb - pa >= 0 ? "+" : "", fixed(pb - pa, 3).c_str(), fixed(p_bound, 3).c_str(), p50_ok ? "ok" : "OUTSIDE",
              reached_ok && p50_ok ? "within bounds" : "outside bounds");
  return reached_ok && p50_ok;
}

}  // namespace

int compare_command(int argc, char** argv) {
  std::vector<std::string> files;
  bool fidelity = false;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--fidelity") {
      fidelity = true;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "herd: compare: unknown option '%s' (see herd compare --help)\n", arg.c_str());
      return 2;
    }
    files.push_back(arg);
  }
  if (files.size() != 2) {
    std::fprintf(stderr, "herd: compare: expected two report files (see herd compare --help)\n");
    return 2;
  }
  Result<rapidjson::Document> a = load_report(files[0]), b = load_report(files[1]);
  for (const auto* r : {&a, &b}) {
    if (!r->ok()) {
      std::fprintf(stderr, "herd: compare: %s\n", r->error().c_str());
      return 2;
    }
  }
  const rapidjson::Value& x = a.value();
  const rapidjson::Value& y = b.value();
  std::printf("herd compare: %s seed %s: A %s (%s), B %s (%s)\n", text_of(x, "scenario").c_str(),
              fixed(number_at(x, {"seed"}).value_or(0), 0).c_str(), text_of(x, "host").c_str(), files[0].c_str(),
              text_of(y, "host").c_str(), files[1].c_str());
  std::printf("  %-18s %14s %14s %16s\n", "", "A", "B", "B - A");
  const double updates_a = number_at(x, {"updates"}).value_or(0), updates_b = number_at(y, {"updates"}).value_or(0);
  for (const Figure& f : kFigures) {
    std::optional<double> va = number_at(x, f.path), vb = number_at(y, f.path);
    if (!va && !vb) continue;
    if (f.percent_of_updates) {
      if (va) va = updates_a > 0 ? *va * 100 / updates_a : 0;
      if (vb) vb = updates_b > 0 ? *vb * 100 / updates_b : 0;
    }
    std::string diff = "-";
    if (va && vb) {
      diff = (*vb - *va >= 0 ? "+" : "") + fixed(*vb - *va, f.decimals) + (f.percent_of_updates ? " pts" : "");
      if (!f.percent_of_updates && *va != 0 && f.decimals > 0) {
        diff += " (" + std::string(*vb >= *va ? "+" : "") + fixed((*vb - *va) * 100 / *va, 1) + "%)";
      }
    }
    std::printf("  %-18s %14s %14s %16s\n", f.label, va ? fixed(*va, f.decimals).c_str() : "-",
                vb ? fixed(*vb, f.decimals).c_str() : "-", diff.c_str());
  }
  if (fidelity && !print_fidelity(x, y)) return 1;
  return 0;
}

}  // namespace herd
