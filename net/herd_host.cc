#include "node/check.h"
#include "net/herd_host.h"

#include "crypto/sodium_mac.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "net/address.h"

namespace herd {

struct HerdHost::SignalBox {
  uv_signal_t handle;
  HerdHost* owner;
};

Result<bool> make_directories(const std::string& path) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return Error{"cannot create log directory " + path + ": " + strerror(errno)};
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{"cannot create log directory " + path + ": not a directory"};
  }
  return true;
}

HerdHost::HerdHost(uv_loop_t* loop, Topology topology, std::vector<std::string> hosted,
                   HostOptions options)
    : loop_(loop),
      topology_(std::move(topology)),
      hosted_(std::move(hosted)),
      options_(std::move(options)),
      places_(std::make_unique<PlacesClient>(loop, options_.places)) {
  if (options_.faults) {
    HERD_ASSERT(hosted_.size() == topology_.nodes.size());
    faults_ = std::make_unique<LiveFaults>(loop_, fault_topology(topology_), *options_.faults,
                                           [this](std::string_view name) { return server(name); });
  }
  for (size_t i = 0; i < topology_.nodes.size(); ++i) {
    const TopologyNode& node = topology_.nodes[i];
    if (std::find(hosted_.begin(), hosted_.end(), node.name) == hosted_.end()) continue;
    ServerHostConfig config;
    config.node.name = node.name;
    config.node.neighbours = topology_.neighbours(node.name);
    config.node.places_api = options_.places.api;
    config.node.seed = options_.seed;
    config.node.sync = options_.sync;
    config.node.link = options_.link;
    if (options_.herd_key) config.node.auth = PeerAuth{&sodium_mac(), *options_.herd_key};
    config.node.max_record_bytes = options_.max_record_bytes;
    config.node.max_clock_skew_ns = options_.max_clock_skew_ns;
    config.node_index = static_cast<int>(servers_.size());
    config.log_path = options_.log_dir + "/" + node.name + ".log";
    config.log_max_bytes = options_.log_max_bytes;
    config.log_level = options_.log_level;
    config.max_clients = options_.max_clients;
    config.link_max_queued_bytes = options_.link_queue_bytes;
    config.client_idle_ms = options_.client_idle_ms;
    config.faults = faults_.get();
    servers_.push_back(std::make_unique<ServerHost>(loop_, std::move(config), places_.get()));
    servers_.back()->set_on_peer_change([this] { check_ready(); });
  }
  HERD_ASSERT(servers_.size() == hosted_.size());
}

HerdHost::~HerdHost() {
  HERD_ASSERT(places_closed_);
  HERD_ASSERT(signals_.empty());
}

int HerdHost::listen_port(int node_index) const {
  if (options_.port_base >= 0) return options_.port_base == 0 ? 0 : options_.port_base + node_index;
  return topology_.nodes[node_index].port;
}

int HerdHost::peer_listen_port(int node_index) const {
  const TopologyNode& node = topology_.nodes[node_index];
  if (options_.peer_port_offset == 0 && node.peer_port == 0) return -1;
  if (options_.port_base == 0) return 0;
  if (options_.peer_port_offset > 0) return listen_port(node_index) + options_.peer_port_offset;
  return node.peer_port;
}

std::string HerdHost::node_host(const TopologyNode& node) const {
  return options_.host.empty() ? node.host : options_.host;
}

ServerHost* HerdHost::server(std::string_view name) const {
  for (const auto& host : servers_) {
    if (host->name() == name) return host.get();
  }
  return nullptr;
}

Result<bool> HerdHost::start() {
  if (options_.log_level != LogLevel::kOff) {
    Result<bool> dirs = make_directories(options_.log_dir);
    if (!dirs.ok()) return dirs;
  }
  for (auto& host : servers_) {
    int index = topology_.index_of(host->name());
    const TopologyNode& node = topology_.nodes[index];
    Result<struct sockaddr_storage> address = resolve_address(node_host(node), listen_port(index));
    if (!address.ok()) return Error{node.name + ": " + address.error()};
    std::optional<struct sockaddr_storage> peer_address;
    if (int peer_port = peer_listen_port(index); peer_port >= 0) {
      Result<struct sockaddr_storage> resolved = resolve_address(node_host(node), peer_port);
      if (!resolved.ok()) return Error{node.name + ": " + resolved.error()};
      peer_address = resolved.value();
    }
    Result<bool> opened = host->open(address.value(), peer_address ? &*peer_address : nullptr);
    if (!opened.ok()) return Error{node.name + ": " + opened.error()};
  }
  if (faults_) faults_->log_start();
  Result<bool> console = open_console();
  if (!console.ok()) return console;
  Result<bool> pointed = point_links();
  if (!pointed.ok()) return pointed;
  for (auto& host : servers_) host->start();
  if (faults_ && options_.timeline_from_start) faults_->start_timeline();
  return true;
}

