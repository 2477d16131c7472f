// Where readings go once taken: the NDJSON stream, and observers such as the
// Prometheus endpoint. --compare plugs in its own Reporter.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/counters.h"
#include "core/snapshot.h"

namespace netmon {

// Sees every snapshot after it is built (e.g. to serve /metrics). Called on
// the main loop's thread. Both are shared, never changed again: an observer
// keeps them instead of copying 1,000 interfaces' worth each tick.
class SnapshotObserver {
 public:
  virtual ~SnapshotObserver() = default;
  // `ndjson` is null when no observer wanted the line and it goes nowhere
  // else (--quiet): it is then not made at all.
  virtual void on_snapshot(std::shared_ptr<const Snapshot> snapshot,
                           std::shared_ptr<const std::string> ndjson) = 0;
  // Whether the next on_snapshot needs the snapshot's NDJSON line, asked
  // just before it is made.
  virtual bool wants_line() const { return true; }
};

class Reporter {
 public:
  virtual ~Reporter() = default;

  // One reading of every source (in the order the sources were given), all
  // taken at `monotonic_ns`. Returns false when the consumer is gone (stdout
  // closed), which ends the agent cleanly.
  virtual bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
                      int64_t monotonic_ns, int64_t wall_ms) = 0;

  // Called once when the agent stops (summaries, final flush).
  virtual void finish() {}
};

}  // namespace netmon
