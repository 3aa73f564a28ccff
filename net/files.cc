#include "net/files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace herd {
namespace {

Error read_error(const std::string& path, const std::string& why) {
  return Error{path + ": cannot read: " + why};
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return read_error(path, std::strerror(errno));
  std::string out;
  char buf[64 * 1024];
  // Reads up to one byte past the limit rather than trusting the file's size,
  // which a pipe or /proc file does not report.
  while (out.size() <= kTextFileBytesMax) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return read_error(path, std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (out.size() > kTextFileBytesMax) {
    return read_error(path, "larger than " + std::to_string(kTextFileBytesMax) + " bytes");
  }
  return out;
}

Result<Topology> load_topology(const std::string& path) {
  Result<std::string> text = read_text_file(path);
  if (!text.ok()) return Error{text.error()};
  return parse_topology(text.value(), path);
}

}  // namespace herd
