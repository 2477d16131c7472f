// Legacy tc against other tools on the same hooks (issue 13, defects 2.3,
// 2.4, 2.8): a drop filter put in front of netmon's, a rename before exit,
// a classic ingress qdisc.
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent_process.h"
#include "netns.h"
#include "sources/bpf/bpf_source.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace netmon::testing {
namespace {

using namespace std::chrono_literals;
using Mode = BpfSource::AttachMode;

constexpr int kPackets = 100;
constexpr size_t kPayload = 64;

const bool kQuietLibbpf = [] {
  if (!getenv("NETMON_TEST_LIBBPF_DEBUG")) libbpf_set_print(nullptr);
  return true;
}();

std::string tc(const VethEnd& end, const std::string& args) {
  return run("tc -n " + end.netns + " " + args);
}

// What the issue describes: another tool's direct-action filter at pref 1,
// under its own handle, that drops everything.
void add_drop_filter(const VethEnd& end) {
  tc(end, "filter add dev " + end.ifname + " ingress pref 1 handle 0x1 bpf da obj " +
              NETMON_DROP_BPF_OBJECT + " sec tc");
}

// The name of the first filter tc lists (and the kernel runs) on ingress.
std::string first_ingress_filter(const VethEnd& end) {
  std::string out = tc(end, "filter show dev " + end.ifname + " ingress");
  size_t at = out.find(" name ");
  if (at == std::string::npos) return "";
  at += 6;
  return out.substr(at, out.find(' ', at) - at);
}

// `count` datagrams from `from` to its peer, without waiting for a receiver
// (the drop filter would starve it): returns once the peer's kernel rx
// counters have moved by `count`, so every tc filter on the way has run.
Counters send_and_wait(const VethPair& pair, const VethEnd& from, int count) {
  const VethEnd& to = pair.peer(from);
  const Counters before = VethPair::kernel_counters(to);
  {
    NetnsScope in(from.netns);
    Fd sender(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sender) throw Error(errno_message("socket", errno));
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(9);
    inet_pton(AF_INET, to.ip.c_str(), &dst.sin_addr);
    std::vector<char> data(kPayload, 'g');
    for (int i = 0; i < count; ++i)
      while (sendto(sender.get(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                    sizeof(dst)) < 0) {
        if (errno != EAGAIN && errno != ENOBUFS)
          throw Error(errno_message("sendto " + to.ip, errno));
        usleep(1000);
      }
  }
  Counters now;
  for (int i = 0; i < 100; ++i) {
    now = VethPair::kernel_counters(to);
    if (now.rx_packets - before.rx_packets >= static_cast<uint64_t>(count)) break;
    std::this_thread::sleep_for(20ms);
  }
  return {now.rx_bytes - before.rx_bytes, now.rx_packets - before.rx_packets, 0, 0};
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd pfd{fd, POLLIN, 0};
  return poll(&pfd, 1, static_cast<int>(timeout.count())) == 1;
}

bool kernel_has_tcx() {
  BpfSource probe(Mode::kAuto, 1);
  return probe.uses_tcx();
}

TEST(TcGuard, AFilterPutInFrontIsPushedBackAndTheWindowCounted) {
  VethPair pair;
  const VethEnd& a = pair.a();
  NetnsScope in(a.netns);
  BpfSource source(Mode::kTc);
  source.watch(a.link());
  ASSERT_GE(source.event_fd(), 0) << "legacy tc must be guarded";
  ASSERT_TRUE(source.health());
  EXPECT_EQ(source.health()->tc_preempted, 0u);
  // Our own attach notified too; none of it is a preemption.
  if (wait_readable(source.event_fd(), 200ms)) source.handle_events();
  EXPECT_EQ(source.health()->tc_preempted, 0u);

  add_drop_filter(a);
  ASSERT_EQ(first_ingress_filter(a), "test_drop") << "the kernel runs the newer filter first";
  ASSERT_TRUE(wait_readable(source.event_fd(), 1s)) << "no TC notification";
  source.handle_events();
  EXPECT_EQ(first_ingress_filter(a), "netmon_ingress");
  ASSERT_TRUE(source.health());
  EXPECT_EQ(source.health()->tc_preempted, 1u);
  EXPECT_GT(source.health()->tc_preempted_seconds, 0);
  EXPECT_LT(source.health()->tc_preempted_seconds, 1);

  const Counters base = source.read({a.link()})[a.ifindex];
  const Counters kernel = send_and_wait(pair, pair.b(), kPackets);
  ASSERT_EQ(kernel.rx_packets, static_cast<uint64_t>(kPackets));
  const Counters counted = source.read({a.link()})[a.ifindex];
  EXPECT_EQ(counted.rx_packets - base.rx_packets, kernel.rx_packets);
  EXPECT_EQ(counted.rx_bytes - base.rx_bytes, kernel.rx_bytes);

  // Our filter deleted outright, then the whole clsact qdisc: put back both times.
  tc(a, "filter del dev " + a.ifname + " ingress pref 1 handle 0x4e4d bpf");
  ASSERT_TRUE(wait_readable(source.event_fd(), 1s));
  source.handle_events();
  EXPECT_EQ(first_ingress_filter(a), "netmon_ingress");
  tc(a, "qdisc del dev " + a.ifname + " clsact");
  ASSERT_TRUE(wait_readable(source.event_fd(), 1s));
  source.handle_events();
  EXPECT_EQ(first_ingress_filter(a), "netmon_ingress");
  EXPECT_NE(tc(a, "filter show dev " + a.ifname + " egress").find("netmon_egress"),
            std::string::npos);
  EXPECT_EQ(source.health()->tc_preempted, 1u + 1u + 2u) << "ingress, then ingress and egress";

  source.unwatch(a.link());
  EXPECT_EQ(tc(a, "qdisc show dev " + a.ifname).find("clsact"), std::string::npos)
      << "the qdisc we re-created is ours to remove";
}

// Two tools that both insist on running first must not fight forever.
TEST(TcGuard, GivesUpAHookAnotherToolKeepsTakingAndCountsTheTimeBehind) {
  VethPair pair;
  const VethEnd& a = pair.a();
  NetnsScope in(a.netns);
  BpfSource source(Mode::kTc);
  source.watch(a.link());
  if (wait_readable(source.event_fd(), 200ms)) source.handle_events();
  const int rounds = static_cast<int>(TcGuard::kMaxRefronts) + 1;
  for (int i = 0; i < rounds; ++i) {
    tc(a, "filter add dev " + a.ifname + " ingress pref 1 handle " + std::to_string(0x10 + i) +
              " bpf da obj " + NETMON_DROP_BPF_OBJECT + " sec tc");
    ASSERT_TRUE(wait_readable(source.event_fd(), 1s));
    source.handle_events();
    const bool last = i == rounds - 1;
    EXPECT_EQ(first_ingress_filter(a), last ? "test_drop" : "netmon_ingress") << "round " << i;
  }
  const SourceHealth given_up = *source.health();
  EXPECT_EQ(given_up.tc_preempted, static_cast<uint64_t>(rounds));
  std::this_thread::sleep_for(100ms);
  EXPECT_GE(source.health()->tc_preempted_seconds, given_up.tc_preempted_seconds + 0.1)
      << "time behind counts while it lasts";
}

TEST(TcGuard, TcxAndXdpReportNoTcHealth) {
  if (!kernel_has_tcx()) GTEST_SKIP() << "kernel without tcx";
  BpfSource source(Mode::kTcx);
  EXPECT_EQ(source.event_fd(), -1);
  EXPECT_FALSE(source.health());
}

// The whole agent: the count equals the kernel's although a drop filter went
// in front, and the event shows on stderr and in the NDJSON.
TEST(TcGuard, AgentCountsWhatALaterFilterWouldHide) {
  VethPair pair;
  const VethEnd& a = pair.a();
  AgentProcess agent({"--bpf", "--attach", "tc", "--interval", "200ms", a.ifname}, a.netns);
  ASSERT_TRUE(agent.read_snapshot(10s)) << agent.stderr_text();
  add_drop_filter(a);
  std::this_thread::sleep_for(300ms);  // one interval and a half
  auto base = agent.read_snapshot(3s);
  ASSERT_TRUE(base);
  const Counters kernel = send_and_wait(pair, pair.b(), kPackets);
  ASSERT_EQ(kernel.rx_packets, static_cast<uint64_t>(kPackets));
  std::optional<nlohmann::json> last;
  for (int i = 0; i < 3; ++i) last = agent.read_snapshot(3s);  // the sends' and one more
  ASSERT_TRUE(last);
  const auto& before = (*base)["interfaces"][a.ifname];
  const auto& after = (*last)["interfaces"][a.ifname];
  EXPECT_EQ(after["rx_packets"].get<uint64_t>() - before["rx_packets"].get<uint64_t>(),
            kernel.rx_packets);
  EXPECT_EQ(after["rx_bytes"].get<uint64_t>() - before["rx_bytes"].get<uint64_t>(),
            kernel.rx_bytes);
  ASSERT_TRUE(last->contains("health")) << last->dump();
  EXPECT_EQ((*last)["health"]["tc_preempted"], 1) << last->dump();
  EXPECT_GT((*last)["health"]["tc_preempted_seconds"].get<double>(), 0);

  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(10s), 0);
  const std::string err = agent.stderr_text();
  EXPECT_NE(
      err.find("bpf filter 'netmon_test_drop.bpf.o:[tc]' (pref 1 handle 0x1) was put in front of "
               "netmon's filter on '" +
               a.ifname + "' (tc ingress)"),
      std::string::npos)
      << err;
  const std::string left = tc(a, "filter show dev " + a.ifname + " ingress");
  EXPECT_EQ(left.find("netmon_ingress"), std::string::npos) << left;
  EXPECT_NE(left.find("test_drop"), std::string::npos) << "another tool's filter stays";
}

// Defect 2.4: the clsact qdisc the agent created goes at exit although the
// interface was renamed meanwhile (renamed within the selection, or out of it).
TEST(TcGuard, ClsactIsRemovedAfterARename) {
  for (const bool still_selected : {true, false}) {
    SCOPED_TRACE(still_selected ? "renamed within the selection" : "renamed out of it");
    VethPair pair;
    const VethEnd& a = pair.a();
    const std::string renamed = (still_selected ? "nmtr" : "zz") + std::to_string(getpid());
    AgentProcess agent(
        {"--bpf", "--attach", "tc", "--interval", "100ms", still_selected ? "nmt*" : a.ifname},
        a.netns);
    ASSERT_TRUE(agent.read_snapshot(10s)) << agent.stderr_text();
    ASSERT_NE(tc(a, "qdisc show dev " + a.ifname).find("clsact"), std::string::npos);
    run("ip -n " + a.netns + " link set " + a.ifname + " down");
    run("ip -n " + a.netns + " link set " + a.ifname + " name " + renamed);
    run("ip -n " + a.netns + " link set " + renamed + " up");
    for (int i = 0; i < 3; ++i) agent.read_snapshot(3s);
    agent.signal(SIGTERM);
    EXPECT_EQ(agent.wait(10s), 0) << agent.stderr_text();
    EXPECT_EQ(tc(a, "qdisc show dev " + renamed).find("clsact"), std::string::npos)
        << agent.stderr_text();
    EXPECT_EQ(tc(a, "filter show dev " + renamed + " ingress"), "");
  }
}

// Defect 2.8: a classic ingress qdisc is named, not blamed on ourselves.
TEST(TcGuard, AClassicIngressQdiscIsNamed) {
  VethPair pair;
  const VethEnd& a = pair.a();
  tc(a, "qdisc add dev " + a.ifname + " ingress");
  {
    NetnsScope in(a.netns);
    BpfSource source(Mode::kTc);
    try {
      source.watch(a.link());
      FAIL() << "attached with a classic ingress qdisc";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "failed to attach to '" + a.ifname +
                    "' (tc): the interface has a classic 'ingress' qdisc; clsact is needed "
                    "(remove it: tc qdisc del dev " +
                    a.ifname + " ingress)");
    }
  }
  EXPECT_EQ(tc(a, "filter show dev " + a.ifname + " ingress"), "") << "nothing attached";
  EXPECT_NE(tc(a, "qdisc show dev " + a.ifname).find("ingress ffff:"), std::string::npos);

