#include "sim/cli/serve_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "net/address.h"

namespace herd {
namespace {

Result<bool> check_log_dir(const std::string& path) {
  const std::string flag = "--log-dir " + path + ": ";
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    const std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error{flag + "cannot create " + prefix + ": " + std::strerror(errno)};
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Error{flag + std::strerror(errno)};
  if (!S_ISDIR(st.st_mode)) return Error{flag + "not a directory"};
  if (access(path.c_str(), W_OK | X_OK) != 0) {
    return Error{flag + "cannot write: " + std::strerror(errno)};
  }
  return true;
}

}  // namespace

Result<bool> check_serve_setup(const ServeOptions& options, const Topology& topology,
                               const std::vector<std::string>& hosted) {
  if (options.host.log_level != LogLevel::kOff) {  // Off: no directory is made or used.
    Result<bool> dir = check_log_dir(options.host.log_dir);
    if (!dir.ok()) return dir;
  }
  // The hosted servers listen at their addresses and dial their neighbours'.
  std::set<std::string> names;
  for (const std::string& name : hosted) {
    names.insert(name);
    for (const std::string& peer : topology.neighbours(name)) names.insert(peer);
  }
  std::set<std::string> resolved;
  for (const TopologyNode& node : topology.nodes) {
    if (names.count(node.name) == 0) continue;
    const std::string& host = options.host.host.empty() ? node.host : options.host.host;
    if (!resolved.insert(host).second) continue;
    Result<struct sockaddr_storage> address = resolve_address(host, 0);
    if (address.ok()) continue;
    if (!options.host.host.empty()) return Error{"--host " + host + ": " + address.error()};
    return Error{options.topology_path + ": server " + node.name + ": " + address.error()};
  }
  return true;
}

}  // namespace herd
