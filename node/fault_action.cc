#include "node/fault_action.h"

#include <algorithm>
#include <charconv>

#include "node/fault_text.h"

namespace herd {
namespace {

constexpr std::string_view kCommands =
    "(cut, heal, partition, set, blackhole, reset, crash, restart, pause, resume, status, help)";

std::vector<std::string_view> split(std::string_view text, char separator, bool blanks) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const bool end = i == text.size() ||
                     (blanks ? (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')
                             : text[i] == separator);
    if (!end) continue;
    if (!blanks || i > start) parts.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  return parts;
}

bool good_name(std::string_view name) {
  return !name.empty() && name.find_first_of(",>=") == std::string_view::npos;
}

// "A B" or "A>B" from the words after the command; nullopt when neither.
std::optional<LinkRef> parse_link(const std::vector<std::string_view>& words) {
  LinkRef link;
  if (words.size() == 2) {
    link.from = words[0];
    link.to = words[1];
  } else if (words.size() == 1 && words[0].find('>') != std::string_view::npos) {
    const size_t arrow = words[0].find('>');
    link.from = words[0].substr(0, arrow);
    link.to = words[0].substr(arrow + 1);
    link.one_way = true;
  } else {
    return std::nullopt;
  }
  if (!good_name(link.from) || !good_name(link.to)) return std::nullopt;
  return link;
}

// The '-' of "MIN-MAX": not a sign (first, or just after an exponent's 'e'), so
// "1e-3-5" is 0.001 to 5 ms.
size_t range_dash(std::string_view text) {
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '-' && text[i - 1] != 'e' && text[i - 1] != 'E') return i;
  }
  return std::string_view::npos;
}

std::optional<DelayDist> parse_delay(std::string_view text) {
  DelayDist dist;
  if (text.starts_with("exp:")) {
    const auto parts = split(text.substr(4), ':', false);
    if (parts.size() != 2) return std::nullopt;
    const auto min_ns = parse_ms(parts[0]);
    const auto mean_ns = parse_ms(parts[1]);
    if (!min_ns || !mean_ns) return std::nullopt;
    dist = DelayDist::exponential(*min_ns, *mean_ns);
  } else if (const size_t dash = range_dash(text); dash != std::string_view::npos) {
    const auto min_ns = parse_ms(text.substr(0, dash));
    const auto max_ns = parse_ms(text.substr(dash + 1));
    if (!min_ns || !max_ns) return std::nullopt;
    dist = DelayDist::uniform(*min_ns, *max_ns);
  } else {
    const auto value_ns = parse_ms(text);
    if (!value_ns) return std::nullopt;
    dist = DelayDist::constant(*value_ns);
  }
  if (!dist.invalid().empty()) return std::nullopt;
  return dist;
}

Result<FaultAction> parse_link_command(ActionKind kind, std::string_view name,
                                       const std::vector<std::string_view>& args) {
  FaultAction action;
  action.kind = kind;
  const auto link = parse_link(args);
  if (!link) return Error{"usage: " + std::string(name) + " A B | " + std::string(name) + " A>B"};
  action.link = *link;
  return action;
}

Result<FaultAction> parse_set(const std::vector<std::string_view>& args) {
  static const std::string kUsage =
      "usage: set A B|A>B drop=P delay=MS|MIN-MAX|exp:MIN:MEAN dup=P bandwidth_kbps=N";
  FaultAction action;
  action.kind = ActionKind::kSet;
  const size_t names = !args.empty() && args[0].find('>') != std::string_view::npos ? 1 : 2;
  if (args.size() <= names) return Error{kUsage};
  const auto link = parse_link({args.begin(), args.begin() + static_cast<long>(names)});
  if (!link) return Error{kUsage};
  action.link = *link;
  for (size_t i = names; i < args.size(); ++i) {
    std::string error = parse_setting(args[i], action.settings);
    if (!error.empty()) return Error{"set: " + error};
  }
  return action;
}

Result<FaultAction> parse_partition(const std::vector<std::string_view>& args) {
  FaultAction action;
  action.kind = ActionKind::kPartition;
  if (args.empty()) return Error{"usage: partition A,B C,D,E"};
  for (const std::string_view word : args) {
    std::vector<std::string>& group = action.groups.emplace_back();
    for (const std::string_view name : split(word, ',', false)) {
      if (!good_name(name)) return Error{"partition: bad group '" + std::string(word) + "'"};
      group.emplace_back(name);
    }
  }
  return action;
}

Result<FaultAction> parse_server_command(ActionKind kind, std::string_view name,
                                         const std::vector<std::string_view>& args) {
  if (args.size() != 1 || !good_name(args[0])) return Error{"usage: " + std::string(name) + " X"};
  FaultAction action;
  action.kind = kind;
  action.server = args[0];
  return action;
}

}  // namespace

bool FaultTopology::has_node(std::string_view name) const {
  return std::find(nodes.begin(), nodes.end(), name) != nodes.end();
}

bool FaultTopology::linked(std::string_view a, std::string_view b) const {
  return std::any_of(links.begin(), links.end(), [&](const auto& link) {
    return (link.first == a && link.second == b) || (link.first == b && link.second == a);
  });
}

std::string LinkRef::text() const { return from + (one_way ? ">" : " ") + to; }

