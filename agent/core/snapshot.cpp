#include "core/snapshot.h"

#include <cmath>

namespace netmon {
namespace {

// Rates are estimates; three decimals keep the JSON short and readable.
double per_second(uint64_t delta, double seconds) {
  return std::round(static_cast<double>(delta) / seconds * 1000.0) / 1000.0;
}

bool went_backwards(const Counters& now, const Counters& before) {
  return now.rx_bytes < before.rx_bytes || now.rx_packets < before.rx_packets ||
         now.tx_bytes < before.tx_bytes || now.tx_packets < before.tx_packets;
}

}  // namespace

Snapshot SnapshotBuilder::build(const std::vector<Link>& links, const CounterMap& counters,
                                int64_t monotonic_ns, int64_t wall_ms) {
  Snapshot snapshot;
  snapshot.source = source_;
  snapshot.seq = next_seq_++;
  snapshot.ts_ms = wall_ms;
  const bool first = snapshot.seq == 0;
  const int64_t elapsed_ns = first ? 0 : monotonic_ns - previous_ns_;
  snapshot.interval_ms = elapsed_ns / 1'000'000;
  const double seconds = static_cast<double>(elapsed_ns) / 1e9;

  CounterMap current;
  for (const Link& link : links) {
    auto it = counters.find(link.ifindex);
    if (it == counters.end()) continue;
    InterfaceSnapshot entry{link, it->second, {}};
    auto before = previous_.find(link.ifindex);
    if (seconds > 0 && before != previous_.end() && !went_backwards(it->second, before->second)) {
      Counters delta = it->second - before->second;
      entry.rates.rx_bps = per_second(delta.rx_bytes * 8, seconds);
      entry.rates.tx_bps = per_second(delta.tx_bytes * 8, seconds);
      entry.rates.rx_pps = per_second(delta.rx_packets, seconds);
      entry.rates.tx_pps = per_second(delta.tx_packets, seconds);
    }
    current.emplace(link.ifindex, it->second);
    snapshot.interfaces.push_back(std::move(entry));
  }
  previous_ = std::move(current);
  previous_ns_ = monotonic_ns;
  return snapshot;
}

}  // namespace netmon
