// BpfSource against real packets: exact counts in every attach mode, clean
// detach, stale-filter recovery, slot zeroing and the overflow hash.
#include "sources/bpf/bpf_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "agent_process.h"  // run()
#include "netns.h"
#include "sources/bpf/tc_attach.h"
#include "sys/error.h"

namespace netmon::testing {
namespace {

using Mode = BpfSource::AttachMode;

constexpr int kDatagrams = 200;
constexpr size_t kPayload = 100;
constexpr int kReplies = 120;
constexpr size_t kReplyPayload = 333;  // another size each way: a swapped rx/tx shows

// A BpfSource lives in one namespace, so each end gets its own.
class Watcher {
 public:
  Watcher(const VethEnd& end, Mode mode, uint32_t array_entries = 0) : end_(end) {
    NetnsScope in(end_.netns);
    source_ = std::make_unique<BpfSource>(mode, array_entries);
    source_->watch(end_.link());
  }
  ~Watcher() { stop(); }

  Counters read() {
    NetnsScope in(end_.netns);
    CounterMap all = source_->read({end_.link()});
    EXPECT_EQ(all.size(), 1u) << end_.ifname << " missing from read()";
    return all[end_.ifindex];
  }
  void stop() {
    if (!source_) return;
    NetnsScope in(end_.netns);
    source_.reset();
  }
  BpfSource& source() { return *source_; }

