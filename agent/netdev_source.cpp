#include "netdev_source.h"

namespace netmon {

CounterMap NetdevSource::read(const std::vector<Link>& links) {
  // One dump for all links is cheaper than a request per link once there
  // are more than a handful.
  CounterMap all = rtnl_.dump_stats64();
  CounterMap wanted;
  for (const Link& link : links) {
    auto it = all.find(link.ifindex);
    if (it != all.end()) wanted.emplace(it->first, it->second);
  }
  return wanted;
}

}  // namespace netmon
