// rtnetlink, the kernel's own interface to link state and 64-bit counters:
// no privileges needed, one dump for all interfaces.
#pragma once

#include <optional>
#include <vector>

#include "counters.h"
#include "fd.h"

namespace netmon {

// A request/response rtnetlink socket (no multicast groups).
class RtnlSocket {
 public:
  RtnlSocket();  // throws Error

  // Every link in this network namespace: ifindex and name.
  std::vector<Link> dump_links();

  // The kernel's 64-bit counters (rtnl_link_stats64) for every link, keyed
  // by ifindex, in one RTM_GETSTATS dump: far lighter than RTM_GETLINK.
  CounterMap dump_stats64();

 private:
  template <typename Handler>
  void dump(const void* request, size_t request_len, Handler&& on_message);

  Fd fd_;
  uint32_t seq_ = 0;
};

// Link creations, deletions and renames, as rtnetlink multicasts them.
class LinkMonitor {
 public:
  struct Event {
    enum class Kind { kNewOrChanged, kDeleted };
    Kind kind;
    Link link;
  };

  LinkMonitor();  // throws Error

  // For poll(): readable when events are pending.
  int fd() const { return fd_.get(); }

  // Everything pending, without blocking. std::nullopt means the kernel
  // dropped events (socket overrun): the caller must re-dump all links.
  std::optional<std::vector<Event>> drain();

 private:
  Fd fd_;
};

}  // namespace netmon
