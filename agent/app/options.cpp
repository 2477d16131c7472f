#include "app/options.h"

#include <getopt.h>

#include <charconv>

#include "config/duration.h"
#include "sources/bpf/bpf_source.h"

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

constexpr const char* kReportPeriods[] = {"fivemin", "hours", "days", "months", "years", "top"};

int parse_month_start(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 28)
    throw UsageError("invalid --month-start '" + text + "': expected a day of the month, 1 to 28");
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
      --pin               keep programs, maps and attachments pinned in bpffs
                          (/sys/fs/bpf/netmon) so counting goes on while the agent
                          is stopped, killed or upgraded; a restarted agent adopts
                          them and its totals go on (--bpf/--compare)
      --pin-path DIR      pin in DIR instead (implies --pin; DIR on a bpffs)
      --unpin             detach and remove everything netmon pinned (in
                          /sys/fs/bpf/netmon, or --pin-path DIR), then exit
      --config PATH       interface list file (default /etc/netmon.conf)
      --uci-config PATH   UCI config file to read instead of the uci command
      --proc-file PATH    read this file instead of /proc/netmon (--proc/--compare)
      --listen ADDR:PORT  serve Prometheus metrics on /metrics and the latest snapshot on
                          /snapshot; ':9310' means 127.0.0.1:9310 (loopback), IPv6 as
                          '[::1]:9310'; '0.0.0.0:9310' exposes it to the network; also
                          the live page on / and the NDJSON stream on /events (SSE)
                          and /ws (WebSocket)
      --allow-origin ORIGIN  let web pages from ORIGIN (http(s)://host[:port]) read
                          /ws and /events (repeatable; default: only the agent's own
                          page and clients that send no Origin)
  -q, --quiet             no JSON on stdout (useful with --listen)

Usage ledger (daily and monthly totals that survive restarts, quotas):
      --ledger PATH       book every interval into this SQLite file (created if missing);
                          snapshots then carry each interface's "usage"
      --month-start DAY   first day of the billing month, 1..28 (default 1)
      --quota IFACE=SIZE/PERIOD[:DIRECTION]
                          e.g. wwan0=20GiB/month, eth0=5GB/day:tx; PERIOD day|month,
                          DIRECTION rx|tx|total (default total); repeatable
      --quota-alerts LIST percentages that raise a quota event (default 80,90,100)
      --on-quota CMD      run CMD (through /bin/sh) on each quota event, with
                          NETMON_INTERFACE, NETMON_THRESHOLD, NETMON_USED_BYTES,
                          NETMON_LIMIT_BYTES, NETMON_PERCENT, NETMON_PERIOD,
                          NETMON_DIRECTION in its environment
      --save-interval DURATION
                          write the ledger at most this often (default 5m) and at exit
      --report PERIOD     print the ledger's fivemin|hours|days|months|years|top table
                          for the named interfaces (default all) and exit
      --json              --report as one JSON object with exact integers
  -v, --verbose           more logging on stderr (repeat for libbpf debug output)
  -s, --silent            warnings and errors only on stderr
  -h, --help              show this help and exit
  -V, --version           show version and the BPF object's build id, then exit

Exit status: 0 on SIGINT/SIGTERM, --count reached, or stdout closed by the reader;
1 on a runtime error; 2 on a usage error.
)";
}