 private:
  VethEnd end_;
  std::unique_ptr<BpfSource> source_;
};

bool kernel_has_tcx() {
  static const bool has = [] {
    BpfSource probe(Mode::kAuto, 1);
    return probe.uses_tcx();
  }();
  return has;
}

std::string tc_filters(const VethEnd& end, const char* direction) {
  return run("ip netns exec " + end.netns + " tc filter show dev " + end.ifname + " " + direction);
}

std::string tc_qdiscs(const VethEnd& end) {
  return run("ip netns exec " + end.netns + " tc qdisc show dev " + end.ifname);
}

int count_of(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

uint32_t xdp_prog_id(const VethEnd& end) {
  NetnsScope in(end.netns);
  uint32_t id = 0;
  EXPECT_EQ(bpf_xdp_query_id(end.ifindex, 0, &id), 0);
  return id;
}

int tcx_programs(const VethEnd& end, bool ingress) {
  NetnsScope in(end.netns);
  return tcx_program_count(end.ifindex, ingress);
}

// With an XDP program on the receiving veth, the kernel moves packets through
// veth's NAPI path, which counts bytes after eth_type_trans() pulled the
// Ethernet header: 14 bytes less per packet on that end's rx and its peer's
// tx. netmon counts the frame (XDP data_end - data) as tc does.
Counters as_veth_counts(Counters frames, Mode mode) {
  if (mode != Mode::kXdp) return frames;
  frames.rx_bytes -= 14 * frames.rx_packets;
  frames.tx_bytes -= 14 * frames.tx_packets;
  return frames;
}

// libbpf reports expected probe failures ("Cannot find specified filter
// chain") as warnings; the agent routes them to debug, the tests drop them.
const bool kQuietLibbpf = [] {
  if (!getenv("NETMON_TEST_LIBBPF_DEBUG")) libbpf_set_print(nullptr);
  return true;
}();

class BpfSourceTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    if (GetParam() == Mode::kTcx && !kernel_has_tcx()) GTEST_SKIP() << "kernel without tcx";
  }
};

TEST_P(BpfSourceTest, CountsExactlyAndAgreesWithTheKernel) {
  VethPair pair;
  Watcher a(pair.a(), GetParam());
  Watcher b(pair.b(), GetParam());
  // Attached and quiet: the link really is silent and slots start at zero.
  EXPECT_EQ(a.read(), Counters{});
  EXPECT_EQ(b.read(), Counters{});
  const Counters kernel_a = VethPair::kernel_counters(pair.a());
  const Counters kernel_b = VethPair::kernel_counters(pair.b());

  pair.send_udp(pair.a(), kDatagrams, kPayload);
  pair.send_udp(pair.b(), kReplies, kReplyPayload);

  const Counters forward{kReplies * VethPair::frame_bytes(kReplyPayload), kReplies,
                         kDatagrams * VethPair::frame_bytes(kPayload), kDatagrams};
  const Counters backward{forward.tx_bytes, forward.tx_packets, forward.rx_bytes,
                          forward.rx_packets};
  EXPECT_EQ(a.read(), forward);
  EXPECT_EQ(b.read(), backward);
  EXPECT_EQ(VethPair::kernel_counters(pair.a()) - kernel_a, as_veth_counts(forward, GetParam()));
  EXPECT_EQ(VethPair::kernel_counters(pair.b()) - kernel_b, as_veth_counts(backward, GetParam()));
  EXPECT_EQ(a.source().lost_packets(), 0u);
}

TEST_P(BpfSourceTest, LeavesNothingAttachedAfterDestruction) {
  VethPair pair;
  const VethEnd& end = pair.a();
  ASSERT_EQ(tc_qdiscs(end).find("clsact"), std::string::npos);
  {
    Watcher watcher(end, GetParam());
    // The checks below must be able to see an attachment at all.
    switch (GetParam()) {
      case Mode::kTcx:
        EXPECT_EQ(tcx_programs(end, true), 1);
        EXPECT_EQ(tcx_programs(end, false), 1);
        break;
      case Mode::kTc:
        EXPECT_NE(tc_filters(end, "ingress").find("netmon_ingress"), std::string::npos);
        EXPECT_NE(tc_filters(end, "egress").find("netmon_egress"), std::string::npos);
        break;
      default:
        EXPECT_NE(xdp_prog_id(end), 0u);
        break;
    }
  }
  EXPECT_EQ(tc_filters(end, "ingress"), "");
  EXPECT_EQ(tc_filters(end, "egress"), "");
  EXPECT_EQ(tc_qdiscs(end).find("clsact"), std::string::npos) << "we created it";
  EXPECT_EQ(xdp_prog_id(end), 0u);
  if (kernel_has_tcx()) {
    EXPECT_EQ(tcx_programs(end, true), 0);
    EXPECT_EQ(tcx_programs(end, false), 0);
  }
}

TEST_P(BpfSourceTest, WatchAgainStartsFromZero) {
  // Stands in for a reused ifindex: whatever the slot held, watch() zeroes it.
  VethPair pair;
  Watcher a(pair.a(), GetParam());
  pair.send_udp(pair.a(), 10, kPayload);
  ASSERT_EQ(a.read().tx_packets, 10u);
  {
    NetnsScope in(pair.a().netns);
    a.source().unwatch(pair.a().link());
    a.source().watch(pair.a().link());
  }
  EXPECT_EQ(a.read(), Counters{});
  pair.send_udp(pair.a(), 3, kPayload);
  EXPECT_EQ(a.read().tx_packets, 3u);
}

TEST_P(BpfSourceTest, AReusedIfindexDoesNotInheritCounts) {
  VethPair pair(150);
  Watcher a(pair.a(), GetParam());
  pair.send_udp(pair.a(), 10, kPayload);
  ASSERT_EQ(a.read().tx_packets, 10u);
  pair.delete_link();
  pair.create_link();  // a new interface, same ifindex
  ASSERT_EQ(pair.a().ifindex, 150);
  {
    // No unwatch in between: as if the deletion event was missed.
    NetnsScope in(pair.a().netns);
    a.source().watch(pair.a().link());
  }
  EXPECT_EQ(a.read(), Counters{});
  pair.send_udp(pair.a(), 3, kPayload);
  EXPECT_EQ(a.read().tx_packets, 3u);
}

TEST_P(BpfSourceTest, CountsExactlyWhenReadKeyByKey) {
  // Sparse ifindexes (one watched out of 201 slots) make read() skip the
  // batch lookup for per-key lookups.
  VethPair pair(200);
  Watcher a(pair.a(), GetParam());
  pair.send_udp(pair.a(), kDatagrams, kPayload);
  pair.send_udp(pair.b(), kReplies, kReplyPayload);
  EXPECT_EQ(a.read(), (Counters{kReplies * VethPair::frame_bytes(kReplyPayload), kReplies,
                                kDatagrams * VethPair::frame_bytes(kPayload), kDatagrams}));
}

TEST_P(BpfSourceTest, CountsIfindexesBeyondTheArrayInTheOverflowHash) {
  VethPair pair;
  ASSERT_GE(pair.a().ifindex, 1);
  // One slot (ifindex 0, never a device): every real ifindex overflows.
  Watcher a(pair.a(), GetParam(), 1);
  Watcher b(pair.b(), GetParam(), 1);
  pair.send_udp(pair.a(), kDatagrams, kPayload);
  pair.send_udp(pair.b(), kReplies, kReplyPayload);
  EXPECT_EQ(a.read(), (Counters{kReplies * VethPair::frame_bytes(kReplyPayload), kReplies,
                                kDatagrams * VethPair::frame_bytes(kPayload), kDatagrams}));
  EXPECT_EQ(b.read(), (Counters{kDatagrams * VethPair::frame_bytes(kPayload), kDatagrams,
                                kReplies * VethPair::frame_bytes(kReplyPayload), kReplies}));
  EXPECT_EQ(a.source().lost_packets(), 0u);
  EXPECT_EQ(b.source().lost_packets(), 0u);

  // Re-watching zeroes overflow slots too.
  {
    NetnsScope in(pair.a().netns);
    a.source().watch(pair.a().link());
  }
  EXPECT_EQ(a.read(), Counters{});
}

TEST_P(BpfSourceTest, UnwatchAfterTheInterfaceIsGoneIsQuiet) {
  VethPair pair;
  Watcher a(pair.a(), GetParam());
  pair.delete_link();
  NetnsScope in(pair.a().netns);
  EXPECT_NO_THROW(a.source().unwatch(pair.a().link()));
  EXPECT_TRUE(a.source().read({pair.a().link()}).empty());
}

INSTANTIATE_TEST_SUITE_P(Modes, BpfSourceTest, ::testing::Values(Mode::kTcx, Mode::kTc, Mode::kXdp),
                         [](const auto& info) { return attach_mode_name(info.param); });

TEST(BpfSourceLegacyTc, StaleFilterOfAKilledAgentIsReplacedAndForeignFiltersSurvive) {
  VethPair pair;
  const VethEnd& a = pair.a();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t agent = fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    // The "agent": attaches, reports, and is SIGKILLed without detaching.
    close(ready[0]);
    try {
      NetnsScope in(a.netns);
      BpfSource source(Mode::kTc);
      source.watch(a.link());
      if (write(ready[1], "1", 1) != 1) _exit(1);
      for (;;) pause();
    } catch (...) {
      _exit(1);
    }
  }
  close(ready[1]);
  char byte = 0;
  const bool attached = read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  kill(agent, SIGKILL);
  waitpid(agent, nullptr, 0);
  ASSERT_TRUE(attached) << "the child agent failed to attach";
  ASSERT_EQ(count_of(tc_filters(a, "ingress"), "netmon_ingress:["), 1) << "nothing left behind";
  ASSERT_EQ(count_of(tc_filters(a, "egress"), "netmon_egress:["), 1);

