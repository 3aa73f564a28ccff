// The lines of `herd sweep` (sim/cli/sweep_lines.h).
#include "sim/cli/sweep_lines.h"

#include "node/hash.h"
#include "node/json_bytes.h"

namespace herd {
namespace {

std::string checks_json(const std::vector<Check>& checks) {
  std::string out = "[";
  for (size_t i = 0; i < checks.size(); ++i) {
    const Check& c = checks[i];
    out += std::string(i ? "," : "") + "{\"name\":" + json_bytes(c.name) + ",\"figure\":" + c.figure +
           ",\"bound\":" + c.bound + ",\"pass\":" + (c.pass ? "true" : "false") + "}";
  }
  return out + "]";
}

std::string per_second(uint64_t seeds, int64_t wall_ns) {
  return wall_ns > 0 ? ratio_text(seeds * 1'000'000'000u, static_cast<uint64_t>(wall_ns), 1) : "0";
}

}  // namespace

std::string sweep_seed_json(const SweepSeedLine& r) {
  std::string o = "{\"seed\":" + std::to_string(r.seed) + ",\"pass\":" + (r.pass ? "true" : "false") +
                  ",\"checks\":" + checks_json(r.checks) + ",\"digest\":" + json_bytes(r.digest) +
                  ",\"wall_ms\":" + (r.wall_ms.empty() ? "0" : r.wall_ms) + ",\"rerun\":" + json_bytes(r.rerun) +
                  ",\"failed\":[";
  for (size_t i = 0; i < r.failed.size(); ++i) o += (i ? "," : "") + json_bytes(r.failed[i]);
  o += "]";
  if (!r.swarm.empty()) o += ",\"swarm\":" + r.swarm;
  if (!r.error.empty()) o += ",\"error\":" + json_bytes(r.error);
  return o + "}\n";
}

std::string sweep_seed_text(const SweepSeedLine& r) {
  const std::string seed = std::to_string(r.seed);
  std::string o = "  seed " + std::string(seed.size() < 8 ? 8 - seed.size() : 0, ' ') + seed + "  " +
                  (r.pass ? "pass" : "FAIL") + "  digest " + (r.digest.empty() ? "-" : r.digest) + "  wall " +
                  (r.wall_ms.empty() ? "-" : r.wall_ms) + " ms" + (r.spot ? "  (run twice)" : "");
  if (!r.failed.empty()) {
    o += "  failed:";
    for (const std::string& f : r.failed) o += " " + f;
  }
  if (!r.error.empty()) o += "  (" + r.error + ")";
  return o + "\n";
}

std::string scenario_text_hash(const std::string& text) {
  Hasher h;
  h.text(text);
  return hex16(h.value());
}

std::string sweep_summary_json(const SweepIdentity& id, const SweepTotals& totals) {
  std::string o = "{\"summary\":{\"scenario\":" + json_bytes(id.path) + ",\"name\":" + json_bytes(id.name) +
                  ",\"scenario_hash\":" + json_bytes(id.scenario_hash) +
                  ",\"sync\":" + (id.sync.empty() ? std::string("null") : json_bytes(id.sync)) +
                  ",\"spot_check\":" + std::to_string(id.spot_every) + ",\"swarm\":" + (id.swarm ? "true" : "false") +
                  ",\"range\":[" + std::to_string(id.seed_lo) + "," + std::to_string(id.seed_hi) + "],\"shard\":[" +
                  std::to_string(id.shard_index) + "," + std::to_string(id.shard_count) + "],\"seeds\":" +
                  std::to_string(totals.seeds) + ",\"failed\":" + std::to_string(totals.failing.size()) +
                  ",\"wall_ms\":" + ms3(totals.wall_ns) + ",\"seeds_per_s\":" + per_second(totals.seeds, totals.wall_ns) +
                  ",\"failing\":[";
  for (size_t i = 0; i < totals.failing.size(); ++i) {
    o += std::string(i ? "," : "") + "{\"seed\":" + std::to_string(totals.failing[i].first) +
         ",\"rerun\":" + json_bytes(totals.failing[i].second) + "}";
  }
  return o + "]}}\n";
}

std::string sweep_header_text(const SweepIdentity& id, uint64_t seeds, const std::string& how) {
  std::string header = "herd sweep: " + id.name + " (" + id.path + "), seeds " + std::to_string(id.seed_lo) + "-" +
                       std::to_string(id.seed_hi);
  if (id.shard_count > 1) header += ", shard " + std::to_string(id.shard_index) + "/" + std::to_string(id.shard_count);
  return header + ": " + std::to_string(seeds) + " seeds, " + how + (id.swarm ? ", swarm" : "") + "\n";
}

std::string sweep_summary_text(const SweepTotals& totals, const std::string& how) {
  std::string o = "herd sweep: " + std::to_string(totals.seeds) + " seeds, " + std::to_string(totals.failing.size()) +
                  " failed, " + per_second(totals.seeds, totals.wall_ns) + " seeds/s (" + how + ", " +
                  ms3(totals.wall_ns) + " ms); spot check: " + std::to_string(totals.spot_checked) +
                  " seeds run twice, " +
                  (totals.spot_disagreed == 0 ? std::string("every digest agreed")
                                              : std::to_string(totals.spot_disagreed) + " disagreed") +
                  "\n";
  for (const auto& [seed, rerun] : totals.failing) o += "  failed: " + rerun + "\n";
  return o;
}

}  // namespace herd
