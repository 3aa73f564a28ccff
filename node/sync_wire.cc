#include "node/sync_wire.h"

#include <charconv>

namespace herd {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out.push_back(kHex[(v >> (4 * i)) & 15]);
}

std::optional<uint64_t> hex_of(std::string_view text, size_t digits) {
  if (text.size() != digits) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

template <class T>
std::optional<T> decimal_of(std::string_view text) {
  T v{};
  if (text.empty() || text.size() > 20 || (text[0] == '-' && !std::is_signed_v<T>)) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<int> bucket_of(std::string_view text) {
  std::optional<int> b = decimal_of<int>(text);
  if (!b || *b < 0 || *b >= kSyncBuckets) return std::nullopt;
  return b;
}

// Splits on single spaces (the protocol writes exactly one); empty parts are errors.
std::optional<std::vector<std::string_view>> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at <= line.size()) {
    size_t end = line.find(' ', at);
    if (end == std::string_view::npos) end = line.size();
    if (end == at) return std::nullopt;
    out.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// "a:b:c" into its three parts.
bool three(std::string_view text, std::string_view* a, std::string_view* b, std::string_view* c) {
  size_t one = text.find(':');
  if (one == std::string_view::npos) return false;
  size_t two = text.find(':', one + 1);
  if (two == std::string_view::npos || text.find(':', two + 1) != std::string_view::npos) return false;
  *a = text.substr(0, one), *b = text.substr(one + 1, two - one - 1), *c = text.substr(two + 1);
  return true;
}

std::string head(const char* kind, uint64_t sid) {
  std::string out = "SYNC ";
  out += kind;
  out += ' ';
  out += std::to_string(sid);
  return out;
}

bool parse_list(SyncMessage& m, const std::vector<std::string_view>& w, size_t from) {
  for (size_t i = from; i < w.size(); ++i) {
    std::string_view a, b, c;
    switch (m.kind) {
      case SyncKind::kSums: {
        if (!three(w[i], &a, &b, &c)) return false;
        auto bucket = bucket_of(a);
        auto count = decimal_of<uint64_t>(b);
        auto hash = hex_of(c, 16);
        if (!bucket || !count || !hash) return false;
        m.sums.push_back({*bucket, *count, *hash});
        break;
      }
      case SyncKind::kKeys: {
        if (!three(w[i], &a, &b, &c)) return false;
        auto client = hex_of(a, 16);
        auto time = decimal_of<int64_t>(b);
        auto tie = hex_of(c, 8);
        if (!client || !time || !tie) return false;
        m.keys.push_back({*client, *time, static_cast<uint32_t>(*tie)});
        break;
      }
      case SyncKind::kDiff: {
        auto bucket = bucket_of(w[i]);
        if (!bucket) return false;
        m.buckets.push_back(*bucket);
        break;
      }
      case SyncKind::kGet: {
        auto hash = hex_of(w[i], 16);
        if (!hash) return false;
        m.hashes.push_back(*hash);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

std::optional<SyncMessage> parse_sync(std::string_view line) {
  constexpr std::string_view kRecHead = "SYNC REC ";
  SyncMessage m;
  if (line.starts_with(kRecHead)) {  // The AT line has spaces of its own.
    size_t space = line.find(' ', kRecHead.size());
    if (space == std::string_view::npos) return std::nullopt;
    auto sid = decimal_of<uint64_t>(line.substr(kRecHead.size(), space - kRecHead.size()));
    if (!sid || space + 1 >= line.size()) return std::nullopt;
    m.kind = SyncKind::kRec, m.sid = *sid, m.at_line = line.substr(space + 1);
    return m;
  }
  std::optional<std::vector<std::string_view>> w = words(line);
  if (!w || w->size() < 3 || (*w)[0] != "SYNC") return std::nullopt;
  auto sid = decimal_of<uint64_t>((*w)[2]);
  if (!sid) return std::nullopt;
  m.sid = *sid;
  const std::string_view kind = (*w)[1];
  const size_t n = w->size();
  if (kind == "ROOT" && n == 5) {
    auto count = decimal_of<uint64_t>((*w)[3]);
    auto hash = hex_of((*w)[4], 16);
    if (!count || !hash) return std::nullopt;
    m.kind = SyncKind::kRoot, m.count = *count, m.hash = *hash;
    return m;
  }
  if (kind == "DONE" && n == 3) {
    m.kind = SyncKind::kDone;
    return m;
  }
  if (kind == "END" && n == 4 && ((*w)[3] == "0" || (*w)[3] == "1")) {
    m.kind = SyncKind::kEnd, m.more = (*w)[3] == "1";
    return m;
  }
  size_t from = 3;
  if (kind == "SUMS") {
    m.kind = SyncKind::kSums;
  } else if (kind == "KEYS" && n >= 5) {
    auto bucket = bucket_of((*w)[3]);
    if (!bucket) return std::nullopt;
    m.kind = SyncKind::kKeys, m.bucket = *bucket, from = 4;
  } else if (kind == "DIFF") {
    m.kind = SyncKind::kDiff;
  } else if (kind == "GET" && n >= 4) {
    m.kind = SyncKind::kGet;
  } else {
    return std::nullopt;
  }
  if (!parse_list(m, *w, from)) return std::nullopt;
  return m;
}

std::string sync_root(uint64_t sid, uint64_t count, uint64_t hash) {
  std::string out = head("ROOT", sid) + " " + std::to_string(count) + " ";
  append_hex(out, hash, 16);
  return out;
}

std::string sync_done(uint64_t sid) { return head("DONE", sid); }

std::string sync_sums(uint64_t sid, const std::vector<SyncSum>& sums) {
  std::string out = head("SUMS", sid);
  for (const SyncSum& s : sums) {
    out += ' ' + std::to_string(s.bucket) + ':' + std::to_string(s.count) + ':';
    append_hex(out, s.hash, 16);
  }
  return out;
}

std::string sync_keys(uint64_t sid, int bucket, const std::vector<SyncKey>& keys) {
  std::string out = head("KEYS", sid) + " " + std::to_string(bucket);
  for (const SyncKey& k : keys) {
    out += ' ';
    append_hex(out, k.client_hash, 16);
    out += ':' + std::to_string(k.time_ns) + ':';
    append_hex(out, k.tie_hash, 8);
  }
  return out;
}

std::string sync_diff(uint64_t sid, const std::vector<int>& buckets) {
  std::string out = head("DIFF", sid);
  for (int b : buckets) out += ' ' + std::to_string(b);
  return out;
}

std::string sync_rec(uint64_t sid, std::string_view at_line) {
  std::string out = head("REC", sid) + " ";
  out.append(at_line);
  return out;
}

std::string sync_get(uint64_t sid, const std::vector<uint64_t>& hashes) {
  std::string out = head("GET", sid);
  for (uint64_t h : hashes) {
    out += ' ';
    append_hex(out, h, 16);
  }
  return out;
}

std::string sync_end(uint64_t sid, bool more) { return head("END", sid) + (more ? " 1" : " 0"); }

}  // namespace herd
