#include "sim/report.h"

#include <algorithm>

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

// A bound per update: an integer when exact (every connected topology), else three
// decimals.
std::string bound_text(uint64_t sum, uint64_t per) {
  if (per == 0) return "0";
  if (sum % per == 0) return std::to_string(sum / per);
  return ratio_text(sum, per, 3);
}

std::string checks_json(const std::vector<Check>& checks) {
  std::string out = "[";
  for (size_t i = 0; i < checks.size(); ++i) {
    const Check& c = checks[i];
    if (i > 0) out += ",";
    out += "{\"name\":";
    append_json_bytes(out, c.name);
    out += ",\"figure\":" + c.figure + ",\"bound\":" + c.bound + ",\"pass\":" + (c.pass ? "true" : "false") + "}";
  }
  return out + "]";
}

// "  checks            reached_all_min  0.995893  bound 0.990000  pass", one line each.
void append_checks_text(std::string& o, const std::vector<Check>& checks) {
  size_t name_width = 0, figure_width = 0, bound_width = 0;
  for (const Check& c : checks) {
    name_width = std::max(name_width, c.name.size());
    figure_width = std::max(figure_width, c.figure.size());
    bound_width = std::max(bound_width, c.bound.size());
  }
  for (size_t i = 0; i < checks.size(); ++i) {
    const Check& c = checks[i];
    o += i == 0 ? "  checks            " : "                    ";
    o += c.name + std::string(name_width - c.name.size() + 2, ' ');
    o += std::string(figure_width - c.figure.size(), ' ') + c.figure + "  bound " + c.bound;
    o += std::string(bound_width - c.bound.size() + 2, ' ') + (c.pass ? "pass" : "FAIL") + "\n";
  }
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
  o += (r.host == "live" ? "herd run: " : "herd sim: ") + r.scenario + ", seed " + std::to_string(r.seed) +
       ", topology " + r.topology + " (" + std::to_string(r.servers) + " servers, " + std::to_string(r.links) +
       " links)" + (r.host == "live" ? ", live on loopback" : "") + "\n";
  row("updates", std::to_string(r.updates) + (r.untracked ? " (+" + std::to_string(r.untracked) + " untracked)" : ""));
  row("reached all", std::to_string(r.reached_all) + " (" + percent(r.reached_all, r.updates) + ")  superseded " +
                        std::to_string(r.superseded) + "  lost " + std::to_string(r.updates - r.reached_all - r.superseded));
  row("latency ms", "p50 " + ms3(r.latency_p50_ns) + "  p95 " + ms3(r.latency_p95_ns) + "  p99 " +
                        ms3(r.latency_p99_ns) + "  max " + ms3(r.latency_max_ns));
  row("msgs/update", ratio_text(r.sends, r.updates, 3) + "  (bounds: tree " + bound_text(r.bound_tree, r.bounds_per) +
                         ", flood " + bound_text(r.bound_flood, r.bounds_per) + ")");
  row("hops", "mean " + ratio_text(r.hops_sum, r.arrivals, 3) + "  max " + std::to_string(r.hops_max));
  row("duplicates", std::to_string(r.duplicates) + " (" + ratio_text(r.duplicates, r.updates, 3) + "/update)");
  row("link faults", "dropped " + std::to_string(r.dropped) + "  cut " + std::to_string(r.cut) +
                         "  blackholed " + std::to_string(r.blackholed) + "  overflow " +
                         std::to_string(r.overflow) + "  lost at links " + std::to_string(r.link_lost) +
                         (r.link_lost == 0 ? "" : " (down " + std::to_string(r.link_lost_down) + ", queue full " +
                                                      std::to_string(r.link_lost_full) + ", closed " +
                                                      std::to_string(r.link_lost_closed) + ")"));
  row("holds at end", std::to_string(r.residue_pairs - r.residue_stale) + " of " + std::to_string(r.residue_pairs) +
                         " server-client pairs hold the newest record" +
                         (r.first_behind.empty() ? "" : " (first behind: " + r.first_behind + ")"));
  row("residue", ratio_text(r.residue_stale, r.residue_pairs, 6) + " (" + std::to_string(r.residue_stale) +
                     " of " + std::to_string(r.residue_pairs) + " server-client pairs stale)");
  if (r.last_fault_ns >= 0) {
    row("after faults", std::to_string(r.fault_stale) + " pairs stale at the last fault (" + ms3(r.last_fault_ns) +
                            " ms); repaired " + std::to_string(r.fault_repaired) + ", p50 " + ms3(r.repair_p50_ns) +
                            " ms, max " + ms3(r.repair_max_ns) + " ms; never " + std::to_string(r.fault_never));
  }
  row("sync", "sessions " + std::to_string(r.sync_sessions) + "  messages " + std::to_string(r.sync_messages) +
                  "  bytes " + std::to_string(r.sync_bytes) + "  records " + std::to_string(r.sync_records_stored) +
                  " stored of " + std::to_string(r.sync_records_sent) + " sent  (" +
                  ratio_text(r.sync_messages, r.updates, 3) + " msgs and " + ratio_text(r.sync_bytes, r.updates, 1) +
                  " bytes per update" +
                  (r.heals > 0 ? "; " + ratio_text(r.sync_messages, r.heals, 1) + " msgs and " +
                                     ratio_text(r.sync_bytes, r.heals, 1) + " bytes per heal"
                               : "") +
                  ")");
  row("safety", "store regressions " + std::to_string(r.store_regressions) + "  serve regressions " +
                    std::to_string(r.serve_regressions) + "  malformed replies " + std::to_string(r.malformed_replies) +
                    "  answered twice " + std::to_string(r.answered_twice) + "  monotonic-read violations " +
                    std::to_string(r.monotonic_read_violations));
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
  append_checks_text(o, r.checks);
  for (const std::string& note : r.notes) row("note", note);
  if (!r.swarm_json.empty()) row("swarm", r.swarm_json);
  return o;
}

