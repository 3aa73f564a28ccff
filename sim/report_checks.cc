// The checks of a run (sim/report.h): the scenario's `expect` keys and max_events.
#include "node/hash.h"
#include "node/json_bytes.h"
#include "sim/report.h"

namespace herd {
namespace {

using u128 = unsigned __int128;

// numerator / denominator with `decimals` digits, rounded down (up when `up`):
// towards failing, for a min (down) or a max (up) check.
std::string ratio_towards(uint64_t numerator, uint64_t denominator, int decimals, bool up) {
  if (denominator == 0) return fixed_point(0, decimals);
  u128 scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  const u128 scaled = static_cast<u128>(numerator) * scale;
  const u128 q = scaled / denominator + (up && scaled % denominator != 0 ? 1 : 0);
  return fixed_point(static_cast<int64_t>(q), decimals);
}

// Nanoseconds as milliseconds with three decimals, rounded up.
std::string ms3_up(int64_t ns) {
  return ratio_towards(static_cast<uint64_t>(ns < 0 ? 0 : ns), 1'000'000, 3, true);
}

Check min_check(std::string name, uint64_t part, uint64_t whole, uint64_t min_ppm, const std::string& what) {
  Check c;
  c.name = std::move(name);
  c.figure = ratio_towards(part, whole, 6, false);
  c.bound = fixed_point(static_cast<int64_t>(min_ppm), 6);
  c.pass = static_cast<u128>(part) * 1'000'000 >= static_cast<u128>(min_ppm) * whole;
  if (!c.pass) {
    c.failure = what + " " + std::to_string(part) + " of " + std::to_string(whole) + " updates (" + c.figure +
                "), below " + c.name + " " + c.bound;
  }
  return c;
}

}  // namespace

bool Report::passed() const {
  for (const Check& check : checks) {
    if (!check.pass) return false;
  }
  return true;
}

std::vector<Check> expectation_checks(const Report& r, const Expect& x) {
  std::vector<Check> out;
  if (x.reached_all_min_ppm) {
    out.push_back(min_check("reached_all_min", r.reached_all, r.updates, *x.reached_all_min_ppm, "reached all servers:"));
    if (!out.back().pass && r.superseded > 0) {
      out.back().failure += " (" + std::to_string(r.superseded) +
                            " more were superseded: reached_all_or_superseded_min counts those)";
    }
  }
  if (x.reached_all_or_superseded_min_ppm) {
    out.push_back(min_check("reached_all_or_superseded_min", r.reached_all + r.superseded, r.updates,
                            *x.reached_all_or_superseded_min_ppm, "reached all servers or superseded:"));
  }
  if (x.residue_max_ppm) {
    Check c{"residue_max", ratio_towards(r.residue_stale, r.residue_pairs, 6, true),
            fixed_point(static_cast<int64_t>(*x.residue_max_ppm), 6),
            static_cast<u128>(r.residue_stale) * 1'000'000 <= static_cast<u128>(*x.residue_max_ppm) * r.residue_pairs,
            ""};
    if (!c.pass) c.failure = "residue " + c.figure + " above residue_max " + c.bound;
    out.push_back(std::move(c));
  }
  if (x.latency_max_ns) {
    Check c{"latency_max_ms", ms3_up(r.latency_max_ns), ms3(*x.latency_max_ns),
            r.latency_max_ns <= *x.latency_max_ns, ""};
    if (!c.pass) c.failure = "latency max " + c.figure + " ms above latency_max_ms " + c.bound;
    out.push_back(std::move(c));
  }
  if (x.msgs_per_update_max_milli) {
    Check c{"msgs_per_update_max", ratio_towards(r.sends, r.updates, 3, true),
            fixed_point(static_cast<int64_t>(*x.msgs_per_update_max_milli), 3),
            static_cast<u128>(r.sends) * 1000 <= static_cast<u128>(*x.msgs_per_update_max_milli) * r.updates, ""};
    if (!c.pass) c.failure = "msgs_per_update " + c.figure + " above msgs_per_update_max " + c.bound;
    out.push_back(std::move(c));
  }
  if (x.converge_after_faults_ns) {
    Check c{"converge_after_faults_ms", std::to_string(r.liveness_stale), "0",
            r.liveness_checked && r.liveness_stale == 0, ""};
    if (!r.liveness_checked) {
      c.failure = "converge_after_faults_ms: the run ended before its check";
    } else if (!c.pass) {
      c.failure = std::to_string(r.liveness_stale) + " server-client pairs behind " + ms3(*x.converge_after_faults_ns) +
                  " ms after the last fault and the end of the workload (at " + ms3(r.liveness_at_ns) +
                  " ms); the first: " + r.liveness_behind;
    }
    out.push_back(std::move(c));
  }
  if (x.monotonic_reads_max) {
    Check c{"monotonic_reads_max", std::to_string(r.monotonic_read_violations), std::to_string(*x.monotonic_reads_max),
            r.monotonic_read_violations <= *x.monotonic_reads_max, ""};
    if (!c.pass) {
      c.failure = std::to_string(r.monotonic_read_violations) +
                  " reads showed a client an older record than it had read before, above monotonic_reads_max " + c.bound;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Check> safety_checks(const Report& r) {
  std::vector<Check> out;
  auto zero = [&](const char* name, uint64_t figure, const std::string& what) {
    Check c{name, std::to_string(figure), "0", figure == 0, ""};
    if (!c.pass) c.failure = std::to_string(figure) + " " + what;
    out.push_back(std::move(c));
  };
  zero("stores_monotonic", r.store_regressions,
       "times a server stored a record older than one it had stored (since its last crash)");
  zero("serves_held", r.serve_regressions, "WHATSAT replies served another record than the one held when asked");
  zero("replies_well_formed", r.malformed_replies, "replies were neither an AT line, a '?' line, nor AT line + JSON");
  zero("answered_once", r.answered_twice, "requests were answered more than once");
  return out;
}

Check max_events_check(const Report& r, uint64_t max_events, bool cut_short, int64_t end_ns) {
  Check c{"max_events", std::to_string(r.events), std::to_string(max_events), !cut_short, ""};
  if (cut_short) {
    c.failure = "the run was cut short at max_events " + std::to_string(max_events) + " (sim time " +
                ms3(r.sim_ns) + " of " + ms3(end_ns) +
                " ms), so its figures cover only part of it; raise max_events or shorten the run";
  }
  return c;
}

Check max_memory_check(const Report& r, uint64_t peak_bytes, uint64_t max_memory_mb, bool cut_short, int64_t end_ns) {
  const uint64_t peak_mb = (peak_bytes + (uint64_t{1} << 20) - 1) >> 20;
  Check c{"max_memory_mb", std::to_string(peak_mb), std::to_string(max_memory_mb),
          !cut_short && peak_mb <= max_memory_mb, ""};
  if (cut_short) {
    c.failure = "the run was cut short at max_memory_mb " + std::to_string(max_memory_mb) + ": it held about " +
                std::to_string(peak_mb) + " MiB at sim time " + ms3(r.sim_ns) + " of " + ms3(end_ns) +
                " ms, so its figures cover only part of it; raise max_memory_mb (or --max-memory-mb) or plan a "
                "smaller run";
  } else if (!c.pass) {
    c.failure = "the run held about " + std::to_string(peak_mb) + " MiB at its end, over max_memory_mb " +
                std::to_string(max_memory_mb);
  }
  return c;
}

std::string failure_text(const Report& r, const std::string& scenario_path) {
  std::string out;
  const std::string who = r.host == "live" ? "herd run" : "herd sim";
  for (const Check& check : r.checks) {
    if (!check.pass) out += who + ": check failed: " + check.failure + "\n";
  }
  if (r.host == "live") {
    out += "herd run: seed " + std::to_string(r.seed) + "; the same scenario in virtual time: herd sim " +
           scenario_path + " --seed " + std::to_string(r.seed) + "\n";
  } else {
    out += "herd sim: seed " + std::to_string(r.seed) + "; replay with: herd sim " + scenario_path + " --seed " +
           std::to_string(r.seed) + "\n";
  }
  return out;
}

}  // namespace herd
