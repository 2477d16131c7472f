#include "compare/reconciler.h"

#include <algorithm>
#include <set>

#include "sys/error.h"

namespace netmon {
namespace {

constexpr int64_t kEthHeader = 14;
constexpr int64_t kUnbounded = INT64_MAX;

// 14 bytes per packet, saturated: increments are small in practice, but
// counters are whatever the kernel (or a file) says.
int64_t headers(uint64_t packets) {
  return packets > static_cast<uint64_t>(kUnbounded / kEthHeader)
             ? kUnbounded
             : static_cast<int64_t>(packets) * kEthHeader;
}

}  // namespace

std::array<Band, 4> bands_for(const DeviceQuirks& q, const Counters& proc) {
  std::array<Band, 4> b{};
  if (q.loopback_l2_header) {
    b[0].shift = headers(proc.rx_packets);
    b[2].shift = headers(proc.tx_packets);
  }
  if (q.veth_napi_rx) b[0].above = headers(proc.rx_packets);
  if (q.veth_napi_tx) b[2].above = headers(proc.tx_packets);
  if (q.gso_segments) b[1].above = b[3].above = kUnbounded;
  if (q.hw_offload)
    for (Band& band : b) band.below = kUnbounded;
  return b;
}

// How far `value` lies outside [-below, above]; 0 inside. below and above
// are in [0, INT64_MAX], so neither -below nor either difference can overflow
// (no 128-bit arithmetic: 32-bit targets have none).
int64_t band_excess(int64_t value, const Band& band) {
  if (value < -band.below) return value + band.below;
  if (value > band.above) return value - band.above;
  return 0;
}

// a + b for a, b >= 0, clamped at INT64_MAX.
int64_t saturating_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

int64_t magnitude(int64_t v) { return v == INT64_MIN ? INT64_MAX : v < 0 ? -v : v; }

// Signed differences of u64 counters wrap rather than overflow (no UB).
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

Reconciler::Reconciler(std::vector<std::string> sources,
                       std::function<DeviceQuirks(const Link&)> quirks)
    : sources_(std::move(sources)), quirks_(std::move(quirks)) {
  if (sources_.size() < 2) throw Error("--compare needs at least two sources");
}

DeviceQuirks Reconciler::quirks_of(const Link& link) const {
  return quirks_ ? quirks_(link) : DeviceQuirks{};
}

void Reconciler::start(const Link& link, const std::vector<const Counters*>& now) {
  LinkState state;
  state.quirks = quirks_of(link);
  for (const Counters* c : now) {
    state.baseline.push_back(*c);
    state.previous.push_back(*c);
  }
  links_[link.ifindex] = std::move(state);
}

CompareTick Reconciler::reconcile(const std::vector<Link>& links,
                                  const std::vector<CounterMap>& readings, int64_t monotonic_ns) {
  if (readings.size() != sources_.size())
    throw Error("--compare: " + std::to_string(readings.size()) + " readings for " +
                std::to_string(sources_.size()) + " sources");
  CompareTick tick;
  tick.interval_ms = next_seq_ == 0 ? 0 : (monotonic_ns - previous_ns_) / 1'000'000;
  auto info = [&](std::string text) {
    tick.findings.push_back({Finding::Level::kInfo, std::move(text)});
  };
  auto warn = [&](std::string text) {
    tick.findings.push_back({Finding::Level::kWarning, std::move(text)});
  };

  // A link no longer watched is gone; if its ifindex comes back it is a new
  // interface with a new baseline.
  std::set<int> present;
  for (const Link& link : links) present.insert(link.ifindex);
  for (auto it = links_.begin(); it != links_.end();)
    it = present.count(it->first) ? std::next(it) : links_.erase(it);

  for (const Link& link : links) {
    std::vector<const Counters*> now;
    for (const CounterMap& reading : readings) {
      auto it = reading.find(link.ifindex);
      if (it == reading.end()) break;
      now.push_back(&it->second);
    }
    if (now.size() != readings.size()) continue;  // cannot compare what one side lacks

    auto state_it = links_.find(link.ifindex);
    bool fresh = state_it == links_.end();
    if (!fresh) {
      // Totals going backwards mean a counter reset (BPF slot re-zeroed,
      // driver reset): comparing across it would be meaningless.
      const LinkState& s = state_it->second;
      bool backwards = false;
      for (size_t src = 0; src < now.size(); ++src)
        for (int i = 0; i < 4; ++i)
          backwards |= counter_at(*now[src], i) < counter_at(s.previous[src], i);
      if (backwards) {
        info("compare: counters of '" + link.name + "' went backwards; its comparison starts over");
        fresh = true;
      }
    }
    if (fresh) {
      start(link, now);
      state_it = links_.find(link.ifindex);
    }
    LinkState& s = state_it->second;

    std::vector<Counters> increments;
    for (size_t src = 0; src < now.size(); ++src) increments.push_back(*now[src] - s.baseline[src]);
    const Counters& a = increments[0];
    const Counters& b = increments[1];

    CounterValues moved{};
    bool quiet = true;
    for (int i = 0; i < 4; ++i) {
      for (int src = 0; src < 2; ++src)
        moved[i] = std::max(moved[i], static_cast<int64_t>(counter_at(*now[src], i) -
                                                           counter_at(s.previous[src], i)));
      quiet &= moved[i] == 0;
    }

    std::array<Band, 4> bands = bands_for(s.quirks, b);
    CounterValues delta{};
    for (int i = 0; i < 4; ++i)
      delta[i] =
          wrapping_sub(static_cast<int64_t>(counter_at(a, i) - counter_at(b, i)), bands[i].shift);

    if (!fresh && s.first_interval) {
      s.first_interval = false;
      if (quiet)
        s.settled = true;  // nothing moved since the baseline: it was at rest
      else
        s.first_motion = moved;
    }
    if (!fresh && quiet && !s.settled) {
      s.settled = true;
      CounterValues left{};
      bool any = false, bounded = true;
      for (int i = 0; i < 4; ++i) {
        left[i] = band_excess(delta[i], bands[i]);
        any |= left[i] != 0;
        bounded &= magnitude(left[i]) <= s.first_motion[i];
      }
      if (any && bounded) {
        s.skew = left;
        info("compare: '" + link.name +
             "': the comparison started while traffic was flowing; at the first quiet "
             "moment " +
             sources_[0] + " - " + sources_[1] + " was " + values_text(left) +
             " (packets in flight then); later snapshots allow for it");
      }
    }

    // Until a quiet moment has measured it, a baseline taken in motion may
    // hold up to the first interval's traffic in flight.
    bool match = true;
    for (int i = 0; i < 4; ++i) {
      const int64_t off = band_excess(wrapping_sub(delta[i], s.skew[i]), bands[i]);
      const int64_t allowance = s.settled ? moved[i] : saturating_add(moved[i], s.first_motion[i]);
      match &= quiet ? off == 0 : magnitude(off) <= allowance;
    }

    if (quiet && !match) {
      ++s.quiet_mismatches;
      if (s.quiet_mismatches >= 2 && (!s.warned || s.warned_delta != delta)) {
        // XDP or offload may have been switched on since the link was
        // first seen: look again before calling it a mismatch.
        DeviceQuirks again = quirks_of(link);
        if (again.names() != s.quirks.names()) {
          s.quirks = again;
          s.quiet_mismatches = 0;
        } else {
          s.warned = true;
          s.warned_delta = delta;
          std::string why = mismatch_hint(delta, b);
          warn("compare: '" + link.name + "' (ifindex " + std::to_string(link.ifindex) + "): " +
               sources_[0] + " and " + sources_[1] + " disagree with no traffic: " + sources_[0] +
               " " + counters_text(a) + "; " + sources_[1] + " " + counters_text(b) + "; delta " +
               values_text(delta) + (why.empty() ? "" : " (" + why + ")"));
        }
      }
    } else if (match) {
      s.quiet_mismatches = 0;
      s.warned = false;
    }

    Summary& summary = summaries_[link.ifindex];
    summary.name = link.name;
    ++summary.snapshots;
    summary.matches += match;
    for (int i = 0; i < 4; ++i)
      if (magnitude(delta[i]) > magnitude(summary.largest[i])) summary.largest[i] = delta[i];

    for (size_t src = 0; src < now.size(); ++src) s.previous[src] = *now[src];
    CompareRow row;
    row.link = link;
    row.increments = std::move(increments);
    row.delta = delta;
    row.match = match;
    row.quirks = s.quirks.names();
    row.skew = s.skew;
    tick.rows.push_back(std::move(row));
  }

  tick.seq = next_seq_++;
  previous_ns_ = monotonic_ns;
  return tick;
}

std::vector<Finding> Reconciler::summary() const {
  std::vector<Finding> out;
  for (const auto& [ifindex, s] : summaries_)
    out.push_back({Finding::Level::kInfo,
                   "compare summary: '" + s.name + "' (ifindex " + std::to_string(ifindex) + "): " +
                       std::to_string(s.snapshots) + " snapshots, " + std::to_string(s.matches) +
                       " matched, largest delta " + values_text(s.largest)});
  return out;
}

}  // namespace netmon
