// Reading one line of an untrusted file without holding more than a bound of it
// (traces, a sweep's lines): shared by replay and `herd report`.
#pragma once
#include <cstddef>
#include <istream>
#include <string>

namespace herd {

enum class ReadLine { kOk, kEof, kTooLong };

// One line into *line, without its '\n', reading no more than `max` bytes of it:
// kTooLong past that (the rest of the line unread), kEof at the end of the input.
inline ReadLine read_line(std::istream& in, size_t max, std::string* line) {
  line->clear();
  char buf[64 * 1024];
  for (;;) {
    in.get(buf, sizeof buf, '\n');
    const size_t n = static_cast<size_t>(in.gcount());
    if (line->size() + n > max) return ReadLine::kTooLong;
    line->append(buf, n);
    if (in.eof()) return line->empty() ? ReadLine::kEof : ReadLine::kOk;
    if (in.fail()) in.clear();  // An empty read (the next char is '\n').
    if (in.peek() == '\n') {
      in.get();
      return ReadLine::kOk;
    }
  }
}

}  // namespace herd
