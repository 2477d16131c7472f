// --compare's logic: BPF against /proc/netmon (and optionally netdev), read
// at the same moment, as a debugging aid for the datapath and the module
// alike. Pure: one tick of readings in, rows and findings out; no sockets,
// no clock, no logging, no output format (output/compare_reporter.h writes
// the rows as NDJSON and the findings to stderr).
//
// Tolerance. Both sides count the same packets, but at different points of
// the stack (the driver's counter vs the tc hook) and read one after the
// other, so:
//  * When a link is quiet (no counter of any source moved since the last
//    snapshot) the two must agree exactly, after the device's known
//    differences below. Nothing is in flight any more, so any remaining
//    difference is real and worth a user's attention; one that persists over
//    two quiet snapshots is logged on stderr.
//  * While counters move, each delta may be off by at most what that counter
//    moved during the last interval: a packet counted by the driver but not
//    yet by tc (or the reverse: a qdisc holding it, a backlog queue, the
//    microseconds between reading BPF and reading the file) belongs to this
//    interval's traffic. A wider allowance would only hide a real loss.
//  * Each source is reported as increments since the link was first seen.
//    That first reading cannot be taken atomically either: if traffic flowed
//    then, a few in-flight packets are baked into the baseline. So at the
//    first quiet moment after a baseline taken in motion, a leftover that is
//    no larger than the first interval's traffic is taken as baseline skew,
//    logged once, shown as "skew" and allowed for from then on (until then,
//    the in-flight allowance includes that bound). Real differences grow
//    with traffic, so they show again after the next burst.
// The per-device differences (lo, veth NAPI, GSO, offload) are in
// compare/quirks.h.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compare/diagnosis.h"
#include "compare/quirks.h"
#include "core/counters.h"

namespace netmon {

// One compared interface in one tick.
struct CompareRow {
  Link link;
  std::vector<Counters> increments;  // per source, since the link was first seen
  CounterValues delta{};             // [0] - [1], after the quirks' shifts
  bool match = true;
  std::vector<std::string> quirks;  // DeviceQuirks::names()
  CounterValues skew{};             // all zero: none
};

// Something worth a line on stderr.
struct Finding {
  enum class Level { kInfo, kWarning };
  Level level;
  std::string text;
};

struct CompareTick {
  uint64_t seq = 0;
  int64_t interval_ms = 0;       // since the previous tick; 0 for seq 0
  std::vector<CompareRow> rows;  // in the order of the links given
  std::vector<Finding> findings;
};

class Reconciler {
 public:
  // `sources` in reading order: [0] is compared against [1] ("delta" is
  // [0] - [1]); any further source is reported alongside as a third
  // opinion. `quirks` is asked when a link is first seen and again before a
  // mismatch is reported (XDP may have been attached since); unset: none.
  // Throws Error for fewer than two sources.
  Reconciler(std::vector<std::string> sources, std::function<DeviceQuirks(const Link&)> quirks);

  // One reading of every source, taken at `monotonic_ns`. A link missing
  // from any reading is left out of the rows. Throws Error when the number
  // of readings is not the number of sources.
  CompareTick reconcile(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
                        int64_t monotonic_ns);

  // One info line per interface ever compared: snapshots, matches, largest
  // delta.
  std::vector<Finding> summary() const;

  const std::vector<std::string>& sources() const { return sources_; }

 private:
  struct LinkState {
    DeviceQuirks quirks;
    std::vector<Counters> baseline;  // per source
    std::vector<Counters> previous;  // per source, raw
    bool settled = false;            // baseline known to be free of in-flight skew
    bool first_interval = true;      // the next reading is the first after the baseline
    CounterValues first_motion{};    // traffic in the first interval: bounds the skew
    CounterValues skew{};
    int quiet_mismatches = 0;  // consecutive
    bool warned = false;
    CounterValues warned_delta{};
  };

  struct Summary {
    std::string name;
    uint64_t snapshots = 0;
    uint64_t matches = 0;
    CounterValues largest{};  // signed delta of largest magnitude, per counter
  };

  void start(const Link& link, const std::vector<const Counters*>& now);
  DeviceQuirks quirks_of(const Link& link) const;

  std::vector<std::string> sources_;
  std::function<DeviceQuirks(const Link&)> quirks_;
  uint64_t next_seq_ = 0;
  int64_t previous_ns_ = 0;
  std::map<int, LinkState> links_;
  std::map<int, Summary> summaries_;
};

// Tolerance arithmetic, exposed for tests at the int64 edges. Where bpf -
// proc may lie for one counter: (bpf - proc) - shift within [-below, above].
struct Band {
  int64_t shift = 0;
  int64_t below = 0;
  int64_t above = 0;
};
std::array<Band, 4> bands_for(const DeviceQuirks& quirks, const Counters& proc);
// How far `value` lies outside [-below, above]; 0 inside.
int64_t band_excess(int64_t value, const Band& band);
// a + b for a, b >= 0, clamped at INT64_MAX.
int64_t saturating_add(int64_t a, int64_t b);
// |v|, with |INT64_MIN| clamped to INT64_MAX.
int64_t magnitude(int64_t v);
// a - b modulo 2^64, as u64 counter differences wrap.
int64_t wrapping_sub(int64_t a, int64_t b);

}  // namespace netmon
