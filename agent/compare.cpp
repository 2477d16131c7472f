#include "compare.h"

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "error.h"
#include "fd.h"
#include "json_output.h"
#include "metrics_server.h"

namespace netmon {
namespace {

constexpr int64_t kEthHeader = 14;
constexpr const char* kCounterNames[4] = {"rx_bytes", "rx_packets", "tx_bytes", "tx_packets"};

uint64_t get(const Counters& c, int i) {
  switch (i) {
    case 0:
      return c.rx_bytes;
    case 1:
      return c.rx_packets;
    case 2:
      return c.tx_bytes;
    default:
      return c.tx_packets;
  }
}

// ---- probing the live system -------------------------------------------

struct EthtoolInfo {
  std::string driver;
  bool hw_tc_offload = false;  // active
  bool gro_requested = false;  // what veth keys its NAPI mode on
};

bool ethtool_ioctl(int fd, const std::string& name, void* data) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = static_cast<char*>(data);
  return ::ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

// Feature bit positions differ between kernels, so they are found by name.
EthtoolInfo ethtool_info(const std::string& name) {
  EthtoolInfo out;
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return out;
  ethtool_drvinfo drvinfo{};
  drvinfo.cmd = ETHTOOL_GDRVINFO;
  if (ethtool_ioctl(fd.get(), name, &drvinfo))
    out.driver.assign(drvinfo.driver, strnlen(drvinfo.driver, sizeof(drvinfo.driver)));

  // ethtool_sset_info ends in a flexible array: one u32 follows for the one
  // set asked for.
  std::vector<uint64_t> sset_buf(sizeof(ethtool_sset_info) / 8 + 2);
  auto* sset = reinterpret_cast<ethtool_sset_info*>(sset_buf.data());
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_FEATURES;
  if (!ethtool_ioctl(fd.get(), name, sset) || !(sset->sset_mask & (1ULL << ETH_SS_FEATURES)))
    return out;
  const uint32_t count = sset->data[0];
  if (count == 0 || count > 4096) return out;

  // uint64_t storage keeps the kernel structs suitably aligned.
  std::vector<uint64_t> strings_buf(
      (sizeof(ethtool_gstrings) + size_t{count} * ETH_GSTRING_LEN) / 8 + 1);
  auto* strings = reinterpret_cast<ethtool_gstrings*>(strings_buf.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_FEATURES;
  strings->len = count;
  if (!ethtool_ioctl(fd.get(), name, strings)) return out;

  const uint32_t blocks = (count + 31) / 32;
  std::vector<uint64_t> features_buf(
      (sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block)) / 8 + 1);
  auto* features = reinterpret_cast<ethtool_gfeatures*>(features_buf.data());
  features->cmd = ETHTOOL_GFEATURES;
  features->size = blocks;
  if (!ethtool_ioctl(fd.get(), name, features)) return out;

  for (uint32_t i = 0; i < count; ++i) {
    const char* feature =
        reinterpret_cast<const char*>(strings->data) + size_t{i} * ETH_GSTRING_LEN;
    std::string_view feature_name(feature, strnlen(feature, ETH_GSTRING_LEN));
    const ethtool_get_features_block& block = features->features[i / 32];
    const uint32_t bit = 1U << (i % 32);
    if (feature_name == "hw-tc-offload") out.hw_tc_offload = block.active & bit;
    if (feature_name == "rx-gro") out.gro_requested = block.requested & bit;
  }
  return out;
}

struct RtnlLinkInfo {
  bool ok = false;
  std::string name;
  bool xdp_native = false;      // XDP in the driver (changes what veth counts)
  bool xdp_offloaded = false;   // XDP on the NIC: packets may never reach the host
  int peer_ifindex = 0;         // IFLA_LINK: a veth's peer
  bool peer_elsewhere = false;  // the peer lives in another network namespace
};

// One RTM_GETLINK: rtnl.h's socket only dumps, and this is needed once per
// link, so a short-lived socket is simplest.
RtnlLinkInfo rtnl_link_info(int ifindex) {
  RtnlLinkInfo out;
  Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return out;
  timeval timeout{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  struct {
    nlmsghdr header;
    ifinfomsg body;
    rtattr ext_attr;
    uint32_t ext_mask;
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = RTM_GETLINK;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 1;
  request.body.ifi_family = AF_UNSPEC;
  request.body.ifi_index = ifindex;
  request.ext_attr.rta_type = IFLA_EXT_MASK;
  request.ext_attr.rta_len = RTA_LENGTH(sizeof(uint32_t));
  request.ext_mask = RTEXT_FILTER_SKIP_STATS;
  if (::send(fd.get(), &request, sizeof(request), 0) < 0) return out;

  std::vector<char> buffer(64 * 1024);
  ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
  if (n <= 0) return out;
  auto* msg = reinterpret_cast<nlmsghdr*>(buffer.data());
  int len = static_cast<int>(n);
  for (; NLMSG_OK(msg, len); msg = NLMSG_NEXT(msg, len)) {
    if (msg->nlmsg_type != RTM_NEWLINK) continue;
    auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(msg));
    int attr_len = static_cast<int>(IFLA_PAYLOAD(msg));
    for (auto* rta = IFLA_RTA(ifi); RTA_OK(rta, attr_len); rta = RTA_NEXT(rta, attr_len)) {
      switch (rta->rta_type) {
        case IFLA_IFNAME:
          out.name.assign(static_cast<const char*>(RTA_DATA(rta)),
                          strnlen(static_cast<const char*>(RTA_DATA(rta)), RTA_PAYLOAD(rta)));
          break;
        case IFLA_LINK:
          if (RTA_PAYLOAD(rta) >= sizeof(uint32_t))
            out.peer_ifindex = static_cast<int>(*static_cast<const uint32_t*>(RTA_DATA(rta)));
          break;
        case IFLA_LINK_NETNSID:
          out.peer_elsewhere = true;
          break;
        case IFLA_XDP: {
          int xdp_len = static_cast<int>(RTA_PAYLOAD(rta));
          for (auto* x = static_cast<rtattr*>(RTA_DATA(rta)); RTA_OK(x, xdp_len);
               x = RTA_NEXT(x, xdp_len)) {
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
          break;
        }
        default:
          break;
      }
    }
    out.ok = true;
  }
  return out;
}

bool is_loopback(const Link& link) {
  std::ifstream type("/sys/class/net/" + link.name + "/type");
  int arphrd = 0;
  if (type >> arphrd) return arphrd == 772;  // ARPHRD_LOOPBACK
  return link.name == "lo";
}

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

// ---- comparison -----------------------------------------------------------

constexpr int64_t kUnbounded = INT64_MAX;

// Where bpf - proc may lie for one counter: delta = (bpf - proc) - shift
// must be within [-below, above] (plus skew, plus the in-flight allowance).
struct Band {
  int64_t shift = 0;
  int64_t below = 0;
  int64_t above = 0;
};

// 14 bytes per packet, saturated: increments are small in practice, but
// counters are whatever the kernel (or a file) says.
int64_t headers(uint64_t packets) {
  return packets > static_cast<uint64_t>(kUnbounded / kEthHeader)
             ? kUnbounded
             : static_cast<int64_t>(packets) * kEthHeader;
}

std::array<Band, 4> bands_for(const DeviceQuirks& q, const Counters& proc) {
  std::array<Band, 4> b{};
  if (q.loopback_l2_header) {
    b[0].shift = headers(proc.rx_packets);
    b[2].shift = headers(proc.tx_packets);
  }
  if (q.veth_napi_rx) b[0].above = headers(proc.rx_packets);
  if (q.veth_napi_tx) b[2].above = headers(proc.tx_packets);
  if (q.gso_segments) b[1].above = b[3].above = kUnbounded;
  if (q.hw_offload)
    for (Band& band : b) band.below = kUnbounded;
  return b;
}

// How far `value` lies outside [-below, above]; 0 inside. below and above
// are in [0, INT64_MAX], so neither -below nor either difference can overflow
// (no 128-bit arithmetic: 32-bit targets have none).
int64_t excess(int64_t value, const Band& band) {
  if (value < -band.below) return value + band.below;
  if (value > band.above) return value - band.above;
  return 0;
}

// a + b for a, b >= 0, clamped at INT64_MAX.
int64_t saturating_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

int64_t magnitude(int64_t v) { return v == INT64_MIN ? INT64_MAX : v < 0 ? -v : v; }

// Signed differences of u64 counters wrap rather than overflow (no UB).
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

nlohmann::ordered_json counters_json(const Counters& c) {
  return {{"rx_bytes", c.rx_bytes},
          {"rx_packets", c.rx_packets},
          {"tx_bytes", c.tx_bytes},
          {"tx_packets", c.tx_packets}};
}

template <typename Values>
nlohmann::ordered_json values_json(const Values& v) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (int i = 0; i < 4; ++i) out[kCounterNames[i]] = v[i];
  return out;
}

template <typename Values>
std::string values_text(const Values& v) {
  std::string out;
  for (int i = 0; i < 4; ++i) {
    if (i) out += ' ';
    out += kCounterNames[i];
    out += '=';
    if (v[i] > 0) out += '+';
    out += std::to_string(v[i]);
  }
  return out;
}

std::string counters_text(const Counters& c) {
  return "rx " + std::to_string(c.rx_bytes) + " B/" + std::to_string(c.rx_packets) + " pkt, tx " +
         std::to_string(c.tx_bytes) + " B/" + std::to_string(c.tx_packets) + " pkt";
}

// A likely cause for a quiet mismatch, from its shape; empty if none fits.
std::string hint(const std::array<int64_t, 4>& delta, const Counters& proc) {
  for (int dir = 0; dir < 2; ++dir) {
    const int64_t bytes = delta[dir * 2], packets = delta[dir * 2 + 1];
    const auto count = static_cast<int64_t>(get(proc, dir * 2 + 1));
    if (packets != 0 || count == 0 || bytes == 0) continue;
    if (bytes == kEthHeader * count)
      return "bytes differ by 14 per packet: the device does not count the Ethernet header "
             "(native XDP or GRO on a veth?)";
    if (bytes == -4 * count) return "bytes differ by 4 per packet: the driver counts the FCS";
  }
  if ((delta[1] > 0 || delta[3] > 0) && delta[0] == 0 && delta[2] == 0)
    return "same bytes, more packets in bpf: it counts GSO segments, the device counts skbs";
  if (delta[0] <= 0 && delta[1] <= 0 && delta[2] <= 0 && delta[3] <= 0)
    return "the device counted traffic tc never saw (hardware offload, XDP drop/redirect)";
  if (delta[0] >= 0 && delta[1] >= 0 && delta[2] >= 0 && delta[3] >= 0)
    return "tc saw traffic the device never counted (qdisc drops, carrier down?)";
  return "";
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

DeviceQuirks probe_device_quirks(const Link& link) {
  DeviceQuirks q;
  if (is_loopback(link)) {
    q.loopback_l2_header = true;
    q.gso_segments = true;
    return q;
  }
  EthtoolInfo ethtool = ethtool_info(link.name);
  RtnlLinkInfo info = rtnl_link_info(link.ifindex);
  q.gso_segments = is_software_driver(ethtool.driver);
  q.hw_offload = ethtool.hw_tc_offload || info.xdp_offloaded;
  if (ethtool.driver == "veth") {
    q.veth_napi_rx = info.xdp_native || ethtool.gro_requested;
    // The peer's NAPI mode decides how our tx is counted; a peer in another
    // namespace cannot be looked at from here (a mismatch then says why).
    if (info.peer_ifindex > 0 && !info.peer_elsewhere) {
      RtnlLinkInfo peer = rtnl_link_info(info.peer_ifindex);
      if (peer.ok) q.veth_napi_tx = peer.xdp_native || ethtool_info(peer.name).gro_requested;
    }
  }
  return q;
}

CompareReporter::CompareReporter(CompareConfig config) : config_(std::move(config)) {
  if (config_.sources.size() < 2) throw Error("--compare needs at least two sources");
  if (!config_.warn) config_.warn = [](const std::string& m) { spdlog::warn("{}", m); };
  if (!config_.info) config_.info = [](const std::string& m) { spdlog::info("{}", m); };
  for (const std::string& source : config_.sources) builders_.emplace_back(source);
}

DeviceQuirks CompareReporter::quirks_of(const Link& link) const {
  return config_.quirks ? config_.quirks(link) : DeviceQuirks{};
}

void CompareReporter::start(const Link& link, const std::vector<const Counters*>& now) {
  LinkState state;
  state.quirks = quirks_of(link);
  for (const Counters* c : now) {
    state.baseline.push_back(*c);
    state.previous.push_back(*c);
  }
  links_[link.ifindex] = std::move(state);
}

std::string CompareReporter::compare(const std::vector<Link>& links,
                                     const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                                     int64_t wall_ms) {
  if (readings.size() != config_.sources.size())
    throw Error("--compare: " + std::to_string(readings.size()) + " readings for " +
                std::to_string(config_.sources.size()) + " sources");
  const int64_t interval_ms = next_seq_ == 0 ? 0 : (monotonic_ns - previous_ns_) / 1'000'000;

  // A link no longer watched is gone; if its ifindex comes back it is a new
  // interface with a new baseline.
  std::set<int> present;
  for (const Link& link : links) present.insert(link.ifindex);
  for (auto it = links_.begin(); it != links_.end();)
    it = present.count(it->first) ? std::next(it) : links_.erase(it);

  nlohmann::ordered_json interfaces = nlohmann::ordered_json::object();
  published_.clear();
  for (const Link& link : links) {
    std::vector<const Counters*> now;
    for (const CounterMap& reading : readings) {
      auto it = reading.find(link.ifindex);
      if (it == reading.end()) break;
      now.push_back(&it->second);
    }
    if (now.size() != readings.size()) continue;  // cannot compare what one side lacks

    auto state_it = links_.find(link.ifindex);
    bool fresh = state_it == links_.end();
    if (!fresh) {
      // Totals going backwards mean a counter reset (BPF slot re-zeroed,
      // driver reset): comparing across it would be meaningless.
      const LinkState& s = state_it->second;
      bool backwards = false;
      for (size_t src = 0; src < now.size(); ++src)
        for (int i = 0; i < 4; ++i) backwards |= get(*now[src], i) < get(s.previous[src], i);
      if (backwards) {
        config_.info("compare: counters of '" + link.name +
                     "' went backwards; its comparison starts over");
        fresh = true;
      }
    }
    if (fresh) {
      start(link, now);
      state_it = links_.find(link.ifindex);
    }
    LinkState& s = state_it->second;

    std::vector<Counters> increments;
    for (size_t src = 0; src < now.size(); ++src) increments.push_back(*now[src] - s.baseline[src]);
    const Counters& a = increments[0];
    const Counters& b = increments[1];

    Values moved{};
    bool quiet = true;
    for (int i = 0; i < 4; ++i) {
      for (int src = 0; src < 2; ++src)
        moved[i] =
            std::max(moved[i], static_cast<int64_t>(get(*now[src], i) - get(s.previous[src], i)));
      quiet &= moved[i] == 0;
    }

    std::array<Band, 4> bands = bands_for(s.quirks, b);
    Values delta{};
    for (int i = 0; i < 4; ++i)
      delta[i] = wrapping_sub(static_cast<int64_t>(get(a, i) - get(b, i)), bands[i].shift);

    if (!fresh && s.first_interval) {
      s.first_interval = false;
      if (quiet)
        s.settled = true;  // nothing moved since the baseline: it was at rest
      else
        s.first_motion = moved;
    }
    if (!fresh && quiet && !s.settled) {
      s.settled = true;
      Values left{};
      bool any = false, bounded = true;
      for (int i = 0; i < 4; ++i) {
        left[i] = excess(delta[i], bands[i]);
        any |= left[i] != 0;
        bounded &= magnitude(left[i]) <= s.first_motion[i];
      }
      if (any && bounded) {
        s.skew = left;
        config_.info("compare: '" + link.name +
                     "': the comparison started while traffic was flowing; at the first quiet "
                     "moment " +
                     config_.sources[0] + " - " + config_.sources[1] + " was " + values_text(left) +
                     " (packets in flight then); later snapshots allow for it");
      }
    }

    // Until a quiet moment has measured it, a baseline taken in motion may
    // hold up to the first interval's traffic in flight.
    bool match = true;
    for (int i = 0; i < 4; ++i) {
      const int64_t off = excess(wrapping_sub(delta[i], s.skew[i]), bands[i]);
      const int64_t allowance =
          s.settled ? moved[i]
                    : saturating_add(moved[i], s.first_motion[i]);
      match &= quiet ? off == 0 : magnitude(off) <= allowance;
    }

    if (quiet && !match) {
      ++s.quiet_mismatches;
      if (s.quiet_mismatches >= 2 && (!s.warned || s.warned_delta != delta)) {
        // XDP or offload may have been switched on since the link was
        // first seen: look again before calling it a mismatch.
        DeviceQuirks again = quirks_of(link);
        if (again.names() != s.quirks.names()) {
          s.quirks = again;
          s.quiet_mismatches = 0;
        } else {
          s.warned = true;
          s.warned_delta = delta;
          std::string why = hint(delta, b);
          config_.warn("compare: '" + link.name + "' (ifindex " + std::to_string(link.ifindex) +
                       "): " + config_.sources[0] + " and " + config_.sources[1] +
                       " disagree with no traffic: " + config_.sources[0] + " " + counters_text(a) +
                       "; " + config_.sources[1] + " " + counters_text(b) + "; delta " +
                       values_text(delta) + (why.empty() ? "" : " (" + why + ")"));
        }
      }
    } else if (match) {
      s.quiet_mismatches = 0;
      s.warned = false;
    }

    Summary& summary = summaries_[link.ifindex];
    summary.name = link.name;
    ++summary.snapshots;
    summary.matches += match;
    for (int i = 0; i < 4; ++i)
      if (magnitude(delta[i]) > magnitude(summary.largest[i])) summary.largest[i] = delta[i];

    for (size_t src = 0; src < now.size(); ++src) s.previous[src] = *now[src];

    nlohmann::ordered_json entry = {{"ifindex", link.ifindex}};
    for (size_t src = 0; src < increments.size(); ++src)
      entry[config_.sources[src]] = counters_json(increments[src]);
    entry["delta"] = values_json(delta);
    entry["match"] = match;
    std::vector<std::string> quirk_names = s.quirks.names();
    if (!quirk_names.empty()) entry["quirks"] = quirk_names;
    if (s.skew != Values{}) entry["skew"] = values_json(s.skew);
    interfaces[link.name] = std::move(entry);
    published_.push_back({link.name, delta, match});
  }

  nlohmann::ordered_json line = {
      {"source", "compare"},
      {"seq", next_seq_++},
      {"ts_ms", wall_ms},
      {"interval_ms", interval_ms},
      {"interfaces", std::move(interfaces)},
  };
  previous_ns_ = monotonic_ns;
  // Interface names are bytes; never let an odd one abort the agent.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool CompareReporter::report(const std::vector<Link>& links,
                             const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                             int64_t wall_ms) {
  std::string line = compare(links, readings, monotonic_ns, wall_ms);
  if (config_.metrics) publish(links, readings, monotonic_ns, wall_ms, line);
  return config_.out_fd < 0 || write_line(config_.out_fd, line);
}

void CompareReporter::publish(const std::vector<Link>& links,
                              const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                              int64_t wall_ms, const std::string& line) {
  std::vector<Snapshot> per_source;
  for (size_t src = 0; src < readings.size(); ++src)
    per_source.push_back(builders_[src].build(links, readings[src], monotonic_ns, wall_ms));
  const std::string versus = config_.sources[0] + " minus " + config_.sources[1];
  std::vector<GaugeFamily> gauges;
  for (int i = 0; i < 4; ++i) {
    GaugeFamily family{std::string("netmon_compare_") + kCounterNames[i] + "_delta",
                       versus + " " + kCounterNames[i] + " since the link was first seen",
                       {}};
    for (const Published& p : published_)
      family.samples.push_back({{{"interface", p.name}}, static_cast<double>(p.delta[i])});
    gauges.push_back(std::move(family));
  }
  GaugeFamily match{"netmon_compare_match",
                    "1 when " + config_.sources[0] + " and " + config_.sources[1] +
                        " agree within the documented tolerance",
                    {}};
  for (const Published& p : published_)
    match.samples.push_back({{{"interface", p.name}}, p.match ? 1.0 : 0.0});
  gauges.push_back(std::move(match));
  config_.metrics->publish_compare(per_source, std::move(gauges), line);
}

void CompareReporter::finish() {
  for (const auto& [ifindex, summary] : summaries_) {
    config_.info("compare summary: '" + summary.name + "' (ifindex " + std::to_string(ifindex) +
                 "): " + std::to_string(summary.snapshots) + " snapshots, " +
                 std::to_string(summary.matches) + " matched, largest delta " +
                 values_text(summary.largest));
  }
}

}  // namespace netmon
