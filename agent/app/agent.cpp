#include "app/agent.h"

#include <linux/capability.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <ctime>

#include "app/ledger_settings.h"
#include "app/settings.h"
#include "compare/quirks.h"
#include "ledger/report.h"
#include "output/compare_reporter.h"
#include "output/ledger_reporter.h"
#include "output/metrics_endpoint.h"
#include "output/snapshot_reporter.h"
#include "sources/bpf/bpf_source.h"
#include "sources/netdev/netdev_source.h"
#include "sources/proc/proc_source.h"
#include "sys/capabilities.h"
#include "sys/stop.h"

namespace netmon {

namespace {

// Identifies the embedded BPF object: FNV-1a over its ELF bytes, so two
// agents report the same id exactly when they carry the same programs.
std::string bpf_object_build_id() {
  const uint64_t hash = embedded_bpf_object_id();
  char hex[16];
  auto end = std::to_chars(hex, hex + sizeof(hex), hash, 16).ptr;
  return std::string(sizeof(hex) - (end - hex), '0') + std::string(hex, end);
}

// What the agent still needs once it runs: attaching to interfaces that
// appear (hotplug) and detaching at exit, i.e. bpf() calls and netlink
// requests. Loading programs (CAP_PERFMON, CAP_SYS_ADMIN for the ids of
// others' programs) is done by then; the netdev and proc sources need none.
std::vector<int> capabilities_to_keep(SourceKind kind) {
  if (kind != SourceKind::kBpf && kind != SourceKind::kCompare) return {};
  return {kernel_has_cap_bpf() ? CAP_BPF : CAP_SYS_ADMIN, CAP_NET_ADMIN};
}

}  // namespace

LedgerReporterConfig ledger_config(const Options& options, int out_fd) {
  LedgerReporterConfig config;
  config.ledger.path = *options.ledger;
  config.ledger.calendar.month_start_day = options.month_start;
  config.ledger.save_interval_s =
      std::chrono::duration_cast<std::chrono::seconds>(options.save_interval).count();
  config.ledger.quotas = options.quotas;
  config.ledger.thresholds = options.quota_alerts;
  config.boot_id = read_boot_id();
  if (config.boot_id.empty())
    spdlog::warn("cannot read the boot id: a restarted agent will not credit the downtime");
  config.out_fd = out_fd;
  config.on_quota = options.on_quota;
  return config;
}

int run_report(const Options& options, std::ostream& out) {
  ledger::ReportOptions report;
  report.period = *options.report;
  report.json = options.json;
  report.interfaces = options.interfaces;
  report.calendar.month_start_day = options.month_start;
  report.now = static_cast<int64_t>(::time(nullptr));
  std::string error;
  try {
    ledger::Store store = ledger::Store::open_read_only(*options.ledger);
    if (ledger::write_report(store, report, out, &error)) return 0;
  } catch (const ledger::LedgerError& e) {
    error = e.what();
  }
  spdlog::error("{}", error);
  return 1;
}

int run_unpin(const Options& options) {
  try {
    return unpin_set(*options.pin_dir);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  }
}

std::string version_text() {
  return std::string("netmon-agent ") + NETMON_VERSION + " (bpf object " + bpf_object_build_id() +
         ")";
}

// Every tcx attach and detach waits for an RCU grace period while holding
// RTNL (tcx_entry_sync(): ~0.05 ms on idle CPUs, ~15 ms per hook once any CPU
// is busy), so 1,000 interfaces can take ~30 s to start and ~17 s to stop; a
// legacy tc filter costs ~0.1 ms. Beyond this many interfaces (two hooks
// each, so under 0.5 s even when busy), --attach auto prefers legacy tc.
constexpr size_t kTcxMaxLinksAtStart = 16;

std::unique_ptr<Source> make_source(SourceKind kind, const Options& options,
                                    size_t selected_links) {
  switch (kind) {
    case SourceKind::kNetdev:
      return std::make_unique<NetdevSource>();
    case SourceKind::kBpf: {
      BpfSource::AttachMode mode = parse_attach_mode(options.attach);
      if (mode == BpfSource::AttachMode::kAuto && selected_links > kTcxMaxLinksAtStart) {
        spdlog::info(
            "{} interfaces selected: attaching with legacy tc, since every tcx attach waits "
            "for an RCU grace period (--attach tcx forces tcx)",
            selected_links);
        mode = BpfSource::AttachMode::kTc;
      }
      return std::make_unique<BpfSource>(mode, 0, options.pin_dir.value_or(""),
                                         options.attach != "auto");
    }
    case SourceKind::kProc:
      return std::make_unique<ProcSource>(options.proc_file);
    case SourceKind::kCompare:
      break;
  }
  throw Error(std::string("source '") + source_kind_name(kind) + "' is not available");
}

Agent::Agent(Options options) : options_(std::move(options)) {
  // Bound first, before any other output and before anything is attached, so
  // a bad address or a port in use is the only line; destroyed last.
  MetricsServer* metrics = nullptr;
  if (options_.listen) {
    ListenAddress address = parse_listen_address(*options_.listen);
    auto server =
        std::make_unique<MetricsServer>(address, BuildInfo{NETMON_VERSION, bpf_object_build_id()},
                                        web::OriginPolicy{options_.allow_origins});
    address.port = server->port();
    spdlog::info("serving Prometheus metrics on http://{}/metrics", address.to_string());
    spdlog::info("serving the live page on http://{}/ and the stream on /events and /ws",
                 address.to_string());
    metrics = server.get();
    observers_.push_back(std::move(server));
  }

  throw_if_stop_requested();
  ResolvedSelection resolved = resolve_interfaces(options_);
  for (const std::string& warning : resolved.warnings) spdlog::warn("{}", warning);
  apply_uci_settings(resolved, options_);
  if (resolved.uci_ledger)
    for (const std::string& warning : apply_uci_ledger_settings(*resolved.uci_ledger, options_))
      spdlog::warn("{}", warning);
  spdlog::info("{}", resolved.selection.describe());

  // How many interfaces the selection holds right now: one cheap dump.
  auto selected_links = [&resolved] {
    size_t count = 0;
    for (const Link& link : dump_links_now())
      count += resolved.selection.matches(link.name) ? 1 : 0;
    return count;
  };
  if (options_.source == SourceKind::kCompare) {
    // Read at the same tick, in this order: the reporter compares [0] - [1].
    sources_.push_back(make_source(SourceKind::kBpf, options_, selected_links()));
    sources_.push_back(make_source(SourceKind::kProc, options_));
  } else {
    if (options_.pin_dir && options_.source != SourceKind::kBpf)
      spdlog::warn("--pin has no effect on the {} source", source_kind_name(options_.source));
    sources_.push_back(make_source(options_.source, options_, selected_links()));
  }
  std::vector<Source*> sources;
  for (auto& source : sources_) sources.push_back(source.get());
  throw_if_stop_requested();

  const int out_fd = options_.quiet ? -1 : STDOUT_FILENO;
  SnapshotReporter* plain_reporter = nullptr;
  if (options_.source == SourceKind::kCompare) {
    CompareConfig compare;
    compare.sources = {"bpf", "proc"};
    compare.out_fd = out_fd;
    compare.quirks = probe_device_quirks;
    compare.metrics = metrics;
    reporter_ = std::make_unique<CompareReporter>(std::move(compare));
  } else {
    auto snapshot_reporter =
        std::make_unique<SnapshotReporter>(source_kind_name(options_.source), out_fd);
    if (metrics) snapshot_reporter->add_observer(metrics);
    plain_reporter = snapshot_reporter.get();
    reporter_ = std::move(snapshot_reporter);
  }
  LedgerReporter* book = nullptr;
  if (options_.ledger) {
    // In front of the reporter: each reading is booked before the snapshot
    // that shows its usage is written. --compare books its first source.
    std::unique_ptr<LedgerReporter> ledger_reporter;
    try {
      ledger_reporter =
          std::make_unique<LedgerReporter>(ledger_config(options_, out_fd), std::move(reporter_));
    } catch (const ledger::LedgerError& e) {
      throw Error(e.what());
    }
    book = ledger_reporter.get();
    reporter_ = std::move(ledger_reporter);
  }
  if (plain_reporter)
    plain_reporter->set_enricher([book, source = sources_.front().get()](Snapshot& snapshot) {
      snapshot.health = source->health();
      if (book) book->enrich(snapshot);
    });

  LinkTrackerConfig tracking;
  const Selection& selection = resolved.selection;
  tracking.selects = [selection](const std::string& name) { return selection.matches(name); };
  if (selection.origin().names_must_exist())
    tracking.required_names = selection.literal_names();
  else
    tracking.expected_names = selection.literal_names();
  if (metrics)
    tracking.on_watch_failure = [metrics](const Link&, const Error&) {
      metrics->count_attach_failure();
    };
  feed_ = std::make_unique<RtnlLinkFeed>();
  tracker_ = std::make_unique<LinkTracker>(std::move(tracking), sources, *feed_);
  for (Source* source : sources) source->started();

  EventLoopConfig loop;
  loop.interval = options_.interval;
  loop.count = options_.count;
  loop.watched_output_fd = out_fd;
  loop_ = std::make_unique<EventLoop>(loop, sources, *tracker_, *feed_, *reporter_);

  // Everything privileged is done: programs loaded, the listen socket bound,
  // the ledger open, the interfaces present attached (issue 13, 2.9).
  drop_capabilities(capabilities_to_keep(options_.source));
}

Agent::~Agent() {
  // Before the tracker unwatches every link: a pinned set stays attached.
  for (auto& source : sources_) source->exiting();
}

int Agent::run(int stop_fd) {
  int code = loop_->run(stop_fd);
  reporter_->finish();
  return code;
}

}  // namespace netmon
