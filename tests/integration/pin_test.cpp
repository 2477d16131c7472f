// --pin end to end: a pinned set counts while no agent runs, across SIGKILL,
// restart and an upgrade to a different object, and the totals equal the
// kernel's own counters of the veth over the whole run. Each test pins into
// its own bpffs instance, mounted on a temporary directory (not under
// /sys/fs/bpf: `ip netns exec` mounts a fresh sysfs, which hides the host's
// /sys/fs/bpf), so a real set on the host is never touched.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <string>

#include "agent_process.h"
#include "netmon/abi.h"
#include "netns.h"
#include "sources/bpf/tc_attach.h"
#include "sys/fd.h"

using namespace std::chrono_literals;
using netmon::Counters;
using netmon::testing::AgentProcess;
using netmon::testing::Bpffs;
using netmon::testing::NetnsScope;
using netmon::testing::run;
using netmon::testing::VethEnd;
using netmon::testing::VethPair;

namespace {

Counters counters_of(const nlohmann::json& snapshot, const std::string& ifname) {
  const auto& i = snapshot.at("interfaces").at(ifname);
  return {i.at("rx_bytes").get<uint64_t>(), i.at("rx_packets").get<uint64_t>(),
          i.at("tx_bytes").get<uint64_t>(), i.at("tx_packets").get<uint64_t>()};
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first snapshot taken after now.
nlohmann::json next_snapshot(AgentProcess& agent) {
  const int64_t now = wall_ms();
  for (int i = 0; i < 50; ++i) {
    auto s = agent.read_snapshot(3s);
    if (!s) break;
    if ((*s)["ts_ms"].get<int64_t>() > now) return *s;
  }
  ADD_FAILURE() << "no snapshot; stderr:\n" << agent.stderr_text();
  return {};
}

std::string tc_filters(const VethEnd& end) {
  std::string out = run("tc -n " + end.netns + " -j filter show dev " + end.ifname + " ingress") +
                    run("tc -n " + end.netns + " -j filter show dev " + end.ifname + " egress");
  out.erase(std::remove_if(out.begin(), out.end(), ::isspace), out.end());
  return out;
}

int tcx_programs(const VethEnd& end) {
  NetnsScope in(end.netns);
  int ingress = netmon::tcx_program_count(end.ifindex, true);
  int egress = netmon::tcx_program_count(end.ifindex, false);
  return std::max(ingress, 0) + std::max(egress, 0);
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::vector<std::string> pin_args(const std::string& mode, const Bpffs& fs, const VethEnd& end) {
  return {"--bpf", "--attach", mode, "--pin-path", fs.set(), "--interval", "200ms", end.ifname};
}

// The upgraded agent: the same binary loading the variant object.
const std::vector<std::string> kUpgraded = {
    "env", std::string("NETMON_TEST_BPF_OBJECT=") + NETMON_VARIANT_BPF_OBJECT};

struct Case {
  std::string name;
  std::string mode;
  bool upgrade;
  // Native XDP on veth makes the driver count rx bytes without the 14-byte
  // Ethernet header; XDP sees (and netmon counts) the L2 frame.
  bool kernel_rx_excludes_l2 = false;
  // Both agents run as config/netmon-agent.service would: uid nobody with
  // only CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON.
  bool unit_capabilities = false;
};

const std::vector<std::string> kUnitCapabilities = {"setpriv",
                                                    "--reuid=65534",
                                                    "--regid=65534",
                                                    "--clear-groups",
                                                    "--inh-caps=-all,+bpf,+net_admin,+perfmon",
                                                    "--ambient-caps=+bpf,+net_admin,+perfmon"};

class PinRestart : public ::testing::TestWithParam<Case> {};

// Traffic before, during and after a SIGKILL, and after the restart (the
// same object, or an upgrade): the restarted agent's totals equal the
// kernel's counter deltas since before the first start, exactly.
TEST_P(PinRestart, KilledAgentLosesNothingAndRestartCountsExactly) {
  Bpffs fs(GetParam().unit_capabilities ? "mode=1777" : "mode=0700");
  std::vector<std::string> wrapper;
  if (GetParam().unit_capabilities) wrapper = kUnitCapabilities;
  if (GetParam().upgrade) wrapper.insert(wrapper.end(), kUpgraded.begin(), kUpgraded.end());
  VethPair veth;
  const VethEnd& a = veth.a();
  const Counters kernel_before = VethPair::kernel_counters(a);
  {
    AgentProcess first(
        pin_args(GetParam().mode, fs, a), a.netns,
        GetParam().unit_capabilities ? kUnitCapabilities : std::vector<std::string>{});
    ASSERT_TRUE(first.read_snapshot(10s)) << first.stderr_text();
    veth.send_udp(a, 17, 100);
    veth.send_udp(veth.b(), 9, 700);
    ASSERT_FALSE(next_snapshot(first).empty());
    first.signal(SIGKILL);
    first.wait(5s);
  }
  // Nobody runs: the kernel still counts into the pinned maps.
  veth.send_udp(a, 31, 200);
  veth.send_udp(veth.b(), 23, 1000);

  AgentProcess second(pin_args(GetParam().mode, fs, a), a.netns, wrapper);
  auto baseline = second.read_snapshot(10s);
  ASSERT_TRUE(baseline) << second.stderr_text();
  EXPECT_EQ((*baseline)["seq"], 0);
  veth.send_udp(a, 5, 300);
  veth.send_udp(veth.b(), 3, 50);
  Counters kernel_delta = VethPair::kernel_counters(a) - kernel_before;
  if (GetParam().kernel_rx_excludes_l2) kernel_delta.rx_bytes += 14 * kernel_delta.rx_packets;
  const Counters agent_total = counters_of(next_snapshot(second), a.ifname);

  EXPECT_EQ(agent_total.tx_packets, 17u + 31 + 5);
  EXPECT_EQ(agent_total.rx_packets, 9u + 23 + 3);
  EXPECT_EQ(agent_total, kernel_delta);
  EXPECT_NE(second.stderr_text().find("adopted the pinned counters"), std::string::npos)
      << second.stderr_text();
  if (GetParam().upgrade)
    EXPECT_NE(second.stderr_text().find("upgrading the pinned set"), std::string::npos)
        << second.stderr_text();

  // A stop with --pin leaves the set counting; --unpin removes all of it.
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait(10s), 0) << second.stderr_text();
  if (GetParam().mode == "tc")
    EXPECT_NE(tc_filters(a).find("\"name\":\"netmon_"), std::string::npos) << tc_filters(a);
  else
    EXPECT_EQ(tcx_programs(a), GetParam().mode == "xdp" ? 1 : 2);
  AgentProcess unpin({"--unpin", "--pin-path", fs.set()}, a.netns);
  EXPECT_EQ(unpin.wait(10s), 0) << unpin.stderr_text();
  EXPECT_EQ(tc_filters(a), "[][]");
  EXPECT_EQ(tcx_programs(a), 0);
  EXPECT_EQ(run("ip -n " + a.netns + " -d link show dev " + a.ifname).find("prog/xdp"),
            std::string::npos);
  EXPECT_FALSE(exists(fs.set())) << "--unpin left " << fs.set();
  EXPECT_EQ(run("tc -n " + a.netns + " qdisc show dev " + a.ifname).find("clsact"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Modes, PinRestart,
                         ::testing::Values(Case{"tcx", "tcx", false}, Case{"tc", "tc", false},
                                           Case{"tcx_upgrade", "tcx", true},
                                           Case{"tc_upgrade", "tc", true},
                                           Case{"xdp_upgrade", "xdp", true, true},
                                           Case{"tc_unit_capabilities", "tc", true, false, true},
                                           Case{"tcx_unit_capabilities", "tcx", true, false, true}),
                         [](const auto& info) { return info.param.name; });

// An interface the set held but the restarted agent no longer selects is
// detached: nothing would ever read its counters again.
TEST(Pin, RestartWithoutAnInterfaceDetachesIt) {
  Bpffs fs;
  VethPair veth;
  const VethEnd& a = veth.a();
  const VethEnd lo{a.netns, "lo", 1, ""};
  {
    std::vector<std::string> args = pin_args("tcx", fs, a);
    args.push_back("lo");
    AgentProcess first(args, a.netns);
    ASSERT_TRUE(first.read_snapshot(10s)) << first.stderr_text();
    first.signal(SIGKILL);
    first.wait(5s);
  }
  ASSERT_EQ(tcx_programs(lo), 2);
  AgentProcess second(pin_args("tcx", fs, a), a.netns);
  ASSERT_TRUE(second.read_snapshot(10s)) << second.stderr_text();
  EXPECT_EQ(tcx_programs(lo), 0);
  EXPECT_EQ(tcx_programs(a), 2);
  EXPECT_NE(second.stderr_text().find("detached the pinned set from 'lo'"), std::string::npos)
      << second.stderr_text();
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait(10s), 0);
  AgentProcess unpin({"--unpin", "--pin-path", fs.set()}, a.netns);
  EXPECT_EQ(unpin.wait(10s), 0) << unpin.stderr_text();
  EXPECT_EQ(tcx_programs(a), 0);
}

TEST(Pin, SecondPinnedAgentNamesTheOwnerAndAnUnpinnedOneRunsBeside) {
  Bpffs fs;
  VethPair veth;
  const VethEnd& a = veth.a();
  AgentProcess owner(pin_args("tcx", fs, a), a.netns);
  ASSERT_TRUE(owner.read_snapshot(10s)) << owner.stderr_text();

  AgentProcess second(pin_args("tcx", fs, a), a.netns);
  EXPECT_FALSE(second.read_line(5s).has_value());
  EXPECT_EQ(second.wait(5s), 1);
  std::string err = second.stderr_text();
  EXPECT_NE(err.find("another netmon agent (pid " + std::to_string(owner.pid()) + ") owns"),
            std::string::npos)
      << err;

  AgentProcess beside({"--bpf", "--attach", "tcx", "--count", "1", a.ifname}, a.netns);
  EXPECT_TRUE(beside.read_snapshot(10s)) << beside.stderr_text();
  EXPECT_EQ(beside.wait(10s), 0) << beside.stderr_text();

  owner.signal(SIGTERM);
  EXPECT_EQ(owner.wait(10s), 0);
  AgentProcess unpin({"--unpin", "--pin-path", fs.set()}, a.netns);
  EXPECT_EQ(unpin.wait(10s), 0) << unpin.stderr_text();
  EXPECT_EQ(tcx_programs(a), 0);
}

// The meta map of a set, for a test to rewrite.
void set_layout(const std::string& set, uint32_t layout) {
  netmon::Fd meta(bpf_obj_get((set + "/meta").c_str()));
  ASSERT_TRUE(meta) << set;
  const uint32_t key = 0;
  netmon_pin_meta value{};
  ASSERT_EQ(bpf_map_lookup_elem(meta.get(), &key, &value), 0);
  value.layout = layout;
  ASSERT_EQ(bpf_map_update_elem(meta.get(), &key, &value, BPF_ANY), 0);
}

TEST(Pin, NewerLayoutIsOneLineErrorAndNothingIsTouched) {
  Bpffs fs;
  VethPair veth;
  const VethEnd& a = veth.a();
  {
    AgentProcess maker(pin_args("tc", fs, a), a.netns);
    ASSERT_TRUE(maker.read_snapshot(10s)) << maker.stderr_text();
    maker.signal(SIGTERM);
    ASSERT_EQ(maker.wait(10s), 0);
  }
  set_layout(fs.set(), NETMON_PIN_LAYOUT + 1);
  const std::string filters = tc_filters(a);
  ASSERT_NE(filters.find("netmon_"), std::string::npos) << filters;

  for (std::vector<std::string> args :
       {pin_args("tc", fs, a), std::vector<std::string>{"--unpin", "--pin-path", fs.set()}}) {
    AgentProcess newer(args, a.netns);
    EXPECT_EQ(newer.wait(10s), 1);
    std::string err = newer.stderr_text();
    EXPECT_NE(err.find("has layout " + std::to_string(NETMON_PIN_LAYOUT + 1) + ", newer"),
              std::string::npos)
        << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), args[0] == "--unpin" ? 1 : 2) << err;
    EXPECT_EQ(tc_filters(a), filters);
    EXPECT_TRUE(exists(fs.set() + "/counters"));
  }

  set_layout(fs.set(), NETMON_PIN_LAYOUT);
  AgentProcess unpin({"--unpin", "--pin-path", fs.set()}, a.netns);
  EXPECT_EQ(unpin.wait(10s), 0) << unpin.stderr_text();
  EXPECT_EQ(tc_filters(a), "[][]");
}

TEST(Pin, UnpinWithNothingPinnedExitsZero) {
  Bpffs fs;
  AgentProcess unpin({"--unpin", "--pin-path", fs.set()});
  EXPECT_EQ(unpin.wait(10s), 0) << unpin.stderr_text();
  EXPECT_FALSE(exists(fs.set()));
}

TEST(Pin, PinPathOffBpffsIsOneLineError) {
  AgentProcess agent({"--bpf", "--pin-path", "/tmp/netmon-not-bpffs/set", "lo"});
  EXPECT_FALSE(agent.read_line(5s).has_value());
  EXPECT_EQ(agent.wait(10s), 1);
  EXPECT_NE(agent.stderr_text().find("is not on a bpf filesystem"), std::string::npos)
      << agent.stderr_text();
}

}  // namespace
