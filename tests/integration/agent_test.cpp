// netmon-agent end to end: the real binary, run inside a namespace joined to
// another by veth, counting real UDP datagrams. Every source must report
// exactly the traffic sent, and exactly what the kernel counted.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>

#include "agent_process.h"
#include "netns.h"

using namespace std::chrono_literals;
using netmon::Counters;
using netmon::testing::AgentProcess;
using netmon::testing::run;
using netmon::testing::VethPair;

namespace {

Counters counters_of(const nlohmann::json& snapshot, const std::string& ifname) {
  const auto& i = snapshot.at("interfaces").at(ifname);
  return {i.at("rx_bytes").get<uint64_t>(), i.at("rx_packets").get<uint64_t>(),
          i.at("tx_bytes").get<uint64_t>(), i.at("tx_packets").get<uint64_t>()};
}

// Reads snapshots until one taken after `not_before_ms` (wall clock) arrives.
nlohmann::json snapshot_after(AgentProcess& agent, int64_t not_before_ms) {
  for (int i = 0; i < 50; ++i) {
    auto s = agent.read_snapshot(3s);
    if (!s) break;
    if ((*s)["ts_ms"].get<int64_t>() > not_before_ms) return *s;
  }
  ADD_FAILURE() << "no snapshot after " << not_before_ms << "; stderr:\n" << agent.stderr_text();
  return {};
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Both hooks' tc filters as JSON, whitespace removed: "[][]" when none.
std::string tc_filters(const std::string& netns, const std::string& ifname) {
  std::string out = run("tc -n " + netns + " -j filter show dev " + ifname + " ingress") +
                    run("tc -n " + netns + " -j filter show dev " + ifname + " egress");
  out.erase(std::remove_if(out.begin(), out.end(), ::isspace), out.end());
  return out;
}

struct Mode {
  std::string name;
  std::vector<std::string> args;
  // Native XDP on veth makes the driver count rx bytes without the 14-byte
  // Ethernet header; tc and XDP both see (and netmon counts) the L2 frame.
  bool kernel_rx_excludes_l2 = false;
};

class AgentCounts : public ::testing::TestWithParam<Mode> {};

// N datagrams each way: deltas equal N packets and N x frame bytes exactly,
// and equal the kernel's own statistics deltas over the same window.
TEST_P(AgentCounts, ExactTrafficEachWayEqualsKernelCounters) {
  VethPair veth;
  const auto& a = veth.a();
  std::vector<std::string> args = GetParam().args;
  args.insert(args.end(), {"--interval", "200ms", a.ifname});
  AgentProcess agent(args, a.netns);

  auto baseline = agent.read_snapshot(10s);
  ASSERT_TRUE(baseline) << agent.stderr_text();
  EXPECT_EQ((*baseline)["seq"], 0);
  Counters agent_before = counters_of(*baseline, a.ifname);
  Counters kernel_before = VethPair::kernel_counters(a);

  constexpr int kOut = 37, kIn = 23;
  constexpr size_t kOutPayload = 100, kInPayload = 1000;
  veth.send_udp(a, kOut, kOutPayload);
  veth.send_udp(veth.b(), kIn, kInPayload);
  Counters kernel_delta = VethPair::kernel_counters(a) - kernel_before;

  auto later = snapshot_after(agent, wall_ms() + 1);
  Counters agent_delta = counters_of(later, a.ifname) - agent_before;

  EXPECT_EQ(agent_delta.tx_packets, kOut);
  EXPECT_EQ(agent_delta.tx_bytes, kOut * VethPair::frame_bytes(kOutPayload));
  EXPECT_EQ(agent_delta.rx_packets, kIn);
  EXPECT_EQ(agent_delta.rx_bytes, kIn * VethPair::frame_bytes(kInPayload));
  if (GetParam().kernel_rx_excludes_l2) kernel_delta.rx_bytes += 14 * kernel_delta.rx_packets;
  EXPECT_EQ(agent_delta, kernel_delta);
  EXPECT_EQ(later["source"], GetParam().args.empty() ? "netdev" : GetParam().args[0].substr(2));
  EXPECT_EQ(later["interfaces"][a.ifname]["ifindex"], a.ifindex);

  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(10s), 0) << agent.stderr_text();
  EXPECT_EQ(tc_filters(a.netns, a.ifname), "[][]");
}

INSTANTIATE_TEST_SUITE_P(Sources, AgentCounts,
                         ::testing::Values(Mode{"netdev_default", {}}, Mode{"netdev", {"--netdev"}},
                                           Mode{"bpf_auto", {"--bpf"}},
                                           Mode{"bpf_tcx", {"--bpf", "--attach", "tcx"}},
                                           Mode{"bpf_tc", {"--bpf", "--attach", "tc"}},
                                           Mode{"bpf_xdp", {"--bpf", "--attach", "xdp"}, true}),
                         [](const auto& info) { return info.param.name; });

TEST(Agent, UnknownInterfaceIsOneLineErrorAndNothingOnStdout) {
  AgentProcess agent({"--bpf", "nosuch0"});
  EXPECT_FALSE(agent.read_line(10s).has_value());
  EXPECT_EQ(agent.wait(10s), 1);
  std::string err = agent.stderr_text();
  EXPECT_NE(err.find("'nosuch0'"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;  // selection + error
}

// Drops every privilege: uid/gid nobody, no capabilities at all.
const std::vector<std::string> kUnprivileged = {"setpriv",         "--reuid=65534",
                                                "--regid=65534",   "--clear-groups",
                                                "--inh-caps=-all", "--bounding-set=-all"};

TEST(Agent, NetdevNeedsNoPrivileges) {
  AgentProcess agent({"--netdev", "--count", "1", "lo"}, "", kUnprivileged);
  auto s = agent.read_snapshot(10s);
  ASSERT_TRUE(s) << agent.stderr_text();
  EXPECT_TRUE((*s)["interfaces"].contains("lo"));
  EXPECT_EQ(agent.wait(5s), 0);
}

TEST(Agent, BpfWithoutPrivilegesSaysWhichCapabilityIsMissing) {
  AgentProcess agent({"--bpf", "--count", "1", "lo"}, "", kUnprivileged);
  EXPECT_FALSE(agent.read_line(10s).has_value());
  EXPECT_EQ(agent.wait(5s), 1);
  std::string err = agent.stderr_text();
  EXPECT_NE(err.find("need CAP_BPF and CAP_NET_ADMIN"), std::string::npos) << err;
}

TEST(Agent, UsageErrorExitsTwo) {
  AgentProcess agent({"--interval", "soon"});
  EXPECT_FALSE(agent.read_line(5s).has_value());
  EXPECT_EQ(agent.wait(5s), 2);
  EXPECT_NE(agent.stderr_text().find("invalid --interval 'soon'"), std::string::npos);
}

TEST(Agent, CountStopsAfterNSnapshotsWithConsecutiveSeq) {
  VethPair veth;
  AgentProcess agent({"--bpf", "--interval", "100ms", "--count", "4", veth.a().ifname},
                     veth.a().netns);
  // Ticks keep a fixed schedule from the baseline, so one tick delayed by a
  // busy machine makes the next interval shorter: only their sum is bounded.
  int measured_ms = 0;
  for (int seq = 0; seq < 4; ++seq) {
    auto s = agent.read_snapshot(5s);
    ASSERT_TRUE(s) << agent.stderr_text();
    EXPECT_EQ((*s)["seq"], seq);
    if (seq > 0) EXPECT_GT((*s)["interval_ms"].get<int>(), 0);
    measured_ms += (*s)["interval_ms"].get<int>();
  }
  EXPECT_GE(measured_ms, 3 * 100 - 10);
  EXPECT_FALSE(agent.read_line(2s).has_value());
  EXPECT_EQ(agent.wait(5s), 0);
  EXPECT_EQ(tc_filters(veth.a().netns, veth.a().ifname), "[][]");
}

// The websocat at the other end exits: the agent notices, detaches, exits 0.
TEST(Agent, ClosedStdoutDetachesAndExitsZero) {
  VethPair veth;
  const auto& a = veth.a();
  AgentProcess agent({"--bpf", "--attach", "tc", "--interval", "5s", a.ifname}, a.netns);
  ASSERT_TRUE(agent.read_snapshot(10s)) << agent.stderr_text();
  EXPECT_NE(tc_filters(a.netns, a.ifname), "[][]");
  agent.close_stdout();
  // Well within one 5 s interval: the agent polls its stdout for the hang-up.
  EXPECT_EQ(agent.wait(3s), 0) << agent.stderr_text();
  EXPECT_EQ(tc_filters(a.netns, a.ifname), "[][]");
  EXPECT_EQ(run("tc -n " + a.netns + " qdisc show dev " + a.ifname).find("clsact"),
            std::string::npos);
}

TEST(Agent, InterfaceDeletedMidRunLeavesSnapshotsOthersGoOn) {
  VethPair veth;
  const auto& a = veth.a();
  AgentProcess agent({"--bpf", "--interval", "200ms", "lo", a.ifname}, a.netns);
  auto first = agent.read_snapshot(10s);
  ASSERT_TRUE(first) << agent.stderr_text();
  EXPECT_TRUE((*first)["interfaces"].contains(a.ifname));
  veth.delete_link();
  auto later = snapshot_after(agent, wall_ms() + 1);
  EXPECT_FALSE(later["interfaces"].contains(a.ifname)) << later.dump();
  EXPECT_TRUE(later["interfaces"].contains("lo")) << later.dump();
  agent.signal(SIGINT);
  EXPECT_EQ(agent.wait(10s), 0);
  EXPECT_NE(agent.stderr_text().find("disappeared"), std::string::npos) << agent.stderr_text();
}

TEST(Agent, SigkillLeavesLegacyFiltersThatTheNextStartRemoves) {
  VethPair veth;
  const auto& a = veth.a();
  {
    AgentProcess killed({"--bpf", "--attach", "tc", a.ifname}, a.netns);
    ASSERT_TRUE(killed.read_snapshot(10s)) << killed.stderr_text();
    killed.signal(SIGKILL);
    killed.wait(5s);
  }
  ASSERT_NE(tc_filters(a.netns, a.ifname), "[][]") << "SIGKILL should leave the filter";
  // Another tool's BPF filter at another priority must survive the cleanup.
  run("tc -n " + a.netns + " filter add dev " + a.ifname + " ingress pref 7 bpf da obj " +
      NETMON_EMPTY_BPF_OBJECT + " sec tc");

  AgentProcess next({"--bpf", "--attach", "tc", "--count", "1", a.ifname}, a.netns);
  ASSERT_TRUE(next.read_snapshot(10s)) << next.stderr_text();
  EXPECT_EQ(next.wait(10s), 0) << next.stderr_text();
  std::string left = tc_filters(a.netns, a.ifname);
  EXPECT_NE(left.find("empty_tc"), std::string::npos) << left;
  EXPECT_EQ(left.find("\"name\":\"netmon_"), std::string::npos) << left;
}

// What config/netmon-agent.service grants: no root, no CAP_SYS_ADMIN, and
// (ProtectProc=invisible) no view of other processes' /proc/PID/fd.
const std::vector<std::string> kUnitCapabilities = {"setpriv",
                                                    "--reuid=65534",
                                                    "--regid=65534",
                                                    "--clear-groups",
                                                    "--inh-caps=-all,+bpf,+net_admin,+perfmon",
                                                    "--ambient-caps=+bpf,+net_admin,+perfmon"};

// Issue 13, 2.1: the restart used to fail with "holds another tool's
// filter", the killed agent's program name being unreadable without
// CAP_SYS_ADMIN.
TEST(Agent, SigkilledTcAgentIsReplacedUnderTheUnitsCapabilities) {
  VethPair veth;
  const auto& a = veth.a();
  {
    AgentProcess killed({"--bpf", "--attach", "tc", a.ifname}, a.netns, kUnitCapabilities);
    ASSERT_TRUE(killed.read_snapshot(10s)) << killed.stderr_text();
    killed.signal(SIGKILL);
    killed.wait(5s);
  }
  ASSERT_NE(tc_filters(a.netns, a.ifname).find("\"name\":\"netmon_"), std::string::npos);
  AgentProcess next({"--bpf", "--attach", "tc", "--count", "2", "--interval", "100ms", a.ifname},
                    a.netns, kUnitCapabilities);
  ASSERT_TRUE(next.read_snapshot(10s)) << next.stderr_text();
  EXPECT_EQ(next.wait(10s), 0) << next.stderr_text();
  EXPECT_NE(next.stderr_text().find("replaced a stale netmon filter"), std::string::npos)
      << next.stderr_text();
  EXPECT_EQ(tc_filters(a.netns, a.ifname), "[][]");
}

// A live agent's filter is never taken over, and the refusal names it.
TEST(Agent, LiveTcAgentIsNamedNotReplaced) {
  VethPair veth;
  const auto& a = veth.a();
  AgentProcess first({"--bpf", "--attach", "tc", a.ifname}, a.netns, kUnitCapabilities);
  ASSERT_TRUE(first.read_snapshot(10s)) << first.stderr_text();
  AgentProcess second({"--bpf", "--attach", "tc", a.ifname}, a.netns, kUnitCapabilities);
  EXPECT_FALSE(second.read_line(5s).has_value());
  EXPECT_EQ(second.wait(10s), 1);
  EXPECT_NE(second.stderr_text().find("another netmon agent (pid " + std::to_string(first.pid()) +
                                      ") is attached"),
            std::string::npos)
      << second.stderr_text();
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(10s), 0) << first.stderr_text();
  EXPECT_EQ(tc_filters(a.netns, a.ifname), "[][]");
}

}  // namespace
