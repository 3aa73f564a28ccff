// A client's location record and the table of the newest record per client.
// A record is the AT line exactly as its origin server produced it; every other
// field is a view into that line, so a record costs one allocation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace herd {

class Record {
 public:
  // Parses "AT <origin> <diff> <client> <location> <time>" (single spaces, as
  // servers produce it). Returns nothing when a field is malformed.
  static std::optional<Record> from_at_line(std::string at_line);

  std::string_view at_line() const { return line_; }
  std::string_view origin() const { return part(origin_at_, origin_len_); }
  std::string_view client() const { return part(client_at_, client_len_); }
  std::string_view location() const { return part(location_at_, location_len_); }
  std::string_view time_text() const { return part(time_at_, time_len_); }
  int64_t time_ns() const { return time_ns_; }

  // PROTOCOL.md's total order: (client time in ns, origin name, location bytes).
  bool newer_than(const Record& other) const;

 private:
  Record() = default;
  std::string_view part(uint32_t at, uint32_t len) const {
    return std::string_view(line_).substr(at, len);
  }
  std::string line_;
  int64_t time_ns_ = 0;
  uint32_t origin_at_ = 0, origin_len_ = 0;
  uint32_t client_at_ = 0, client_len_ = 0;
  uint32_t location_at_ = 0, location_len_ = 0;
  uint32_t time_at_ = 0, time_len_ = 0;
};

// The newest record per client, at most `max_records` clients.
class RecordTable {
 public:
  explicit RecordTable(size_t max_records) : max_records_(max_records) {}

  enum class Offer { kStored, kStale, kFull };
  // Stores `record` when it is newer than the client's current one (or the client
  // is new and the table has room).
  Offer offer(Record record);

  const Record* find(std::string_view client) const;
  size_t size() const { return set_.size(); }
  size_t max_records() const { return max_records_; }
  void clear() { set_.clear(); }

  // Visits every record in client-id byte order (never hash order: determinism).
  void for_each_sorted(const std::function<void(const Record&)>& visit) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view client) const;
    size_t operator()(const Record& r) const { return (*this)(r.client()); }
  };
  struct Eq {
    using is_transparent = void;
    static std::string_view key(std::string_view s) { return s; }
    static std::string_view key(const Record& r) { return r.client(); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const { return key(a) == key(b); }
  };
  size_t max_records_;
  std::unordered_set<Record, Hash, Eq> set_;
};

}  // namespace herd
