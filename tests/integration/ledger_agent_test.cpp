// netmon-agent --ledger end to end: real traffic over a veth booked into a
// real SQLite file, read back with --report --json, and compared with what
// the kernel counted: exactly, across SIGTERM, kill -9 and restarts, and
// across 32-bit counter wraps (through --proc-file).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "agent_process.h"
#include "netns.h"

using namespace std::chrono_literals;
using netmon::Counters;
using netmon::testing::AgentProcess;
using netmon::testing::run;
using netmon::testing::run_status;
using netmon::testing::VethPair;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "netmon-ledger-it-XXXXXX").string();
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The ledger's books for `ifname` over every day in the file, from
// `netmon-agent --ledger DB --report days --json IFNAME` (a second process
// reading only).
Counters booked_days(const std::string& db, const std::string& ifname) {
  std::string out =
      run(std::string(NETMON_AGENT_PATH) + " --ledger " + db + " --report days --json " + ifname);
  auto report = nlohmann::json::parse(out);
  Counters sum;
  for (const auto& day : report.at("interfaces").at(ifname).at("days"))
    sum += Counters{day.at("rx_bytes").get<uint64_t>(), day.at("rx_packets").get<uint64_t>(),
                    day.at("tx_bytes").get<uint64_t>(), day.at("tx_packets").get<uint64_t>()};
  return sum;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first snapshot taken after now.
nlohmann::json next_snapshot(AgentProcess& agent) {
  const int64_t not_before = wall_ms() + 1;
  for (int i = 0; i < 50; ++i) {
    auto s = agent.read_snapshot(3s);
    if (!s) break;
    if (s->contains("event")) continue;
    if ((*s)["ts_ms"].get<int64_t>() > not_before) return *s;
  }
  ADD_FAILURE() << "no snapshot; stderr:\n" << agent.stderr_text();
  return {};
}

class LedgerCounts : public ::testing::TestWithParam<std::string> {};

// The day's totals in the report equal the kernel's /sys/class/net deltas
// from the agent's first reading (an interface new to the ledger is a
// baseline: nothing before it is booked) to its exit.
TEST_P(LedgerCounts, ReportEqualsKernelDeltasExactly) {
  VethPair veth;
  const auto& a = veth.a();
  TempDir dir;
  const std::string db = dir.file("netmon.db");
  AgentProcess agent({GetParam(), "--ledger", db, "--interval", "200ms", a.ifname}, a.netns);
  auto first = agent.read_snapshot(10s);
  ASSERT_TRUE(first) << agent.stderr_text();
  Counters kernel_before = VethPair::kernel_counters(a);

  veth.send_udp(a, 41, 100);
  veth.send_udp(veth.b(), 17, 1200);
  auto later = next_snapshot(agent);
  // The snapshot's usage shows today's booking so far.
  const auto& usage = later["interfaces"][a.ifname]["usage"];
  EXPECT_EQ(usage["day"]["tx_bytes"], 41 * VethPair::frame_bytes(100));
  EXPECT_FALSE(usage["day"].contains("tx_packets"));  // bytes only: packets are in the report
  EXPECT_EQ(usage["day"]["rx_bytes"], 17 * VethPair::frame_bytes(1200));
  EXPECT_EQ(usage["month"]["tx_bytes"], 41 * VethPair::frame_bytes(100));
  veth.send_udp(a, 5, 10);
  Counters kernel_delta = VethPair::kernel_counters(a) - kernel_before;
  next_snapshot(agent);

  agent.signal(SIGTERM);
  ASSERT_EQ(agent.wait(10s), 0) << agent.stderr_text();
  Counters booked = booked_days(db, a.ifname);
  EXPECT_EQ(booked, kernel_delta);
  EXPECT_EQ(booked.tx_packets, 46u);
  EXPECT_EQ(booked.rx_packets, 17u);
  EXPECT_EQ(booked.tx_bytes, 41 * VethPair::frame_bytes(100) + 5 * VethPair::frame_bytes(10));
}

INSTANTIATE_TEST_SUITE_P(Sources, LedgerCounts, ::testing::Values("--netdev", "--bpf"),
                         [](const auto& info) { return info.param.substr(2); });

// kill -9 between saves, traffic while the agent is down, a restart: the
// books hold every byte the kernel counted, once. The kernel's own counters
// (--netdev) and netmon's pinned BPF maps (--bpf --pin) go on counting while
// no agent runs, and the restarted agent credits it: same boot, same
// ifindex, a counter not lower.
class LedgerRestart : public ::testing::TestWithParam<std::string> {};

TEST_P(LedgerRestart, KillNineAndRestartLoseNothingAndCountNothingTwice) {
  VethPair veth;
  const auto& a = veth.a();
  TempDir dir;
  netmon::testing::Bpffs bpffs;
  const std::string db = dir.file("netmon.db");
  std::vector<std::string> args = {"--ledger",        db,   "--interval",     "200ms",
                                   "--save-interval", "1s", "--" + GetParam()};
  if (GetParam() == "bpf") args.insert(args.end(), {"--pin-path", bpffs.set()});
  args.push_back(a.ifname);
  Counters kernel_before;
  {
    AgentProcess agent(args, a.netns);
    ASSERT_TRUE(agent.read_snapshot(10s)) << agent.stderr_text();
    kernel_before = VethPair::kernel_counters(a);
    veth.send_udp(a, 30, 200);
    next_snapshot(agent);
    std::this_thread::sleep_for(1500ms);  // one save at least
    next_snapshot(agent);
    veth.send_udp(veth.b(), 20, 300);  // booked in memory, perhaps not saved
    next_snapshot(agent);
    agent.signal(SIGKILL);
    EXPECT_EQ(agent.wait(5s), 128 + SIGKILL);
  }
  veth.send_udp(a, 11, 50);  // while no agent runs
  {
    AgentProcess agent(args, a.netns);
    ASSERT_TRUE(agent.read_snapshot(10s)) << agent.stderr_text();
    veth.send_udp(veth.b(), 7, 700);
    next_snapshot(agent);
    agent.signal(SIGTERM);
    ASSERT_EQ(agent.wait(10s), 0) << agent.stderr_text();
  }
  Counters kernel_delta = VethPair::kernel_counters(a) - kernel_before;
  Counters booked = booked_days(db, a.ifname);
  EXPECT_EQ(booked, kernel_delta);
  EXPECT_EQ(booked.tx_packets, 41u);
  EXPECT_EQ(booked.rx_packets, 27u);
  if (GetParam() == "bpf")
    run(std::string(NETMON_AGENT_PATH) + " --unpin --pin-path " + bpffs.set());
}

INSTANTIATE_TEST_SUITE_P(Sources, LedgerRestart, ::testing::Values("netdev", "bpf"),
                         [](const auto& info) { return info.param; });

// Packet counters move forward by one per row written: a driver's byte
// counters wrap long before its packet counters do (when all four go
// backwards at once, the ledger rightly calls it a reset).
void write_proc(const std::string& path, const std::string& ifname, int ifindex, uint64_t rx,
                uint64_t tx) {
  static uint64_t packets = 1000;
  ++packets;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << "# netmon 1\n# iface ifindex rx_bytes rx_packets tx_bytes tx_packets\n"
        << ifname << ' ' << ifindex << ' ' << rx << ' ' << packets << ' ' << tx << ' ' << packets
        << '\n';
  }
  std::filesystem::rename(tmp, path);  // the agent reads whole files, old or new
}

