// Interface selection end to end: where the selection comes from (argv,
// config file, UCI), globs and exclusions, and interfaces that come, go and
// get renamed while the agent runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "agent_process.h"
#include "netns.h"

using namespace std::chrono_literals;
using netmon::testing::AgentProcess;
using netmon::testing::run;
using netmon::testing::VethPair;

namespace {

constexpr auto kInterval = 200ms;
const std::string kIntervalArg = "200ms";

// Reads snapshots until `predicate` holds for one; fails after `limit`.
template <typename Predicate>
nlohmann::json wait_for(AgentProcess& agent, Predicate predicate,
                        std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = agent.read_snapshot(2s);
    if (!s) break;
    if (predicate(*s)) return *s;
  }
  ADD_FAILURE() << "condition not met; stderr:\n" << agent.stderr_text();
  return nlohmann::json::object();
}

bool has(const nlohmann::json& s, const std::string& ifname) {
  return s.contains("interfaces") && s["interfaces"].contains(ifname);
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/netmon-test-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    path_ = name;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

uint64_t counter(const nlohmann::json& s, const std::string& ifname, const char* name) {
  return s["interfaces"][ifname][name].get<uint64_t>();
}

TEST(Hotplug, GlobPicksUpNewInterfaceWithinOneIntervalAndCountsExactly) {
  VethPair veth;
  const auto& a = veth.a();
  veth.delete_link();
  AgentProcess agent({"--bpf", "--interval", kIntervalArg, "nmt*"}, a.netns);
  auto first = agent.read_snapshot(10s);
  ASSERT_TRUE(first) << agent.stderr_text();
  EXPECT_FALSE(has(*first, a.ifname));

  veth.create_link();
  auto created = std::chrono::steady_clock::now();
  auto seen = wait_for(agent, [&](const auto& s) { return has(s, a.ifname); });
  // Attached within one interval of its creation (plus one snapshot's slack,
  // since the agent only reports at its ticks).
  EXPECT_LE(std::chrono::steady_clock::now() - created, 2 * kInterval + 300ms);
  ASSERT_TRUE(has(seen, a.ifname));
  uint64_t tx_before = counter(seen, a.ifname, "tx_packets");

  veth.send_udp(a, 11, 64);
  auto after = wait_for(agent, [&](const auto& s) {
    return has(s, a.ifname) && counter(s, a.ifname, "tx_packets") >= tx_before + 11;
  });
  EXPECT_EQ(counter(after, a.ifname, "tx_packets"), tx_before + 11);
  EXPECT_EQ(counter(after, a.ifname, "tx_bytes") - counter(seen, a.ifname, "tx_bytes"),
            11 * VethPair::frame_bytes(64));
  EXPECT_NE(agent.stderr_text().find("appeared"), std::string::npos);

  veth.delete_link();
  wait_for(agent, [&](const auto& s) { return !has(s, a.ifname); });
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(10s), 0);
}

TEST(Hotplug, RenamedInterfaceKeepsItsCountsUnderTheNewName) {
  VethPair veth;
  const auto& a = veth.a();
  AgentProcess agent({"--bpf", "--interval", kIntervalArg, "nmt*"}, a.netns);
  ASSERT_TRUE(agent.read_snapshot(10s)) << agent.stderr_text();
  veth.send_udp(a, 5, 100);
  auto before = wait_for(agent, [&](const auto& s) {
    return has(s, a.ifname) && counter(s, a.ifname, "tx_packets") == 5;
  });

  const std::string renamed = "nmtrenamed0";
  run("ip -n " + a.netns + " link set dev " + a.ifname + " down");
  run("ip -n " + a.netns + " link set dev " + a.ifname + " name " + renamed);
  auto after = wait_for(agent, [&](const auto& s) { return has(s, renamed); });
  EXPECT_FALSE(has(after, a.ifname));
  EXPECT_EQ(after["interfaces"][renamed]["ifindex"], a.ifindex);
  EXPECT_EQ(counter(after, renamed, "tx_packets"), counter(before, a.ifname, "tx_packets"));
  EXPECT_EQ(counter(after, renamed, "tx_bytes"), counter(before, a.ifname, "tx_bytes"));

  // Renamed out of the selection: it leaves the snapshots and is detached.
  run("ip -n " + a.netns + " link set dev " + renamed + " name other0");
  wait_for(agent, [&](const auto& s) { return !has(s, renamed) && !has(s, "other0"); });
  EXPECT_EQ(run("tc -n " + a.netns + " qdisc show dev other0").find("clsact"), std::string::npos);
  agent.signal(SIGINT);
  EXPECT_EQ(agent.wait(10s), 0);
}

