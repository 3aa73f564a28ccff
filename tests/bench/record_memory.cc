// Memory per stored record: fills one herd::RecordTable (node/record.h), as one
// server holds it, with N realistic records (distinct clients, AT lines as the
// bench's IAMATs produce them) and reports the heap bytes in use (mallinfo2) and
// the resident set growth per record. The target is <= 200 bytes per record per
// server at 1,000,000 clients.
//
//   record_memory [--records N]    (default 1000000)
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "node/record.h"

namespace {

// Small chunks in use plus mmapped ones (the hash table's bucket array is one).
size_t heap_in_use() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

size_t rss_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// "AT Riley +0.000012345 b1a2b3-123456 +34.068930-118.445127 1700000000.000123456",
// as long as the live bench's records.
std::string at_line(long i) {
  static const char* const kServers[] = {"Riley", "Jaquez", "Juzang", "Campbell", "Bernard"};
  char buf[160];
  std::snprintf(buf, sizeof buf, "AT %s +0.%09ld b1a2b3-%ld +34.%06ld-118.%06ld 1700000000.%09ld",
                kServers[i % 5], 12345 + i % 1000, i, i % 1000000, (i * 7) % 1000000, i);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  long n = 1'000'000;
  if (argc == 3 && std::strcmp(argv[1], "--records") == 0) n = std::atol(argv[2]);
  if (n <= 0) {
    std::fprintf(stderr, "usage: record_memory [--records N]\n");
    return 2;
  }
  size_t line_bytes = 0;
  size_t heap0 = heap_in_use(), rss0 = rss_bytes();
  herd::RecordTable table(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) {
    std::string line = at_line(i);
    line_bytes += line.size();
    auto record = herd::Record::from_at_line(std::move(line));
    if (!record || table.offer(std::move(*record)) != herd::RecordTable::Offer::kStored) {
      std::fprintf(stderr, "record_memory: record %ld not stored\n", i);
      return 1;
    }
  }
  size_t heap1 = heap_in_use(), rss1 = rss_bytes();
  double per_heap = static_cast<double>(heap1 - heap0) / static_cast<double>(n);
  double per_rss = static_cast<double>(rss1 - rss0) / static_cast<double>(n);
  std::printf("record_memory: %ld records, AT line %.1f bytes on average, sizeof(Record) %zu\n",
              n, static_cast<double>(line_bytes) / static_cast<double>(n), sizeof(herd::Record));
  std::printf("record_memory: heap in use %.1f bytes/record, RSS growth %.1f bytes/record "
              "(target <= 200)\n", per_heap, per_rss);
  std::printf("{\"records\": %ld, \"heap_bytes_per_record\": %.1f, "
              "\"rss_bytes_per_record\": %.1f}\n",
              n, per_heap, per_rss);
  return table.size() == static_cast<size_t>(n) ? 0 : 1;
}
