#include "node/check.h"
#include "node/record.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "node/hash.h"
#include "node/protocol.h"

namespace herd {
namespace {

// "+0.263873386": a sign, digits, '.', nine digits.
bool valid_diff(std::string_view diff) {
  if (diff.size() < 12 || diff.size() > 40 || (diff[0] != '+' && diff[0] != '-')) return false;
  size_t dot = diff.find('.');
  if (dot == std::string_view::npos || dot < 2 || diff.size() - dot - 1 != 9) return false;
  for (size_t i = 1; i < diff.size(); ++i) {
    if (i != dot && (diff[i] < '0' || diff[i] > '9')) return false;
  }
  return true;
}

int compare_key(int64_t a_ns, std::string_view a_origin, std::string_view a_loc,
                const Record& b) {
  if (a_ns != b.time_ns()) return a_ns < b.time_ns() ? -1 : 1;
  if (int c = a_origin.compare(b.origin())) return c;
  return a_loc.compare(b.location());
}

}  // namespace

std::optional<AtFields> parse_at_line(std::string_view line) {
  if (line.size() > UINT32_MAX / 2) return std::nullopt;
  Fields f = split_fields(line, 6);
  if (f.size() != 6 || f[0] != "AT" || !valid_diff(f[2])) return std::nullopt;
  if (!parse_location(f[4])) return std::nullopt;
  std::optional<int64_t> t = parse_time_ns(f[5]);
  if (!t) return std::nullopt;
  // Records are kept as single-space lines (as servers write them), so offsets can
  // be derived from lengths; anything else is not a server's AT line.
  if (f[5].data() + f[5].size() != line.data() + line.size() || line.substr(0, 3) != "AT ") {
    return std::nullopt;
  }
  size_t spaces = 0;
  for (char c : line) spaces += (c == ' ');
  if (spaces != 5 || f[1].size() > kAtPartBytesMax || f[4].size() > kAtPartBytesMax) {
    return std::nullopt;
  }
  return AtFields{line, f[1], f[3], f[4], f[5], *t};
}

std::optional<Record> Record::from_at_line(std::string_view at_line) {
  std::optional<AtFields> f = parse_at_line(at_line);
  if (!f) return std::nullopt;
  return Record(*f);
}

Record::Record(const AtFields& f) {
  void* memory = ::operator new(sizeof(Block) + line_room(f.line.size()));
  block_.reset(new (memory) Block);
  block_->line_len = static_cast<uint32_t>(f.line.size());  // Its room, for overwrite().
  const bool written = overwrite(f);
  HERD_ASSERT(written);
}

bool Record::overwrite(const AtFields& f) {
  Block* b = block_.get();
  const char* chars = b->chars();
  if (line_room(f.line.size()) > line_room(b->line_len) ||
      (f.line.data() < chars + line_room(b->line_len) && chars < f.line.data() + f.line.size())) {
    return false;  // No room, or the fields are this block's own bytes.
  }
  auto offset = [&](std::string_view v) { return static_cast<uint32_t>(v.data() - f.line.data()); };
  b->time_ns = f.time_ns;
  b->line_len = static_cast<uint32_t>(f.line.size());
  b->client_at = offset(f.client);
  b->client_len = static_cast<uint32_t>(f.client.size());
  b->location_at = offset(f.location);
  b->location_len = static_cast<uint16_t>(f.location.size());
  b->origin_len = static_cast<uint16_t>(f.origin.size());
  b->client_hash = RecordTable::hash(f.client);
  std::memcpy(reinterpret_cast<char*>(b + 1), f.line.data(), f.line.size());
  return true;
}

bool Record::newer_than(const Record& other) const {
  return compare_key(time_ns(), origin(), location(), other) > 0;
}

bool newer(const AtFields& a, const Record& b) {
  return compare_key(a.time_ns, a.origin, a.location, b) > 0;
}

uint64_t client_hash64(std::string_view client) {
  Hasher h;
  h.bytes(client);
  return h.value();
}

uint32_t tie_hash(std::string_view origin, std::string_view location) {
  Hasher h;
  h.text(origin);
  h.text(location);
  return static_cast<uint32_t>(h.value());
}

uint64_t record_digest(std::string_view client, int64_t time_ns, std::string_view origin,
                       std::string_view location) {
  Hasher h;
  h.text(client);
  h.i64(time_ns);
  h.text(origin);
  h.text(location);
  return h.value();
}

void RecordTable::account(const Record* out, const Record& in) {
  if (digests_.empty()) digests_.resize(kBuckets);
  Digest& d = digests_[static_cast<size_t>(bucket_of(in.client_hash()))];
  if (out != nullptr) {
    d.hash ^= record_digest(out->client(), out->time_ns(), out->origin(), out->location());
  } else {
    ++d.count;
  }
  d.hash ^= record_digest(in.client(), in.time_ns(), in.origin(), in.location());
}

uint64_t RecordTable::root_digest() const {
  Hasher h;
  h.u64(size_);
  for (const Digest& d : digests_) {
    h.u64(d.hash);
    h.u64(d.count);
  }
  return h.value();
}

uint32_t RecordTable::hash(std::string_view client) {
  // FNV-1a, then a final mix so the low bits (the slot index) depend on every byte.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : client) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

size_t RecordTable::slot_of(std::string_view client, uint32_t h) const {
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Record& r = slots_[i];
    if (!r.block_ || (r.block_->client_hash == h && r.client() == client)) return i;
  }
}

void RecordTable::grow() {
  std::vector<Record> old = std::move(slots_);
  slots_ = std::vector<Record>(old.empty() ? 16 : old.size() * 2);
  size_t mask = slots_.size() - 1;
  for (Record& r : old) {
    if (!r.block_) continue;
    size_t i = r.block_->client_hash & mask;
    while (slots_[i].block_) i = (i + 1) & mask;
    slots_[i] = std::move(r);
  }
}

RecordTable::Offer RecordTable::room_for(const Record* out, size_t in_line_bytes) const {
  if (out == nullptr && size_ >= max_records_) return Offer::kFull;
  const size_t in = record_cost(in_line_bytes);
  const size_t freed = out == nullptr ? 0 : record_cost(out->at_line().size());
  // A record that does not grow always fits where its older one was.
  if (in > freed && bytes_ - freed + in > max_bytes_) return Offer::kFullBytes;
  return Offer::kStored;
}

RecordTable::Offer RecordTable::offer(const AtFields& f) {
  // Keep the load at most one half, so probes stay short.
  if ((size_ + 1) * 2 > slots_.size()) grow();
  uint32_t h = hash(f.client);
  Record& slot = slots_[slot_of(f.client, h)];
  if (slot.block_) {
    if (!newer(f, slot)) return Offer::kStale;
    if (Offer room = room_for(&slot, f.line.size()); room != Offer::kStored) return room;
    // The old record's digest, taken before its bytes change.
    const uint64_t old_digest = record_digest(slot.client(), slot.time_ns(), slot.origin(), slot.location());
    bytes_ = bytes_ - record_cost(slot.at_line().size()) + record_cost(f.line.size());
    // Why in place: a client's newer line is most often the same size as its last.
    if (!slot.overwrite(f)) slot = Record(f);
    digests_[static_cast<size_t>(bucket_of(slot.client_hash()))].hash ^=
        old_digest ^ record_digest(slot.client(), slot.time_ns(), slot.origin(), slot.location());
    return Offer::kStored;
  }
  if (Offer room = room_for(nullptr, f.line.size()); room != Offer::kStored) return room;
  slot = Record(f);
  account(nullptr, slot);
  ++size_;
  bytes_ += record_cost(f.line.size());
  return Offer::kStored;
}

RecordTable::Offer RecordTable::offer(Record record) {
  HERD_ASSERT(record.block_);
  if ((size_ + 1) * 2 > slots_.size()) grow();
  Record& slot = slots_[slot_of(record.client(), record.client_hash())];
  const size_t line_bytes = record.at_line().size();
  if (slot.block_) {
    if (!record.newer_than(slot)) return Offer::kStale;
    if (Offer room = room_for(&slot, line_bytes); room != Offer::kStored) return room;
    account(&slot, record);
    bytes_ -= record_cost(slot.at_line().size());
  } else {
    if (Offer room = room_for(nullptr, line_bytes); room != Offer::kStored) return room;
    account(nullptr, record);
    ++size_;
  }
  bytes_ += record_cost(line_bytes);
  slot = std::move(record);
  return Offer::kStored;
}

const Record* RecordTable::find(std::string_view client) const {
  if (slots_.empty()) return nullptr;
  const Record& r = slots_[slot_of(client, hash(client))];
  return r.block_ ? &r : nullptr;
}

void RecordTable::clear() {
  slots_.clear();
  slots_.shrink_to_fit();
  digests_.clear();
  digests_.shrink_to_fit();
  size_ = 0;
  bytes_ = 0;
}

void RecordTable::for_each_in(const std::vector<char>& buckets,
                              const std::function<void(const Record&)>& visit) const {
  HERD_ASSERT(buckets.size() == kBuckets);
  for (const Record& r : slots_) {
    if (r.block_ && buckets[static_cast<size_t>(bucket_of(r.block_->client_hash))]) visit(r);
  }
}

void RecordTable::for_each_sorted(const std::function<void(const Record&)>& visit) const {
  std::vector<const Record*> all;
  all.reserve(size_);
  for (const Record& r : slots_) {
    if (r.block_) all.push_back(&r);
  }
  std::sort(all.begin(), all.end(),
            [](const Record* a, const Record* b) { return a->client() < b->client(); });
  for (const Record* r : all) visit(*r);
}

}  // namespace herd