Options parse_cli(const std::vector<std::string>& args) {
  enum LongOnly {
    kNetdev = 256,
    kBpf,
    kProc,
    kCompare,
    kAttach,
    kConfig,
    kUciConfig,
    kProcFile,
    kListen,
    kLedger,
    kMonthStart,
    kQuota,
    kQuotaAlerts,
    kOnQuota,
    kSaveInterval,
    kReport,
    kJson,
    kAllowOrigin,
    kPin,
    kPinPath,
    kUnpin
  };
  static const option kLongOptions[] = {
      {"netdev", no_argument, nullptr, kNetdev},
      {"bpf", no_argument, nullptr, kBpf},
      {"proc", no_argument, nullptr, kProc},
      {"compare", no_argument, nullptr, kCompare},
      {"interval", required_argument, nullptr, 'i'},
      {"count", required_argument, nullptr, 'n'},
      {"attach", required_argument, nullptr, kAttach},
      {"config", required_argument, nullptr, kConfig},
      {"uci-config", required_argument, nullptr, kUciConfig},
      {"proc-file", required_argument, nullptr, kProcFile},
      {"listen", required_argument, nullptr, kListen},
      {"ledger", required_argument, nullptr, kLedger},
      {"month-start", required_argument, nullptr, kMonthStart},
      {"quota", required_argument, nullptr, kQuota},
      {"quota-alerts", required_argument, nullptr, kQuotaAlerts},
      {"on-quota", required_argument, nullptr, kOnQuota},
      {"save-interval", required_argument, nullptr, kSaveInterval},
      {"report", required_argument, nullptr, kReport},
      {"json", no_argument, nullptr, kJson},
      {"allow-origin", required_argument, nullptr, kAllowOrigin},
      {"pin", no_argument, nullptr, kPin},
      {"pin-path", required_argument, nullptr, kPinPath},
      {"unpin", no_argument, nullptr, kUnpin},
      {"quiet", no_argument, nullptr, 'q'},
      {"verbose", no_argument, nullptr, 'v'},
      {"silent", no_argument, nullptr, 's'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  // '-': operands come back in place (as option 1), so interfaces keep
  // their order and POSIXLY_CORRECT changes nothing; ':': errors are ours.
  static const char kShortOptions[] = "-:i:n:qvshV";

  Options options;
  auto set_source = [&](SourceKind kind) {
    if (options.source_given && options.source != kind)
      throw UsageError(std::string("--") + source_kind_name(options.source) + " and --" +
                       source_kind_name(kind) + " cannot be combined");
    options.source = kind;
    options.source_given = true;
  };

  // getopt_long wants argv[0] and writable strings.
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back("netmon-agent");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());

  // The option as the user typed it, without any "=value", for messages.
  auto typed = [&](int index) {
    std::string text = index > 0 && index < argc ? storage[index] : std::string();
    if (text.rfind("--", 0) == 0) return text.substr(0, text.find('='));
    return text;
  };

  optind = 0;  // glibc: start over (parse_cli may run more than once)
  opterr = 0;
  for (;;) {
    const int c = getopt_long(argc, argv.data(), kShortOptions, kLongOptions, nullptr);
    if (c == -1) break;
    // On an error, the element getopt just stepped past.
    const std::string last = optind - 1 > 0 && optind - 1 < argc ? storage[optind - 1] : "";
    const bool last_is_long = last.rfind("--", 0) == 0;
    switch (c) {
      case 1:
        options.interfaces.push_back(optarg);
        break;
      case kNetdev:
      case kBpf:
      case kProc:
      case kCompare:
        set_source(static_cast<SourceKind>(c - kNetdev));
        break;
      case 'i': {
        std::string text = optarg;
        auto interval = parse_duration(text);
        if (!interval)
          throw UsageError("invalid --interval '" + text +
                           "': expected a duration such as 250ms, 2s or 1.5s");
        options.interval = *interval;
        options.interval_given = true;
        break;
      }
      case 'n':
        options.count = parse_count(optarg);
        break;
      case kAttach:
        parse_attach_mode(optarg);  // throws UsageError
        options.attach = optarg;
        break;
      case kConfig:
        options.config_path = optarg;
        break;
      case kUciConfig:
        options.uci_config_path = optarg;
        break;
      case kProcFile:
        options.proc_file = optarg;
        break;
      case kListen:
        options.listen = optarg;
        break;
      case kLedger:
        if (!*optarg) throw UsageError("--ledger needs a file name");
        options.ledger = optarg;
        break;
      case kMonthStart:
        options.month_start = parse_month_start(optarg);
        options.month_start_given = true;
        break;
      case kQuota: {
        std::string error;
        auto quota = ledger::parse_quota(optarg, &error);
        if (!quota) throw UsageError("invalid --quota '" + std::string(optarg) + "': " + error);
        for (const ledger::Quota& q : options.quotas)
          if (q.name == quota->name) throw UsageError("--quota for '" + q.name + "' given twice");
        options.quotas.push_back(std::move(*quota));
        break;
      }
      case kQuotaAlerts: {
        std::string error;
        auto thresholds = ledger::parse_thresholds(optarg, &error);
        if (!thresholds)
          throw UsageError("invalid --quota-alerts '" + std::string(optarg) + "': " + error);
        options.quota_alerts = std::move(*thresholds);
        options.quota_alerts_given = true;
        break;
      }
      case kOnQuota:
        if (!*optarg) throw UsageError("--on-quota needs a command");
        options.on_quota = optarg;
        break;
      case kSaveInterval: {
        std::string text = optarg;
        auto interval = parse_duration(text);
        if (!interval || *interval < std::chrono::seconds(1))
          throw UsageError("invalid --save-interval '" + text +
                           "': expected a duration of at least 1s, such as 30s or 5m");
        options.save_interval = *interval;
        options.save_interval_given = true;
        break;
      }
      case kReport: {
        std::string text = optarg;
        bool known = false;
        for (const char* period : kReportPeriods) known = known || text == period;
        if (!known)
          throw UsageError("invalid --report '" + text +
                           "': expected fivemin, hours, days, months, years or top");
        options.report = text;
        break;
      }
      case kJson:
        options.json = true;
        break;
      case kAllowOrigin: {
        std::optional<web::Origin> origin = web::parse_origin(optarg);
        if (!origin)
          throw UsageError(std::string("invalid --allow-origin '") + optarg +
                           "': expected http(s)://host[:port]");
        options.allow_origins.push_back(*origin);
        break;
      }
      case kPin:
        if (!options.pin_dir) options.pin_dir = kDefaultPinDir;
        break;
      case kPinPath:
        if (optarg[0] != '/')
          throw UsageError(std::string("invalid --pin-path '") + optarg +
                           "': expected an absolute directory");
        options.pin_dir = optarg;
        break;
      case kUnpin:
        options.unpin = true;
        break;
      case 'q':
        options.quiet = true;
        break;
      case 'v':
        ++options.verbosity;
        break;
      case 's':
        options.verbosity = 0;
        break;
      case 'h':
        options.help = true;
        break;
      case 'V':
        options.version = true;
        break;
      case ':':
        throw UsageError("option " +
                         (last_is_long ? typed(optind - 1) : std::string("-") + char(optopt)) +
                         " needs a value");
      default:
        // '?': unknown, ambiguous, or a value given to a flag ("--bpf=yes").
        if (optopt > 0 && last_is_long)
          throw UsageError("option " + typed(optind - 1) + " takes no value");
        if (optopt > 0) throw UsageError(std::string("unknown option '-") + char(optopt) + "'");
        throw UsageError("unknown option '" + last + "'");
    }
  }
  // Everything after "--" is an interface, even when it looks like an option.
  for (int i = optind; i < argc; ++i) options.interfaces.push_back(storage[i]);
  if (!options.ledger) {
    const char* needs = options.report              ? "--report"
                        : options.month_start_given ? "--month-start"
                        : !options.quotas.empty()   ? "--quota"
                        : options.on_quota          ? "--on-quota"
                                                    : nullptr;
    if (needs) throw UsageError(std::string(needs) + " needs --ledger PATH");
  }
  if (options.json && !options.report) throw UsageError("--json applies only to --report");
  // Without a source on the command line, UCI may still pick bpf: the agent
  // decides then (and pins nothing for netdev or proc).
  const bool bpf_source = !options.source_given || options.source == SourceKind::kBpf ||
                          options.source == SourceKind::kCompare;
  if (options.unpin) {
    if (!bpf_source) throw UsageError("--unpin applies only to --bpf and --compare");
    if (!options.pin_dir) options.pin_dir = kDefaultPinDir;
    return options;
  }
  if (options.pin_dir && !bpf_source) throw UsageError("--pin applies only to --bpf and --compare");
  if (options.report) return options;  // the operands are interfaces of the report
  if (options.quiet && !options.listen)
    throw UsageError("--quiet without --listen would output nothing");
  if (!options.allow_origins.empty() && !options.listen)
    throw UsageError("--allow-origin applies only with --listen");
  if (options.attach != "auto" && options.source != SourceKind::kBpf &&
      options.source != SourceKind::kCompare)
    throw UsageError("--attach applies only to --bpf and --compare");
  return options;
}

}  // namespace netmon
