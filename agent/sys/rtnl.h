// rtnetlink: every request and dump the agent makes (links, 64-bit stats,
// tc filters) and the link event stream, over one exchange loop with one
// error convention.
//
// Error convention: functions that talk to the kernel return an RtnlStatus
// (0 or an errno plus the step that failed) and never throw; callers decide
// whether a failure is fatal (the netdev source) or "unknown" (device
// probing, the clsact cleanup). Only opening a socket throws Error.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sys/fd.h"

struct nlmsghdr;

namespace netmon {

// What an exchange talks to: a NETLINK_ROUTE socket, or in tests a scripted
// peer. send() and recv() behave like send(2)/recv(2): -1 and errno on
// failure; recv() returns a datagram's full length even when it was longer
// than `len` (MSG_TRUNC), so truncation is detected, not silently parsed.
class NetlinkChannel {
 public:
  virtual ~NetlinkChannel() = default;
  virtual ssize_t send(const void* data, size_t len) = 0;
  virtual ssize_t recv(void* buffer, size_t len) = 0;

  uint32_t next_seq() { return ++seq_; }

 private:
  uint32_t seq_ = 0;
};

// A request/response rtnetlink socket, or with `groups` a multicast listener.
class RtnlSocket : public NetlinkChannel {
 public:
  // Throws Error ("cannot open rtnetlink socket: ...").
  explicit RtnlSocket(uint32_t groups = 0, bool nonblocking = false);

  ssize_t send(const void* data, size_t len) override;
  ssize_t recv(void* buffer, size_t len) override;
  int fd() const { return fd_.get(); }

 private:
  Fd fd_;
};

struct RtnlStatus {
  int err = 0;  // errno; 0 on success
  const char* step =
      nullptr;  // "rtnetlink request failed", "... receive failed", "... dump failed"
  explicit operator bool() const { return err != 0; }
  std::string message() const;  // "<step>: <strerror>"
};

// Sends `request` (its nlmsg_seq is set here) and hands every reply to
// `on_message` until the kernel says done: NLMSG_DONE for a dump, the ACK or
// the single reply otherwise. recv() interrupted by a signal (EINTR) is
// retried: nothing was lost. A dump the kernel marks NLM_F_DUMP_INTR (the
// table changed under it, so replies may miss or repeat entries) is started
// over: `on_restart` is called to drop what was collected, then the request
// is sent again, up to a few times before EAGAIN.
RtnlStatus rtnl_exchange(NetlinkChannel& channel, nlmsghdr* request,
                         const std::function<void(const nlmsghdr&)>& on_message,
                         const std::function<void()>& on_restart = {});

// One link as RTM_NEWLINK describes it; the fields the agent uses.
struct LinkInfo {
  int ifindex = 0;
  std::string name;
  unsigned flags = 0;           // IFF_* (IFF_LOOPBACK, IFF_UP, ...)
  int peer_ifindex = 0;         // IFLA_LINK: a veth's peer
  bool peer_elsewhere = false;  // the peer lives in another network namespace
  bool xdp_native = false;      // XDP in the driver
  bool xdp_offloaded = false;   // XDP on the NIC
};

// The RTM_NEWLINK/RTM_DELLINK payload, or nullopt when it is not one or
// carries no name.
std::optional<LinkInfo> parse_link_message(const nlmsghdr& message);

// Every link in this network namespace.
RtnlStatus dump_links(NetlinkChannel& channel, std::vector<LinkInfo>& out);
// One link by ifindex.
RtnlStatus get_link(NetlinkChannel& channel, int ifindex, LinkInfo& out);

// The kernel's rtnl_link_stats64 counters we report.
struct LinkStats64 {
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
};
// Every link's counters, keyed by ifindex, in one RTM_GETSTATS dump: far
// lighter than RTM_GETLINK.
RtnlStatus dump_stats64(NetlinkChannel& channel, std::map<int, LinkStats64>& out);

// Link creations, deletions and renames, as rtnetlink multicasts them.
class LinkEventSocket {
 public:
  struct Event {
    bool deleted = false;
    LinkInfo link;
  };

  LinkEventSocket();  // throws Error

  // For poll(): readable when events are pending.
  int fd() const { return socket_.fd(); }

  // Everything pending, without blocking. std::nullopt means the kernel
  // dropped events (socket overrun): the caller must re-dump all links.
  // Throws Error when the socket fails otherwise.
  std::optional<std::vector<Event>> drain();

 private:
  RtnlSocket socket_;
};

}  // namespace netmon
