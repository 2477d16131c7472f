#include "rtnl.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "error.h"

namespace netmon {
namespace {

// Large enough for a multi-part dump chunk: the kernel sizes dump skbs up to
// 32 KiB (and more with large pages), and MSG_TRUNC tells us if not.
constexpr size_t kReceiveBuffer = 64 * 1024;

Fd open_rtnl(uint32_t groups, bool nonblocking) {
  int type = SOCK_RAW | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  Fd fd(::socket(AF_NETLINK, type, NETLINK_ROUTE));
  if (!fd) throw Error(errno_message("cannot open rtnetlink socket", errno));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = groups;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    throw Error(errno_message("cannot bind rtnetlink socket", errno));
  if (groups) {
    // Link storms (hundreds of veth created at once) must not overrun us;
    // if they still do, drain() reports it and the caller re-dumps.
    int size = 1 << 20;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  return fd;
}

// Walks the attributes of an ifinfomsg-carrying message for name/ifindex.
std::optional<Link> parse_link(const nlmsghdr* h) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return std::nullopt;
  auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  Link link;
  link.ifindex = ifi->ifi_index;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
  for (auto* rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if (rta->rta_type == IFLA_IFNAME) {
      auto* name = static_cast<const char*>(RTA_DATA(rta));
      link.name.assign(name, strnlen(name, RTA_PAYLOAD(rta)));
    }
  }
  if (link.name.empty()) return std::nullopt;
  return link;
}

}  // namespace

RtnlSocket::RtnlSocket() : fd_(open_rtnl(0, false)) {}

template <typename Handler>
void RtnlSocket::dump(const void* request, size_t request_len, Handler&& on_message) {
  if (::send(fd_.get(), request, request_len, 0) < 0)
    throw Error(errno_message("rtnetlink request failed", errno));
  const uint32_t expected_seq = static_cast<const nlmsghdr*>(request)->nlmsg_seq;
  alignas(nlmsghdr) static thread_local char buffer[kReceiveBuffer];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message("rtnetlink receive failed", errno));
    }
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, remaining);
         h = NLMSG_NEXT(h, remaining)) {
      if (h->nlmsg_seq != expected_seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) return;
        throw Error(errno_message("rtnetlink dump failed", -err->error));
      }
      on_message(h);
    }
  }
}

std::vector<Link> RtnlSocket::dump_links() {
  struct {
    nlmsghdr header;
    ifinfomsg body;
    // Skip per-VF and stats blobs we do not need: smaller dumps.
    char ext_mask_attr[RTA_SPACE(sizeof(uint32_t))];
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = ++seq_;
  request.body.ifi_family = AF_UNSPEC;
  auto* rta = reinterpret_cast<rtattr*>(request.ext_mask_attr);
  rta->rta_type = IFLA_EXT_MASK;
  rta->rta_len = RTA_LENGTH(sizeof(uint32_t));
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  std::memcpy(RTA_DATA(rta), &mask, sizeof(mask));

  std::vector<Link> links;
  dump(&request, sizeof(request), [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    if (auto link = parse_link(h)) links.push_back(std::move(*link));
  });
  return links;
}

CounterMap RtnlSocket::dump_stats64() {
  struct {
    nlmsghdr header;
    if_stats_msg body;
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_GETSTATS;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = ++seq_;
  request.body.family = AF_UNSPEC;
  request.body.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);

  CounterMap stats;
  dump(&request, sizeof(request), [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWSTATS) return;
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(if_stats_msg))) return;
    auto* msg = static_cast<const if_stats_msg*>(NLMSG_DATA(h));
    int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
    auto* rta = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(msg) +
                                                NLMSG_ALIGN(sizeof(*msg)));
    for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
      if (rta->rta_type != IFLA_STATS_LINK_64) continue;
      rtnl_link_stats64 s{};
      std::memcpy(&s, RTA_DATA(rta), std::min<size_t>(sizeof(s), RTA_PAYLOAD(rta)));
      stats[static_cast<int>(msg->ifindex)] = {s.rx_bytes, s.rx_packets, s.tx_bytes, s.tx_packets};
    }
  });
  return stats;
}

LinkMonitor::LinkMonitor() : fd_(open_rtnl(RTMGRP_LINK, true)) {}

std::optional<std::vector<LinkMonitor::Event>> LinkMonitor::drain() {
  std::vector<Event> events;
  alignas(nlmsghdr) static thread_local char buffer[kReceiveBuffer];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return events;
      if (errno == ENOBUFS) {
        // Overrun: events were lost. Empty the queue, then let the caller
        // rebuild its view from a fresh dump.
        while (::recv(fd_.get(), buffer, sizeof(buffer), MSG_DONTWAIT) > 0) {
        }
        return std::nullopt;
      }
      throw Error(errno_message("rtnetlink monitor failed", errno));
    }
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, remaining);
         h = NLMSG_NEXT(h, remaining)) {
      if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
      auto link = parse_link(h);
      if (!link) continue;
      events.push_back(
          {h->nlmsg_type == RTM_NEWLINK ? Event::Kind::kNewOrChanged : Event::Kind::kDeleted,
           std::move(*link)});
    }
  }
}

}  // namespace netmon
