// The agent's LinkFeed: rtnetlink link dumps and multicast link events.
#pragma once

#include "core/link_tracker.h"
#include "sys/rtnl.h"

namespace netmon {

class RtnlLinkFeed : public LinkFeed {
 public:
  // Subscribes before the first dump, so no change falls between the two.
  // Throws Error.
  RtnlLinkFeed() = default;

  std::vector<Link> dump() override;
  std::optional<std::vector<LinkEvent>> drain() override;
  int fd() const override { return events_.fd(); }

 private:
  LinkEventSocket events_;  // first: subscribed before rtnl_ dumps
  RtnlSocket rtnl_;
};

// Every link present now, over a short-lived socket. Throws Error.
std::vector<Link> dump_links_now();

}  // namespace netmon
