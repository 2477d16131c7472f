// --compare's reporter: runs the reconciler on every reading, writes its rows
// as one NDJSON line, its findings to stderr, and (with --listen) each
// source's counters and the delta and match gauges to a MetricsPublisher.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compare/reconciler.h"
#include "core/reporter.h"
#include "core/snapshot.h"
#include "output/prometheus.h"

namespace netmon {

struct CompareConfig {
  // Source kinds in reading order (see Reconciler).
  std::vector<std::string> sources{"bpf", "proc"};
  int out_fd = -1;  // NDJSON destination; < 0: none
  // Per-link device differences; unset: none (see Reconciler).
  std::function<DeviceQuirks(const Link&)> quirks;
  // Where findings go; unset: spdlog warn / info (stderr).
  std::function<void(const std::string&)> warn;
  std::function<void(const std::string&)> info;
  // --listen: each source's snapshot plus the delta and match gauges.
  MetricsPublisher* metrics = nullptr;
};

class CompareReporter : public Reporter {
 public:
  explicit CompareReporter(CompareConfig config);

  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
              int64_t monotonic_ns, int64_t wall_ms) override;

  // The reconciler's summary, one line per interface ever compared.
  void finish() override;

  // What report() writes: runs the reconciler, reports its findings and
  // returns the NDJSON line (with its '\n').
  std::string compare(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
                      int64_t monotonic_ns, int64_t wall_ms);

 private:
  void publish(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
               int64_t monotonic_ns, int64_t wall_ms, const std::string& line);

  CompareConfig config_;
  Reconciler reconciler_;
  std::vector<SnapshotBuilder> builders_;  // per source, for the metrics endpoint
  std::vector<CompareRow> last_rows_;      // the last line's comparisons
};

// The NDJSON line of one compared tick: {"source":"compare","seq":..,
// "ts_ms":..,"interval_ms":..,"interfaces":{name:{"ifindex":..,<source>:{..},
// ..,"delta":{..},"match":..[,"quirks":[..]][,"skew":{..}]}}}\n. A name that
// repeats keeps its first place and its last row.
std::string compare_to_ndjson(const CompareTick& tick, const std::vector<std::string>& sources,
                              int64_t wall_ms);

}  // namespace netmon
