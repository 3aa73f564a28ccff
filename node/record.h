// A client's location record and the table of the newest record per client.
// A record is the AT line exactly as its origin server produced it, kept in one heap
// block with the offsets of its fields: a stored record costs one allocation, and
// the table one pointer-sized slot (memory per record is a target: issue 6).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace herd {

// The fields of an AT line, as views into it: "AT <origin> <diff> <client>
// <location> <time>". Parsing validates every field; nothing is copied.
struct AtFields {
  std::string_view line, origin, client, location, time_text;
  int64_t time_ns = 0;
};
// Origin names and locations longer than kAtPartBytesMax are not a server's.
constexpr size_t kAtPartBytesMax = 65535;
std::optional<AtFields> parse_at_line(std::string_view line);

class Record {
 public:
  Record() = default;  // An empty record: only a free table slot is one.
  static std::optional<Record> from_at_line(std::string_view at_line);
  explicit Record(const AtFields& fields);  // Copies the line into one block.

  std::string_view at_line() const { return view(0, block_->line_len); }
  std::string_view origin() const { return view(3, block_->origin_len); }
  std::string_view client() const { return view(block_->client_at, block_->client_len); }
  std::string_view location() const { return view(block_->location_at, block_->location_len); }
  std::string_view time_text() const {
    uint32_t at = block_->location_at + block_->location_len + 1;
    return view(at, block_->line_len - at);
  }
  int64_t time_ns() const { return block_->time_ns; }
  uint32_t client_hash() const { return block_->client_hash; }

  // PROTOCOL.md's total order: (client time in ns, origin name, location bytes).
  bool newer_than(const Record& other) const;

 private:
  friend class RecordTable;
  struct Block {  // 32 bytes, then the line's bytes.
    int64_t time_ns;
    uint32_t line_len, client_at, client_len, location_at;
    uint32_t client_hash;  // Kept so the table grows without rehashing the bytes.
    uint16_t location_len, origin_len;
    const char* chars() const { return reinterpret_cast<const char*>(this + 1); }
  };
  struct Free {
    void operator()(Block* b) const { ::operator delete(b); }
  };
  // The line bytes a block made for a line of `line_len` bytes holds: rounded up to
  // what the allocator hands out anyway (16-byte chunks with an 8-byte header), so a
  // newer line of about the same size is written in place, at no cost in memory.
  static size_t line_room(size_t line_len) { return ((sizeof(Block) + line_len + 8 + 15) & ~size_t{15}) - 8 - sizeof(Block); }
  // Writes `fields` over this record's block when it has room; false otherwise.
  bool overwrite(const AtFields& fields);
  std::string_view view(uint32_t at, uint32_t len) const {
    return std::string_view(block_->chars() + at, len);
  }
  std::unique_ptr<Block, Free> block_;
};

// True when `a` is newer than `b` under PROTOCOL.md's total order.
bool newer(const AtFields& a, const Record& b);

// Hashes for the table's sync digests (node/sync.h): a client's 64-bit hash, the
// 32-bit hash that tells records of equal time apart, and a record's digest, which
// covers everything the total order looks at.
uint64_t client_hash64(std::string_view client);
uint32_t tie_hash(std::string_view origin, std::string_view location);
uint64_t record_digest(std::string_view client, int64_t time_ns, std::string_view origin,
                       std::string_view location);

// The newest record per client, at most `max_records` clients and `max_bytes` bytes,
// a record costing record_cost() (its AT line and kRecordOverheadBytes: the block's
// header and its share of the slot array). At either bound a record of a new client
// is refused (kFull, kFullBytes); so is a newer record of a known client that would
// take the table past max_bytes (a record may grow: its location and origin are up
// to 64 KiB each). Open addressing with
// linear probing over a power-of-two array of records; records are never removed
// one by one (only clear()), so no tombstones are needed.
//
// The table also keeps, incrementally, a digest of its records in each of 256
// buckets (a client's bucket is the top byte of its hash): the XOR of their
// record_digest()s and their count. Two tables hold the same records exactly when
// (barring a 64-bit collision) every bucket agrees; the sync protocol compares them.
constexpr size_t kRecordOverheadBytes = 48;
inline size_t record_cost(size_t at_line_bytes) { return at_line_bytes + kRecordOverheadBytes; }

class RecordTable {
 public:
  static constexpr int kBuckets = 256;
  explicit RecordTable(size_t max_records, size_t max_bytes = SIZE_MAX)
      : max_records_(max_records), max_bytes_(max_bytes) {}

  enum class Offer { kStored, kStale, kFull, kFullBytes };
  // Stores the record when it is newer than the client's current one (or the client
  // is new and the table has room). Allocates only when it stores.
  Offer offer(const AtFields& fields);
  Offer offer(Record record);

  const Record* find(std::string_view client) const;
  size_t size() const { return size_; }
  size_t max_records() const { return max_records_; }
  size_t bytes() const { return bytes_; }  // The sum of the records' record_cost().
  size_t max_bytes() const { return max_bytes_; }
  void clear();

  // Visits every record in client-id byte order (never hash order: determinism).
  void for_each_sorted(const std::function<void(const Record&)>& visit) const;
  // Visits the records whose bucket is marked in `buckets` (kBuckets flags), in slot
  // order: deterministic for a given sequence of stores, which is all sync needs.
  void for_each_in(const std::vector<char>& buckets,
                   const std::function<void(const Record&)>& visit) const;

  static uint32_t hash(std::string_view client);
  static int bucket_of(uint32_t client_hash) { return static_cast<int>(client_hash >> 24); }
  uint64_t bucket_digest(int bucket) const { return digests_.empty() ? 0 : digests_[bucket].hash; }
  uint64_t bucket_count(int bucket) const { return digests_.empty() ? 0 : digests_[bucket].count; }
  // A digest of every bucket: equal tables have equal roots.
  uint64_t root_digest() const;

 private:
  struct Digest {
    uint64_t hash = 0;
    uint64_t count = 0;
  };
  size_t slot_of(std::string_view client, uint32_t h) const;  // Match, or the empty slot.
  void grow();
  // Takes `out` (may be empty) out of its bucket's digest and puts `in` into it.
  void account(const Record* out, const Record& in);

  // Whether `in` may take the place of `out` (empty for a new client) within the
  // bounds; kStored when so.
  Offer room_for(const Record* out, size_t in_line_bytes) const;

  size_t max_records_;
  size_t max_bytes_;
  size_t size_ = 0;
  size_t bytes_ = 0;
  std::vector<Record> slots_;  // Empty records (null blocks) are free slots.
  std::vector<Digest> digests_;  // kBuckets, allocated with the first record.
};

}  // namespace herd