  // Another tool's filter, at another priority, must outlive us.
  run("ip netns exec " + a.netns + " tc filter add dev " + a.ifname +
      " ingress pref 7 protocol ip u32 match u32 0 0 classid 1:1");
  {
    Watcher watcher(a, Mode::kTc);
    EXPECT_EQ(count_of(tc_filters(a, "ingress"), "netmon_ingress:["), 1);
    EXPECT_EQ(count_of(tc_filters(a, "egress"), "netmon_egress:["), 1);
    pair.send_udp(pair.b(), kDatagrams, kPayload);
    EXPECT_EQ(watcher.read().rx_packets, static_cast<uint64_t>(kDatagrams));
  }
  const std::string ingress = tc_filters(a, "ingress");
  EXPECT_EQ(ingress.find("netmon"), std::string::npos) << ingress;
  EXPECT_NE(ingress.find("u32"), std::string::npos) << ingress;
  EXPECT_EQ(tc_filters(a, "egress"), "");
  // The dead agent created the qdisc; we cannot know that, so it stays.
  EXPECT_NE(tc_qdiscs(a).find("clsact"), std::string::npos);
}

TEST(BpfSourceLegacyTc, DoesNotTakeOverALiveAgentsFilter) {
  VethPair pair;
  Watcher first(pair.a(), Mode::kTc);
  NetnsScope in(pair.a().netns);
  BpfSource second(Mode::kTc);
  try {
    second.watch(pair.a().link());
    FAIL() << "attached over a live agent's filter";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another netmon agent (pid " + std::to_string(getpid())),
              std::string::npos)
        << e.what();
  }
}

