// Snapshots: per-interface totals plus rates over the last interval, the one
// shape every sink (NDJSON, Prometheus) consumes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
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

// A quota's state for one interface (--quota), as the usage ledger
// evaluates it: used and limit in bytes of the quota's direction, a linear
// projection to the end of its period.
struct QuotaUsage {
  std::string period;     // label of the quota period, e.g. "2026-11"
  std::string kind;       // "day" or "month"
  std::string direction;  // "rx", "tx" or "total"
  uint64_t used = 0;
  uint64_t limit = 0;
  double percent = 0;
  uint64_t projected = 0;

  bool operator==(const QuotaUsage& o) const {
    return used == o.used && limit == o.limit && percent == o.percent && projected == o.projected &&
           period == o.period && kind == o.kind && direction == o.direction;
  }
  bool operator!=(const QuotaUsage& o) const { return !(*this == o); }
};

// Bytes each way: what a bill, a quota and netmon_usage_bytes count.
struct UsageBytes {
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;

  bool operator==(const UsageBytes& o) const {
    return rx_bytes == o.rx_bytes && tx_bytes == o.tx_bytes;
  }
  bool operator!=(const UsageBytes& o) const { return !(*this == o); }
};

// What the usage ledger (--ledger) has booked for an interface in the
// current day and billing month (Snapshot::usage_day, usage_month).
// Held in the snapshot itself: at 1,000 interfaces, an object per interface
// on the heap (and its text cached beside it) cost more to reach once a
// second from cold memory than rendering the figures anew. Packets stay in
// the ledger and its report: in every line they doubled what the ledger
// adds to it, for a figure no bill counts.
struct InterfaceUsage {
  UsageBytes today;
  UsageBytes this_month;
  std::shared_ptr<const QuotaUsage> quota;  // only for an interface with a --quota
};

struct InterfaceSnapshot {
  Link link;
  Counters totals;
  Rates rates;
  std::optional<InterfaceUsage> usage;  // only with --ledger
};

// How far a source's counts can be trusted, when it can say. Today: the BPF
// source with legacy tc filters, which another tool can get in front of (see
// sources/bpf/tc_guard.h).
struct SourceHealth {
  uint64_t tc_preempted = 0;        // times our filter was found not first
  double tc_preempted_seconds = 0;  // windows in which packets may be uncounted
};

struct Snapshot {
  std::string source;
  uint64_t seq = 0;
  int64_t ts_ms = 0;        // wall clock, Unix ms
  int64_t interval_ms = 0;  // measured since the previous snapshot; 0 for seq 0
  std::vector<InterfaceSnapshot> interfaces;
  // With --ledger, the periods of every interface's usage: "2026-11-30" and
  // "2026-11" (the start date when the month starts on another day). The
  // line names them once (usage_periods), not in each of 1,000 interfaces.
  std::string usage_day, usage_month;
  std::optional<SourceHealth> health;  // only from sources that report it
};

// How far a counter moved between two readings, or std::nullopt when it was
// reset. A counter that went down was reset (an interface re-created under a
// reused ifindex, a BPF slot re-zeroed), except for one rule when
// `wraps_at_32_bits`: a 32-bit driver counter (`unsigned long` in struct
// net_device_stats on 32-bit kernels, passed on unchanged by /proc/net/dev,
// /proc/netmon and rtnetlink's stats64) that was below 2^32 and is now lower
// wrapped, when the wrapped distance (now + 2^32 - before) is below 2^31: a
// reset of a counter that had reached half its range in one interval is far
// less likely than a wrap, and anything larger is taken as a reset.
std::optional<uint64_t> counter_delta(uint64_t before, uint64_t now, bool wraps_at_32_bits);

// Turns successive readings into snapshots. Rates are computed per ifindex
// against the previous reading, so a renamed interface keeps its history
// and a new one (or a re-created one with a reused ifindex whose totals went
// backwards) starts with zero rates instead of a bogus spike. Totals are
// reported as read; only rates see through a 32-bit wrap.
class SnapshotBuilder {
 public:
  // The kernel's counters ("netdev", "proc") may wrap at 32 bits; BPF's are
  // the agent's own u64s and never do.
  explicit SnapshotBuilder(std::string source)
      : source_(std::move(source)), wraps_at_32_bits_(source_ != "bpf") {}

  // `links` in output order; a link missing from `counters` is left out.
  Snapshot build(const std::vector<Link>& links, const CounterMap& counters, int64_t monotonic_ns,
                 int64_t wall_ms);

 private:
  std::string source_;
  bool wraps_at_32_bits_;
  uint64_t next_seq_ = 0;
  int64_t previous_ns_ = 0;
  CounterMap previous_;
};

}  // namespace netmon
