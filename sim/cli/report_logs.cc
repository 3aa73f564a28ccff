#include "sim/cli/report_logs.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <unordered_set>
#include <vector>

#include "node/record.h"
#include "sim/cli/report_cli.h"
#include "sim/html_report.h"

namespace herd {
namespace {

struct LogEvent {
  int64_t t_ns = 0;
  int server = 0;
  int order = 0;  // Within a time: sends before receives.
  std::string word, subject, text;
};

// "2026-12-02T07:20:27.021931Z" as nanoseconds since the epoch.
bool parse_time(std::string_view s, int64_t* ns) {
  if (s.size() != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
      s[26] != 'Z') {
    return false;
  }
  const auto digits = [&](size_t at, size_t n, int* out) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, mon, day, hour, min, sec, us;
  if (!digits(0, 4, &year) || !digits(5, 2, &mon) || !digits(8, 2, &day) || !digits(11, 2, &hour) ||
      !digits(14, 2, &min) || !digits(17, 2, &sec) || !digits(20, 6, &us)) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = year - 1900, tm.tm_mon = mon - 1, tm.tm_mday = day;
  tm.tm_hour = hour, tm.tm_min = min, tm.tm_sec = sec;
  const time_t secs = timegm(&tm);
  *ns = static_cast<int64_t>(secs) * 1'000'000'000 + static_cast<int64_t>(us) * 1000;
  return true;
}

int bad(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

// The AT line a reply shows: its first line ("\n" is written as the two bytes \n).
std::string_view reply_at_line(std::string_view text) {
  const size_t nl = text.find("\\n");
  return nl == std::string_view::npos ? text : text.substr(0, nl);
}

std::string_view carried(std::string_view message) {
  if (message.starts_with("FLOOD ")) {
    const size_t sp = message.find(' ', 6);
    return sp == std::string_view::npos ? std::string_view{} : message.substr(sp + 1);
  }
  if (message.starts_with("SYNC REC ")) {
    const size_t sp = message.find(' ', 9);
    return sp == std::string_view::npos ? std::string_view{} : message.substr(sp + 1);
  }
  return {};
}

bool timeline_word(std::string_view w) {
  static const char* kWords[] = {"partition", "heal", "heal_all", "heal-all", "crash", "restart", "pause", "resume", "set", "healed"};
  for (const char* k : kWords) {
    if (w == k) return true;
  }
  return false;
}

}  // namespace

int report_logs(const std::string& dir, HtmlOut& out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return bad(dir + ": " + std::strerror(errno));
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 4 && name.ends_with(".log")) names.push_back(name.substr(0, name.size() - 4));
    if (names.size() > kLogFilesMax) {
      closedir(d);
      return bad(dir + ": more than " + std::to_string(kLogFilesMax) + " log files");
    }
  }
  closedir(d);
  if (names.empty()) return bad(dir + ": no <server>.log file: not a log directory of a live run");
  std::sort(names.begin(), names.end());
  HtmlRun probe(names, {});
  std::vector<LogEvent> events;
  size_t total = 0;
  std::set<std::pair<int, int>> links;
  for (size_t s = 0; s < names.size(); ++s) {
    const std::string path = dir + "/" + names[s] + ".log";
    std::ifstream in(path, std::ios::binary);
    if (!in) return bad(path + ": " + std::strerror(errno));
    std::string line;
    for (uint64_t line_no = 1; std::getline(in, line); ++line_no) {
      const std::string where = path + ": line " + std::to_string(line_no) + ": ";
      total += line.size() + 1;
      if (line.size() > kLogLineBytesMax) return bad(where + "longer than " + std::to_string(kLogLineBytesMax) + " bytes");
      if (total > kLogBytesMax) return bad(where + "the logs hold more than " + std::to_string(kLogBytesMax >> 20) + " MiB");
      if (line.empty()) continue;
      const size_t a = line.find(' ');
      int64_t t = 0;
      if (a == std::string::npos || !parse_time(std::string_view(line).substr(0, a), &t)) {
        return bad(where + "time: expected a UTC time like 2026-12-02T07:20:27.021931Z");
      }
      const size_t b = line.find(' ', a + 1);
      const std::string word = line.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
      if (word.empty()) return bad(where + "event: missing");
      if (word == "log") {
        // Why refuse: every figure of the report (messages per link, stores, updates)
        // is counted from the per-message lines that level leaves out; without them it
        // would draw a herd that did nothing.
        const size_t c = b == std::string::npos ? std::string::npos : line.find(' ', b + 1);
        const std::string level = c == std::string::npos ? "?" : line.substr(c + 1, line.find(' ', c + 1) - c - 1);
        return bad(path + ": written with --log " + level +
                   ": it has no in, out, send or recv lines, and herd report counts every message, store and "
                   "update from them; run the herd with --log all (the default)");
      }
      if (word != "send" && word != "recv" && word != "out" && word != "peer-down" && word != "fault") continue;
      if (b == std::string::npos) return bad(where + "subject: missing after " + word);
      const size_t c = line.find(' ', b + 1);
      LogEvent ev;
      ev.t_ns = t;
      ev.server = static_cast<int>(s);
      ev.word = word;
      ev.subject = line.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
      ev.text = c == std::string::npos ? "" : line.substr(c + 1);
      ev.order = word == "send" ? 0 : 1;
      if (word == "send" || word == "recv" || word == "peer-down") {
        const int peer = probe.server_index(ev.subject);
        if (peer < 0) continue;  // A peer without a log here.
        links.insert({std::min<int>(peer, ev.server), std::max<int>(peer, ev.server)});
      }
      events.push_back(std::move(ev));
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const LogEvent& x, const LogEvent& y) {
    return x.t_ns != y.t_ns ? x.t_ns < y.t_ns : x.order < y.order;
  });
  HtmlRun run(names, std::vector<std::pair<int, int>>(links.begin(), links.end()));
  std::unordered_set<std::string> known;  // "server AT line" of what a server holds.
  std::set<std::string> faults_seen;
  for (const LogEvent& ev : events) {
    run.seen(ev.t_ns);
    if (ev.word == "send") {
      run.send(ev.server, probe.server_index(ev.subject), ev.t_ns, ev.text);
    } else if (ev.word == "recv") {
      const int from = probe.server_index(ev.subject);
      run.receive(from, ev.server, ev.t_ns, ev.text);
      const std::string_view line = carried(ev.text);
      if (!line.empty() && known.insert(std::to_string(ev.server) + " " + std::string(line)).second) {
        const int hops = ev.text.starts_with("FLOOD ") ? std::atoi(ev.text.c_str() + 6) : 0;
        run.store(ev.server, ev.t_ns, line, ev.text.starts_with("FLOOD ") ? 'f' : 's', hops);
      }
    } else if (ev.word == "out") {
      const std::string_view at = reply_at_line(ev.text);
      const std::optional<AtFields> f = parse_at_line(at);
      if (!f || f->origin != names[static_cast<size_t>(ev.server)]) continue;
      if (!known.insert(std::to_string(ev.server) + " " + std::string(at)).second) continue;
      run.update(ev.server, ev.t_ns, at);
      run.store(ev.server, ev.t_ns, at, 'c', 0);
    } else if (ev.word == "peer-down") {
      run.link_down(ev.server, probe.server_index(ev.subject), ev.t_ns);
    } else if (ev.word == "fault" && (ev.subject == "cut" || ev.subject == "drop" || ev.subject == "blackhole") &&
               ev.text.find(" msg#") != std::string::npos) {
      // One message the fault layer kept from A>B (the log has no send line for it).
      const std::string link = ev.text.substr(0, ev.text.find(' '));
      const size_t gt = link.find('>');
      if (gt == std::string::npos) continue;
      const int from = probe.server_index(link.substr(0, gt)), to = probe.server_index(link.substr(gt + 1));
      if (from >= 0 && to >= 0) run.faulted(from, to);
    } else if (ev.word == "fault" && timeline_word(ev.subject)) {
      // Every server a fault names logs it: once, by its time to the millisecond.
      const std::string label = ev.subject + (ev.text.empty() ? "" : " " + ev.text);
      if (!faults_seen.insert(std::to_string(ev.t_ns / 1'000'000) + label).second) continue;
      const bool heals = ev.subject.starts_with("heal") || ev.subject == "restart" || ev.subject == "resume";
      run.fault(ev.t_ns, label, heals);
    }
  }
  run.note("read from the logs of " + std::to_string(names.size()) +
           " servers: a store is a server's first receipt of a record (logs do not say whether it was newer); "
           "a message cut or dropped by the fault layer has no send line, so it is counted per link but not drawn; "
           "no figures of a scenario, so no checks");
  HtmlMeta meta;
  meta.title = "live run (logs of " + dir + ")";
  meta.source = "herd report " + dir + " (a log directory)";
  if (const std::string error = out.write(render_run_html(run, std::nullopt, meta)); !error.empty()) {
    std::fprintf(stderr, "herd: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace herd
