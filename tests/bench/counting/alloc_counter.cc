// Linked into build/bench/herd_counting only (the Makefile's bench part), never into
// build/herd: counts every heap allocation of the process, so `make bench` can report
// allocations per IAMAT at the herd (tests/bench/run_bench.sh).
//
// malloc, calloc and realloc are interposed (the executable's definitions win over
// libc's; they call glibc's __libc_* entry points), so the count covers libuv's,
// libcurl's and the C++ code's allocations alike: operator new, replaced here too,
// goes through malloc and is also counted on its own. A SIGUSR2 writes both counts to
// stderr, one line, with write() (async-signal-safe):
//
//   herd_counting: allocations 123456 new 120000
//
// The counters are relaxed atomics: every thread's allocations count, the log
// writer's threadpool included.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(size_t size) noexcept;
void* __libc_calloc(size_t n, size_t size) noexcept;
void* __libc_realloc(void* p, size_t size) noexcept;
void __libc_free(void* p) noexcept;
}

namespace {

std::atomic<unsigned long long> g_allocations{0};
std::atomic<unsigned long long> g_news{0};

// Appends the decimal digits of `v` at `out`; returns the end.
char* put_number(unsigned long long v, char* out) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

char* put_text(const char* text, char* out) {
  while (*text != '\0') *out++ = *text++;
  return out;
}

void report(int) {
  char line[128];
  char* out = put_text("herd_counting: allocations ", line);
  out = put_number(g_allocations.load(std::memory_order_relaxed), out);
  out = put_text(" new ", out);
  out = put_number(g_news.load(std::memory_order_relaxed), out);
  *out++ = '\n';
  ssize_t ignored = write(2, line, static_cast<size_t>(out - line));
  (void)ignored;
}

struct InstallReport {
  InstallReport() {
    struct sigaction sa = {};
    sa.sa_handler = report;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, nullptr);
  }
} install_report;

void* counted_new(size_t size) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

extern "C" {
void* malloc(size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(size_t n, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
void free(void* p) noexcept { __libc_free(p); }
}

void* operator new(size_t size) { return counted_new(size); }
void* operator new[](size_t size) { return counted_new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  g_news.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
