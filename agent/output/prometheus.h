// The Prometheus text exposition format (0.0.4) of netmon's counters and
// gauges: passive state in, text out, so it is testable without a socket.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/snapshot.h"

namespace netmon {

// What netmon_build_info reports.
struct BuildInfo {
  std::string version;     // NETMON_VERSION
  std::string bpf_object;  // build id of the embedded BPF object
};

// One labelled value of a gauge family; labels in output order.
struct GaugeSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// A gauge family published by a reporter that knows more than counters, such
// as --compare's deltas. `name` and label names must be valid Prometheus
// names ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':'); label values are
// escaped here.
struct GaugeFamily {
  std::string name;
  std::string help;
  std::vector<GaugeSample> samples;
};

// Everything one /metrics response is made of. Passive, so the formatting is
// testable without a socket.
struct MetricsState {
  std::map<std::string, std::shared_ptr<const Snapshot>> latest;  // by source ("bpf", "proc", ...)
  uint64_t snapshots_total = 0;
  uint64_t attach_failures_total = 0;
  uint64_t stream_dropped_snapshots_total = 0;  // /events and /ws: see HttpServer
  uint64_t stream_clients = 0;
  BuildInfo build;
  // Shared: a scrape's copy of the state must not copy every sample.
  std::shared_ptr<const std::vector<GaugeFamily>> gauges;
};

// The exposition text for `state`, made a part at a time, so a scrape holds
// one part instead of the whole text (0.7 MB at 1,000 interfaces with
// --ledger). HELP and TYPE for every family (also before the first snapshot,
// so dashboards see the families exist), samples sorted by source, then by
// the snapshot's interface order. The state is the writer's own: snapshots
// are shared and immutable, so the text is the state's at construction
// however long the client takes to read it.
class MetricsWriter {
 public:
  explicit MetricsWriter(MetricsState state);
  // Its place in the text points into its own state.
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  // Appends the next part to `out`: at least `min_bytes` (taken as 1 if 0)
  // more unless the text ends first (a sample is never split). False once
  // the end has been appended.
  bool write(std::string& out, size_t min_bytes);

 private:
  void begin_step(std::string& out);
  bool walk_step(std::string& out, size_t until_size);
  template <typename Sample>
  bool walk(std::string& out, size_t until_size, Sample sample);

  MetricsState state_;
  bool any_usage_ = false;
  bool any_quota_ = false;
  int step_ = 0;
  bool walking_ = false;  // step_'s header is written; its samples are under way
  std::map<std::string, std::shared_ptr<const Snapshot>>::const_iterator source_;
  size_t interface_ = 0;
};

// The whole text at once (tests, and what a scrape receives in parts).
std::string format_metrics(const MetricsState& state);

// A label value as the exposition format wants it: backslash, double quote
// and newline escaped; bytes that are not UTF-8 (interface names are bytes)
// replaced by U+FFFD, as the NDJSON output does.
std::string escape_label_value(std::string_view value);

// Where a reporter that knows more than counters (--compare) publishes
// each reading: the counters of every source (labelled source="bpf",
// source="proc"), gauge families that replace those of the previous call,
// and the NDJSON line it wrote. MetricsServer is one; tests record.
class MetricsPublisher {
 public:
  virtual ~MetricsPublisher() = default;
  virtual void publish_compare(const std::vector<Snapshot>& per_source,
                               std::vector<GaugeFamily> gauges, const std::string& ndjson) = 0;
};

}  // namespace netmon