TEST(BpfSourceLegacyTc, OurPriorityTakenByAnotherFilterKindIsExplained) {
  VethPair pair;
  const VethEnd& a = pair.a();
  run("ip netns exec " + a.netns + " tc qdisc add dev " + a.ifname + " clsact");
  run("ip netns exec " + a.netns + " tc filter add dev " + a.ifname +
      " ingress pref 1 protocol ip u32 match u32 0 0 classid 1:1");
  NetnsScope in(a.netns);
  BpfSource source(Mode::kTc);
  try {
    source.watch(a.link());
    FAIL() << "attached next to a u32 filter at our priority";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("(tc ingress): Invalid argument (priority 1 holds"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(tcx_program_count(a.ifindex, false), 0);
  EXPECT_EQ(tc_filter_count(a.ifindex, false), 0) << "a failed watch leaves nothing";
}

TEST(BpfSource, UnknownInterfaceIsNamedInTheError) {
  BpfSource source(Mode::kAuto);
  try {
    source.watch({999999, "nmt-nosuch0"});
    FAIL() << "attached to a nonexistent interface";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("failed to attach to 'nmt-nosuch0'"), std::string::npos)
        << e.what();
  }
}

// Runs BpfSource's constructor in a child without `dropped` capabilities and
// returns its error message ("" if it loaded).
std::string load_error_without(std::initializer_list<int> dropped) {
  int out[2];
  if (pipe(out) != 0) return "pipe failed";
  pid_t child = fork();
  if (child == 0) {
    close(out[0]);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2] = {};
    syscall(SYS_capget, &header, caps);
    for (int cap : dropped) caps[cap / 32].effective &= ~(1u << (cap % 32));
    if (syscall(SYS_capset, &header, caps) != 0) _exit(2);
    std::string message;
    try {
      BpfSource source(Mode::kAuto);
    } catch (const Error& e) {
      message = e.what();
    }
    if (write(out[1], message.data(), message.size()) < 0) _exit(3);
    _exit(0);
  }
  close(out[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = read(out[0], buffer, sizeof(buffer))) > 0;) message.append(buffer, n);
  close(out[0]);
  waitpid(child, nullptr, 0);
  return message;
}

TEST(BpfSource, MissingCapabilitiesAreNamed) {
  constexpr int kCapBpf = 39;
  EXPECT_NE(load_error_without({CAP_NET_ADMIN}).find("(need CAP_NET_ADMIN)"), std::string::npos);
  EXPECT_NE(load_error_without({kCapBpf, CAP_SYS_ADMIN}).find("(need CAP_BPF or CAP_SYS_ADMIN)"),
            std::string::npos);
  EXPECT_EQ(load_error_without({}), "");
}

}  // namespace
}  // namespace netmon::testing
