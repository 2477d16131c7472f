// Counters every source reports, and the link identity they are keyed by.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace netmon {

struct Counters {
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;

  Counters& operator+=(const Counters& o) {
    rx_bytes += o.rx_bytes;
    rx_packets += o.rx_packets;
    tx_bytes += o.tx_bytes;
    tx_packets += o.tx_packets;
    return *this;
  }
  friend bool operator==(const Counters& a, const Counters& b) {
    return a.rx_bytes == b.rx_bytes && a.rx_packets == b.rx_packets && a.tx_bytes == b.tx_bytes &&
           a.tx_packets == b.tx_packets;
  }
  friend bool operator!=(const Counters& a, const Counters& b) { return !(a == b); }
};

// Wrapping difference: kernel counters are monotonic u64, so `now - before`
// is right even across a wrap; a counter reset shows up as a huge value,
// which the caller avoids by re-basing when a link is (re)created.
inline Counters operator-(const Counters& now, const Counters& before) {
  return {now.rx_bytes - before.rx_bytes, now.rx_packets - before.rx_packets,
          now.tx_bytes - before.tx_bytes, now.tx_packets - before.tx_packets};
}

// A network interface as the agent tracks it. ifindex identifies it while it
// lives (names can change); a deleted and re-created interface is a new Link.
struct Link {
  int ifindex = 0;
  std::string name;
};

// Counters by ifindex, as one source read them at one moment.
using CounterMap = std::map<int, Counters>;

// Calls visit(link, counters) for each of `links` that `counters` has, in
// the links' order. Snapshots and the usage ledger both walk a reading this
// way, so a position in one is the same interface in the other.
template <typename Visit>
void for_each_counted(const std::vector<Link>& links, const CounterMap& counters, Visit visit) {
  auto next = counters.begin();
  for (const Link& link : links) {
    // Links come in ifindex order, as the map does: the next entry is
    // usually the one, without a search.
    auto it =
        next != counters.end() && next->first == link.ifindex ? next : counters.find(link.ifindex);
    if (it == counters.end()) continue;
    next = std::next(it);
    visit(link, it->second);
  }
}

}  // namespace netmon