  // tcx runs beside the classic qdisc: counts exactly, leaves it alone.
  if (!kernel_has_tcx()) GTEST_SKIP() << "kernel without tcx";
  {
    NetnsScope in(a.netns);
    BpfSource source(Mode::kTcx);
    source.watch(a.link());
    const Counters kernel = send_and_wait(pair, pair.b(), kPackets);
    const Counters counted = source.read({a.link()})[a.ifindex];
    EXPECT_EQ(counted.rx_packets, kernel.rx_packets);
    EXPECT_EQ(counted.rx_bytes, kernel.rx_bytes);
  }
  EXPECT_NE(tc(a, "qdisc show dev " + a.ifname).find("ingress ffff:"), std::string::npos);
}

// The same through the agent: one line naming the qdisc, exit 1.
TEST(TcGuard, AgentNamesAClassicIngressQdisc) {
  VethPair pair;
  const VethEnd& a = pair.a();
  tc(a, "qdisc add dev " + a.ifname + " ingress");
  AgentProcess agent({"--bpf", "--attach", "tc", "--count", "1", a.ifname}, a.netns);
  EXPECT_EQ(agent.wait(10s), 1);
  const std::string err = agent.stderr_text();
  EXPECT_NE(err.find("classic 'ingress' qdisc"), std::string::npos) << err;
  EXPECT_EQ(err.find("another netmon agent"), std::string::npos) << err;
}

}  // namespace
}  // namespace netmon::testing
