// The `herd` command line: a table of subcommands, each a function from its
// arguments to an exit status (0 ok, 1 a run-time failure, 2 a usage error).
// Later subcommands (sim, replay, bench) are rows of kCommands.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "net/files.h"
#include "net/herd_host.h"
#include "sim/cli/bench_cli.h"
#include "sim/cli/cli.h"
#include "sim/cli/admin_cli.h"
#include "sim/cli/compare_cli.h"
#include "sim/cli/live_run.h"
#include "sim/cli/report_cli.h"
#include "sim/cli/scenario_file.h"
#include "sim/cli/serve_checks.h"
#include "sim/cli/serve_fds.h"
#include "sim/cli/sim_cli.h"
#include "sim/cli/sweep_cli.h"
#include "sim/trace.h"
#include "crypto/sodium_mac.h"
#include "sim/cli/version.h"

namespace herd {
namespace {

using Args = std::vector<std::string>;

struct Command {
  const char* name;
  const char* usage;    // After "usage: herd ".
  const char* summary;  // One line for `herd --help`.
  int (*run)(const Args& args);
};

int run_command(const Args& args);
int node_command(const Args& args);
int help_command(const Args& args);

// Subcommands written as int f(argc, argv), argv starting after the command word.
template <int (*Main)(int, char**)>
int argv_command(const Args& args) {
  std::vector<std::string> copies(args);
  std::vector<char*> argv;
  for (std::string& arg : copies) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return Main(static_cast<int>(copies.size()), argv.data());
}

const Command kCommands[] = {
    {"run", "run [options]", "run every server of the topology in this process", run_command},
    {"node", "node NAME [options]", "run one server of the topology", node_command},
    {"sim", "sim SCENARIO [options]", "run a scenario in virtual time",
     argv_command<sim_command>},
    {"sweep", "sweep SCENARIO [options]", "run a scenario over a range of seeds, in worker processes",
     argv_command<sweep_command>},
    {"shrink", "shrink SCENARIO --seed N", "reduce a failing seed to a small scenario that fails the same way",
     argv_command<shrink_command>},
    {"explore", "explore SCENARIO [options]", "every delivery order of a small herd, checked (states hashed)",
     argv_command<explore_command>},
    {"replay", "replay TRACE [options]", "replay a recorded trace, byte for byte",
     argv_command<replay_command>},
    {"report", "report INPUT --html OUT.html", "an HTML report of a trace, a live run's logs or a sweep",
     argv_command<report_command>},
    {"compare", "compare A.json B.json", "two reports (sim, live) side by side with the differences",
     argv_command<compare_command>},
    {"admin", "admin [HOST:]PORT", "send a running herd's console the lines of stdin; print its answers",
     argv_command<admin_command>},
    {"bench", "bench [options]", "load a running herd and report figures",
     argv_command<bench_command>},
    {"help", "help [COMMAND]", "show this help, or a command's", help_command},
};

const Command* find_command(std::string_view name) {
  for (const Command& command : kCommands) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

void print_usage(FILE* out) {
  fprintf(out,
          "usage: herd COMMAND [options]\n"
          "A herd of CS 131 proxy servers (IAMAT, WHATSAT) flooding client locations.\n\n"
          "commands:\n");
  for (const Command& command : kCommands) {
    fprintf(out, "  %-22s %s\n", command.usage, command.summary);
  }
  fprintf(out, "\n`herd COMMAND --help` shows a command's options; `herd --version` the version.\n");
}

void print_command_help(const Command& command) {
  printf("usage: herd %s\n%s.\n", command.usage, command.summary);
  if (command.run == run_command || command.run == node_command) {
    printf("\noptions:\n%s", kServeOptionsHelp);
  }
  if (command.run == run_command) printf("\nfaults and console:\n%s", kRunOptionsHelp);
}

int usage_error(const std::string& message) {
  fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

bool file_exists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

// topologies/cs131-spring21.json in the current directory, else in the executable's
// ../topologies (an installed or out-of-tree build).
std::string default_topology_path() {
  const std::string relative = "topologies/cs131-spring21.json";
  if (file_exists(relative)) return relative;
  char exe[4096];
  size_t size = sizeof exe;
  if (uv_exepath(exe, &size) == 0) {
    std::string dir(exe, size);
    dir = dir.substr(0, dir.rfind('/'));
    std::string beside = dir + "/../" + relative;
    if (file_exists(beside)) return beside;
  }
  return relative;  // Let the loader's error name the path we tried.
}

void close_loop(uv_loop_t* loop) {
  if (uv_loop_close(loop) == 0) return;
  // Stragglers are a bug elsewhere; close them rather than leak the loop.
  fprintf(stderr, "herd: closing handles left open at exit\n");
  uv_walk(
      loop,
      [](uv_handle_t* handle, void*) noexcept {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

// A trace of every input the hosted servers' nodes are fed (node i: servers()[i]).
Result<std::unique_ptr<TraceWriter>> open_live_trace(const ServeOptions& options,
                                                     Topology topology, HerdHost& host) {
  TraceHeader header;
  header.source = "live";
  if (options.host.faults) header.seed = options.host.faults->seed;
  if (options.host.herd_key) header.auth = key_id(*options.host.herd_key);
  header.topology = std::move(topology);
  for (const auto& server : host.servers()) header.nodes.push_back(server->node().config());
  Result<std::unique_ptr<TraceWriter>> writer =
      TraceWriter::open(options.record_path, std::move(header));
  if (!writer.ok()) return writer;
  for (size_t i = 0; i < host.servers().size(); ++i) {
    host.servers()[i]->add_observer(writer.value().get());
  }
  return writer;
}

// Hosts `hosted` on one loop until a signal; the exit status.
int serve(Topology topology, std::vector<std::string> hosted, ServeOptions options) {
  if (!fit_descriptors(raise_fd_limit(), topology, hosted, &options.host)) return 1;
  signal(SIGPIPE, SIG_IGN);  // Why: a write to a closed peer must be an error value.
  // Why: with stdin closed, fd 0 would go to the next descriptor opened (libuv's own
  // pipes among them), which the stdin console would then read.
  if (fcntl(STDIN_FILENO, F_GETFD) < 0) open("/dev/null", O_RDONLY);
  // Why: a background herd reading its terminal (the stdin console) would be
  // stopped; ignored, the read fails and the console lets stdin go.
  signal(SIGTTIN, SIG_IGN);
  if (options.host.herd_key) {
    fprintf(stderr, "herd: peers authenticate with the herd secret (key id %s)\n",
            key_id(*options.host.herd_key).c_str());
  } else {
    fprintf(stderr,
            "herd: peers are not authenticated (no --secret-file): anything that reaches a peer port can "
            "flood records\n");
  }
  const char* key = getenv("GOOGLE_API_KEY");
  if (key == nullptr || *key == '\0') {
    fprintf(stderr,
            "herd: GOOGLE_API_KEY is not set; Places requests will be sent without a key\n");
  } else {
    options.host.places.key = key;
  }
  if (const std::string parts = components_text(topology); !parts.empty()) {
    fprintf(stderr, "herd: warning: topology %s %s (%s): an update reaches only its origin's component\n",
            topology.name.c_str(), topology.links.empty() ? "has no links" : "is not connected",
            parts.c_str());
  }
  size_t count = hosted.size();
  uv_loop_t loop;
  uv_loop_init(&loop);
  int status = 0;
  {
    Topology topology_copy = topology;
    HerdHost host(&loop, std::move(topology), std::move(hosted), options.host);
    std::unique_ptr<TraceWriter> trace;
    if (!options.record_path.empty()) {
      Result<std::unique_ptr<TraceWriter>> opened =
          open_live_trace(options, std::move(topology_copy), host);
      if (opened.ok()) trace = std::move(opened.value());
      else fprintf(stderr, "herd: --record: %s\n", opened.error().c_str());
    }
    Result<bool> started = options.record_path.empty() || trace
                               ? host.start()
                               : Result<bool>(Error{""});
    if (!started.ok()) {
      if (!started.error().empty()) fprintf(stderr, "herd: %s\n", started.error().c_str());
      status = started.error().empty() ? 2 : 1;
      host.stop("start-failed");
    } else {
      for (const auto& server : host.servers()) {
        printf("herd: %s listening on %s\n", server->name().c_str(), server->listen_text().c_str());
        if (!server->peer_listen_text().empty()) {
          printf("herd: %s listening for peers on %s\n", server->name().c_str(),
                 server->peer_listen_text().c_str());
        }
      }
      if (!host.admin_text().empty()) {
        printf("herd: admin listening on %s\n", host.admin_text().c_str());
      }
      fflush(stdout);
      host.handle_signals();
      host.when_ready([count](bool complete) {
        printf("herd: ready (%zu server%s%s)\n", count, count == 1 ? "" : "s",
               complete ? "" : "; some links are not up yet");
        fflush(stdout);
      });
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (trace) {
      std::vector<const Node*> nodes;
      for (const auto& server : host.servers()) nodes.push_back(&server->node());
      std::string error = trace->close(nodes);
      if (!error.empty()) {
        fprintf(stderr, "herd: --record: %s\n", error.c_str());
        status = 1;
      }
    }
  }
  close_loop(&loop);
  return status;
}

// The herd key from --secret-file or HERD_SECRET_FILE, into the host's options; an
// exit status on error, else -1.
int load_secret(ServeOptions* options) {
  const std::string path = secret_file_from(options->secret_file);
  if (path.empty()) {
    if (options->require_secret) {
      return usage_error("--require-secret: no secret: give --secret-file FILE or set HERD_SECRET_FILE");
    }
    return -1;
  }
  Result<AuthKey> key = herd_key_from_file(path);
  if (!key.ok()) return usage_error((options->secret_file.empty() ? "HERD_SECRET_FILE: " : "--secret-file: ") + key.error());
  options->host.herd_key = key.value();
  return -1;
}

// Parses a serving command's options and loads its topology; the exit status on error.
int prepare(const Command& command, const Args& args, ServeOptions* options,
            Topology* topology) {
  Result<ServeOptions> parsed = parse_serve_options(args);
  if (!parsed.ok()) {
    return usage_error(parsed.error() + " (see herd " + command.name + " --help)");
  }
  *options = std::move(parsed.value());
  if (options->help) {
    print_command_help(command);
    return 0;
  }
  if (int status = load_secret(options); status >= 0) return status;
  if (options->topology_path.empty()) options->topology_path = default_topology_path();
  Result<Topology> loaded = load_topology(options->topology_path);
  if (!loaded.ok()) return usage_error(loaded.error());
  *topology = std::move(loaded.value());
  int last_port = options->host.port_base + static_cast<int>(topology->nodes.size()) - 1;
  if (options->host.port_base > 0 && last_port > 65535) {
    return usage_error("--port-base: " + std::to_string(options->host.port_base) + " + " +
                       std::to_string(topology->nodes.size() - 1) + " servers exceeds 65535 (at most " +
                       std::to_string(65536 - static_cast<int>(topology->nodes.size())) + " for " +
                       std::to_string(topology->nodes.size()) + " servers)");
  }
  if (options->host.peer_port_offset > 0 && options->host.port_base != 0) {
    for (size_t i = 0; i < topology->nodes.size(); ++i) {
      const int port = options->host.port_base > 0 ? options->host.port_base + static_cast<int>(i)
                                                   : topology->nodes[i].port;
      if (port + options->host.peer_port_offset > 65535) {
        return usage_error("--peer-port-offset: " + topology->nodes[i].name + "'s port " +
                           std::to_string(port) + " + " + std::to_string(options->host.peer_port_offset) +
                           " exceeds 65535");
      }
    }
  }
  return -1;
}

void report_line(std::string_view text) {
  printf("herd: %.*s\n", static_cast<int>(text.size()), text.data());
  fflush(stdout);
}

// The fault layer and console of `herd run`; an exit status on error, else -1.
int prepare_faults(const Topology& topology, ServeOptions* options) {
  std::string text;
  if (!options->faults_path.empty()) {
    Result<std::string> read = read_text_file(options->faults_path);
    if (!read.ok()) return usage_error("--faults: " + read.error());
    text = std::move(read.value());
  }
  Result<FaultSetup> setup = make_fault_setup(*options, topology, text);
  if (!setup.ok()) return usage_error(setup.error());
  setup.value().report = report_line;
  const FaultPlan& plan = setup.value().plan;
  printf("herd: seed %llu (links %s; %zu override%s, %zu timeline event%s)\n",
         static_cast<unsigned long long>(setup.value().seed), plan.defaults.text().c_str(),
         plan.overrides.size(), plan.overrides.size() == 1 ? "" : "s", plan.timeline.size(),
         plan.timeline.size() == 1 ? "" : "s");
  options->host.seed = setup.value().seed;
  options->host.faults = std::move(setup.value());
  options->host.stdin_console = true;
  return -1;
}

// herd run --scenario FILE: the scenario brings its topology, faults and sync.
int scenario_command(ServeOptions options) {
  if (!options.topology_path.empty() || !options.faults_path.empty() || options.host.admin_port >= 0 ||
      !options.link_faults.empty()) {
    return usage_error("--scenario: its topology, faults and sync come from the scenario; --topology, --faults, "
                       "--drop, --delay, --dup and --admin-port do not go with it");
  }
  if (!options.positional.empty()) return usage_error("run: unexpected argument \"" + options.positional[0] + "\"");
  Result<Scenario> scenario = load_scenario(options.scenario_path);
  if (!scenario.ok()) return usage_error(scenario.error());
  if (int status = load_secret(&options); status >= 0) return status;
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  LiveRunOptions live;
  live.scenario_path = options.scenario_path;
  live.seed = options.seed.value_or(scenario.value().seed.value_or(kDefaultSeed));
  live.host = options.host;
  live.json = options.json;
  live.output = options.output_path;
  live.record = options.record_path;
  live.html = options.html_path;
  return run_live_scenario(scenario.value(), std::move(live));
}

int run_command(const Args& args) {
  ServeOptions options;
  Topology topology;
  if (std::find(args.begin(), args.end(), "--scenario") != args.end() ||
      std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("--scenario="); })) {
    Result<ServeOptions> parsed = parse_serve_options(args);
    if (!parsed.ok()) return usage_error(parsed.error() + " (see herd run --help)");
    if (parsed.value().help) {
      print_command_help(*find_command("run"));
      return 0;
    }
    return scenario_command(parsed.value());
  }
  if (int status = prepare(*find_command("run"), args, &options, &topology); status >= 0) {
    return status;
  }
  if (options.json || !options.output_path.empty() || !options.html_path.empty()) {
    return usage_error("--json, --output and --html go with --scenario (see herd run --help)");
  }
  if (!options.positional.empty()) {
    return usage_error("run: unexpected argument \"" + options.positional[0] + "\"");
  }
  if (Result<bool> admin = check_admin_port(options, topology); !admin.ok()) {
    return usage_error(admin.error());
  }
  std::vector<std::string> hosted;
  for (const TopologyNode& node : topology.nodes) hosted.push_back(node.name);
  if (Result<bool> setup = check_serve_setup(options, topology, hosted); !setup.ok()) {
    return usage_error(setup.error());
  }
  if (int status = prepare_faults(topology, &options); status >= 0) return status;
  return serve(std::move(topology), std::move(hosted), std::move(options));
}

int node_command(const Args& args) {
  ServeOptions options;
  Topology topology;
  if (int status = prepare(*find_command("node"), args, &options, &topology); status >= 0) {
    return status;
  }
  if (options.positional.size() != 1) return usage_error("node: expected one server NAME");
  if (has_run_only_options(options)) {
    return usage_error("node: --faults, --seed, --drop, --delay, --dup and --admin-port are "
                       "valid only for herd run");
  }
  const std::string& name = options.positional[0];
  if (topology.find(name) == nullptr) {
    std::vector<std::string> names;
    for (const TopologyNode& node : topology.nodes) names.push_back(node.name);
    return usage_error("node: no server named \"" + name + "\" in " + options.topology_path +
                       " (servers: " + names_text(names) + ")");
  }
  if (options.host.port_base == 0) {
    return usage_error("--port-base: 0 (ephemeral ports) is valid only for herd run");
  }
  if (Result<bool> setup = check_serve_setup(options, topology, {name}); !setup.ok()) {
    return usage_error(setup.error());
  }
  return serve(std::move(topology), {name}, std::move(options));
}

int help_command(const Args& args) {
  if (args.empty()) {
    print_usage(stdout);
    return 0;
  }
  if (args[0] == "-h" || args[0] == "--help") {
    print_command_help(*find_command("help"));
    return 0;
  }
  const Command* command = find_command(args[0]);
  if (command == nullptr) {
    std::vector<std::string> names;
    for (const Command& c : kCommands) names.push_back(c.name);
    return usage_error("help: unknown command \"" + args[0] + "\" (commands: " + names_text(names) + ")");
  }
  if (command->run == run_command || command->run == node_command || command->run == help_command) {
    print_command_help(*command);
    return 0;
  }
  return command->run({"--help"});  // Commands with their own parser print their own.
}

}  // namespace
}  // namespace herd

int main(int argc, char** argv) {
  using namespace herd;
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string first = argv[1];
  Args rest(argv + 2, argv + argc);
  if (first == "-h" || first == "--help") return help_command({});
  if (first == "--version") {
    printf("herd %s\n", kHerdVersion);
    return 0;
  }
  const Command* command = find_command(first);
  if (command == nullptr) {
    return usage_error("unknown command \"" + first + "\" (see herd --help)");
  }
  return command->run(rest);
}
