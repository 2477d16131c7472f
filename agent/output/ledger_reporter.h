// The usage ledger in the per-tick path (--ledger): books every reading,
// saves at most once per save interval and at exit, adds each interface's
// usage to the snapshots, and turns quota crossings into a log line, an
// NDJSON event and the --on-quota hook (the ledger logs notes and
// crossings itself).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/reporter.h"
#include "core/snapshot.h"
#include "ledger/ledger.h"

namespace netmon {

struct LedgerReporterConfig {
  ledger::LedgerOptions ledger;
  std::string boot_id;
  int out_fd = -1;                      // quota events as NDJSON (-1: none)
  std::optional<std::string> on_quota;  // run through /bin/sh -c with the figures in its env
  // Clocks, replaceable by tests: wall in Unix seconds, CLOCK_BOOTTIME in ns.
  int64_t (*wall_now)() = nullptr;
  int64_t (*boot_now_ns)() = nullptr;
};

// The boot id the kernel gives this boot (/proc/sys/kernel/random/boot_id),
// or "" when unreadable (restart credit then never applies).
std::string read_boot_id(const std::string& path = "/proc/sys/kernel/random/boot_id");

// The NDJSON event line for a quota crossing: {"event":"quota",...}\n.
std::string quota_event_line(const ledger::QuotaAlert& alert, int64_t ts_ms);

class LedgerReporter : public Reporter, private ledger::LedgerEvents {
 public:
  // Opens the ledger (throws ledger::LedgerError). `inner` receives every
  // reading after it is booked; `readings[0]` is what is booked.
  LedgerReporter(LedgerReporterConfig config, std::unique_ptr<Reporter> inner);
  ~LedgerReporter() override;

  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
              int64_t monotonic_ns, int64_t wall_ms) override;
  // Books held traffic and saves; then the inner reporter's finish().
  void finish() override;

  // Adds usage (and quota state) to every interface of `snapshot`.
  void enrich(Snapshot& snapshot);

  ledger::Ledger& book() { return *ledger_; }
  Reporter& inner() { return *inner_; }
  uint64_t quota_events() const { return quota_events_; }

 private:
  void on_quota(const ledger::QuotaAlert& alert) override;
  void run_hook(const ledger::QuotaAlert& alert);
  void reap_hooks();

  // The quota state of `name` at `now`, or null when it has no --quota.
  std::shared_ptr<const QuotaUsage> quota_usage(const std::string& name, int64_t now);

  LedgerReporterConfig config_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Reporter> inner_;
  std::vector<pid_t> hooks_;
  std::vector<ledger::Reading> book_;  // this tick's readings
  int64_t now_ = 0;                    // wall seconds of the tick being reported
  int64_t tick_ms_ = 0;
  std::pair<int64_t, int64_t> labelled_{-1, -1};  // the day and month starts labelled below
  std::string day_label_, month_label_;           // the usage periods of snapshots
  bool output_ok_ = true;
  bool finished_ = false;
  uint64_t quota_events_ = 0;
};

}  // namespace netmon
