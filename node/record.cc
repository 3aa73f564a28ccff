#include "node/record.h"

#include <algorithm>
#include <vector>

#include "node/protocol.h"

namespace herd {
namespace {

// "+0.263873386": a sign, digits, '.', nine digits.
bool valid_diff(std::string_view diff) {
  if (diff.size() < 12 || (diff[0] != '+' && diff[0] != '-')) return false;
  size_t dot = diff.find('.');
  if (dot == std::string_view::npos || dot < 2 || diff.size() - dot - 1 != 9) return false;
  for (size_t i = 1; i < diff.size(); ++i) {
    if (i != dot && (diff[i] < '0' || diff[i] > '9')) return false;
  }
  return true;
}

}  // namespace

std::optional<Record> Record::from_at_line(std::string at_line) {
  if (at_line.size() > UINT32_MAX) return std::nullopt;
  std::vector<std::string_view> f = split_fields(at_line, 6);
  if (f.size() != 6 || f[0] != "AT" || !valid_diff(f[2])) return std::nullopt;
  if (!parse_location(f[4])) return std::nullopt;
  std::optional<int64_t> t = parse_time_ns(f[5]);
  if (!t) return std::nullopt;
  Record r;
  auto at = [&](std::string_view v) { return static_cast<uint32_t>(v.data() - at_line.data()); };
  auto len = [](std::string_view v) { return static_cast<uint32_t>(v.size()); };
  r.origin_at_ = at(f[1]), r.origin_len_ = len(f[1]);
  r.client_at_ = at(f[3]), r.client_len_ = len(f[3]);
  r.location_at_ = at(f[4]), r.location_len_ = len(f[4]);
  r.time_at_ = at(f[5]), r.time_len_ = len(f[5]);
  r.time_ns_ = *t;
  r.line_ = std::move(at_line);  // Offsets stay valid: they are relative.
  return r;
}

bool Record::newer_than(const Record& other) const {
  if (time_ns_ != other.time_ns_) return time_ns_ > other.time_ns_;
  if (origin() != other.origin()) return origin() > other.origin();
  return location() > other.location();
}

size_t RecordTable::Hash::operator()(std::string_view client) const {
  return std::hash<std::string_view>{}(client);
}

RecordTable::Offer RecordTable::offer(Record record) {
  auto it = set_.find(record.client());
  if (it == set_.end()) {
    if (set_.size() >= max_records_) return Offer::kFull;
    set_.insert(std::move(record));
    return Offer::kStored;
  }
  if (!record.newer_than(*it)) return Offer::kStale;
  // Set elements are const: swap the value inside its node, which keeps the key.
  auto node = set_.extract(it);
  node.value() = std::move(record);
  set_.insert(std::move(node));
  return Offer::kStored;
}

const Record* RecordTable::find(std::string_view client) const {
  auto it = set_.find(client);
  return it == set_.end() ? nullptr : &*it;
}

void RecordTable::for_each_sorted(const std::function<void(const Record&)>& visit) const {
  std::vector<const Record*> all;
  all.reserve(set_.size());
  for (const Record& r : set_) all.push_back(&r);
  std::sort(all.begin(), all.end(),
            [](const Record* a, const Record* b) { return a->client() < b->client(); });
  for (const Record* r : all) visit(*r);
}

}  // namespace herd