Result<bool> HerdHost::open_console() {
  if (options_.admin_port < 0 && !options_.stdin_console) return true;
  console_ = std::make_unique<Console>(
      loop_, [this](std::string_view line, std::string_view source) {
        return console_answer(line, source);
      });
  console_->set_idle_timeout(options_.client_idle_ms);
  if (options_.admin_port < 0) return true;
  // Off loopback, whoever reaches the port proves the herd secret (the command line
  // refuses such an address without one); on loopback the console is the machine's.
  Result<struct sockaddr_storage> address = resolve_address(options_.admin_host, 0);
  if (!address.ok()) return Error{"admin: " + address.error()};
  if (!is_loopback(reinterpret_cast<const struct sockaddr*>(&address.value()))) {
    HERD_ASSERT(options_.herd_key.has_value());
    console_->set_secret(*options_.herd_key);
  }
  return console_->listen(options_.admin_host, options_.admin_port);
  return true;
}

std::string HerdHost::console_answer(std::string_view line, std::string_view source) {
  if (faults_) return faults_->execute(line, source);
  return line.find_first_not_of(" \t\r") == std::string_view::npos
             ? ""
             : "error: this herd has no fault layer\n";
}

std::string HerdHost::admin_text() const {
  return console_ && console_->port() > 0 ? console_->listen_text() : "";
}

// Each link dials its neighbour where it really listens: the bound port of a
// hosted neighbour (port 0 means the kernel chose), else the configured one.
Result<bool> HerdHost::point_links() {
  for (auto& host : servers_) {
    for (const std::string& neighbour : topology_.neighbours(host->name())) {
      int index = topology_.index_of(neighbour);
      const TopologyNode& node = topology_.nodes[index];
      int port = peer_listen_port(index) >= 0 ? peer_listen_port(index) : listen_port(index);
      if (const ServerHost* hosted = server(neighbour)) port = hosted->peer_port();
      if (port == 0) {
        return Error{host->name() + ": neighbour " + neighbour +
                     " has no port (--port-base 0 needs every server hosted)"};
      }
      Result<struct sockaddr_storage> address = resolve_address(node_host(node), port);
      if (!address.ok()) {
        return Error{host->name() + ": neighbour " + neighbour + ": " + address.error()};
      }
      host->set_peer_address(neighbour, reinterpret_cast<struct sockaddr*>(&address.value()));
    }
  }
  return true;
}

bool HerdHost::links_up() const {
  for (const auto& host : servers_) {
    for (const std::string& neighbour : topology_.neighbours(host->name())) {
      if (server(neighbour) != nullptr && !host->peer_up(neighbour)) return false;
    }
  }
  return true;
}

void HerdHost::when_ready(std::function<void(bool complete)> ready) {
  ready_ = std::move(ready);
  if (links_up()) return finish_ready(true);
  ready_timer_ = std::make_unique<Timer>(loop_, [this] { finish_ready(false); });
  ready_timer_->start(options_.ready_timeout_ms);
}

void HerdHost::check_ready() {
  if (ready_ && links_up()) finish_ready(true);
}

void HerdHost::finish_ready(bool complete) {
  if (ready_timer_) ready_timer_.reset();  // Timer's destructor closes the handle.
  std::function<void(bool)> ready = std::move(ready_);
  ready_ = nullptr;
  if (stopping_) return;
  if (faults_) faults_->start_timeline();
  if (console_ && options_.stdin_console) console_->read_stdin();
  if (ready) ready(complete);
}

void HerdHost::handle_signals() {
  for (int signum : {SIGINT, SIGTERM}) {
    auto* box = new SignalBox;
    box->owner = this;
    uv_signal_init(loop_, &box->handle);
    box->handle.data = box;
    uv_signal_start(
        &box->handle,
        [](uv_signal_t* handle, int number) noexcept {
          auto* self = static_cast<SignalBox*>(handle->data)->owner;
          self->stop(number == SIGINT ? "SIGINT" : "SIGTERM");
        },
        signum);
    signals_.push_back(box);
  }
}

void HerdHost::stop(std::string_view why) {
  if (stopping_) return;
  stopping_ = true;
  ready_ = nullptr;
  ready_timer_.reset();
  for (SignalBox* box : signals_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&box->handle),
             [](uv_handle_t* handle) noexcept { delete static_cast<SignalBox*>(handle->data); });
  }
  signals_.clear();
  if (console_) console_->close();
  if (faults_) faults_->close();
  for (auto& host : servers_) host->close(why);
  places_->close([this] { places_closed_ = true; });
}

}  // namespace herd
