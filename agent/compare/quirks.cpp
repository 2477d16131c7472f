#include "compare/quirks.h"

#include <net/if.h>

#include <set>

#include "sys/error.h"

namespace netmon {
namespace {

// Drivers that count one packet per skb in software (ndo_start_xmit or
// their rx path), whatever its GSO segment count.
bool is_software_driver(const std::string& driver) {
  static const std::set<std::string> kSoftware = {"veth",
                                                  "bridge",
                                                  "tun",
                                                  "dummy",
                                                  "wireguard",
                                                  "vxlan",
                                                  "geneve",
                                                  "macvlan",
                                                  "ipvlan",
                                                  "vrf",
                                                  "ifb",
                                                  "openvswitch",
                                                  "802.1Q VLAN Support",
                                                  "bonding",
                                                  "team",
                                                  "gre",
                                                  "ipip",
                                                  "sit",
                                                  "ip6_gre",
                                                  "ip6_tunnel",
                                                  "ip_gre"};
  return kSoftware.count(driver) > 0;
}

}  // namespace

std::vector<std::string> DeviceQuirks::names() const {
  std::vector<std::string> out;
  if (loopback_l2_header) out.push_back("loopback_l2_header");
  if (veth_napi_rx) out.push_back("veth_napi_rx");
  if (veth_napi_tx) out.push_back("veth_napi_tx");
  if (gso_segments) out.push_back("gso_segments");
  if (hw_offload) out.push_back("hw_offload");
  return out;
}

DeviceQuirks quirks_from(const DeviceFacts& facts) {
  DeviceQuirks q;
  if (facts.link && (facts.link->flags & IFF_LOOPBACK)) {
    q.loopback_l2_header = true;
    q.gso_segments = true;
    return q;
  }
  q.gso_segments = is_software_driver(facts.ethtool.driver);
  q.hw_offload = facts.ethtool.hw_tc_offload || (facts.link && facts.link->xdp_offloaded);
  if (facts.ethtool.driver == "veth") {
    q.veth_napi_rx = (facts.link && facts.link->xdp_native) || facts.ethtool.gro_requested;
    // The peer's NAPI mode decides how our tx is counted; a peer in another
    // namespace cannot be looked at from here (a mismatch then says why).
    if (facts.peer) q.veth_napi_tx = facts.peer->xdp_native || facts.peer_ethtool.gro_requested;
  }
  return q;
}

DeviceFacts probe_device(const Link& link) {
  DeviceFacts facts;
  try {
    RtnlSocket rtnl;
    LinkInfo info;
    if (!get_link(rtnl, link.ifindex, info)) facts.link = info;
    // Everything else is asked by name: make sure the ifindex still has it.
    if (!facts.link || facts.link->name != link.name) return facts;
    facts.ethtool = ethtool_info(link.name);
    if (facts.ethtool.driver == "veth" && info.peer_ifindex > 0 && !info.peer_elsewhere) {
      LinkInfo peer;
      if (!get_link(rtnl, info.peer_ifindex, peer)) {
        facts.peer_ethtool = ethtool_info(peer.name);
        facts.peer = std::move(peer);
      }
    }
  } catch (const Error&) {
    // No rtnetlink socket: nothing known, so no quirks.
  }
  return facts;
}

DeviceQuirks probe_device_quirks(const Link& link) { return quirks_from(probe_device(link)); }

}  // namespace netmon
