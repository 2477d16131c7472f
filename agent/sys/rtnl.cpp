#include "sys/rtnl.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sys/error.h"

namespace netmon {
namespace {

// Large enough for a multi-part dump chunk: the kernel sizes dump skbs up to
// 32 KiB (more with large pages); a longer datagram is reported as EMSGSIZE
// rather than parsed in part (recv() returns its full length, see
// NetlinkChannel).
constexpr size_t kReceiveBuffer = 64 * 1024;

// A dump the kernel keeps interrupting (links created and deleted in a
// storm) is given up after this many attempts, with EAGAIN.
constexpr int kDumpAttempts = 5;

constexpr const char* kRequestFailed = "rtnetlink request failed";
constexpr const char* kReceiveFailed = "rtnetlink receive failed";
constexpr const char* kDumpFailed = "rtnetlink dump failed";

char* receive_buffer() {
  alignas(nlmsghdr) static thread_local char buffer[kReceiveBuffer];
  return buffer;
}

void parse_xdp(const rtattr* xdp, LinkInfo& out) {
  int len = static_cast<int>(RTA_PAYLOAD(xdp));
  for (auto* x = static_cast<const rtattr*>(RTA_DATA(xdp)); RTA_OK(x, len); x = RTA_NEXT(x, len)) {
    if (x->rta_type == IFLA_XDP_ATTACHED && RTA_PAYLOAD(x) >= 1) {
      uint8_t mode = *static_cast<const uint8_t*>(RTA_DATA(x));
      if (mode == XDP_ATTACHED_DRV) out.xdp_native = true;
      if (mode == XDP_ATTACHED_HW) out.xdp_offloaded = true;
    } else if (x->rta_type == IFLA_XDP_DRV_PROG_ID) {
      out.xdp_native = true;  // MULTI mode names each attached program
    } else if (x->rta_type == IFLA_XDP_HW_PROG_ID) {
      out.xdp_offloaded = true;
    }
  }
}

// A link request carrying IFLA_EXT_MASK: skip per-VF and stats blobs we do
// not need, for smaller replies.
struct LinkRequest {
  nlmsghdr header;
  ifinfomsg body;
  char ext_mask_attr[RTA_SPACE(sizeof(uint32_t))];
};

LinkRequest link_request(uint16_t flags, int ifindex) {
  LinkRequest request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = flags;
  request.body.ifi_family = AF_UNSPEC;
  request.body.ifi_index = ifindex;
  auto* rta = reinterpret_cast<rtattr*>(request.ext_mask_attr);
  rta->rta_type = IFLA_EXT_MASK;
  rta->rta_len = RTA_LENGTH(sizeof(uint32_t));
  uint32_t mask = RTEXT_FILTER_SKIP_STATS;
  std::memcpy(RTA_DATA(rta), &mask, sizeof(mask));
  return request;
}

}  // namespace

RtnlSocket::RtnlSocket(uint32_t groups, bool nonblocking) {
  int type = SOCK_RAW | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  fd_.reset(::socket(AF_NETLINK, type, NETLINK_ROUTE));
  if (!fd_) throw Error(errno_message("cannot open rtnetlink socket", errno));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = groups;
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0)
    throw Error(errno_message("cannot bind rtnetlink socket", errno));
  if (groups) {
    // Link storms (hundreds of veth created at once) must not overrun us;
    // if they still do, drain() reports it and the caller re-dumps.
    int size = 1 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
}

ssize_t RtnlSocket::send(const void* data, size_t len) { return ::send(fd_.get(), data, len, 0); }

ssize_t RtnlSocket::recv(void* buffer, size_t len) {
  return ::recv(fd_.get(), buffer, len, MSG_TRUNC);
}

std::string RtnlStatus::message() const { return errno_message(step ? step : "rtnetlink", err); }

RtnlStatus rtnl_exchange(NetlinkChannel& channel, nlmsghdr* request,
                         const std::function<void(const nlmsghdr&)>& on_message,
                         const std::function<void()>& on_restart) {
  const bool is_dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  char* buffer = receive_buffer();
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    if (attempt > 0 && on_restart) on_restart();
    request->nlmsg_seq = channel.next_seq();
    if (channel.send(request, request->nlmsg_len) < 0) return {errno, kRequestFailed};
    bool interrupted = false;
    for (bool done = false; !done;) {
      ssize_t n = channel.recv(buffer, kReceiveBuffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        return {errno, kReceiveFailed};
      }
      if (static_cast<size_t>(n) > kReceiveBuffer) return {EMSGSIZE, kReceiveFailed};
      int remaining = static_cast<int>(n);
      for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer); NLMSG_OK(h, remaining);
           h = NLMSG_NEXT(h, remaining)) {
        if (h->nlmsg_seq != request->nlmsg_seq) continue;  // a stale reply
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
          if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return {EBADMSG, kDumpFailed};
          int err = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
          if (err != 0) return {-err, kDumpFailed};
          done = true;  // the ACK
          break;
        }
        on_message(*h);
        if (!is_dump && !(h->nlmsg_flags & NLM_F_MULTI)) {
          done = true;  // the one reply to a plain request
          break;
        }
      }
    }
    if (!interrupted) return {};
  }
  return {EAGAIN, kDumpFailed};
}

