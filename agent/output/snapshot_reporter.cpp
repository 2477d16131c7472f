#include "output/snapshot_reporter.h"

#include "output/ndjson.h"

namespace netmon {

bool SnapshotReporter::report(const std::vector<Link>& links,
                              const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                              int64_t wall_ms) {
  auto snapshot =
      std::make_shared<Snapshot>(builder_.build(links, readings.at(0), monotonic_ns, wall_ms));
  if (enrich_) enrich_(*snapshot);
  // With --quiet the line is for observers only, and /metrics alone needs
  // none: the service's way makes no line until /snapshot or a stream asks.
  bool line_wanted = out_fd_ >= 0;
  for (SnapshotObserver* observer : observers_) line_wanted = line_wanted || observer->wants_line();
  if (!line_wanted) {
    line_.reset();
  } else {
    // The line's buffer is reused while no observer still holds the previous
    // one (NDJSON alone); an observer's is left as it was handed over.
    if (!line_ || line_.use_count() > 1) line_ = std::make_shared<std::string>();
    to_ndjson(*snapshot, *line_);
  }
  for (SnapshotObserver* observer : observers_) observer->on_snapshot(snapshot, line_);
  return out_fd_ < 0 || write_line(out_fd_, *line_);
}

}  // namespace netmon
