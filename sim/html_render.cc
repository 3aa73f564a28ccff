// The HTML of sim/html_report.h: the page, its static SVG (latency CDF, residue,
// fault timeline), its tables, and the data and script of the space-time diagram.
#include <algorithm>
#include <cmath>

#include "node/hash.h"
#include "node/json_bytes.h"
#include "sim/html_report.h"
#include "sim/html_script.h"

namespace herd {
namespace {

// Nanoseconds as milliseconds, at most 3 decimals, no trailing zeros: "12.5".
std::string ms(int64_t ns) {
  const int64_t us = ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000);
  std::string t = fixed_point(us, 3);
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t == "-0" ? "0" : t;
}

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string json_str(std::string_view text) {
  std::string out;
  append_json_bytes(out, text);
  return out;
}

std::string num(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "0";
  const double scale = std::pow(10.0, decimals);
  return fixed_point(static_cast<int64_t>(std::llround(v * scale)), decimals);
}

std::string u64(uint64_t v) { return std::to_string(v); }

std::string ratio(uint64_t a, uint64_t b, int decimals = 3) { return ratio_text(a, b, decimals); }

const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd}
.sub{color:#666;margin:0 0 10px}code{background:#f3f3f3;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f6f6f6}td.l,th.l{text-align:left}.pass{color:#176b1d;font-weight:600}.fail{color:#b00020;font-weight:600}
.row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.fig{display:inline-block;margin-right:18px}.fig b{display:block;font-size:18px}
svg text{font:11px system-ui,sans-serif;fill:#333}
.lane{stroke:#ccc}.msg{stroke:#1f5fbf;stroke-width:1.2}.msg.sync{stroke:#8a2be2}
.msg.lost{stroke:#d00;stroke-dasharray:3 2}.lostx{stroke:#d00;stroke-width:1.6}
.store{fill:#f90;stroke:#333;stroke-width:.6}.store.origin{fill:#2a2}.fault{fill:#f4c7c7;opacity:.55}
.heal{stroke:#2a2;stroke-dasharray:4 3}.gap{fill:#fff;opacity:.85;stroke:#999;stroke-dasharray:2 3}
.gap-label{font-weight:600;fill:#555}.axis{stroke:#888}
.matrix td{min-width:34px;font-size:11px}.matrix td.none{background:#fafafa}
#hover{min-height:1.4em;color:#333;background:#fffbe6;border:1px solid #eed;padding:2px 6px;margin:4px 0}
.grid a{display:inline-block;width:54px;margin:2px;padding:3px 0;text-align:center;border-radius:3px;color:#fff;text-decoration:none;font-size:12px}
.grid a.pass{background:#2e7d32}.grid a.fail{background:#c62828}
#script-errors{color:#b00020;white-space:pre}
)";

std::string page_head(const HtmlMeta& meta) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + esc(meta.title) +
                  "</title>\n<style>" + kStyle + "</style></head>\n<body id=\"herd-body\">\n";
  o += "<div id=\"script-errors\" hidden></div>\n";
  o += "<h1>" + esc(meta.title) + "</h1>\n<p class=\"sub\">" + esc(meta.source);
  if (!meta.rerun.empty()) o += " &middot; again: <code>" + esc(meta.rerun) + "</code>";
  o += "</p>\n";
  return o;
}

// A time axis along the bottom of a plot: ticks at round numbers of milliseconds.
std::string time_ticks(double x0, double x1, double y, int64_t t0_ns, int64_t t1_ns) {
  std::string o;
  const double span_ms = std::max(1.0, static_cast<double>(t1_ns - t0_ns) / 1e6);
  double step = std::pow(10.0, std::floor(std::log10(span_ms / 5)));
  if (span_ms / step > 10) step *= 2;
  if (span_ms / step > 10) step *= 2.5;
  o += "<line class=\"axis\" x1=\"" + num(x0) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y) + "\"/>";
  const double first = std::ceil(static_cast<double>(t0_ns) / 1e6 / step) * step;
  for (double t = first; t <= static_cast<double>(t1_ns) / 1e6 + 1e-9; t += step) {
    const double x = x0 + (t * 1e6 - static_cast<double>(t0_ns)) / static_cast<double>(t1_ns - t0_ns) * (x1 - x0);
    o += "<line class=\"axis\" x1=\"" + num(x) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x) + "\" y2=\"" + num(y + 4) +
         "\"/><text x=\"" + num(x) + "\" y=\"" + num(y + 15) + "\" text-anchor=\"middle\">" +
         (step >= 1000 ? num(t / 1000, step >= 10000 ? 0 : 1) + " s" : num(t, step >= 1 ? 0 : 1) + " ms") + "</text>";
  }
  return o;
}

// Fault bands over [x0, x1] for times [t0, t1], from y to y + h.
std::string fault_bands(const HtmlRun& run, double x0, double x1, double y, double h, int64_t t0, int64_t t1,
                        bool labels) {
  std::string o;
  const auto x = [&](int64_t t) {
    return x0 + static_cast<double>(std::clamp(t, t0, t1) - t0) / static_cast<double>(std::max<int64_t>(1, t1 - t0)) *
                    (x1 - x0);
  };
  for (const HtmlFault& f : run.faults()) {
    const int64_t a = f.from_ns, b = f.to_ns < 0 ? run.last_ns() : f.to_ns;
    const std::string title = "<title>" + esc(f.label) + " at " + ms(a - run.first_ns()) + " ms" +
                              (f.to_ns > f.from_ns ? ", until " + ms(b - run.first_ns()) + " ms" : "") + "</title>";
    if (b == a) {
      o += "<line class=\"heal\" x1=\"" + num(x(a)) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x(a)) + "\" y2=\"" +
           num(y + h) + "\">" + title + "</line>";
    } else {
      o += "<rect class=\"fault\" x=\"" + num(x(a)) + "\" y=\"" + num(y) + "\" width=\"" + num(x(b) - x(a)) +
           "\" height=\"" + num(h) + "\">" + title + "</rect>";
    }
    if (labels) {
      std::string label = f.label.size() > 40 ? f.label.substr(0, 37) + "..." : f.label;
      o += "<text x=\"" + num(x(a) + 3) + "\" y=\"" + num(y + 12) + "\">" + esc(label) + "</text>";
    }
  }
  return o;
}

std::string residue_svg(const HtmlRun& run, const Report& r) {
  const double W = 620, H = 210, x0 = 50, x1 = W - 10, y0 = 10, y1 = 150;
  const int64_t t0 = run.first_ns(), t1 = std::max(run.last_ns(), t0 + 1);
  uint64_t top = 1;
  for (const auto& [t, v] : r.residue_series) top = std::max(top, v);
  std::string o = "<svg id=\"residue\" width=\"" + num(W, 0) + "\" height=\"" + num(H, 0) + "\">";
  o += fault_bands(run, x0, x1, y0, y1 - y0, t0, t1, false);
  // The fault timeline under the plot.
  o += fault_bands(run, x0, x1, y1 + 22, 18, t0, t1, true);
  o += "<text x=\"4\" y=\"" + num(y1 + 35) + "\">faults</text>";
  std::string points;
  for (const auto& [t, v] : r.residue_series) {
    // Series times count from the run's origin, in the report's clock.
    const double x = x0 + static_cast<double>(std::clamp(t, int64_t{0}, t1 - t0)) / static_cast<double>(t1 - t0) * (x1 - x0);
    points += num(x) + "," + num(y1 - static_cast<double>(v) / static_cast<double>(top) * (y1 - y0)) + " ";
  }
  o += "<polyline fill=\"none\" stroke=\"#b00020\" stroke-width=\"1.5\" points=\"" + points + "\"><title>stale (server, client) pairs over time</title></polyline>";
  o += "<line class=\"axis\" x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x0) + "\" y2=\"" + num(y1) + "\"/>";
  o += "<text x=\"" + num(x0 - 4) + "\" y=\"" + num(y0 + 8) + "\" text-anchor=\"end\">" + u64(top) + "</text>";
  o += "<text x=\"" + num(x0 - 4) + "\" y=\"" + num(y1) + "\" text-anchor=\"end\">0</text>";
  o += time_ticks(x0, x1, y1, 0, t1 - t0);
  return o + "</svg>";
}

std::string latency_svg(const HtmlRun& run) {
  const double W = 620, H = 230, x0 = 50, x1 = W - 110, y0 = 10, y1 = 190;
  int64_t top = 1;
  for (const auto& samples : run.latency_ns()) {
    for (int64_t v : samples) top = std::max(top, v);
  }
  std::string o = "<svg id=\"latency\" width=\"" + num(W, 0) + "\" height=\"" + num(H, 0) + "\">";
  // Many servers: one curve of them all, pooled, instead of one each.
  const bool pooled = run.servers().size() > 30;
  std::vector<std::vector<int64_t>> curves;
  if (pooled) {
    curves.emplace_back();
    for (const auto& samples : run.latency_ns()) curves[0].insert(curves[0].end(), samples.begin(), samples.end());
  } else {
    curves = run.latency_ns();
  }
  const size_t n = curves.size();
  for (size_t s = 0; s < n; ++s) {
    std::vector<int64_t> v = curves[s];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    // At most 256 steps a curve: evenly spaced quantiles.
    if (v.size() > 256) {
      std::vector<int64_t> q;
      for (size_t i = 0; i < 256; ++i) q.push_back(v[(i * (v.size() - 1)) / 255]);
      v = std::move(q);
    }
    std::string points = num(x0) + "," + num(y1) + " ";
    for (size_t i = 0; i < v.size(); ++i) {
      const double x = x0 + static_cast<double>(v[i]) / static_cast<double>(top) * (x1 - x0);
      // A step: up at each sample, so the curve is the empirical CDF.
      points += num(x) + "," + num(y1 - static_cast<double>(i) / static_cast<double>(v.size()) * (y1 - y0)) + " ";
      points += num(x) + "," + num(y1 - static_cast<double>(i + 1) / static_cast<double>(v.size()) * (y1 - y0)) + " ";
    }
    const std::string colour = "hsl(" + u64(s * 300 / std::max<size_t>(1, n)) + ",70%,42%)";
    o += "<polyline class=\"cdf\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.2\" points=\"" + points +
         "\"><title>" + (pooled ? std::string("every server") : esc(run.servers()[s])) + ": " + u64(v.size()) + " samples, p50 " + ms(v[v.size() / 2]) +
         " ms, max " + ms(v.back()) + " ms</title></polyline>";
    if (!pooled) {
      o += "<text x=\"" + num(x1 + 8 + static_cast<double>(s / 15) * 50) + "\" y=\"" +
           num(y0 + 8 + static_cast<double>(s % 15) * 12) + "\" style=\"fill:" + colour + "\">" +
           esc(run.servers()[s]) + "</text>";
    }
  }
  o += "<line class=\"axis\" x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x0) + "\" y2=\"" + num(y1) + "\"/>";
  o += "<text x=\"" + num(x0 - 4) + "\" y=\"" + num(y0 + 8) + "\" text-anchor=\"end\">1</text>";
  o += "<text x=\"" + num(x0 - 4) + "\" y=\"" + num(y1) + "\" text-anchor=\"end\">0</text>";
  o += time_ticks(x0, x1, y1, 0, top);
  return o + "</svg>";
}

// More servers than this: the links as a list, the worst first, not a matrix.
constexpr size_t kMatrixServersMax = 40;
constexpr size_t kLinkRowsMax = 200;

std::string link_list_html(const HtmlRun& run) {
  struct Row {
    int a, b;
    uint64_t sent, lost, downs;
  };
  std::vector<Row> rows;
  for (const auto& [x, y] : run.links()) {
    for (const auto& [a, b] : {std::pair<int, int>{x, y}, std::pair<int, int>{y, x}}) {
      const HtmlLinkCounts& c = run.link(a, b);
      rows.push_back({a, b, c.sent, (c.sent > c.received ? c.sent - c.received : 0) + c.faulted, c.downs});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& p, const Row& q) {
    return p.lost != q.lost ? p.lost > q.lost : p.downs > q.downs;
  });
  std::string o = "<p>" + u64(run.servers().size()) + " servers: each direction of each link, the most lost first" +
                  (rows.size() > kLinkRowsMax ? " (the first " + u64(kLinkRowsMax) + " of " + u64(rows.size()) + ")" : "") +
                  ".</p>\n<table class=\"matrix\" id=\"links\"><tr><th class=\"l\">from</th><th class=\"l\">to</th>"
                  "<th>sent</th><th>lost</th><th>down</th></tr>\n";
  for (size_t i = 0; i < rows.size() && i < kLinkRowsMax; ++i) {
    const Row& r = rows[i];
    o += "<tr><td class=\"l\">" + esc(run.servers()[static_cast<size_t>(r.a)]) + "</td><td class=\"l\">" +
         esc(run.servers()[static_cast<size_t>(r.b)]) + "</td><td>" + u64(r.sent) + "</td><td>" + u64(r.lost) +
         "</td><td>" + u64(r.downs) + "</td></tr>\n";
  }
  return o + "</table>\n";
}

std::string matrix_html(const HtmlRun& run) {
  const size_t n = run.servers().size();
  if (n > kMatrixServersMax) return link_list_html(run);
  std::vector<char> linked(n * n, 0);
  for (const auto& [a, b] : run.links()) {
    linked[static_cast<size_t>(a) * n + static_cast<size_t>(b)] = 1;
    linked[static_cast<size_t>(b) * n + static_cast<size_t>(a)] = 1;
  }
  std::string o = "<table class=\"matrix\" id=\"links\"><tr><th class=\"l\">from \\ to</th>";
  for (const std::string& s : run.servers()) o += "<th>" + esc(s) + "</th>";
  o += "</tr>\n";
  for (size_t a = 0; a < n; ++a) {
    o += "<tr><th class=\"l\">" + esc(run.servers()[a]) + "</th>";
    for (size_t b = 0; b < n; ++b) {
      const HtmlLinkCounts& c = run.link(static_cast<int>(a), static_cast<int>(b));
      if (!linked[a * n + b] && c.sent == 0) {
        o += "<td class=\"none\"></td>";
        continue;
      }
      const uint64_t lost = (c.sent > c.received ? c.sent - c.received : 0) + c.faulted;
      const double f = c.sent + c.faulted ? static_cast<double>(lost) / static_cast<double>(c.sent + c.faulted) : 0;
      const int light = 100 - static_cast<int>(std::min(1.0, f * 3) * 45);
      o += "<td style=\"background:hsl(0,75%," + std::to_string(light) + "%)\" title=\"" + esc(run.servers()[a]) +
           " to " + esc(run.servers()[b]) + ": " + u64(c.sent) + " messages sent, " + u64(c.received) +
           " received, " + u64(lost) + " lost, link down " + u64(c.downs) + " times\">" + u64(c.sent) +
           (lost ? "<br>-" + u64(lost) : "") + (c.downs ? "<br>&darr;" + u64(c.downs) : "") + "</td>";
    }
    o += "</tr>\n";
  }
  return o + "</table>\n";
}

std::string figure(const std::string& name, const std::string& value) {
  return "<span class=\"fig\">" + esc(name) + "<b>" + esc(value) + "</b></span>";
}

std::string summary_html(const HtmlRun& run, const std::optional<Report>& report) {
  std::string o = "<div id=\"summary\">";
  o += figure("servers", u64(run.servers().size())) + figure("links", u64(run.links().size()));
  o += figure("updates", u64(run.updates())) + figure("messages carrying records", u64(run.carried_messages()));
  if (report) {
    const Report& r = *report;
    o += figure("reached all", u64(r.reached_all) + " (" + ratio(r.reached_all, r.updates) + ")");
    o += figure("superseded", u64(r.superseded));
    o += figure("latency p50 / p99 / max", ms3(r.latency_p50_ns) + " / " + ms3(r.latency_p99_ns) + " / " +
                                              ms3(r.latency_max_ns) + " ms");
    o += figure("msgs per update", ratio(r.sends, r.updates, 2) + " (tree " + ratio(r.bound_tree, r.bounds_per, 1) +
                                       ", flood " + ratio(r.bound_flood, r.bounds_per, 1) + ")");
    o += figure("residue at end", u64(r.residue_stale) + " of " + u64(r.residue_pairs));
    if (r.last_fault_ns >= 0) {
      o += figure("repaired after faults", u64(r.fault_repaired) + " of " + u64(r.fault_stale) + ", max " +
                                                ms3(r.repair_max_ns) + " ms");
    }
    o += figure("dropped / cut / lost at links", u64(r.dropped) + " / " + u64(r.cut) + " / " + u64(r.link_lost));
    o += figure("sync sessions / records", u64(r.sync_sessions) + " / " + u64(r.sync_records_stored));
    o += figure("deliveries / duplicates", u64(r.deliveries) + " / " + u64(r.duplicates));
    o += figure("digest", hex16(r.digest));
  }
  o += "</div>\n";
  if (report) {
    o += "<h2>Checks</h2>\n<table id=\"checks\"><tr><th class=\"l\">check</th><th>figure</th><th>bound</th><th>result</th></tr>\n";
    for (const Check& c : report->checks) {
      o += "<tr class=\"check\"><td class=\"l\">" + esc(c.name) + "</td><td>" + esc(c.figure) + "</td><td>" +
           esc(c.bound) + "</td><td class=\"" + (c.pass ? "pass\">pass" : "fail\">FAIL") + "</td></tr>\n";
    }
    o += "</table>\n";
    for (const Check& c : report->checks) {
      if (!c.pass && !c.failure.empty()) o += "<p class=\"fail\">" + esc(c.failure) + "</p>\n";
    }
  } else {
    o += "<h2>Checks</h2>\n<p id=\"checks\">No checks: this source holds no scenario to check against.</p>\n";
  }
  return o;
}

// The drawn updates as data for the script; times in ms from the run's first moment.
std::string data_json(const HtmlRun& run) {
  const int64_t t0 = run.first_ns();
  std::string o = "{\"servers\":[";
  for (size_t i = 0; i < run.servers().size(); ++i) o += (i ? "," : "") + json_str(run.servers()[i]);
  o += "],\"end\":" + ms(run.last_ns() - t0) + ",\"total\":" + u64(run.updates()) + ",\"faults\":[";
  for (size_t i = 0; i < run.faults().size(); ++i) {
    const HtmlFault& f = run.faults()[i];
    o += std::string(i ? "," : "") + "[" + ms(f.from_ns - t0) + "," + (f.to_ns < 0 ? "null" : ms(f.to_ns - t0)) +
         "," + json_str(f.label) + "]";
  }
  o += "],\"updates\":[";
  size_t best = 0;
  int64_t best_span = -1;
  for (size_t k = 0; k < run.drawn().size(); ++k) {
    const HtmlUpdate& u = run.drawn()[k];
    int64_t last = u.t_ns;
    for (const HtmlStore& s : u.stores) last = std::max(last, s.t_ns);
    // The default: the update that took longest to reach its last server.
    if (last - u.t_ns > best_span) best_span = last - u.t_ns, best = k;
    o += std::string(k ? "," : "") + "{\"i\":" + u64(u.index) + ",\"origin\":" + std::to_string(u.origin) +
         ",\"t\":" + ms(u.t_ns - t0) + ",\"line\":" + json_str(u.at_line) + ",\"left_out\":" +
         u64(u.messages_left_out) + ",\"m\":[";
    for (size_t i = 0; i < u.messages.size(); ++i) {
      const HtmlMessage& m = u.messages[i];
      o += std::string(i ? "," : "") + "[" + std::to_string(m.from) + "," + std::to_string(m.to) + "," +
           ms(m.sent_ns - t0) + "," + (m.recv_ns < 0 ? "null" : ms(m.recv_ns - t0)) + "," + std::to_string(m.hops) +
           ",\"" + m.kind + "\"]";
    }
    o += "],\"s\":[";
    for (size_t i = 0; i < u.stores.size(); ++i) {
      const HtmlStore& s = u.stores[i];
      o += std::string(i ? "," : "") + "[" + std::to_string(s.server) + "," + ms(s.t_ns - t0) + ",\"" + s.via +
           "\"," + std::to_string(s.hops) + "]";
    }
    o += "]}";
  }
  o += "],\"default\":" + u64(best) + "}";
  // Inside <script>, "</" would end it: JSON allows "\/" for "/".
  std::string safe;
  safe.reserve(o.size());
  for (size_t i = 0; i < o.size(); ++i) {
    if (o[i] == '<' && i + 1 < o.size() && o[i + 1] == '/') {
      safe += "<\\/";
      ++i;
    } else {
      safe += o[i];
    }
  }
  return safe;
}

}  // namespace

std::string render_run_html(const HtmlRun& run, const std::optional<Report>& report, const HtmlMeta& meta) {
  std::string o = page_head(meta);
  o += summary_html(run, report);
  o += "<h2>Space-time: one update</h2>\n";
  o += "<p>Update <select id=\"update-select\"></select> <span id=\"update-facts\"></span></p>\n";
  o += "<p class=\"sub\">One lane per server, time to the right. An arrow per message that carried the update "
       "(blue FLOOD, violet SYNC REC; red dashed with a cross: never received), a dot where a server stored it "
       "(green: its origin), fault periods shaded red; a long quiet stretch is drawn short (&asymp;). " +
       u64(run.drawn().size()) + " of " + u64(run.updates()) + " updates drawn";
  if (run.drawn().size() < run.updates()) o += " (" + u64(run.updates() - run.drawn().size()) + " left out, spread evenly)";
  o += ".</p>\n<div id=\"hover\">Hover over an arrow or a dot for its details.</div>\n<div id=\"spacetime\"></div>\n";
  o += "<h2>Convergence</h2>\n<div class=\"row\"><div><b>Latency to each server (CDF" +
       std::string(run.servers().size() > 30 ? ", every server pooled" : "") + ")</b><br>" + latency_svg(run) +
       "</div>";
  if (report && !report->residue_series.empty()) {
    o += "<div><b>Residue: stale (server, client) pairs, with the faults</b><br>" + residue_svg(run, *report) + "</div>";
  } else {
    o += "<div><b>Faults</b><br><svg id=\"residue\" width=\"620\" height=\"60\">" +
         fault_bands(run, 50, 610, 10, 20, run.first_ns(), std::max(run.last_ns(), run.first_ns() + 1), true) +
         time_ticks(50, 610, 34, 0, std::max<int64_t>(1, run.last_ns() - run.first_ns())) + "</svg></div>";
  }
  o += "</div>\n<h2>Links: messages sent, lost (-), times down (&darr;)</h2>\n" + matrix_html(run);
  if (!run.notes().empty()) {
    o += "<h2>Notes</h2><ul>";
    for (const std::string& n : run.notes()) o += "<li>" + esc(n) + "</li>";
    o += "</ul>\n";
  }
  o += "<script type=\"application/json\" id=\"herd-data\">" + data_json(run) + "</script>\n";
  o += "<script>" + std::string(kSpaceTimeScript) + "</script>\n</body></html>\n";
  return o;
}

std::string render_sweep_html(const std::vector<SweepSeed>& seeds, const SweepSummary& summary, const HtmlMeta& meta) {
  std::string o = page_head(meta);
  uint64_t failed = 0;
  for (const SweepSeed& s : seeds) failed += s.pass ? 0 : 1;
  o += "<div id=\"summary\">" + figure("seeds", u64(seeds.size())) + figure("failed", u64(failed));
  if (summary.present) {
    o += figure("seeds per second", num(summary.seeds_per_s, 2));
    if (summary.seeds != seeds.size() || summary.failed != failed) {
      o += figure("summary line says", u64(summary.seeds) + " seeds, " + u64(summary.failed) + " failed");
    }
  }
  o += "</div>\n<h2>Seeds</h2>\n<div class=\"grid\" id=\"grid\">";
  for (const SweepSeed& s : seeds) {
    o += "<a class=\"seed " + std::string(s.pass ? "pass" : "fail") + "\" href=\"#seed-" + u64(s.seed) + "\" title=\"" +
         esc(s.rerun) + "\">" + u64(s.seed) + "</a>";
  }
  o += "</div>\n<h2>Every seed</h2>\n<table id=\"checks\"><tr><th>seed</th><th>result</th><th class=\"l\">checks</th>"
       "<th>wall ms</th><th class=\"l\">digest</th><th class=\"l\">rerun</th></tr>\n";
  for (const SweepSeed& s : seeds) {
    o += "<tr id=\"seed-" + u64(s.seed) + "\"><td>" + u64(s.seed) + "</td><td class=\"" +
         (s.pass ? "pass\">pass" : "fail\">FAIL") + "</td><td class=\"l\">";
    for (const SweepCheck& c : s.checks) {
      o += "<span class=\"" + std::string(c.pass ? "pass" : "fail") + "\">" + esc(c.name) + "</span> " + esc(c.figure) +
           " (bound " + esc(c.bound) + ") ";
    }
    for (const std::string& f : s.failed) o += "<br><span class=\"fail\">" + esc(f) + "</span>";
    o += "</td><td>" + num(s.wall_ms, 1) + "</td><td class=\"l\"><code>" + esc(s.digest) + "</code></td><td class=\"l\"><code>" +
         esc(s.rerun) + "</code></td></tr>\n";
  }
  o += "</table>\n<script>document.body.setAttribute('data-rendered','yes');</script>\n</body></html>\n";
  return o;
}

}  // namespace herd