// Waits for a snapshot showing `rx` for ifname.
bool wait_rx(AgentProcess& agent, const std::string& ifname, uint64_t rx) {
  for (int i = 0; i < 50; ++i) {
    auto s = agent.read_snapshot(3s);
    if (!s) return false;
    if (s->contains("interfaces") && (*s)["interfaces"].contains(ifname) &&
        (*s)["interfaces"][ifname]["rx_bytes"] == rx)
      return true;
  }
  return false;
}

// A driver's 32-bit counters (as /proc/netmon passes them on from a 32-bit
// kernel) wrap: the ledger books the wrapped distance, not a reset.
TEST(LedgerAgent, ProcFileThirtyTwoBitWrapsAreBookedAsWraps) {
  VethPair veth;
  const auto& a = veth.a();
  TempDir dir;
  const std::string db = dir.file("netmon.db");
  const std::string proc = dir.file("netmon");
  const uint64_t k32 = 1ull << 32;
  write_proc(proc, a.ifname, a.ifindex, k32 - 1000, k32 - 50);
  AgentProcess agent(
      {"--proc", "--proc-file", proc, "--ledger", db, "--interval", "100ms", "-v", a.ifname},
      a.netns);
  ASSERT_TRUE(wait_rx(agent, a.ifname, k32 - 1000)) << agent.stderr_text();
  write_proc(proc, a.ifname, a.ifindex, k32 - 400, k32 - 10);  // +600, +40
  ASSERT_TRUE(wait_rx(agent, a.ifname, k32 - 400)) << agent.stderr_text();
  write_proc(proc, a.ifname, a.ifindex, 100, 30);  // wraps: +500, +40
  ASSERT_TRUE(wait_rx(agent, a.ifname, 100)) << agent.stderr_text();
  write_proc(proc, a.ifname, a.ifindex, 2100, 1030);  // +2000, +1000
  ASSERT_TRUE(wait_rx(agent, a.ifname, 2100)) << agent.stderr_text();
  agent.signal(SIGTERM);
  ASSERT_EQ(agent.wait(10s), 0) << agent.stderr_text();

  Counters booked = booked_days(db, a.ifname);
  EXPECT_EQ(booked.rx_bytes, 600u + 500u + 2000u);  // a reset would book 100, not 500
  EXPECT_EQ(booked.tx_bytes, 40u + 40u + 1000u);
  EXPECT_EQ(booked.rx_packets, 3u);
  EXPECT_NE(agent.stderr_text().find("wrap"), std::string::npos) << agent.stderr_text();
}

