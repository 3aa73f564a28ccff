// `herd replay` (sim/sim_cli.h).
#include <cstdio>
#include <string>
#include <vector>

#include "crypto/sodium_mac.h"
#include "sim/cli/cli.h"
#include "sim/replay.h"
#include "sim/cli/sim_cli.h"

namespace herd {
namespace {

constexpr const char* kReplayUsage =
    "usage: herd replay TRACE [--record OUT] [--secret-file FILE]\n"
    "  Feeds a trace's inputs to fresh nodes and checks every output.\n"
    "  --record OUT        write the replayed inputs as a trace to OUT (identical for a good trace)\n"
    "  --secret-file FILE  the herd secret of a trace whose peers authenticated (default: the\n"
    "                      file named by HERD_SECRET_FILE)\n"
    "Exit status: 0 every output and the final state matched, 1 a divergence (the first is\n"
    "named) or no end line (a recording cut short), 2 bad usage or trace.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "herd: %s\n", message.c_str());
  return 2;
}

}  // namespace

Result<ReplayFlags> parse_replay_flags(const std::vector<std::string>& args) {
  ReplayFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (is_option(arg, "--record")) {
      Result<std::string> v = option_value(args, &i, "--record");
      if (!v.ok()) return Error{v.error()};
      if (v.value().empty()) return Error{"--record: expected a file name"};
      flags.record = v.value();
    } else if (is_option(arg, "--secret-file")) {
      Result<std::string> v = option_value(args, &i, "--secret-file");
      if (!v.ok()) return Error{v.error()};
      if (v.value().empty()) return Error{"--secret-file: expected a file name"};
      flags.secret_file = v.value();
    } else if (is_option_word(arg)) {
      return Error{"replay: unknown option '" + arg + "' (see herd replay --help)"};
    } else if (flags.trace.empty()) {
      flags.trace = arg;
    } else {
      return Error{"replay: one trace only (got '" + flags.trace + "' and '" + arg + "')"};
    }
  }
  if (!flags.help && flags.trace.empty()) return Error{"replay: expected a TRACE file (see herd replay --help)"};
  if (!flags.record.empty() && flags.record == flags.trace) {
    return Error{"--record " + flags.record + ": would overwrite the trace being replayed"};
  }
  return flags;
}

int replay_command(int argc, char** argv) {
  Result<ReplayFlags> parsed = parse_replay_flags(std::vector<std::string>(argv, argv + argc));
  if (!parsed.ok()) return usage_error(parsed.error());
  const ReplayFlags& flags = parsed.value();
  if (flags.help) {
    std::fputs(kReplayUsage, stdout);
    return 0;
  }
  std::optional<AuthKey> key;
  if (const std::string path = secret_file_from(flags.secret_file); !path.empty()) {
    Result<AuthKey> loaded = herd_key_from_file(path);
    if (!loaded.ok()) {
      return usage_error((flags.secret_file.empty() ? "HERD_SECRET_FILE: " : "--secret-file: ") + loaded.error());
    }
    key = loaded.value();
  }
  const ReplayResult r = replay_file(flags.trace, flags.record, key);
  switch (r.status) {
    case ReplayResult::Status::kMatch:
      std::printf("herd replay: %s: %llu inputs replayed, every output matches, final state digest matches\n",
                  flags.trace.c_str(), static_cast<unsigned long long>(r.inputs));
      return 0;
    case ReplayResult::Status::kDiverged:
    case ReplayResult::Status::kCutShort:
      std::fprintf(stderr, "herd replay: %s\n", r.message.c_str());
      return 1;
    case ReplayResult::Status::kBadTrace:
      break;
  }
  return usage_error(r.message);
}

}  // namespace herd