std::string report_json(const Report& r, bool with_wall) {
  std::string o = "{\"host\":\"" + r.host + "\",\"seed\":" + std::to_string(r.seed) + ",\"scenario\":";
  append_json_bytes(o, r.scenario);
  o += ",\"topology\":";
  append_json_bytes(o, r.topology);
  o += ",\"servers\":" + std::to_string(r.servers) + ",\"links\":" + std::to_string(r.links);
  o += ",\"components\":" + std::to_string(r.components);
  o += ",\"updates\":" + std::to_string(r.updates) + ",\"untracked\":" + std::to_string(r.untracked);
  o += ",\"reached_all\":" + std::to_string(r.reached_all) + ",\"superseded\":" + std::to_string(r.superseded);
  o += ",\"lost\":" + std::to_string(r.updates - r.reached_all - r.superseded);
  o += ",\"latency_ms\":{\"p50\":" + ms3(r.latency_p50_ns) + ",\"p95\":" + ms3(r.latency_p95_ns) +
       ",\"p99\":" + ms3(r.latency_p99_ns) + ",\"max\":" + ms3(r.latency_max_ns) + "}";
  o += ",\"msgs_per_update\":" + ratio_text(r.sends, r.updates, 3);
  o += ",\"bounds\":{\"tree\":" + bound_text(r.bound_tree, r.bounds_per) +
       ",\"flood\":" + bound_text(r.bound_flood, r.bounds_per) + "}";
  o += ",\"residue\":" + ratio_text(r.residue_stale, r.residue_pairs, 6);
  o += ",\"holds_at_end\":{\"holding\":" + std::to_string(r.residue_pairs - r.residue_stale) +
       ",\"pairs\":" + std::to_string(r.residue_pairs) + ",\"first_behind\":";
  append_json_bytes(o, r.first_behind);
  o += "}";
  if (r.last_fault_ns >= 0) {
    o += ",\"after_faults\":{\"last_fault_ms\":" + ms3(r.last_fault_ns) + ",\"stale\":" +
         std::to_string(r.fault_stale) + ",\"repaired\":" + std::to_string(r.fault_repaired) +
         ",\"never\":" + std::to_string(r.fault_never) + ",\"p50_ms\":" + ms3(r.repair_p50_ns) +
         ",\"max_ms\":" + ms3(r.repair_max_ns) + "}";
  }
  o += ",\"sync\":{\"sessions\":" + std::to_string(r.sync_sessions) + ",\"messages\":" +
       std::to_string(r.sync_messages) + ",\"bytes\":" + std::to_string(r.sync_bytes) +
       ",\"records_sent\":" + std::to_string(r.sync_records_sent) + ",\"records_stored\":" +
       std::to_string(r.sync_records_stored) + ",\"heals\":" + std::to_string(r.heals) +
       ",\"messages_per_update\":" + ratio_text(r.sync_messages, r.updates, 3) +
       ",\"bytes_per_update\":" + ratio_text(r.sync_bytes, r.updates, 1) +
       ",\"messages_per_heal\":" + ratio_text(r.sync_messages, r.heals, 1) +
       ",\"bytes_per_heal\":" + ratio_text(r.sync_bytes, r.heals, 1) + "}";
  o += ",\"safety\":{\"store_regressions\":" + std::to_string(r.store_regressions) +
       ",\"serve_regressions\":" + std::to_string(r.serve_regressions) +
       ",\"malformed_replies\":" + std::to_string(r.malformed_replies) +
       ",\"answered_twice\":" + std::to_string(r.answered_twice) +
       ",\"monotonic_read_violations\":" + std::to_string(r.monotonic_read_violations) + "}";
  o += ",\"residue_series\":[";
  for (size_t i = 0; i < r.residue_series.size(); ++i) {
    if (i > 0) o += ",";
    o += "[" + ms3(r.residue_series[i].first) + "," + std::to_string(r.residue_series[i].second) + "]";
  }
  o += "]";
  o += ",\"digest\":\"" + hex16(r.digest) + "\"";
  o += ",\"events\":" + std::to_string(r.events) + ",\"deliveries\":" + std::to_string(r.deliveries);
  o += ",\"duplicates\":" + std::to_string(r.duplicates) + ",\"dropped\":" + std::to_string(r.dropped);
  o += ",\"cut\":" + std::to_string(r.cut) + ",\"overflow\":" + std::to_string(r.overflow);
  o += ",\"blackholed\":" + std::to_string(r.blackholed) + ",\"link_lost\":" + std::to_string(r.link_lost) +
       ",\"link_lost_down\":" + std::to_string(r.link_lost_down) + ",\"link_lost_full\":" +
       std::to_string(r.link_lost_full) + ",\"link_lost_closed\":" + std::to_string(r.link_lost_closed);
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
  o += ",\"checks\":" + checks_json(r.checks) + ",\"notes\":" + strings_json(r.notes);
  if (!r.swarm_json.empty()) o += ",\"swarm\":" + r.swarm_json;
  o += "}";
  return o;
}

}  // namespace herd
