// The counting programs themselves, run by the kernel on crafted packets
// (BPF_PROG_TEST_RUN): the cases a veth flood never produces — GSO
// super-packets with and without gso_segs, VLAN and IPv6 headers, ifindexes
// beyond the array, a full overflow hash — each checked against the count
// the wire would see.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/counters.h"
#include "netmon/abi.h"
#include "sources/bpf/bpf_sum.h"

// As in bpf_source.cpp: the skeleton's `struct netmon` gets a namespace of
// its own; errno.h and stdlib.h, its includes, are already in above.
namespace netmon_skel {
#include "netmon.skel.h"
}  // namespace netmon_skel

namespace netmon::testing {
namespace {

using netmon_skel::netmon;

constexpr uint32_t kArraySlots = 8;
constexpr uint32_t kOverflowSlots = 2;
constexpr int kTcNext = -1;  // TC_ACT_UNSPEC / TCX_NEXT

struct SkeletonDeleter {
  void operator()(netmon* skeleton) const { netmon_skel::netmon__destroy(skeleton); }
};

// Frames built byte by byte, so header lengths are what the test says.
class Frame {
 public:
  Frame& ethernet(uint16_t ethertype) {
    bytes_.insert(bytes_.end(), 12, 0x02);
    return be16(ethertype);
  }
  Frame& vlan(uint16_t inner_ethertype) { return be16(0x0064).be16(inner_ethertype); }
  Frame& ipv4(uint8_t protocol, unsigned options_words = 0) {
    size_t start = bytes_.size();
    bytes_.resize(start + 20 + 4 * options_words);
    bytes_[start] = static_cast<uint8_t>(0x40 | (5 + options_words));
    bytes_[start + 8] = 64;
    bytes_[start + 9] = protocol;
    return *this;
  }
  Frame& ipv6(uint8_t next_header) {
    size_t start = bytes_.size();
    bytes_.resize(start + 40);
    bytes_[start] = 0x60;
    bytes_[start + 6] = next_header;
    bytes_[start + 7] = 64;
    return *this;
  }
  Frame& tcp(unsigned header_bytes) {
    size_t start = bytes_.size();
    bytes_.resize(start + header_bytes);
    bytes_[start + 12] = static_cast<uint8_t>((header_bytes / 4) << 4);
    return *this;
  }
  Frame& udp() {
    bytes_.resize(bytes_.size() + 8);
    return *this;
  }
  Frame& payload(size_t n) {
    bytes_.resize(bytes_.size() + n, 0xab);
    return *this;
  }
  std::vector<uint8_t>& bytes() { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  Frame& be16(uint16_t v) {
    bytes_.push_back(static_cast<uint8_t>(v >> 8));
    bytes_.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

constexpr uint16_t kIpv4 = 0x0800, kIpv6 = 0x86dd, kVlan = 0x8100;
constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;

class BpfProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF)";
    libbpf_set_print(nullptr);
    skeleton_.reset(netmon_skel::netmon__open());
    ASSERT_TRUE(skeleton_) << "open: " << strerror(errno);
    bpf_map__set_max_entries(skeleton_->maps.counters, kArraySlots);
    bpf_map__set_max_entries(skeleton_->maps.overflow_counters, kOverflowSlots);
    ASSERT_EQ(netmon_skel::netmon__load(skeleton_.get()), 0) << "load: " << strerror(errno);
  }

  // Runs a tc program once over `frame` with the given skb fields; returns
  // its verdict.
  int run_tc(bpf_program* program, Frame& frame, __sk_buff ctx) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.bytes().data(),
                .data_size_in = static_cast<__u32>(frame.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof(ctx), .repeat = 1);
    int err = bpf_prog_test_run_opts(bpf_program__fd(program), &opts);
    EXPECT_EQ(err, 0) << "test run: " << strerror(errno);
    return static_cast<int>(opts.retval);
  }
  int run_ingress(Frame& frame, uint32_t ifindex, uint32_t gso_size = 0, uint32_t gso_segs = 0) {
    __sk_buff ctx{};
    ctx.ingress_ifindex = ifindex;
    ctx.gso_size = gso_size;
    ctx.gso_segs = gso_segs;
    return run_tc(skeleton_->progs.netmon_ingress, frame, ctx);
  }

  // The counters of `key`, summed over CPUs, from the array or the hash.
  Counters counters_of(uint32_t key, bool overflow = false) {
    const size_t ncpus = static_cast<size_t>(libbpf_num_possible_cpus());
    std::vector<netmon_counters> per_cpu(ncpus);
    bpf_map* map = overflow ? skeleton_->maps.overflow_counters : skeleton_->maps.counters;
    if (bpf_map_lookup_elem(bpf_map__fd(map), &key, per_cpu.data()) != 0) {
      ADD_FAILURE() << "no counters for key " << key << (overflow ? " in the overflow hash" : "");
      return {};
    }
    return sum_per_cpu(per_cpu.data(), ncpus);
  }
  uint64_t packets_lost() {
    const size_t ncpus = static_cast<size_t>(libbpf_num_possible_cpus());
    std::vector<uint64_t> per_cpu(ncpus);
    uint32_t key = NETMON_HEALTH_OVERFLOW_FULL;
    EXPECT_EQ(bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.health), &key, per_cpu.data()), 0);
    return sum_per_cpu(per_cpu.data(), ncpus);
  }

  std::unique_ptr<netmon, SkeletonDeleter> skeleton_;
};

