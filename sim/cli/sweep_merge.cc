// `herd sweep --merge FILE...` (sim/cli/sweep_cli.h): the --json outputs of the shards
// of one sweep (`herd sweep ... --shard I/N --json`) into what the unsharded sweep
// prints. Two passes over the files: the first checks every line and the summaries
// (the shards belong together: the same scenario path, name, file hash, --sync,
// --spot-check, range and shard count; every shard once; every seed of the range
// once) and holds only the seed numbers; the second writes the seed lines in seed
// order, each as its shard wrote it, and the summary a sweep of the whole range
// writes, but for the wall-time fields: "wall_ms" is the sum of the shards' (the time
// the shards took, one after another) and "seeds_per_s" the seeds over that sum.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "node/json_bytes.h"
#include "node/rng.h"
#include "sim/cli/sweep_cli.h"
#include "sim/cli/sweep_lines.h"
#include "sim/read_line.h"

namespace herd {
namespace {

constexpr size_t kNamedMax = 10;  // Seeds named in an error, then "and K more".

int input_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

std::string at_line(const std::string& path, uint64_t line) {
  return path + ": line " + std::to_string(line) + ": ";
}

// "4, 8, 12" (then "and K more").
std::string seed_list(const std::vector<uint64_t>& seeds) {
  std::string out;
  for (size_t i = 0; i < seeds.size() && i < kNamedMax; ++i) out += (i ? ", " : "") + std::to_string(seeds[i]);
  if (seeds.size() > kNamedMax) out += " and " + std::to_string(seeds.size() - kNamedMax) + " more";
  return out;
}

bool is_uint(const rapidjson::Value& o, const char* key) { return o.HasMember(key) && o[key].IsUint64(); }
bool is_string(const rapidjson::Value& o, const char* key) { return o.HasMember(key) && o[key].IsString(); }
bool is_bool(const rapidjson::Value& o, const char* key) { return o.HasMember(key) && o[key].IsBool(); }
bool is_ms(const rapidjson::Value& o, const char* key) {
  return o.HasMember(key) && o[key].IsNumber() && o[key].GetDouble() >= 0 && o[key].GetDouble() < 1e15;
}
int64_t ms_to_ns(double ms) { return std::llround(ms * 1e6); }

// A [x, y] pair of integers.
bool is_pair(const rapidjson::Value& o, const char* key) {
  return o.HasMember(key) && o[key].IsArray() && o[key].Size() == 2 && o[key][0].IsUint64() && o[key][1].IsUint64();
}

// A seed line, checked: "" or the error after "FILE: line N: ".
std::string check_seed_line(const rapidjson::Value& v) {
  if (!is_uint(v, "seed")) return "seed: expected an integer in 0..2^64-1";
  if (!is_bool(v, "pass")) return "pass: expected true or false";
  if (!v.HasMember("checks") || !v["checks"].IsArray()) return "checks: expected an array";
  for (rapidjson::SizeType i = 0; i < v["checks"].Size(); ++i) {
    const rapidjson::Value& c = v["checks"][i];
    const std::string where = "checks[" + std::to_string(i) + "]";
    if (!c.IsObject() || !is_string(c, "name") || !is_bool(c, "pass") || !c.HasMember("figure") ||
        !c["figure"].IsNumber() || !c.HasMember("bound") || !c["bound"].IsNumber()) {
      return where + ": expected {\"name\": string, \"figure\": number, \"bound\": number, \"pass\": bool}";
    }
  }
  if (!is_string(v, "digest")) return "digest: expected a string";
  if (!is_ms(v, "wall_ms")) return "wall_ms: expected a number of milliseconds";
  if (!is_string(v, "rerun")) return "rerun: expected a string";
  if (!v.HasMember("failed") || !v["failed"].IsArray()) return "failed: expected an array of check names";
  for (const rapidjson::Value& f : v["failed"].GetArray()) {
    if (!f.IsString()) return "failed: expected an array of check names";
  }
  if (v.HasMember("swarm") && !v["swarm"].IsObject()) return "swarm: expected an object";
  if (v.HasMember("error") && !v["error"].IsString()) return "error: expected a string";
  return "";
}

// The summary line's object, checked, into *id and *wall_ns: "" or the error.
std::string check_summary(const rapidjson::Value& m, SweepIdentity* id, uint64_t* seeds, uint64_t* failed,
                          int64_t* wall_ns) {
  if (!m.IsObject()) return "summary: expected an object";
  if (!is_string(m, "scenario")) {
    return "summary.scenario: expected the scenario's path (a summary of an older herd sweep? run the shards again)";
  }
  if (!is_string(m, "name")) return "summary.name: expected a string";
  if (!is_string(m, "scenario_hash")) return "summary.scenario_hash: expected a string";
  if (!m.HasMember("sync") || !(m["sync"].IsNull() || m["sync"].IsString())) {
    return "summary.sync: expected null or a sync mode";
  }
  if (!is_uint(m, "spot_check")) return "summary.spot_check: expected an integer";
  if (!is_bool(m, "swarm")) return "summary.swarm: expected true or false";
  if (!is_pair(m, "range") || m["range"][0].GetUint64() > m["range"][1].GetUint64() ||
      m["range"][1].GetUint64() - m["range"][0].GetUint64() >= kSweepSeedsMax) {
    return "summary.range: expected [A, B] with A <= B, at most " + std::to_string(kSweepSeedsMax) + " seeds";
  }
  if (!is_pair(m, "shard") || m["shard"][1].GetUint64() == 0 || m["shard"][1].GetUint64() > 1'000'000 ||
      m["shard"][0].GetUint64() >= m["shard"][1].GetUint64()) {
    return "summary.shard: expected [I, N] with 0 <= I < N <= 1000000";
  }
  if (!is_uint(m, "seeds")) return "summary.seeds: expected a count";
  if (!is_uint(m, "failed")) return "summary.failed: expected a count";
  if (!is_ms(m, "wall_ms")) return "summary.wall_ms: expected a number of milliseconds";
  if (!m.HasMember("seeds_per_s") || !m["seeds_per_s"].IsNumber()) return "summary.seeds_per_s: expected a number";
  if (!m.HasMember("failing") || !m["failing"].IsArray()) return "summary.failing: expected an array";
  id->path = m["scenario"].GetString();
  id->name = m["name"].GetString();
  id->scenario_hash = m["scenario_hash"].GetString();
  id->sync = m["sync"].IsNull() ? "" : m["sync"].GetString();
  id->spot_every = m["spot_check"].GetUint64();
  id->swarm = m["swarm"].GetBool();
  id->seed_lo = m["range"][0].GetUint64();
  id->seed_hi = m["range"][1].GetUint64();
  id->shard_index = m["shard"][0].GetUint64();
  id->shard_count = m["shard"][1].GetUint64();
  *seeds = m["seeds"].GetUint64();
  *failed = m["failed"].GetUint64();
  *wall_ns = ms_to_ns(m["wall_ms"].GetDouble());
  return "";
}

// Where two shards' summaries disagree: "" or the field and both values.
std::string identity_difference(const SweepIdentity& a, const SweepIdentity& b) {
  // x and y as JSON.
  auto differ = [](const char* field, const std::string& x, const std::string& y) {
    return std::string(field) + " is " + x + ", not " + y + " as in ";
  };
  const auto sync = [](const SweepIdentity& v) { return v.sync.empty() ? std::string("null") : json_bytes(v.sync); };
  const auto range = [](const SweepIdentity& v) {
    return "[" + std::to_string(v.seed_lo) + "," + std::to_string(v.seed_hi) + "]";
  };
  if (a.path != b.path) return differ("summary.scenario", json_bytes(a.path), json_bytes(b.path));
  if (a.name != b.name) return differ("summary.name", json_bytes(a.name), json_bytes(b.name));
  if (a.scenario_hash != b.scenario_hash) {
    return differ("summary.scenario_hash", json_bytes(a.scenario_hash), json_bytes(b.scenario_hash));
  }
  if (a.sync != b.sync) return differ("summary.sync", sync(a), sync(b));
  if (a.spot_every != b.spot_every) {
    return differ("summary.spot_check", std::to_string(a.spot_every), std::to_string(b.spot_every));
  }
  if (a.swarm != b.swarm) return differ("summary.swarm", a.swarm ? "true" : "false", b.swarm ? "true" : "false");
  if (a.seed_lo != b.seed_lo || a.seed_hi != b.seed_hi) return differ("summary.range", range(a), range(b));
  if (a.shard_count != b.shard_count) {
    return differ("summary.shard", "of " + std::to_string(a.shard_count), "of " + std::to_string(b.shard_count));
  }
  return "";
}

// One input file after the first pass.
struct ShardFile {
  std::string path;
  SweepIdentity id;
  std::vector<uint64_t> seeds;  // In file order (increasing).
  uint64_t failing = 0;         // Seed lines with "pass": false.
  uint64_t summary_seeds = 0, summary_failed = 0;
  uint64_t summary_line = 0;
  int64_t wall_ns = 0;
  struct stat st {};
};

// Reads and checks one file: "" or the error (naming the file and the line).
std::string first_pass(ShardFile* f, uint64_t* total_seeds) {
  std::ifstream in(f->path, std::ios::binary);
  if (!in) return f->path + ": cannot read: " + std::strerror(errno);
  if (::stat(f->path.c_str(), &f->st) != 0) return f->path + ": cannot read: " + std::strerror(errno);
  std::string line;
  for (uint64_t n = 1;; ++n) {
    const ReadLine got = read_line(in, kSweepLineMax, &line);
    if (got == ReadLine::kEof) break;
    if (got == ReadLine::kTooLong) return at_line(f->path, n) + "longer than " + std::to_string(kSweepLineMax) + " bytes";
    if (f->summary_line != 0) return at_line(f->path, n) + "a line after the summary line";
    rapidjson::Document d;
    d.Parse(line.data(), line.size());
    if (d.HasParseError() || !d.IsObject()) {
      return at_line(f->path, n) + (line.empty() ? "an empty line" : "not a JSON object (a sweep's --json line)");
    }
    if (d.HasMember("summary")) {
      const std::string error = check_summary(d["summary"], &f->id, &f->summary_seeds, &f->summary_failed, &f->wall_ns);
      if (!error.empty()) return at_line(f->path, n) + error;
      f->summary_line = n;
      continue;
    }
    const std::string error = check_seed_line(d);
    if (!error.empty()) return at_line(f->path, n) + error;
    const uint64_t seed = d["seed"].GetUint64();
    if (!f->seeds.empty() && seed <= f->seeds.back()) {
      return at_line(f->path, n) + (seed == f->seeds.back() ? "seed " + std::to_string(seed) + " twice"
                                                             : "seed " + std::to_string(seed) + " after seed " +
                                                                   std::to_string(f->seeds.back()) +
                                                                   " (a sweep writes its seeds in order)");
    }
    if (++*total_seeds > kSweepSeedsMax) {
      return at_line(f->path, n) + "more than " + std::to_string(kSweepSeedsMax) + " seed lines in the files, more than one sweep has";
    }
    f->seeds.push_back(seed);
    if (!d["pass"].GetBool()) ++f->failing;
  }
  if (f->summary_line == 0) {
    return f->path + ": no summary line (a shard cut short? its last line must be herd sweep --json's summary)";
  }
  return "";
}

// The seeds of shard index/count of [lo, hi], in order.
// (Stepping by N: shard_seeds tries every seed of the range, N times over here.)
std::vector<uint64_t> expected_seeds(const SweepIdentity& id, uint64_t index) {
  std::vector<uint64_t> out;
  const uint64_t n = id.shard_count;
  uint64_t seed = id.seed_lo + (index + n - id.seed_lo % n) % n;
  if (seed < id.seed_lo) return out;  // Past 2^64.
  for (; seed <= id.seed_hi; seed += n) {
    out.push_back(seed);
    if (id.seed_hi - seed < n) break;
  }
  return out;
}

// The checks between the files: "" or the error.
std::string check_together(const std::vector<ShardFile>& files, std::vector<size_t>* by_shard) {
  const SweepIdentity& first = files[0].id;
  for (const ShardFile& f : files) {
    const std::string difference = identity_difference(f.id, first);
    if (!difference.empty()) {
      return at_line(f.path, f.summary_line) + difference + files[0].path +
             " (a shard of another sweep: every shard must come from the same scenario file and flags)";
    }
  }
  // Each file's seeds are its shard's, within the range.
  for (const ShardFile& f : files) {
    const std::string shard = std::to_string(f.id.shard_index) + "/" + std::to_string(f.id.shard_count);
    for (uint64_t seed : f.seeds) {
      if (seed < first.seed_lo || seed > first.seed_hi || seed % first.shard_count != f.id.shard_index) {
        return f.path + ": seed " + std::to_string(seed) + " is not in shard " + shard + " of seeds " +
               std::to_string(first.seed_lo) + "-" + std::to_string(first.seed_hi);
      }
    }
  }
  // Every shard once.
  by_shard->assign(first.shard_count, files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    size_t& owner = (*by_shard)[files[i].id.shard_index];
    if (owner != files.size()) {
      std::vector<uint64_t> twice;
      std::set_intersection(files[owner].seeds.begin(), files[owner].seeds.end(), files[i].seeds.begin(),
                            files[i].seeds.end(), std::back_inserter(twice));
      return files[i].path + ": shard " + std::to_string(files[i].id.shard_index) + "/" +
             std::to_string(first.shard_count) + " again (also in " + files[owner].path + ")" +
             (twice.empty() ? std::string() : ": seeds given twice: " + seed_list(twice));
    }
    owner = i;
  }
  // Every seed of the range.
  std::vector<uint64_t> missing;
  for (uint64_t index = 0; index < first.shard_count; ++index) {
    const std::vector<uint64_t> expected = expected_seeds(first, index);
    const size_t owner = (*by_shard)[index];
    if (owner == files.size()) {
      missing.insert(missing.end(), expected.begin(), expected.end());
      continue;
    }
    std::set_difference(expected.begin(), expected.end(), files[owner].seeds.begin(), files[owner].seeds.end(),
                        std::back_inserter(missing));
  }
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end());
    std::string shards;
    uint64_t absent = 0;
    for (uint64_t index = 0; index < first.shard_count; ++index) absent += (*by_shard)[index] == files.size();
    if (absent > 0) {
      shards = " (shards without a file: " + std::to_string(absent) + " of " + std::to_string(first.shard_count) + ")";
    }
    return "sweep --merge: seeds " + std::to_string(first.seed_lo) + "-" + std::to_string(first.seed_hi) +
           ": seeds missing: " + seed_list(missing) + shards;
  }
  // Each summary counts its file's lines.
  for (const ShardFile& f : files) {
    if (f.summary_seeds != f.seeds.size()) {
      return at_line(f.path, f.summary_line) + "summary.seeds is " + std::to_string(f.summary_seeds) + ", but the file has " +
             std::to_string(f.seeds.size()) + " seed lines";
    }
    if (f.summary_failed != f.failing) {
      return at_line(f.path, f.summary_line) + "summary.failed is " + std::to_string(f.summary_failed) +
             ", but the file has " + std::to_string(f.failing) + " failing seed lines";
    }
  }
  return "";
}

