#include "sim/shrink.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "node/check.h"
#include "node/json_bytes.h"

namespace herd {
namespace {

using Doc = rapidjson::Document;

Doc parse(const std::string& text) {
  Doc d;
  d.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  HERD_ASSERT(!d.HasParseError() && d.IsObject());
  return d;
}

std::string write(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The value at "key" or "section.key", or null.
rapidjson::Value* at(Doc& d, const std::string& path) {
  const size_t dot = path.find('.');
  const std::string top = path.substr(0, dot);
  if (!d.HasMember(top.c_str())) return nullptr;
  rapidjson::Value* v = &d[top.c_str()];
  if (dot == std::string::npos) return v;
  const std::string sub = path.substr(dot + 1);
  if (!v->IsObject() || !v->HasMember(sub.c_str())) return nullptr;
  return &(*v)[sub.c_str()];
}

// What an event's action is and whom it names: ("cut", "[\"a\",\"b\"]").
std::pair<std::string, std::string> action_of(const rapidjson::Value& e) {
  if (!e.IsObject()) return {"", ""};
  for (auto m = e.MemberBegin(); m != e.MemberEnd(); ++m) {
    const std::string name = m->name.GetString();
    if (name != "at_ms") return {name, write(m->value)};
  }
  return {"", ""};
}

// The timeline's events grouped: each fault (partition, cut, blackhole, crash,
// pause) with the first later event that ends it (heal_all; heal of the same link;
// restart, resume of the same server); every other event alone. Entries are in
// file order, which the parser keeps for equal times.
std::vector<std::vector<size_t>> fault_units(const rapidjson::Value& timeline) {
  const size_t n = timeline.Size();
  std::vector<char> used(n, 0);
  std::vector<std::vector<size_t>> units;
  for (size_t i = 0; i < n; ++i) {
    if (used[i]) continue;
    used[i] = 1;
    std::vector<size_t> unit = {i};
    const auto [kind, target] = action_of(timeline[static_cast<rapidjson::SizeType>(i)]);
    for (size_t j = i + 1; j < n; ++j) {
      if (used[j]) continue;
      const auto [k2, t2] = action_of(timeline[static_cast<rapidjson::SizeType>(j)]);
      const bool ends = (kind == "partition" && k2 == "heal_all") ||
                        ((kind == "cut" || kind == "blackhole") && (k2 == "heal_all" || (k2 == "heal" && t2 == target))) ||
                        (kind == "crash" && k2 == "restart" && t2 == target) ||
                        (kind == "pause" && k2 == "resume" && t2 == target);
      if (ends) {
        used[j] = 1;
        unit.push_back(j);
        break;
      }
    }
    units.push_back(unit);
  }
  return units;
}

class Shrinker {
 public:
  Shrinker(std::string text, const std::function<bool(const std::string&)>& fails, uint64_t max_steps,
           const std::function<void(const std::string&)>& log)
      : current_(std::move(text)), fails_(fails), max_steps_(max_steps), log_(log) {}

  ShrinkResult run() {
    const std::string original = current_;
    for (int round = 0; round < 20 && !spent(); ++round) {
      const std::string before = current_;
      for (const char* list : {"timeline", "link_overrides", "workload.bursts"}) ddmin_list(list);
      for (const char* key : {"links.drop", "links.duplicate", "links.delay_ms", "links.bandwidth_kbps",
                              "workload.moving", "workload.client_skew_ms", "workload.server_skew_ms",
                              "workload.places_failure", "workload.fresh_clients"}) {
        try_remove(key);
      }
      try_set("workload.whatsat_per_s", 0);
      bisect("workload.clients", 1, 1, 100);
      bisect("workload.iamat_per_s", 1, 1000, 50);
      bisect("workload.whatsat_per_s", 0, 1000, 5);
      bisect("duration_ms", 1, 1, 10000);
      bisect("drain_ms", 0, 1, 60000);
      if (current_ == before) break;
    }
    describe(original);
    result_.text = current_;
    result_.budget_spent = spent();
    return std::move(result_);
  }

 private:
  bool spent() const { return result_.steps >= max_steps_; }

  // Tries `candidate`; keeps it when it still fails.
  bool attempt(const std::string& candidate, const std::string& what) {
    if (spent() || candidate == current_) return false;
    ++result_.steps;
    if (!fails_(candidate)) return false;
    ++result_.kept;
    current_ = candidate;
    if (log_) log_("step " + std::to_string(result_.steps) + ": " + what + ": still fails");
    return true;
  }

  // What changed between the input and the result, key by key.
  void describe(const std::string& original) {
    Doc a = parse(original), b = parse(current_);
    for (const char* list : {"timeline", "link_overrides", "workload.bursts"}) {
      const rapidjson::Value* x = at(a, list);
      const rapidjson::Value* y = at(b, list);
      const size_t before = x != nullptr && x->IsArray() ? x->Size() : 0;
      const size_t after = y != nullptr && y->IsArray() ? y->Size() : 0;
      if (before != after) {
        result_.changes.push_back(std::string(list) + ": " + std::to_string(before) + " -> " + std::to_string(after) +
                                  (std::string(list) == "timeline" ? " events" : " entries"));
      }
    }
    for (const char* key : {"links.drop", "links.duplicate", "links.delay_ms", "links.bandwidth_kbps",
                            "workload.moving", "workload.client_skew_ms", "workload.server_skew_ms",
                            "workload.places_failure", "workload.fresh_clients", "workload.clients",
                            "workload.iamat_per_s", "workload.whatsat_per_s", "duration_ms", "drain_ms"}) {
      const rapidjson::Value* x = at(a, key);
      const rapidjson::Value* y = at(b, key);
      const std::string before = x != nullptr ? write(*x) : "(default)";
      const std::string after = y != nullptr ? write(*y) : (x != nullptr ? "(removed)" : "(default)");
      if (before != after) result_.changes.push_back(std::string(key) + ": " + before + " -> " + after);
    }
  }

  void ddmin_list(const std::string& path) {
    Doc d = parse(current_);
    rapidjson::Value* v = at(d, path);
    if (v == nullptr || !v->IsArray() || v->Empty()) return;
    const size_t original = v->Size();
    // The units ddmin removes: a timeline's fault goes with the event that ends it,
    // so a fault that healed never becomes one that lasts forever.
    const std::vector<std::vector<size_t>> units =
        path == "timeline" ? fault_units(*v) : std::vector<std::vector<size_t>>();
    std::vector<size_t> items(path == "timeline" ? units.size() : original);
    for (size_t i = 0; i < items.size(); ++i) items[i] = i;
    const std::string base = current_;  // Indices refer to this text's array.
    auto make = [&](const std::vector<size_t>& keep) {
      std::vector<size_t> entries;
      for (size_t i : keep) {
        if (path == "timeline") entries.insert(entries.end(), units[i].begin(), units[i].end());
        else entries.push_back(i);
      }
      std::sort(entries.begin(), entries.end());
      Doc c = parse(base);
      rapidjson::Value* list = at(c, path);
      rapidjson::Value kept(rapidjson::kArrayType);
      for (size_t i : entries) {
        kept.PushBack(rapidjson::Value((*list)[static_cast<rapidjson::SizeType>(i)], c.GetAllocator()),
                      c.GetAllocator());
      }
      *list = kept;
      return write(c);
    };
    auto test = [&](const std::vector<size_t>& keep) {
      const std::string text = make(keep);
      Doc c = parse(text);
      return attempt(text, path + ": " + std::to_string(original) + " -> " + std::to_string(at(c, path)->Size()));
    };
    if (test({})) {
      items.clear();
    } else {
      size_t n = 2;
      while (items.size() >= 2 && !spent()) {
        const size_t size = items.size();
        n = std::min(n, size);
        std::vector<std::vector<size_t>> chunks(n);
        for (size_t i = 0; i < size; ++i) chunks[i * n / size].push_back(items[i]);
        bool reduced = false;
        for (size_t c = 0; c < n && !reduced; ++c) {
          if (chunks[c].size() < size && test(chunks[c])) {
            items = chunks[c];
            n = 2;
            reduced = true;
          }
        }
        for (size_t c = 0; c < n && !reduced && n > 2; ++c) {
          std::vector<size_t> rest;
          for (size_t k = 0; k < n; ++k) {
            if (k != c) rest.insert(rest.end(), chunks[k].begin(), chunks[k].end());
          }
          std::sort(rest.begin(), rest.end());
          if (test(rest)) {
            items = rest;
            n = std::max<size_t>(n - 1, 2);
            reduced = true;
          }
        }
        if (!reduced) {
          if (n >= size) break;
          n = std::min(n * 2, size);
        }
      }
    }
  }

  void try_remove(const std::string& path) {
    Doc d = parse(current_);
    if (at(d, path) == nullptr) return;
    const std::string dot_top = path.substr(0, path.find('.'));
    const std::string sub = path.substr(path.find('.') + 1);
    const std::string was = write(*at(d, path));
    d[dot_top.c_str()].RemoveMember(sub.c_str());
    attempt(write(d), "without " + path + " (" + was + ")");
  }

  void try_set(const std::string& path, int64_t value) {
    Doc d = parse(current_);
    rapidjson::Value* v = at(d, path);
    if (v == nullptr || !v->IsNumber() || v->GetDouble() == static_cast<double>(value)) return;
    const std::string was = write(*v);
    v->SetInt64(value);
    attempt(write(d), path + " " + was + " -> " + std::to_string(value));
  }

  // The smallest value in [lo, current] that still fails, in 1/scale units
  // (scale 1000: rates in thousandths), by bisection. An absent key starts at
  // `fallback` (the parser's default) and is written when it changes.
  void bisect(const std::string& path, int64_t lo, int64_t scale, int64_t fallback) {
    Doc d = parse(current_);
    rapidjson::Value* v = at(d, path);
    const bool top = path.find('.') == std::string::npos;
    if (v != nullptr && !v->IsNumber()) return;
    const double now = v != nullptr ? v->GetDouble() : static_cast<double>(fallback);
    int64_t hi = static_cast<int64_t>(std::llround(now * static_cast<double>(scale)));
    if (hi <= lo) return;
    auto make = [&](int64_t value) {
      Doc c = parse(current_);
      auto& a = c.GetAllocator();
      rapidjson::Value number;
      if (scale == 1) number.SetInt64(value);
      else number.SetDouble(static_cast<double>(value) / static_cast<double>(scale));
      if (top) {
        c.RemoveMember(path.c_str());
        c.AddMember(rapidjson::Value(path.c_str(), a), number, a);
      } else {
        const std::string section = path.substr(0, path.find('.'));
        const std::string key = path.substr(path.find('.') + 1);
        if (!c.HasMember(section.c_str())) c.AddMember(rapidjson::Value(section.c_str(), a), rapidjson::Value(rapidjson::kObjectType), a);
        c[section.c_str()].RemoveMember(key.c_str());
        c[section.c_str()].AddMember(rapidjson::Value(key.c_str(), a), number, a);
      }
      return write(c);
    };
    auto text_of = [&](int64_t value) {
      return scale == 1 ? std::to_string(value) : ratio_text(static_cast<uint64_t>(value), static_cast<uint64_t>(scale), 3);
    };
    // A failure need not be monotonic in the value (a lower rate draws other
    // arrivals), so first the smallest of lo + (hi - lo) / 2^k that fails, trying
    // the smallest first, then a bisection below it.
    std::vector<int64_t> ladder;
    for (int64_t step = (hi - lo) / 2; step > 0; step /= 2) ladder.push_back(lo + step);
    ladder.push_back(lo);
    std::reverse(ladder.begin(), ladder.end());
    int64_t below = lo;  // Values under this were tried (or are out of range).
    for (int64_t value : ladder) {
      if (value >= hi || spent()) break;
      if (attempt(make(value), path + " " + text_of(hi) + " -> " + text_of(value))) {
        hi = value;
        break;
      }
      below = value + 1;
    }
    lo = below;
    while (lo < hi && !spent()) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (attempt(make(mid), path + " " + text_of(hi) + " -> " + text_of(mid))) hi = mid;
      else lo = mid + 1;
    }
  }

  std::string current_;
  const std::function<bool(const std::string&)>& fails_;
  uint64_t max_steps_;
  const std::function<void(const std::string&)>& log_;
  ShrinkResult result_;
};

}  // namespace

ShrinkResult shrink_scenario(const std::string& text, const std::function<bool(const std::string&)>& still_fails,
                             uint64_t max_steps, const std::function<void(const std::string&)>& log) {
  Shrinker s(write(parse(text)), still_fails, max_steps, log);
  return s.run();
}

}  // namespace herd