std::optional<LinkInfo> parse_link_message(const nlmsghdr& h) {
  if (h.nlmsg_type != RTM_NEWLINK && h.nlmsg_type != RTM_DELLINK) return std::nullopt;
  if (h.nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return std::nullopt;
  auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(&h));
  LinkInfo link;
  link.ifindex = ifi->ifi_index;
  link.flags = ifi->ifi_flags;
  int len = static_cast<int>(h.nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
  for (auto* rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    switch (rta->rta_type) {
      case IFLA_IFNAME: {
        auto* name = static_cast<const char*>(RTA_DATA(rta));
        link.name.assign(name, strnlen(name, RTA_PAYLOAD(rta)));
        break;
      }
      case IFLA_LINK:
        if (RTA_PAYLOAD(rta) >= sizeof(uint32_t)) {
          uint32_t peer;
          std::memcpy(&peer, RTA_DATA(rta), sizeof(peer));
          link.peer_ifindex = static_cast<int>(peer);
        }
        break;
      case IFLA_LINK_NETNSID:
        link.peer_elsewhere = true;
        break;
      case IFLA_XDP:
        parse_xdp(rta, link);
        break;
      default:
        break;
    }
  }
  if (link.name.empty()) return std::nullopt;
  return link;
}

RtnlStatus dump_links(NetlinkChannel& channel, std::vector<LinkInfo>& out) {
  LinkRequest request = link_request(NLM_F_REQUEST | NLM_F_DUMP, 0);
  out.clear();
  return rtnl_exchange(
      channel, &request.header,
      [&](const nlmsghdr& h) {
        if (h.nlmsg_type != RTM_NEWLINK) return;
        if (auto link = parse_link_message(h)) out.push_back(std::move(*link));
      },
      [&] { out.clear(); });
}

RtnlStatus get_link(NetlinkChannel& channel, int ifindex, LinkInfo& out) {
  LinkRequest request = link_request(NLM_F_REQUEST, ifindex);
  bool found = false;
  RtnlStatus status = rtnl_exchange(channel, &request.header, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWLINK) return;
    if (auto link = parse_link_message(h)) {
      out = std::move(*link);
      found = true;
    }
  });
  if (!status && !found) return {ENODEV, kDumpFailed};
  return status;
}

RtnlStatus dump_stats64(NetlinkChannel& channel, std::map<int, LinkStats64>& out) {
  struct {
    nlmsghdr header;
    if_stats_msg body;
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_GETSTATS;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.body.family = AF_UNSPEC;
  request.body.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);

  out.clear();
  return rtnl_exchange(
      channel, &request.header,
      [&](const nlmsghdr& h) {
        if (h.nlmsg_type != RTM_NEWSTATS) return;
        if (h.nlmsg_len < NLMSG_LENGTH(sizeof(if_stats_msg))) return;
        auto* msg = static_cast<const if_stats_msg*>(NLMSG_DATA(&h));
        int len = static_cast<int>(h.nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
        auto* rta = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(msg) +
                                                    NLMSG_ALIGN(sizeof(*msg)));
        for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
          if (rta->rta_type != IFLA_STATS_LINK_64) continue;
          rtnl_link_stats64 s{};
          std::memcpy(&s, RTA_DATA(rta), std::min<size_t>(sizeof(s), RTA_PAYLOAD(rta)));
          out[static_cast<int>(msg->ifindex)] = {s.rx_bytes, s.rx_packets, s.tx_bytes,
                                                 s.tx_packets};
        }
      },
      [&] { out.clear(); });
}

LinkEventSocket::LinkEventSocket() : socket_(RTMGRP_LINK, /*nonblocking=*/true) {}

std::optional<std::vector<LinkEventSocket::Event>> LinkEventSocket::drain() {
  std::vector<Event> events;
  char* buffer = receive_buffer();
  for (;;) {
    ssize_t n = ::recv(socket_.fd(), buffer, kReceiveBuffer, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return events;
      if (errno == ENOBUFS) {
        // Overrun: events were lost. Empty the queue, then let the caller
        // rebuild its view from a fresh dump.
        while (::recv(socket_.fd(), buffer, kReceiveBuffer, MSG_DONTWAIT) > 0) {
        }
        return std::nullopt;
      }
      throw Error(errno_message("rtnetlink monitor failed", errno));
    }
    // A datagram longer than the buffer lost its tail: as good as lost
    // events, so re-dump.
    if (static_cast<size_t>(n) > kReceiveBuffer) return std::nullopt;
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer); NLMSG_OK(h, remaining);
         h = NLMSG_NEXT(h, remaining)) {
      auto link = parse_link_message(*h);
      if (!link) continue;
      events.push_back({h->nlmsg_type == RTM_DELLINK, std::move(*link)});
    }
  }
}

}  // namespace netmon
