// Where readings go once taken: the NDJSON stream, and observers such as the
// Prometheus endpoint. --compare plugs in its own Reporter.
#pragma once

#include <memory>
#include <vector>

#include "counters.h"
#include "snapshot.h"

namespace netmon {

// Sees every snapshot after it is built (e.g. to serve /metrics). Called on
// the monitor's thread; implementations copy what they need.
class SnapshotObserver {
 public:
  virtual ~SnapshotObserver() = default;
  virtual void on_snapshot(const Snapshot& snapshot, const std::string& ndjson) = 0;
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

// The plain mode: one source, one snapshot per reading, NDJSON to `out_fd`
// (or nowhere when out_fd < 0), and every observer told.
class SnapshotReporter : public Reporter {
 public:
  SnapshotReporter(std::string source, int out_fd) : builder_(std::move(source)), out_fd_(out_fd) {}

  void add_observer(SnapshotObserver* observer) { observers_.push_back(observer); }

  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
              int64_t monotonic_ns, int64_t wall_ms) override;

 private:
  SnapshotBuilder builder_;
  int out_fd_;
  std::vector<SnapshotObserver*> observers_;
};

}  // namespace netmon