LinkFaults LinkSettings::applied_to(LinkFaults base) const {
  if (drop) base.drop = *drop;
  if (delay) base.delay = *delay;
  if (duplicate) base.duplicate = *duplicate;
  if (bandwidth_kbps) base.bandwidth_kbps = *bandwidth_kbps;
  return base;
}

std::string parse_setting(std::string_view word, LinkSettings& settings) {
  const size_t eq = word.find('=');
  const std::string key(word.substr(0, eq));
  const std::string_view value = eq == std::string_view::npos ? "" : word.substr(eq + 1);
  if (key == "drop" || key == "dup") {
    auto& slot = key == "drop" ? settings.drop : settings.duplicate;
    if (slot) return key + " given twice";
    slot = parse_probability(value);
    if (!slot) return "bad " + key + " '" + std::string(value) + "' (a probability in [0, 1])";
    return "";
  }
  if (key == "delay") {
    if (settings.delay) return "delay given twice";
    settings.delay = parse_delay(value);
    if (!settings.delay) {
      return "bad delay '" + std::string(value) +
             "' (MS, MIN-MAX or exp:MIN:MEAN, milliseconds up to 3600000, min <= max/mean)";
    }
    return "";
  }
  if (key == "bandwidth_kbps") {
    if (settings.bandwidth_kbps) return "bandwidth_kbps given twice";
    uint64_t kbps = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), kbps);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || kbps > kMaxBandwidthKbps) {
      return "bad bandwidth_kbps '" + std::string(value) + "' (an integer in 0.." +
             std::to_string(kMaxBandwidthKbps) + "; 0 removes the limit)";
    }
    settings.bandwidth_kbps = kbps;
    return "";
  }
  return "unknown key '" + std::string(word) + "' (drop=, delay=, dup=, bandwidth_kbps=)";
}

Result<FaultAction> parse_command(std::string_view line) {
  std::vector<std::string_view> words = split(line, ' ', true);
  if (words.empty()) return Error{"empty command " + std::string(kCommands)};
  const std::string_view name = words[0];
  const std::vector<std::string_view> args(words.begin() + 1, words.end());
  if (name == "cut") return parse_link_command(ActionKind::kCut, name, args);
  if (name == "heal") {
    if (!args.empty()) return parse_link_command(ActionKind::kHeal, name, args);
    FaultAction action;
    action.kind = ActionKind::kHealAll;
    return action;
  }
  if (name == "partition") return parse_partition(args);
  if (name == "set") return parse_set(args);
  if (name == "blackhole") return parse_link_command(ActionKind::kBlackhole, name, args);
  if (name == "reset") {
    Result<FaultAction> reset = parse_link_command(ActionKind::kReset, name, args);
    if (reset.ok() && reset.value().link.one_way) return Error{"usage: reset A B (a connection has two ends)"};
    return reset;
  }
  if (name == "pause") return parse_server_command(ActionKind::kPause, name, args);
  if (name == "resume") return parse_server_command(ActionKind::kResume, name, args);
  if (name == "crash") return parse_server_command(ActionKind::kCrash, name, args);
  if (name == "restart") return parse_server_command(ActionKind::kRestart, name, args);
  if (name == "status" && args.empty()) return FaultAction{};
  if (name == "status") return Error{"usage: status"};
  // `help` alone is answered by the console (net/live_faults.h).
  if (name == "help") return Error{"usage: help"};
  return Error{"unknown command '" + std::string(name) + "' " + std::string(kCommands)};
}

}  // namespace herd

namespace herd {
namespace {

std::string check_server(const FaultTopology& topology, std::string_view name) {
  if (topology.has_node(name)) return "";
  return "unknown server '" + std::string(name) + "' (servers: " + names_text(topology.nodes) + ")";
}

std::string check_link(const FaultTopology& topology, const LinkRef& link) {
  std::string error = check_server(topology, link.from);
  if (error.empty()) error = check_server(topology, link.to);
  if (!error.empty()) return error;
  if (!topology.linked(link.from, link.to)) return link.from + " and " + link.to + " are not linked";
  return "";
}

std::string check_partition(const FaultTopology& topology,
                            const std::vector<std::vector<std::string>>& groups) {
  std::vector<std::string> seen;
  for (const auto& group : groups) {
    for (const std::string& name : group) {
      std::string error = check_server(topology, name);
      if (!error.empty()) return error;
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        return "server '" + name + "' is in two groups";
      }
      seen.push_back(name);
    }
  }
  const bool rest = seen.size() < topology.nodes.size();
  if (groups.size() + (rest ? 1 : 0) < 2) return "a partition needs at least two groups";
  return "";
}

}  // namespace

std::string check_action(const FaultTopology& topology, const FaultAction& action) {
  switch (action.kind) {
    case ActionKind::kCut:
    case ActionKind::kHeal:
    case ActionKind::kSet:
    case ActionKind::kBlackhole:
    case ActionKind::kReset:
      return check_link(topology, action.link);
    case ActionKind::kPartition:
      return check_partition(topology, action.groups);
    case ActionKind::kCrash:
    case ActionKind::kRestart:
    case ActionKind::kPause:
    case ActionKind::kResume:
      return check_server(topology, action.server);
    case ActionKind::kHealAll:
    case ActionKind::kStatus:
      return "";
  }
  return "unknown action";
}

}  // namespace herd
