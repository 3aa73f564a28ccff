#include "sim/cli/scenario_file.h"

#include "net/files.h"

namespace herd {

Result<Scenario> load_scenario(const std::string& path, std::optional<uint64_t> max_memory_mb) {
  Result<std::string> text = read_text_file(path);
  if (!text.ok()) return Error{text.error()};
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  return parse_scenario(text.value(), path, base_dir, load_topology, max_memory_mb);
}

}  // namespace herd
