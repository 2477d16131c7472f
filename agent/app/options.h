// Command-line options of netmon-agent.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/quota.h"
#include "sys/error.h"
#include "web/origin.h"

namespace netmon {

enum class SourceKind { kNetdev, kBpf, kProc, kCompare };

// "netdev", "bpf", "proc", "compare"; parse_source_kind() is its inverse.
const char* source_kind_name(SourceKind kind);
std::optional<SourceKind> parse_source_kind(std::string_view name);

struct Options {
  SourceKind source = SourceKind::kNetdev;
  bool source_given = false;  // UCI's `option source` applies only if not
  std::chrono::milliseconds interval{1000};
  bool interval_given = false;  // likewise for `option interval`
  std::optional<uint64_t> count;
  std::string attach = "auto";  // auto | tcx | tc | xdp
  std::optional<std::string> config_path;
  std::optional<std::string> uci_config_path;
  std::string proc_file = "/proc/netmon";
  std::optional<std::string> listen;  // host:port for the Prometheus endpoint
  bool quiet = false;                 // no NDJSON on stdout
  // --allow-origin (repeatable): web pages that may read /ws and /events.
  std::vector<web::Origin> allow_origins;
  int verbosity = 1;
  bool help = false;
  bool version = false;
  std::vector<std::string> interfaces;  // names, globs, !exclusions, "all"

  // --pin / --pin-path: keep the BPF set pinned in bpffs across restarts.
  std::optional<std::string> pin_dir;
  bool unpin = false;  // --unpin: remove the pinned set in pin_dir and exit

  // The usage ledger (issue 14); everything below needs --ledger.
  std::optional<std::string> ledger;  // SQLite file
  int month_start = 1;                // billing month's first day, 1..28
  bool month_start_given = false;
  std::vector<ledger::Quota> quotas;
  std::vector<int> quota_alerts{80, 90, 100};
  bool quota_alerts_given = false;
  std::optional<std::string> on_quota;  // command run on each threshold crossed
  std::chrono::milliseconds save_interval{300000};
  bool save_interval_given = false;   // UCI's `option save_interval` applies only if not
  std::optional<std::string> report;  // fivemin | hours | days | months | years | top
  bool json = false;                  // --report as JSON
};

// args excludes argv[0]. Throws UsageError.
Options parse_cli(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace netmon
