// Two network namespaces joined by a veth pair, so tests can send an exact
// number of real packets and compare every counter source with the kernel's.
// Nothing else moves on the link: IPv6 is off on both ends (no ND, MLD or
// router solicitations), neighbours are static (no ARP), and the addresses
// are in 198.18.0.0/15, the benchmarking range. Needs root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/counters.h"

namespace netmon::testing {

// Moves the calling thread into a named namespace (/run/netns/<name>) and
// back on destruction. Sockets keep the namespace they were created in.
class NetnsScope {
 public:
  explicit NetnsScope(const std::string& netns);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int original_ = -1;
};

struct VethEnd {
  std::string netns;
  std::string ifname;
  int ifindex = 0;
  std::string ip;  // dotted quad, /24
  Link link() const { return {ifindex, ifname}; }
};

class VethPair {
 public:
  // Names carry the test's pid and a sequence number: unique on the host.
  // `first_ifindex` (optional) pins the ends' ifindexes to it and the next.
  explicit VethPair(int first_ifindex = 0);
  ~VethPair();  // deletes both namespaces, and with them the veth
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  const VethEnd& a() const { return a_; }
  const VethEnd& b() const { return b_; }
  const VethEnd& peer(const VethEnd& end) const { return &end == &a_ ? b_ : a_; }

  // Sends exactly `count` UDP datagrams of `payload` bytes from `from` to its
  // peer and returns once the peer's socket has received all of them, so
  // every counter on the way has moved. Throws std::runtime_error otherwise.
  void send_udp(const VethEnd& from, int count, size_t payload) const;

  // Bytes on the wire per datagram as veth and tc count them: Ethernet (14)
  // + IPv4 (20) + UDP (8) headers, no FCS, no padding.
  static uint64_t frame_bytes(size_t payload) { return payload + 42; }

  // /sys/class/net/<if>/statistics/{rx,tx}_{bytes,packets}, read inside
  // the end's namespace.
  static Counters kernel_counters(const VethEnd& end);

  // Deletes the veth (both ends) while the namespaces stay.
  void delete_link() const;
  // Creates it (again): same names, addresses and, if pinned, ifindexes, so
  // a test can make the kernel reuse an ifindex.
  void create_link();

 private:
  int first_ifindex_ = 0;
  VethEnd a_;
  VethEnd b_;
};

// A bpffs instance of the test's own, mounted on a temporary directory (not
// under /sys/fs/bpf: `ip netns exec` mounts a fresh sysfs, which hides the
// host's), so a real pinned set is never touched; unmounting frees whatever
// a failed test left pinned.
class Bpffs {
 public:
  // `mode` 1777 lets a test agent that is not root pin there.
  explicit Bpffs(const char* mode = "mode=0700");
  ~Bpffs();
  Bpffs(const Bpffs&) = delete;
  Bpffs& operator=(const Bpffs&) = delete;

  // Where --pin-path points.
  std::string set() const { return mount_ + "/netmon"; }

 private:
  std::string mount_;
};

}  // namespace netmon::testing
