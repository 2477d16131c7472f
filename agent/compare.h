// --compare: BPF against /proc/netmon (and optionally netdev), read at the
// same moment, as a debugging aid for the datapath and the module alike.
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
// Known per-device differences, detected per link and named in the output
// ("quirks"), never absorbed into a wider general tolerance:
//  * loopback_l2_header: lo counts skb->len after eth_type_trans(), i.e.
//    without the 14-byte Ethernet header tc sees, once per skb: compare
//    bpf_bytes - 14 x proc_packets (proc counts skbs, see gso_segments).
//  * veth_napi_rx / veth_napi_tx: a veth in NAPI mode (native XDP attached,
//    or GRO requested) counts rx (and its peer's tx) after the header was
//    pulled, for packets that take the NAPI path: bpf - proc lies in
//    [0, 14 x packets] for bytes in that direction.
//  * gso_segments: software devices (lo, veth, bridge, tun, ...) count one
//    packet per skb, BPF counts a GSO super-packet as its wire segments:
//    packets may only be higher in bpf; bytes still compare exactly.
//  * hw_offload: with hw-tc-offload (or XDP offloaded to the NIC), offloaded
//    flows never reach tc: bpf may only be lower than proc.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "counters.h"
#include "reporter.h"
#include "snapshot.h"

namespace netmon {

class MetricsServer;

// What a device counts differently from tc (see above).
struct DeviceQuirks {
  bool loopback_l2_header = false;
  bool veth_napi_rx = false;
  bool veth_napi_tx = false;
  bool gso_segments = false;
  bool hw_offload = false;

  // The names of the flags set, in a fixed order, for output.
  std::vector<std::string> names() const;
};

// Looks at the live system (sysfs, ethtool ioctls, one RTM_GETLINK) for
// `link` in the agent's network namespace. Never throws: whatever cannot be
// probed counts as "no quirk", so the comparison is strict rather than lax.
DeviceQuirks probe_device_quirks(const Link& link);

struct CompareConfig {
  // Source kinds in reading order: [0] is compared against [1] ("delta" is
  // [0] - [1]); any further source is reported alongside as a third opinion.
  std::vector<std::string> sources{"bpf", "proc"};
  int out_fd = -1;  // NDJSON destination; < 0: none
  // Per-link device differences; unset: none. Asked when a link is first
  // seen and again before a mismatch is logged (XDP may have been attached).
  std::function<DeviceQuirks(const Link&)> quirks;
  // Where diagnostics go; unset: spdlog warn / info (stderr).
  std::function<void(const std::string&)> warn;
  std::function<void(const std::string&)> info;
  // --listen: each source's snapshot plus the delta and match gauges.
  MetricsServer* metrics = nullptr;
};

class CompareReporter : public Reporter {
 public:
  explicit CompareReporter(CompareConfig config);

  bool report(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
              int64_t monotonic_ns, int64_t wall_ms) override;

  // One line per interface ever compared: snapshots, matches, largest delta.
  void finish() override;

  // What report() writes: updates the comparison state and returns the
  // NDJSON line (with its '\n'). A link missing from any reading is left out
  // of that line.
  std::string compare(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
                      int64_t monotonic_ns, int64_t wall_ms);

 private:
  using Values = std::array<int64_t, 4>;  // rx_bytes, rx_packets, tx_bytes, tx_packets

  struct LinkState {
    DeviceQuirks quirks;
    std::vector<Counters> baseline;  // per source
    std::vector<Counters> previous;  // per source, raw
    bool settled = false;            // baseline known to be free of in-flight skew
    bool first_interval = true;      // the next reading is the first after the baseline
    Values first_motion{};           // traffic in the first interval: bounds the skew
    Values skew{};
    int quiet_mismatches = 0;  // consecutive
    bool warned = false;
    Values warned_delta{};
  };

  struct Summary {
    std::string name;
    uint64_t snapshots = 0;
    uint64_t matches = 0;
    Values largest{};  // signed delta of largest magnitude, per counter
  };

  void start(const Link& link, const std::vector<const Counters*>& now);
  DeviceQuirks quirks_of(const Link& link) const;

  void publish(const std::vector<Link>& links, const std::vector<CounterMap>& readings,
               int64_t monotonic_ns, int64_t wall_ms, const std::string& line);

  CompareConfig config_;
  std::vector<SnapshotBuilder> builders_;  // per source, for the metrics endpoint
  struct Published {
    std::string name;
    Values delta;
    bool match;
  };
  std::vector<Published> published_;  // the last line's comparisons
  uint64_t next_seq_ = 0;
  int64_t previous_ns_ = 0;
  std::map<int, LinkState> links_;
  std::map<int, Summary> summaries_;
};

}  // namespace netmon
