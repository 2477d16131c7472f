#include "sources/netdev/netdev_source.h"

#include "sys/error.h"

namespace netmon {

CounterMap NetdevSource::read(const std::vector<Link>& links) {
  // One dump for all links is cheaper than a request per link once there
  // are more than a handful.
  std::map<int, LinkStats64> all;
  if (RtnlStatus status = dump_stats64(rtnl_, all)) throw Error(status.message());
  CounterMap wanted;
  for (const Link& link : links) {
    auto it = all.find(link.ifindex);
    if (it == all.end()) continue;
    const LinkStats64& s = it->second;
    wanted.emplace(it->first, Counters{s.rx_bytes, s.rx_packets, s.tx_bytes, s.tx_packets});
  }
  return wanted;
}

}  // namespace netmon
