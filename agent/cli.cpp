#include "cli.h"

#include <charconv>

#include "duration.h"

namespace netmon {
namespace {

constexpr const char* kSourceNames[] = {"netdev", "bpf", "proc", "compare"};

uint64_t parse_count(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0)
    throw UsageError("invalid --count '" + text + "': expected a positive whole number");
  return value;
}

}  // namespace

const char* source_kind_name(SourceKind kind) { return kSourceNames[static_cast<int>(kind)]; }

std::optional<SourceKind> parse_source_kind(std::string_view name) {
  for (int i = 0; i < 4; ++i)
    if (name == kSourceNames[i]) return static_cast<SourceKind>(i);
  return std::nullopt;
}

std::string usage_text() {
  return R"(Usage: netmon-agent [--netdev | --bpf | --proc | --compare] [OPTIONS] [INTERFACE...]

Writes one JSON snapshot of per-interface traffic counters per line to stdout.

Sources (pick one; default --netdev):
      --netdev            the kernel's own 64-bit counters over rtnetlink (no privileges)
      --bpf               count on tc ingress/egress with netmon's eBPF programs
                          (needs CAP_BPF and CAP_NET_ADMIN, or root)
      --proc              read /proc/netmon from the netmon_proc kernel module
      --compare           run --bpf and --proc side by side and report their differences

Interfaces: 'all', names, shell globs ('veth*', 'wlan?') and exclusions ('!lo', '!veth*').
Without any, they come from /etc/netmon.conf, else OpenWrt UCI (config netmon), else all.

Options:
  -i, --interval DURATION time between snapshots: 250ms, 2s, 1.5s (default 1s)
  -n, --count N           stop after N snapshots (default: run until SIGINT/SIGTERM)
      --attach MODE       auto | tcx | tc | xdp  (--bpf/--compare; default auto:
                          tcx on kernels >= 6.6, else clsact + tc filter; xdp counts
                          rx in XDP and tx on tc egress)
      --config PATH       interface list file (default /etc/netmon.conf)
      --uci-config PATH   UCI config file to read instead of the uci command
      --proc-file PATH    read this file instead of /proc/netmon (--proc/--compare)
      --listen ADDR:PORT  serve Prometheus metrics on /metrics and the latest snapshot on
                          /snapshot; ':9310' means 127.0.0.1:9310 (loopback), IPv6 as
                          '[::1]:9310'; '0.0.0.0:9310' exposes it to the network
  -q, --quiet             no JSON on stdout (useful with --listen)
  -v, --verbose           more logging on stderr (repeat for libbpf debug output)
  -s, --silent            warnings and errors only on stderr
  -h, --help              show this help and exit
  -V, --version           show version and the BPF object's build id, then exit

Exit status: 0 on SIGINT/SIGTERM, --count reached, or stdout closed by the reader;
1 on a runtime error; 2 on a usage error.
)";
}

Options parse_cli(const std::vector<std::string>& args) {
  Options options;
  bool no_more_options = false;
  auto value_of = [&](size_t& i, const std::string& flag, const std::string& inline_value,
                      bool has_inline) -> std::string {
    if (has_inline) return inline_value;
    if (i + 1 >= args.size()) throw UsageError("option " + flag + " needs a value");
    return args[++i];
  };
  auto set_source = [&](SourceKind kind) {
    if (options.source_given && options.source != kind)
      throw UsageError(std::string("--") + source_kind_name(options.source) + " and --" +
                       source_kind_name(kind) + " cannot be combined");
    options.source = kind;
    options.source_given = true;
  };

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (no_more_options || arg.empty() || arg[0] != '-' || arg == "-") {
      options.interfaces.push_back(arg);
      continue;
    }
    if (arg == "--") {
      no_more_options = true;
      continue;
    }
    std::string flag = arg, inline_value;
    bool has_inline = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
      has_inline = true;
    }
    auto takes_no_value = [&] {
      if (has_inline) throw UsageError("option " + flag + " takes no value");
    };

    if (flag == "--netdev" || flag == "--bpf" || flag == "--proc" || flag == "--compare") {
      takes_no_value();
      set_source(*parse_source_kind(flag.substr(2)));
    } else if (flag == "-i" || flag == "--interval") {
      std::string text = value_of(i, flag, inline_value, has_inline);
      auto interval = parse_duration(text);
      if (!interval)
        throw UsageError("invalid --interval '" + text +
                         "': expected a duration such as 250ms, 2s or 1.5s");
      options.interval = *interval;
      options.interval_given = true;
    } else if (flag == "-n" || flag == "--count") {
      options.count = parse_count(value_of(i, flag, inline_value, has_inline));
    } else if (flag == "--attach") {
      std::string mode = value_of(i, flag, inline_value, has_inline);
      if (mode != "auto" && mode != "tcx" && mode != "tc" && mode != "xdp")
        throw UsageError("invalid --attach '" + mode + "': expected auto, tcx, tc or xdp");
      options.attach = mode;
    } else if (flag == "--config") {
      options.config_path = value_of(i, flag, inline_value, has_inline);
    } else if (flag == "--uci-config") {
      options.uci_config_path = value_of(i, flag, inline_value, has_inline);
    } else if (flag == "--proc-file") {
      options.proc_file = value_of(i, flag, inline_value, has_inline);
    } else if (flag == "--listen") {
      options.listen = value_of(i, flag, inline_value, has_inline);
    } else if (flag == "-q" || flag == "--quiet") {
      takes_no_value();
      options.quiet = true;
    } else if (flag == "-v" || flag == "--verbose") {
      takes_no_value();
      ++options.verbosity;
    } else if (flag == "-vv") {
      options.verbosity += 2;
    } else if (flag == "-s" || flag == "--silent") {
      takes_no_value();
      options.verbosity = 0;
    } else if (flag == "-h" || flag == "--help") {
      options.help = true;
    } else if (flag == "-V" || flag == "--version") {
      options.version = true;
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (options.quiet && !options.listen)
    throw UsageError("--quiet without --listen would output nothing");
  if (options.attach != "auto" && options.source != SourceKind::kBpf &&
      options.source != SourceKind::kCompare)
    throw UsageError("--attach applies only to --bpf and --compare");
  return options;
}

}  // namespace netmon
