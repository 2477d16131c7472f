// The agent's main loop: once per interval, applies queued link changes,
// reads every source at one moment and hands the readings to the reporter;
// in between, waits for a stop signal, link events or the reader leaving.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/link_tracker.h"
#include "core/reporter.h"
#include "core/source.h"

namespace netmon {

struct EventLoopConfig {
  std::chrono::milliseconds interval{1000};
  std::optional<uint64_t> count;  // stop after this many snapshots
  // Poll stdout for the reader going away between snapshots.
  int watched_output_fd = -1;
};

class EventLoop {
 public:
  // `sources` are read in order at each tick; readings reach `reporter` in
  // the same order. `tracker` watches links on those sources.
  EventLoop(EventLoopConfig config, std::vector<Source*> sources, LinkTracker& tracker,
            LinkFeed& feed, Reporter& reporter);

  // Runs until `stop_fd` (a signalfd) is readable, the count is reached or
  // the reader goes away. Returns the exit code. Throws Error on failures
  // that make further snapshots meaningless.
  int run(int stop_fd);

 private:
  bool take_snapshot();

  EventLoopConfig config_;
  std::vector<Source*> sources_;
  LinkTracker& tracker_;
  LinkFeed& feed_;
  Reporter& reporter_;
  uint64_t snapshots_ = 0;
};

}  // namespace netmon