// A checked seed line as the text mode prints it.
SweepSeedLine text_line(const rapidjson::Value& v, const SweepIdentity& id) {
  SweepSeedLine l;
  l.seed = v["seed"].GetUint64();
  l.pass = v["pass"].GetBool();
  l.spot = id.spot_every > 0 && mix64(l.seed) % id.spot_every == 0;
  l.digest = v["digest"].GetString();
  l.wall_ms = v.HasMember("error") && l.digest.empty() ? "" : ms3(ms_to_ns(v["wall_ms"].GetDouble()));
  for (const rapidjson::Value& f : v["failed"].GetArray()) l.failed.push_back(f.GetString());
  l.rerun = v["rerun"].GetString();
  if (v.HasMember("error")) l.error = v["error"].GetString();
  return l;
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

}  // namespace

int sweep_merge(const SweepFlags& flags) {
  std::vector<ShardFile> files(flags.merge_files.size());
  uint64_t total_seeds = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    files[i].path = flags.merge_files[i];
    const std::string error = first_pass(&files[i], &total_seeds);
    if (!error.empty()) return input_error(error);
  }
  std::vector<size_t> by_shard;
  if (const std::string error = check_together(files, &by_shard); !error.empty()) return input_error(error);

  FILE* out = stdout;
  if (!flags.output.empty()) {
    struct stat st {};
    if (::stat(flags.output.c_str(), &st) == 0) {
      for (const ShardFile& f : files) {
        if (same_file(st, f.st)) return input_error("--output " + flags.output + ": is the input " + f.path);
      }
    }
    out = std::fopen(flags.output.c_str(), "w");
    if (out == nullptr) return input_error("--output " + flags.output + ": " + std::strerror(errno));
  }
  bool write_failed = false;
  auto emit = [&](const std::string& text) {
    if (write_failed) return;
    if (std::fputs(text.c_str(), out) < 0) {
      std::fprintf(stderr, "herd: sweep --merge: cannot write the results: %s\n", std::strerror(errno));
      write_failed = true;
    }
  };

  SweepIdentity id = files[0].id;
  id.shard_index = 0;
  id.shard_count = 1;
  SweepTotals totals;
  for (const ShardFile& f : files) totals.wall_ns += f.wall_ns;
  const std::string how = "merged from " + std::to_string(files.size()) + (files.size() == 1 ? " file" : " files");
  if (!flags.json) emit(sweep_header_text(id, total_seeds, how));

  // Second pass: the seeds in order, each from its shard's file.
  std::vector<std::unique_ptr<std::ifstream>> streams(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    streams[i] = std::make_unique<std::ifstream>(files[i].path, std::ios::binary);
    if (!*streams[i]) return input_error(files[i].path + ": cannot read: " + std::strerror(errno));
  }
  std::vector<uint64_t> line_of(files.size(), 0);
  const uint64_t count = files[0].id.shard_count;
  std::string line;
  for (uint64_t seed = id.seed_lo;; ++seed) {
    const size_t i = by_shard[seed % count];
    ++line_of[i];
    rapidjson::Document d;
    if (read_line(*streams[i], kSweepLineMax, &line) == ReadLine::kOk) d.Parse(line.data(), line.size());
    if (line_of[i] >= files[i].summary_line || d.HasParseError() || !d.IsObject() || !check_seed_line(d).empty() ||
        d["seed"].GetUint64() != seed) {
      return input_error(at_line(files[i].path, line_of[i]) + "changed while it was merged (expected seed " +
                         std::to_string(seed) + ")");
    }
    if (!d["pass"].GetBool()) totals.failing.push_back({seed, d["rerun"].GetString()});
    for (const rapidjson::Value& c : d["checks"].GetArray()) {
      if (std::string_view(c["name"].GetString()) != "deterministic") continue;
      ++totals.spot_checked;
      totals.spot_disagreed += !c["pass"].GetBool();
    }
    emit(flags.json ? line + "\n" : sweep_seed_text(text_line(d, id)));
    if (seed == id.seed_hi) break;
  }
  totals.seeds = total_seeds;
  emit(flags.json ? sweep_summary_json(id, totals) : sweep_summary_text(totals, how));
  if (std::fflush(out) != 0 && !write_failed) {
    std::fprintf(stderr, "herd: sweep --merge: cannot write the results: %s\n", std::strerror(errno));
    write_failed = true;
  }
  if (out != stdout && std::fclose(out) != 0 && !write_failed) {
    std::fprintf(stderr, "herd: --output %s: %s\n", flags.output.c_str(), std::strerror(errno));
    write_failed = true;
  }
  if (write_failed) return 1;
  return totals.failing.empty() ? 0 : 1;
}

}  // namespace herd
