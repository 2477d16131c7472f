#include "sys/rtnl_tc.h"

#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sys/error.h"

namespace netmon {
namespace {

// Notifications are small (one filter or qdisc each); a burst of them (a
// tool replacing hundreds of filters) is what the 1 MiB receive buffer of
// RtnlSocket absorbs.
constexpr size_t kEventBuffer = 64 * 1024;

struct TcRequest {
  nlmsghdr header;
  tcmsg tc;
};

// A dump request for the filters or qdiscs of `ifindex` (parent 0: all).
TcRequest tc_dump_request(uint16_t type, int ifindex, uint32_t parent = 0) {
  TcRequest request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
  request.header.nlmsg_type = type;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.tc.tcm_family = AF_UNSPEC;
  request.tc.tcm_ifindex = ifindex;
  request.tc.tcm_parent = parent;
  return request;
}

uint32_t clsact_parent(bool ingress) {
  return TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

std::string string_attr(const rtattr* rta) {
  auto* text = static_cast<const char*>(RTA_DATA(rta));
  return std::string(text, strnlen(text, RTA_PAYLOAD(rta)));
}

uint32_t u32_attr(const rtattr* rta) {
  uint32_t value = 0;
  if (RTA_PAYLOAD(rta) >= sizeof(value)) std::memcpy(&value, RTA_DATA(rta), sizeof(value));
  return value;
}

void parse_bpf_options(const rtattr* options, TcFilterEntry& out) {
  int len = static_cast<int>(RTA_PAYLOAD(options));
  for (auto* a = static_cast<const rtattr*>(RTA_DATA(options)); RTA_OK(a, len);
       a = RTA_NEXT(a, len)) {
    if (a->rta_type == TCA_BPF_ID) out.bpf_prog_id = u32_attr(a);
    if (a->rta_type == TCA_BPF_NAME) out.bpf_name = string_attr(a);
  }
}

// Kind and options are attributes in either order: options are parsed once
// the kind says how.
std::optional<TcFilterEntry> parse_filter(const nlmsghdr& h) {
  if (h.nlmsg_type != RTM_NEWTFILTER || h.nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg)))
    return std::nullopt;
  auto* tc = static_cast<const tcmsg*>(NLMSG_DATA(&h));
  TcFilterEntry entry;
  entry.priority = TC_H_MAJ(tc->tcm_info) >> 16;
  entry.handle = tc->tcm_handle;
  const rtattr* options = nullptr;
  int len = static_cast<int>(h.nlmsg_len - NLMSG_LENGTH(sizeof(*tc)));
  for (auto* rta = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(tc) +
                                                   NLMSG_ALIGN(sizeof(*tc)));
       RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if (rta->rta_type == TCA_KIND) entry.kind = string_attr(rta);
    if (rta->rta_type == TCA_CHAIN) entry.chain = u32_attr(rta);
    if (rta->rta_type == TCA_OPTIONS) options = rta;
  }
  if (options && entry.kind == "bpf") parse_bpf_options(options, entry);
  return entry;
}

}  // namespace

RtnlStatus count_tc_filters(NetlinkChannel& channel, int ifindex, bool ingress, int& count) {
  TcRequest request = tc_dump_request(RTM_GETTFILTER, ifindex, clsact_parent(ingress));
  count = 0;
  return rtnl_exchange(
      channel, &request.header,
      [&](const nlmsghdr& h) {
        if (h.nlmsg_type == RTM_NEWTFILTER) ++count;
      },
      [&] { count = 0; });
}

RtnlStatus dump_tc_filters(NetlinkChannel& channel, int ifindex, bool ingress,
                           std::vector<TcFilterEntry>& out) {
  TcRequest request = tc_dump_request(RTM_GETTFILTER, ifindex, clsact_parent(ingress));
  out.clear();
  RtnlStatus status = rtnl_exchange(
      channel, &request.header,
      [&](const nlmsghdr& h) {
        auto entry = parse_filter(h);
        // Handle 0 is the header the dump sends before each priority's filters.
        if (entry && entry->handle != 0) out.push_back(std::move(*entry));
      },
      [&] { out.clear(); });
  if (status) return status;
  // The dump walks chains in creation order; only chain 0 runs first.
  std::stable_partition(out.begin(), out.end(),
                        [](const TcFilterEntry& e) { return e.chain == 0; });
  return status;
}

RtnlStatus ingress_qdisc_kind(NetlinkChannel& channel, int ifindex, std::string& kind) {
  TcRequest request = tc_dump_request(RTM_GETQDISC, ifindex);
  kind.clear();
  return rtnl_exchange(
      channel, &request.header,
      [&](const nlmsghdr& h) {
        if (h.nlmsg_type != RTM_NEWQDISC || h.nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg))) return;
        auto* tc = static_cast<const tcmsg*>(NLMSG_DATA(&h));
        // Older kernels ignore tcm_ifindex in a qdisc dump: filter here.
        if (tc->tcm_ifindex != ifindex || tc->tcm_parent != TC_H_INGRESS) return;
        int len = static_cast<int>(h.nlmsg_len - NLMSG_LENGTH(sizeof(*tc)));
        for (auto* rta = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(tc) +
                                                         NLMSG_ALIGN(sizeof(*tc)));
             RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
          if (rta->rta_type == TCA_KIND) kind = string_attr(rta);
      },
      [&] { kind.clear(); });
}

TcEventSocket::TcEventSocket() : socket_(RTMGRP_TC, /*nonblocking=*/true) {}

std::optional<std::set<int>> TcEventSocket::drain() {
  std::set<int> changed;
  alignas(nlmsghdr) static thread_local char buffer[kEventBuffer];
  for (;;) {
    ssize_t n = ::recv(socket_.fd(), buffer, sizeof(buffer), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return changed;
      if (errno == ENOBUFS) {
        while (::recv(socket_.fd(), buffer, sizeof(buffer), MSG_DONTWAIT) > 0) {
        }
        return std::nullopt;
      }
      throw Error(errno_message("rtnetlink tc monitor failed", errno));
    }
    if (static_cast<size_t>(n) > sizeof(buffer)) return std::nullopt;
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buffer); NLMSG_OK(h, remaining);
         h = NLMSG_NEXT(h, remaining)) {
      switch (h->nlmsg_type) {
        case RTM_NEWTFILTER:
        case RTM_DELTFILTER:
        case RTM_NEWQDISC:
        case RTM_DELQDISC:
          if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(tcmsg)))
            changed.insert(static_cast<const tcmsg*>(NLMSG_DATA(h))->tcm_ifindex);
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace netmon
