// Assertions for programmer errors, on in every build (TIGER_STYLE): HERD_ASSERT
// checks its condition also when NDEBUG is defined, and on failure prints the
// condition, file, line and function and aborts, as the standard assert does.
// Expected failures (bad input, a peer down) are values (node/result.h), never
// assertions.
#pragma once

// glibc's __assert_fail exists whatever NDEBUG says (only assert's macro goes away,
// and with it <assert.h>'s declaration), so it is declared here. GNU's attribute, not
// [[noreturn]]: clang accepts that one only on a first declaration, and <assert.h>
// may have come first.
extern "C" __attribute__((__noreturn__)) void __assert_fail(const char* assertion, const char* file,
                                                            unsigned int line, const char* function) noexcept;

#define HERD_ASSERT(condition) \
  (static_cast<bool>(condition) ? void(0) : __assert_fail(#condition, __FILE__, __LINE__, __func__))