TEST(LedgerAgent, UciQuotaSectionsApplyAndAMalformedOneIsExitStatusTwo) {
  TempDir dir;
  const std::string agent = NETMON_AGENT_PATH;
  const std::string uci = dir.file("netmon");
  const std::string db = dir.file("uci.db");
  {
    std::ofstream out(uci);
    out << "config netmon 'main'\n\toption ledger '" << db << "'\n\toption month_start '14'\n\n"
        << "config quota\n\toption interface 'lo'\n\toption limit '5GiB'\n"
        << "\toption period 'day'\n\toption direction 'rx'\n";
  }
  // The agent's own UCI reading: the ledger file, the month start and the
  // quota show in the snapshot without any ledger option on the command line.
  std::string line = run(agent + " --uci-config " + uci + " --count 1 -s lo");
  auto snap = nlohmann::json::parse(line);
  const auto& usage = snap["interfaces"]["lo"]["usage"];
  EXPECT_EQ(snap["usage_periods"]["month"].get<std::string>().substr(7), "-14") << line;
  EXPECT_EQ(usage["quota"]["limit_bytes"], 5ull << 30) << line;
  EXPECT_EQ(usage["quota"]["direction"], "rx") << line;
  EXPECT_TRUE(std::filesystem::exists(db));

  {
    std::ofstream out(uci);
    out << "config netmon 'main'\n\toption ledger '" << db << "'\n\n"
        << "config quota\n\toption interface 'lo'\n\toption limit '5 apples'\n";
  }
  EXPECT_EQ(run_status(agent + " --uci-config " + uci + " --count 1 lo >/dev/null 2>&1"), 2);
  std::string err = run(agent + " --uci-config " + uci + " --count 1 lo 2>&1 >/dev/null; true");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find(uci + ":6: invalid quota for 'lo'"), std::string::npos) << err;
}

TEST(LedgerAgent, ReportErrorsAreOneLine) {
  TempDir dir;
  const std::string agent = NETMON_AGENT_PATH;
  std::string missing = dir.file("none.db");
  EXPECT_EQ(run_status(agent + " --ledger " + missing + " --report days 2>/dev/null"), 1);
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_EQ(run_status(agent + " --ledger " + missing + " --report weeks 2>/dev/null"), 2);
  std::string err = run(agent + " --ledger " + missing + " --report days 2>&1 >/dev/null; true");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

}  // namespace