TEST(Selection, GlobsAndExclusionsFromTheCommandLine) {
  VethPair veth;
  const auto& a = veth.a();
  AgentProcess agent({"--netdev", "--count", "1", "*", "!lo"}, a.netns);
  auto s = agent.read_snapshot(10s);
  ASSERT_TRUE(s) << agent.stderr_text();
  EXPECT_TRUE(has(*s, a.ifname));
  EXPECT_FALSE(has(*s, "lo"));
  EXPECT_EQ(agent.wait(5s), 0);
}

TEST(Selection, ConfigFileNamesAnInterfaceThatAppearsLater) {
  VethPair veth;
  const auto& a = veth.a();
  veth.delete_link();
  TempFile config("# the modem comes up after boot\n" + a.ifname + "\n");
  AgentProcess agent({"--bpf", "--interval", kIntervalArg, "--config", config.path()}, a.netns);
  auto first = agent.read_snapshot(10s);
  ASSERT_TRUE(first) << agent.stderr_text();
  EXPECT_FALSE(has(*first, a.ifname));
  veth.create_link();
  wait_for(agent, [&](const auto& s) { return has(s, a.ifname); });
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait(10s), 0);
  std::string err = agent.stderr_text();
  EXPECT_NE(err.find("interfaces from " + config.path() + ": " + a.ifname), std::string::npos)
      << err;
  EXPECT_NE(err.find("does not exist yet"), std::string::npos) << err;
}

TEST(Selection, CommandLineBeatsConfigFileWhichBeatsUci) {
  VethPair veth;
  const auto& a = veth.a();
  TempFile config(a.ifname + "\n");
  // The seed's `uci set netmon.interface='lo'`, as UCI stores it.
  TempFile uci("config lo 'interface'\n");

  AgentProcess from_argv(
      {"--count", "1", "--config", config.path(), "--uci-config", uci.path(), "lo"}, a.netns);
  auto s = from_argv.read_snapshot(10s);
  ASSERT_TRUE(s) << from_argv.stderr_text();
  EXPECT_TRUE(has(*s, "lo"));
  EXPECT_FALSE(has(*s, a.ifname));

  AgentProcess from_config({"--count", "1", "--config", config.path(), "--uci-config", uci.path()},
                           a.netns);
  s = from_config.read_snapshot(10s);
  ASSERT_TRUE(s) << from_config.stderr_text();
  EXPECT_TRUE(has(*s, a.ifname));
  EXPECT_FALSE(has(*s, "lo"));
}

TEST(Selection, UciSeedFormAndIdiomaticSectionWithIntervalAndSource) {
  VethPair veth;
  const auto& a = veth.a();
  TempFile seed("config " + a.ifname + " 'interface'\n");
  TempFile empty_config("# nothing here\n");
  AgentProcess seed_agent({"--count", "1", "--uci-config", seed.path()}, a.netns);
  auto s = seed_agent.read_snapshot(10s);
  ASSERT_TRUE(s) << seed_agent.stderr_text();
  EXPECT_EQ(s->at("interfaces").size(), 1u);
  EXPECT_TRUE(has(*s, a.ifname));

  TempFile idiomatic(
      "config netmon 'main'\n\toption interface 'lo'\n\toption interval '300ms'\n"
      "\toption source 'bpf'\n");
  AgentProcess agent({"--count", "2", "--uci-config", idiomatic.path()}, a.netns);
  auto first = agent.read_snapshot(10s);
  auto second = agent.read_snapshot(10s);
  ASSERT_TRUE(first && second) << agent.stderr_text();
  EXPECT_EQ((*second)["source"], "bpf");
  EXPECT_TRUE(has(*second, "lo"));
  EXPECT_NEAR((*second)["interval_ms"].get<double>(), 300, 100);
}

TEST(Selection, MalformedConfigIsOneLineErrorNamingFileAndLine) {
  TempFile config("eth0\nthis/is:bad\n");
  AgentProcess agent({"--config", config.path()});
  EXPECT_FALSE(agent.read_line(5s).has_value());
  EXPECT_EQ(agent.wait(5s), 1);
  std::string err = agent.stderr_text();
  EXPECT_NE(err.find(config.path() + ":2:"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
