// Turns the command line into a running agent: the interface selection, the
// source(s), the reporter and the optional metrics endpoint.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "app/event_loop.h"
#include "app/options.h"
#include "app/rtnl_link_feed.h"
#include "core/link_tracker.h"
#include "core/reporter.h"
#include "core/source.h"

namespace netmon {

struct LedgerReporterConfig;

// The usage ledger's settings from the options (--ledger and friends).
LedgerReporterConfig ledger_config(const Options& options, int out_fd);

// `--report PERIOD [--json] [IFACE...]`: prints from the ledger file (read
// only) to `out`. Returns the exit status: 0, or 1 with one error line.
// --unpin: removes the pinned set; 0 also when there was none.
int run_unpin(const Options& options);

int run_report(const Options& options, std::ostream& out);

// "netmon-agent <version> (bpf object <build id>)".
std::string version_text();

// Creates the source for one kind ("bpf", "proc" or "netdev"). Throws Error.
// `selected_links` (interfaces selected at start-up) lets --attach auto pick
// the attach method that scales to that many.
std::unique_ptr<Source> make_source(SourceKind kind, const Options& options,
                                    size_t selected_links = 0);

class Agent {
 public:
  // Resolves the selection, loads and attaches everything. Throws Error.
  explicit Agent(Options options);
  ~Agent();

  int run(int stop_fd);

 private:
  Options options_;
  // In order of construction; destroyed in reverse, so the tracker unwatches
  // (detaches) before the sources go, and the metrics server stops last.
  std::vector<std::unique_ptr<SnapshotObserver>> observers_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<Reporter> reporter_;
  std::unique_ptr<RtnlLinkFeed> feed_;
  std::unique_ptr<LinkTracker> tracker_;
  std::unique_ptr<EventLoop> loop_;
};

}  // namespace netmon
