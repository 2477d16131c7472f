// Snapshots: per-interface totals plus rates over the last interval, the one
// shape every sink (NDJSON, Prometheus) consumes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/counters.h"

namespace netmon {

struct Rates {
  double rx_bps = 0;  // bits per second
  double tx_bps = 0;
  double rx_pps = 0;  // packets per second
  double tx_pps = 0;
};

struct InterfaceSnapshot {
  Link link;
  Counters totals;
  Rates rates;
};

struct Snapshot {
  std::string source;
  uint64_t seq = 0;
  int64_t ts_ms = 0;        // wall clock, Unix ms
  int64_t interval_ms = 0;  // measured since the previous snapshot; 0 for seq 0
  std::vector<InterfaceSnapshot> interfaces;
};

// Turns successive readings into snapshots. Rates are computed per ifindex
// against the previous reading, so a renamed interface keeps its history
// and a new one (or a re-created one with a reused ifindex whose totals went
// backwards) starts with zero rates instead of a bogus spike.
class SnapshotBuilder {
 public:
  explicit SnapshotBuilder(std::string source) : source_(std::move(source)) {}

  // `links` in output order; a link missing from `counters` is left out.
  Snapshot build(const std::vector<Link>& links, const CounterMap& counters, int64_t monotonic_ns,
                 int64_t wall_ms);

 private:
  std::string source_;
  uint64_t next_seq_ = 0;
  int64_t previous_ns_ = 0;
  CounterMap previous_;
};

}  // namespace netmon
