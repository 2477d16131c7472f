// Keeps netmon's legacy tc filters first on their hooks. cls_bpf runs the
// filters of one priority newest first, and no priority runs before 1 (ours),
// so another tool that adds a cls_bpf filter at priority 1 under another
// handle runs before us; if it ends the chain (TC_ACT_SHOT, TC_ACT_OK, a
// redirect) the packets it took never reach our counters. The same goes for
// our filter deleted, or the clsact qdisc removed with it.
//
// The guard hears about every filter and qdisc change through rtnetlink's TC
// multicast group (no polling), looks at the hooks of the interfaces that
// changed, and when ours is not the first filter any more, deletes and re-adds
// it: cls_bpf puts the re-added filter at the head of its list, in front of
// the newcomer, which itself is left alone. From the moment the agent read
// the notification to the re-add, packets may have passed uncounted; that
// window is warned about and added to the health counters.
//
// Same namespace rule as tc_attach.h: create, use and destroy it in the
// network namespace of the interfaces it guards.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/snapshot.h"
#include "sources/bpf/tc_attach.h"
#include "sys/rtnl.h"
#include "sys/rtnl_tc.h"

namespace netmon {

class TcGuard {
 public:
  TcGuard();  // subscribes to the TC multicast group; throws Error

  // For poll(): readable when filters or qdiscs changed somewhere.
  int fd() const { return events_.fd(); }

  // Guards our filter (program `prog_fd`, kernel id `prog_id`, at kTcHandle
  // and kTcPriority) on `hook` (kTcIngress or kTcEgress) of `link`.
  void guard(const Link& link, Hook hook, int prog_fd, uint32_t prog_id);
  // Stops guarding both hooks of `ifindex` (before our filters are detached:
  // their removal is not a preemption).
  void forget(int ifindex);

  // Reads the pending notifications and puts our filter back in front where
  // it is no longer first. Never throws: a failure to restore is logged.
  void handle_events();

  // Another try at the hooks the guard stopped fighting for (see
  // kMaxRefronts); the source calls it once per reading.
  void retry_contested();

  // Totals since start: how often our filter was found behind another (or
  // gone), and the seconds in which packets may have been missed.
  // A hook given up on counts as behind until it is retaken.
  SourceHealth health() const;

  // A tool that itself insists on running first would fight the guard
  // forever, each reacting to the other's notification. After this many
  // re-adds on one hook within kContestWindowNs the guard leaves that hook
  // behind (an error says so, and the time counts in health()) and tries
  // again once the window has passed.
  static constexpr size_t kMaxRefronts = 10;
  static constexpr int64_t kContestWindowNs = 10'000'000'000;

 private:
  struct Guarded {
    Link link;
    int prog_fd = -1;
    uint32_t prog_id = 0;
    // A clsact qdisc we had to create again after someone removed it.
    std::unique_ptr<Attachment> clsact;
    // When ours was put back, within the window: at most kMaxRefronts, and
    // empty on almost every hook (an empty deque holds 0.6 KB, 1.2 MB over
    // the 2,000 hooks of 1,000 interfaces).
    std::vector<int64_t> refronts;
    int64_t behind_since = 0;  // given up on since then; 0: not
  };
  using Key = std::pair<int, bool>;  // ifindex, ingress

  void check(const Key& key, Guarded& guarded, int64_t noticed_ns);

  TcEventSocket events_;
  RtnlSocket rtnl_;
  std::map<Key, Guarded> guarded_;
  SourceHealth health_;
};

}  // namespace netmon
