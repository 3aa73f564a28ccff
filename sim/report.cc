#include "sim/report.h"

#include "node/hash.h"
#include "node/json_bytes.h"

namespace herd {
namespace {

std::string percent(uint64_t part, uint64_t whole) { return ratio_text(part * 100, whole, 1) + "%"; }

std::string rate_text(const Report& r) {
  if (r.wall_ns <= 0) return "unmeasured";
  const uint64_t per_s = static_cast<uint64_t>(
      static_cast<unsigned __int128>(r.deliveries) * uint64_t{1000000000} / static_cast<uint64_t>(r.wall_ns));
  return std::to_string(per_s);
}

std::string strings_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    append_json_bytes(out, items[i]);
  }
  return out + "]";
}

}  // namespace

std::string report_text(const Report& r) {
  std::string o;
  auto row = [&](const std::string& label, const std::string& value) {
    o += "  " + label + std::string(label.size() < 18 ? 18 - label.size() : 1, ' ') + value + "\n";
  };
  o += "herd sim: " + r.scenario + ", seed " + std::to_string(r.seed) + ", topology " + r.topology +
       " (" + std::to_string(r.servers) + " servers, " + std::to_string(r.links) + " links)\n";
  row("updates", std::to_string(r.updates) + (r.untracked ? " (+" + std::to_string(r.untracked) + " untracked)" : ""));
  row("converged", std::to_string(r.converged) + " (" + percent(r.converged, r.updates) + ")  superseded " +
                        std::to_string(r.superseded) + "  lost " + std::to_string(r.updates - r.converged - r.superseded));
  row("latency ms", "p50 " + ms3(r.latency_p50_ns) + "  p95 " + ms3(r.latency_p95_ns) + "  p99 " +
                        ms3(r.latency_p99_ns) + "  max " + ms3(r.latency_max_ns));
  row("msgs/update", ratio_text(r.sends, r.updates, 3) + "  (bounds: tree " + std::to_string(r.bound_tree) +
                         ", flood " + std::to_string(r.bound_flood) + ")");
  row("hops", "mean " + ratio_text(r.hops_sum, r.arrivals, 3) + "  max " + std::to_string(r.hops_max));
  row("duplicates", std::to_string(r.duplicates) + " (" + ratio_text(r.duplicates, r.updates, 3) + "/update)");
  row("link faults", "dropped " + std::to_string(r.dropped) + "  cut " + std::to_string(r.cut) +
                         "  blackholed " + std::to_string(r.blackholed) + "  overflow " +
                         std::to_string(r.overflow) + "  lost at links " + std::to_string(r.link_lost));
  row("residue", ratio_text(r.residue_stale, r.residue_pairs, 6) + " (" + std::to_string(r.residue_stale) +
                     " of " + std::to_string(r.residue_pairs) + " server-client pairs stale)");
  row("clients", "iamat " + std::to_string(r.iamats) + "  whatsat " + std::to_string(r.whatsats) +
                     "  replies " + std::to_string(r.replies) + "  '?' " + std::to_string(r.invalid) +
                     "  refused " + std::to_string(r.refused) + "  unanswered " + std::to_string(r.lost) +
                     "  places failures " + std::to_string(r.places_failures));
  row("digest", hex16(r.digest));
  row("events", std::to_string(r.events) + "  (deliveries " + std::to_string(r.deliveries) + ")");
  row("time", "sim " + ms3(r.sim_ns) + " ms  wall " + ms3(r.wall_ns) + " ms  compression " +
                  (r.wall_ns > 0 ? ratio_text(static_cast<uint64_t>(r.sim_ns), static_cast<uint64_t>(r.wall_ns), 1) + "x"
                                 : std::string("unmeasured")));
  row("rate", rate_text(r) + " deliveries per wall-clock second");
  for (const std::string& note : r.notes) row("note", note);
  for (const std::string& check : r.checks) row("CHECK FAILED", check);
  return o;
}

