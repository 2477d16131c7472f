// The agent's main loop: keeps the set of watched interfaces in step with
// the kernel (rtnetlink events), reads every source once per interval and
// hands the readings to the reporter.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "counters.h"
#include "reporter.h"
#include "rtnl.h"
#include "source.h"

namespace netmon {

struct MonitorConfig {
  std::chrono::milliseconds interval{1000};
  std::optional<uint64_t> count;  // stop after this many snapshots
  // Whether an interface (by its current name) is selected.
  std::function<bool(const std::string&)> selects;
  // Names that must exist at start-up (typed on the command line): a missing
  // one is an error, not something to wait for.
  std::vector<std::string> required_names;
  // Names expected to appear later (from a config file): warn once if absent.
  std::vector<std::string> expected_names;
  // Poll stdout for the reader going away between snapshots.
  int watched_output_fd = -1;
};

class Monitor {
 public:
  // `sources` are read in order at each tick; readings reach `reporter` in
  // the same order. Throws Error on start-up failures.
  Monitor(MonitorConfig config, std::vector<std::unique_ptr<Source>> sources, Reporter& reporter);
  ~Monitor();

  // Runs until `stop_fd` (a signalfd) is readable, the count is reached or
  // the reader goes away. Returns the exit code. Throws Error on failures
  // that make further snapshots meaningless.
  int run(int stop_fd);

  // The currently watched links, by ifindex (for tests and summaries).
  const std::map<int, Link>& links() const { return links_; }

 private:
  void sync_all_links(bool at_startup);
  void process_link_events();  // everything queued, without blocking
  void on_link_seen(const Link& link, bool at_startup);
  void on_link_gone(int ifindex);
  bool watch(const Link& link, bool fatal);
  void unwatch(const Link& link);
  bool take_snapshot();

  MonitorConfig config_;
  std::vector<std::unique_ptr<Source>> sources_;
  Reporter& reporter_;
  LinkMonitor link_monitor_;  // subscribed before the first dump: no gap
  RtnlSocket rtnl_;
  std::map<int, Link> links_;
  uint64_t snapshots_ = 0;
};

}  // namespace netmon
