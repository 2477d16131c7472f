// The plain mode's reporter: one source, one NDJSON line per reading.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/reporter.h"
#include "core/snapshot.h"

namespace netmon {

// The plain mode: one source, one snapshot per reading, NDJSON to `out_fd`
// (or nowhere when out_fd < 0), and every observer told.
class SnapshotReporter : public Reporter {
 public:
  SnapshotReporter(std::string source, int out_fd) : builder_(std::move(source)), out_fd_(out_fd) {}

  void add_observer(SnapshotObserver* observer) { observers_.push_back(observer); }
  // Called on each snapshot before it is written (the usage ledger adds
  // each interface's usage).
  void set_enricher(std::function<void(Snapshot&)> enrich) { enrich_ = std::move(enrich); }

  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
              int64_t monotonic_ns, int64_t wall_ms) override;

 private:
  SnapshotBuilder builder_;
  int out_fd_;
  std::vector<SnapshotObserver*> observers_;
  std::function<void(Snapshot&)> enrich_;
  std::shared_ptr<std::string> line_;
};

}  // namespace netmon
