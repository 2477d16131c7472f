// The kernel's own per-device counters over rtnetlink: no module, no BPF, no
// privileges. The default source, so the agent works anywhere.
#pragma once

#include "core/source.h"
#include "sys/rtnl.h"

namespace netmon {

class NetdevSource : public Source {
 public:
  const char* kind() const override { return "netdev"; }
  void watch(const Link&) override {}
  void unwatch(const Link&) override {}
  CounterMap read(const std::vector<Link>& links) override;

 private:
  RtnlSocket rtnl_;
};

}  // namespace netmon