std::string report_json(const Report& r, bool with_wall) {
  std::string o = "{\"seed\":" + std::to_string(r.seed) + ",\"scenario\":";
  append_json_bytes(o, r.scenario);
  o += ",\"topology\":";
  append_json_bytes(o, r.topology);
  o += ",\"servers\":" + std::to_string(r.servers) + ",\"links\":" + std::to_string(r.links);
  o += ",\"updates\":" + std::to_string(r.updates) + ",\"untracked\":" + std::to_string(r.untracked);
  o += ",\"converged\":" + std::to_string(r.converged) + ",\"superseded\":" + std::to_string(r.superseded);
  o += ",\"lost\":" + std::to_string(r.updates - r.converged - r.superseded);
  o += ",\"latency_ms\":{\"p50\":" + ms3(r.latency_p50_ns) + ",\"p95\":" + ms3(r.latency_p95_ns) +
       ",\"p99\":" + ms3(r.latency_p99_ns) + ",\"max\":" + ms3(r.latency_max_ns) + "}";
  o += ",\"msgs_per_update\":" + ratio_text(r.sends, r.updates, 3);
  o += ",\"bounds\":{\"tree\":" + std::to_string(r.bound_tree) + ",\"flood\":" + std::to_string(r.bound_flood) + "}";
  o += ",\"residue\":" + ratio_text(r.residue_stale, r.residue_pairs, 6);
  o += ",\"digest\":\"" + hex16(r.digest) + "\"";
  o += ",\"events\":" + std::to_string(r.events) + ",\"deliveries\":" + std::to_string(r.deliveries);
  o += ",\"duplicates\":" + std::to_string(r.duplicates) + ",\"dropped\":" + std::to_string(r.dropped);
  o += ",\"cut\":" + std::to_string(r.cut) + ",\"overflow\":" + std::to_string(r.overflow);
  o += ",\"blackholed\":" + std::to_string(r.blackholed) + ",\"link_lost\":" + std::to_string(r.link_lost);
  o += ",\"hops\":{\"mean\":" + ratio_text(r.hops_sum, r.arrivals, 3) + ",\"max\":" + std::to_string(r.hops_max) + "}";
  o += ",\"clients\":{\"iamat\":" + std::to_string(r.iamats) + ",\"whatsat\":" + std::to_string(r.whatsats) +
       ",\"replies\":" + std::to_string(r.replies) + ",\"invalid\":" + std::to_string(r.invalid) +
       ",\"refused\":" + std::to_string(r.refused) + ",\"unanswered\":" + std::to_string(r.lost) +
       ",\"places_failures\":" + std::to_string(r.places_failures) + "}";
  o += ",\"sim_ms\":" + ms3(r.sim_ns);
  if (with_wall) {
    o += ",\"wall_ms\":" + ms3(r.wall_ns);
    o += ",\"compression\":" +
         (r.wall_ns > 0 ? ratio_text(static_cast<uint64_t>(r.sim_ns), static_cast<uint64_t>(r.wall_ns), 1) : std::string("null"));
    const std::string rate = rate_text(r);
    o += ",\"deliveries_per_s\":" + (rate == "unmeasured" ? std::string("null") : rate);
  }
  o += ",\"checks\":" + strings_json(r.checks) + ",\"notes\":" + strings_json(r.notes) + "}";
  return o;
}

std::string failure_text(const Report& r, const std::string& scenario_path) {
  std::string out;
  for (const std::string& check : r.checks) out += "herd sim: check failed: " + check + "\n";
  out += "herd sim: seed " + std::to_string(r.seed) + "; replay with: herd sim " + scenario_path + " --seed " +
         std::to_string(r.seed) + "\n";
  return out;
}

std::vector<std::string> failed_expectations(const Report& r, const Expect& x) {
  std::vector<std::string> out;
  const uint64_t settled = r.converged + r.superseded;
  if (x.converged_min_ppm &&
      static_cast<unsigned __int128>(settled) * 1'000'000 < static_cast<unsigned __int128>(*x.converged_min_ppm) * r.updates) {
    out.push_back("converged or superseded " + std::to_string(settled) + " of " + std::to_string(r.updates) +
                  " updates, below converged_min " + fixed_point(static_cast<int64_t>(*x.converged_min_ppm), 6));
  }
  if (x.residue_max_ppm && static_cast<unsigned __int128>(r.residue_stale) * 1'000'000 >
                               static_cast<unsigned __int128>(*x.residue_max_ppm) * r.residue_pairs) {
    out.push_back("residue " + ratio_text(r.residue_stale, r.residue_pairs, 6) + " above residue_max " +
                  fixed_point(static_cast<int64_t>(*x.residue_max_ppm), 6));
  }
  if (x.latency_max_ns && r.latency_max_ns > *x.latency_max_ns) {
    out.push_back("latency max " + ms3(r.latency_max_ns) + " ms above latency_max_ms " + ms3(*x.latency_max_ns));
  }
  if (x.msgs_per_update_max_milli &&
      static_cast<unsigned __int128>(r.sends) * 1000 > static_cast<unsigned __int128>(*x.msgs_per_update_max_milli) * r.updates) {
    out.push_back("msgs_per_update " + ratio_text(r.sends, r.updates, 3) + " above msgs_per_update_max " +
                  fixed_point(static_cast<int64_t>(*x.msgs_per_update_max_milli), 3));
  }
  return out;
}

}  // namespace herd