TEST_F(BpfProgramTest, APlainFrameIsOnePacketOfItsLength) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kUdp).udp().payload(18);
  ASSERT_EQ(frame.size(), 60u);
  EXPECT_EQ(run_ingress(frame, 3), kTcNext);
  EXPECT_EQ(run_ingress(frame, 3), kTcNext);
  Counters c = counters_of(3);
  EXPECT_EQ(c.rx_packets, 2u);
  EXPECT_EQ(c.rx_bytes, 120u);
  EXPECT_EQ(c.tx_packets, 0u);
  EXPECT_EQ(c.tx_bytes, 0u);
}

// The kernel's gso_segs wins; 5 here is not what recomputing from the
// 3000-byte payload would give (3), so the test tells the two apart. (A
// test run's frame is at most a page: no 64 KB super-packet here.)
TEST_F(BpfProgramTest, TrustedGsoCountsGsoSegs) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kTcp).tcp(32).payload(3000);
  EXPECT_EQ(run_ingress(frame, 4, 1000, 5), kTcNext);
  Counters c = counters_of(4);
  EXPECT_EQ(c.rx_packets, 5u);
  EXPECT_EQ(c.rx_bytes, frame.size());
}

// gso_segs 0 with gso_size set (virtio, tap, packet sockets): what
// segmentation will make of it, ceil(payload / gso_size), headers parsed
// the way qdisc_pkt_len_init() does.
TEST_F(BpfProgramTest, UntrustedTcpGsoCountsTheSegmentsItWillBecome) {
  Frame exact, one_more;
  exact.ethernet(kIpv4).ipv4(kTcp, 2).tcp(32).payload(3000);
  one_more.ethernet(kIpv4).ipv4(kTcp, 2).tcp(32).payload(3001);
  EXPECT_EQ(run_ingress(exact, 5, 1000), kTcNext);
  EXPECT_EQ(counters_of(5).rx_packets, 3u);
  EXPECT_EQ(run_ingress(one_more, 5, 1000), kTcNext);
  EXPECT_EQ(counters_of(5).rx_packets, 3u + 4u);
  EXPECT_EQ(counters_of(5).rx_bytes, exact.size() + one_more.size());
}

TEST_F(BpfProgramTest, UntrustedUdpGsoBehindVlanAndIpv6) {
  Frame frame;
  frame.ethernet(kVlan).vlan(kIpv6).ipv6(kUdp).udp().payload(2500);
  EXPECT_EQ(run_ingress(frame, 6, 1000), kTcNext);
  EXPECT_EQ(counters_of(6).rx_packets, 3u);
}

// Headers it cannot parse (not TCP or UDP) count as payload, the whole skb:
// never fewer segments than segmentation would make.
TEST_F(BpfProgramTest, UntrustedGsoOfAnUnknownProtocolStillCountsSegments) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kIcmp).payload(1986);  // 14 + 20 + 1986 = 2020 bytes
  EXPECT_EQ(run_ingress(frame, 7, 1000), kTcNext);
  EXPECT_EQ(counters_of(7).rx_packets, 3u);  // ceil(2020 / 1000): nothing parsed as header
}

TEST_F(BpfProgramTest, EgressCountsTxOfTheOutgoingDevice) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kUdp).udp().payload(100);
  __sk_buff ctx{};
  ctx.ifindex = 1;  // loopback: test runs need a real device for skb->dev
  EXPECT_EQ(run_tc(skeleton_->progs.netmon_egress, frame, ctx), kTcNext);
  ctx.gso_size = 50;
  ctx.gso_segs = 0;
  EXPECT_EQ(run_tc(skeleton_->progs.netmon_egress, frame, ctx), kTcNext);
  Counters c = counters_of(1);
  EXPECT_EQ(c.tx_packets, 1u + 2u);  // 100 bytes of UDP payload in 50-byte segments
  EXPECT_EQ(c.tx_bytes, 2 * frame.size());
  EXPECT_EQ(c.rx_packets, 0u);
}

TEST_F(BpfProgramTest, IfindexesBeyondTheArrayGoToTheOverflowHashThenToHealth) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kTcp).tcp(20).payload(1000);
  const uint32_t beyond = kArraySlots + 100;
  EXPECT_EQ(run_ingress(frame, beyond), kTcNext);
  EXPECT_EQ(run_ingress(frame, beyond, 500, 0), kTcNext);
  Counters c = counters_of(beyond, /*overflow=*/true);
  EXPECT_EQ(c.rx_packets, 1u + 2u);
  EXPECT_EQ(c.rx_bytes, 2 * frame.size());
  EXPECT_EQ(packets_lost(), 0u);

  // The hash holds kOverflowSlots ifindexes; the next one is lost, and says so.
  EXPECT_EQ(run_ingress(frame, beyond + 1), kTcNext);
  EXPECT_EQ(run_ingress(frame, beyond + 2), kTcNext);
  EXPECT_EQ(packets_lost(), 1u);
  EXPECT_EQ(counters_of(beyond + 1, /*overflow=*/true).rx_packets, 1u);
}

TEST_F(BpfProgramTest, XdpCountsFrameBytesAndPasses) {
  Frame frame;
  frame.ethernet(kIpv4).ipv4(kUdp).udp().payload(200);
  xdp_md ctx{};
  ctx.data_end = static_cast<__u32>(frame.size());
  ctx.ingress_ifindex = 1;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.bytes().data(),
              .data_size_in = static_cast<__u32>(frame.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1);
  ASSERT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skeleton_->progs.netmon_xdp), &opts), 0)
      << strerror(errno);
  EXPECT_EQ(opts.retval, static_cast<__u32>(XDP_PASS));
  Counters c = counters_of(1);
  EXPECT_EQ(c.rx_packets, 1u);
  EXPECT_EQ(c.rx_bytes, frame.size());
}

}  // namespace
}  // namespace netmon::testing
