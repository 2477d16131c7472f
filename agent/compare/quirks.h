// What a device counts differently from tc, detected per link and named in
// --compare's output ("quirks"), never absorbed into a wider general
// tolerance:
//  * loopback_l2_header: lo counts skb->len after eth_type_trans(), i.e.
//    without the 14-byte Ethernet header tc sees, once per skb: compare
//    bpf_bytes - 14 x proc_packets (proc counts skbs, see gso_segments).
//  * veth_napi_rx / veth_napi_tx: a veth in NAPI mode (native XDP attached,
//    or GRO requested) counts rx (and its peer's tx) after the header was
//    pulled, for packets that take the NAPI path: bpf - proc lies in
//    [0, 14 x packets] for bytes in that direction.
//  * gso_segments: software devices (lo, veth, bridge, tun, ...) count one
//    packet per skb, BPF counts a GSO super-packet as its wire segments:
//    packets may only be higher in bpf; bytes still compare exactly.
//  * hw_offload: with hw-tc-offload (or XDP offloaded to the NIC), offloaded
//    flows never reach tc: bpf may only be lower than proc.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "sys/ethtool.h"
#include "sys/rtnl.h"

namespace netmon {

struct DeviceQuirks {
  bool loopback_l2_header = false;
  bool veth_napi_rx = false;
  bool veth_napi_tx = false;
  bool gso_segments = false;
  bool hw_offload = false;

  // The names of the flags set, in a fixed order, for output.
  std::vector<std::string> names() const;
};

// What the system says about one device, and about a veth's peer when it
// lives in the same network namespace. Empty optionals: could not be asked.
struct DeviceFacts {
  std::optional<LinkInfo> link;  // RTM_GETLINK by ifindex
  EthtoolInfo ethtool;
  std::optional<LinkInfo> peer;
  EthtoolInfo peer_ethtool;
};

// The quirks `facts` imply. Pure: what cannot be known counts as "no quirk",
// so the comparison is strict rather than lax.
DeviceQuirks quirks_from(const DeviceFacts& facts);

// Gathers DeviceFacts for `link` in the agent's network namespace (one
// RTM_GETLINK by ifindex, ethtool ioctls; the same for a local veth peer).
// Never throws.
DeviceFacts probe_device(const Link& link);

// quirks_from(probe_device(link)).
DeviceQuirks probe_device_quirks(const Link& link);

}  // namespace netmon
