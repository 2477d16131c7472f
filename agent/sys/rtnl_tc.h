// rtnetlink's traffic-control side: the filters on a clsact hook in the
// order the kernel runs them, the qdisc that owns the ingress hook, and the
// TC multicast stream that says when either changed. Same error convention
// as sys/rtnl.h: RtnlStatus, never a throw, except when opening a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sys/rtnl.h"

namespace netmon {

// One filter as RTM_NEWTFILTER describes it.
struct TcFilterEntry {
  uint32_t chain = 0;
  uint32_t priority = 0;  // tc's "pref"
  uint32_t handle = 0;
  std::string kind;          // "bpf", "u32", "matchall", ...
  uint32_t bpf_prog_id = 0;  // cls_bpf only: TCA_BPF_ID
  std::string bpf_name;      // cls_bpf only: TCA_BPF_NAME (program or "file:[section]")
};

// Filters (of any kind, any owner) on clsact ingress or egress of `ifindex`:
// the whole dump, never a part of one.
RtnlStatus count_tc_filters(NetlinkChannel& channel, int ifindex, bool ingress, int& count);

// The filters on clsact ingress or egress of `ifindex`, in the order the
// kernel runs them: chain 0 first, then by priority, and within one priority
// of cls_bpf newest first (cls_bpf adds to the head of its list). The
// per-priority headers a dump also carries (handle 0, no filter) are left
// out. No clsact qdisc: an error (EINVAL or ENOENT), as the kernel says.
RtnlStatus dump_tc_filters(NetlinkChannel& channel, int ifindex, bool ingress,
                           std::vector<TcFilterEntry>& out);

// The kind of the qdisc that owns the ingress hook of `ifindex`: "clsact",
// "ingress" (the classic one, which has no egress hook), or "" for none.
RtnlStatus ingress_qdisc_kind(NetlinkChannel& channel, int ifindex, std::string& kind);

// Filter and qdisc changes (RTNLGRP_TC), from any tool, in this network
// namespace.
class TcEventSocket {
 public:
  TcEventSocket();  // throws Error

  // For poll(): readable when notifications are pending.
  int fd() const { return socket_.fd(); }

  // The ifindexes whose filters or qdiscs changed, from everything pending,
  // without blocking. std::nullopt means the kernel dropped notifications
  // (socket overrun): the caller must look at every interface it cares
  // about. Throws Error when the socket fails otherwise.
  std::optional<std::set<int>> drain();

 private:
  RtnlSocket socket_;
};

}  // namespace netmon
