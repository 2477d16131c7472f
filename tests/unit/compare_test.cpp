#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "compare/quirks.h"
#include "compare/reconciler.h"
#include "output/compare_reporter.h"
#include "output/prometheus.h"
#include "sys/error.h"

using netmon::CompareConfig;
using netmon::CompareReporter;
using netmon::CounterMap;
using netmon::Counters;
using netmon::DeviceQuirks;
using netmon::Link;
using nlohmann::json;
using testing::ElementsAre;
using testing::HasSubstr;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

// A CompareReporter fed fake readings, its diagnostics captured.
struct Harness {
  explicit Harness(std::function<DeviceQuirks(const Link&)> quirks = {}) {
    CompareConfig config;
    config.quirks = std::move(quirks);
    config.warn = [this](const std::string& m) { warnings.push_back(m); };
    config.info = [this](const std::string& m) { infos.push_back(m); };
    reporter = std::make_unique<CompareReporter>(std::move(config));
  }

  // One tick: links with their bpf and proc totals.
  json tick(const std::vector<Link>& links, const CounterMap& bpf, const CounterMap& proc) {
    std::string line =
        reporter->compare(links, {bpf, proc}, ns, 1'700'000'000'000 + ns / 1'000'000);
    ns += kSecond;
    EXPECT_EQ(line.back(), '\n');
    lines.push_back(line);
    return json::parse(line);
  }

  std::unique_ptr<CompareReporter> reporter;
  std::vector<std::string> warnings, infos, lines;
  int64_t ns = 10 * kSecond;
};

const Link kVa{5, "va"};

}  // namespace

TEST(Compare, JsonShapeAndKeyOrder) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {1000, 10, 2000, 20}}});
  json j = h.tick({kVa}, {{5, {100, 1, 60, 1}}}, {{5, {1100, 11, 2060, 21}}});
  EXPECT_EQ(h.lines[1], R"({"source":"compare","seq":1,"ts_ms":1700000011000,"interval_ms":1000,)"
                        R"("interfaces":{"va":{"ifindex":5,)"
                        R"("bpf":{"rx_bytes":100,"rx_packets":1,"tx_bytes":60,"tx_packets":1},)"
                        R"("proc":{"rx_bytes":100,"rx_packets":1,"tx_bytes":60,"tx_packets":1},)"
                        R"("delta":{"rx_bytes":0,"rx_packets":0,"tx_bytes":0,"tx_packets":0},)"
                        R"("match":true}}})"
                        "\n");
  EXPECT_EQ(json::parse(h.lines[0])["interval_ms"], 0);
}

TEST(Compare, IncrementsSinceFirstSeenAndZeroDeltasMatch) {
  Harness h;
  // BPF starts at what it saw since attaching, proc at the kernel's totals.
  json j = h.tick({kVa}, {{5, {42, 1, 0, 0}}}, {{5, {1'000'000, 900, 5, 1}}});
  EXPECT_EQ(j["interfaces"]["va"]["bpf"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["va"]["proc"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  // Traffic, then rest: both saw 10 packets of 100 bytes.
  h.tick({kVa}, {{5, {1042, 11, 0, 0}}}, {{5, {1'001'000, 910, 5, 1}}});
  j = h.tick({kVa}, {{5, {1042, 11, 0, 0}}}, {{5, {1'001'000, 910, 5, 1}}});
  EXPECT_EQ(j["interfaces"]["va"]["bpf"]["rx_bytes"], 1000);
  EXPECT_EQ(j["interfaces"]["va"]["delta"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  EXPECT_TRUE(h.warnings.empty());
}

TEST(Compare, InFlightAllowanceOnlyWhileMoving) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});  // at rest: baseline settled
  // Moving: tc has seen 2 packets the driver has not counted yet.
  json j = h.tick({kVa}, {{5, {3000, 30, 0, 0}}}, {{5, {2800, 28, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["delta"]["rx_packets"], 2);
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  // More off than this interval's whole traffic is not "in flight".
  j = h.tick({kVa}, {{5, {3100, 31, 0, 0}}}, {{5, {2800, 28, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["match"], false);
  // Caught up and quiet: exact.
  h.tick({kVa}, {{5, {3100, 31, 0, 0}}}, {{5, {3100, 31, 0, 0}}});
  j = h.tick({kVa}, {{5, {3100, 31, 0, 0}}}, {{5, {3100, 31, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  EXPECT_TRUE(h.warnings.empty());
}

TEST(Compare, MismatchPersistingWithNoTrafficIsLoggedOnce) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {0, 0, 500, 5}}}, {{5, {0, 0, 400, 4}}});           // moving
  json j = h.tick({kVa}, {{5, {0, 0, 500, 5}}}, {{5, {0, 0, 400, 4}}});  // quiet #1
  EXPECT_EQ(j["interfaces"]["va"]["match"], false);
  EXPECT_TRUE(h.warnings.empty());
  h.tick({kVa}, {{5, {0, 0, 500, 5}}}, {{5, {0, 0, 400, 4}}});  // quiet #2
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_THAT(h.warnings[0], HasSubstr("'va' (ifindex 5): bpf and proc disagree with no traffic"));
  EXPECT_THAT(h.warnings[0], HasSubstr("bpf rx 0 B/0 pkt, tx 500 B/5 pkt"));
  EXPECT_THAT(h.warnings[0], HasSubstr("proc rx 0 B/0 pkt, tx 400 B/4 pkt"));
  EXPECT_THAT(h.warnings[0], HasSubstr("tx_bytes=+100 tx_packets=+1"));
  h.tick({kVa}, {{5, {0, 0, 500, 5}}}, {{5, {0, 0, 400, 4}}});  // same: not repeated
  EXPECT_EQ(h.warnings.size(), 1u);
}

TEST(Compare, LoopbackBytesAllowForTheHeaderTcSees) {
  const Link lo{1, "lo"};
  Harness h([](const Link& link) {
    DeviceQuirks q;
    q.loopback_l2_header = link.name == "lo";
    return q;
  });
  h.tick({lo}, {{1, {0, 0, 0, 0}}}, {{1, {0, 0, 0, 0}}});
  h.tick({lo}, {{1, {0, 0, 0, 0}}}, {{1, {0, 0, 0, 0}}});
  // 3 pings of 98 bytes on the wire: tc sees 98, lo counts 84 each way.
  h.tick({lo}, {{1, {294, 3, 294, 3}}}, {{1, {252, 3, 252, 3}}});
  json j = h.tick({lo}, {{1, {294, 3, 294, 3}}}, {{1, {252, 3, 252, 3}}});
  const json& e = j["interfaces"]["lo"];
  EXPECT_EQ(e["bpf"]["rx_bytes"], 294);
  EXPECT_EQ(e["proc"]["rx_bytes"], 252);
  EXPECT_EQ(e["delta"],
            json::parse(R"({"rx_bytes":0,"rx_packets":0,"tx_bytes":0,"tx_packets":0})"));
  EXPECT_EQ(e["match"], true);
  EXPECT_EQ(e["quirks"], json::array({"loopback_l2_header"}));
  h.tick({lo}, {{1, {294, 3, 294, 3}}}, {{1, {252, 3, 252, 3}}});
  EXPECT_TRUE(h.warnings.empty());
}

TEST(Compare, WithoutTheQuirkTheHeaderDifferenceIsReportedAndExplained) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  for (int i = 0; i < 3; ++i) h.tick({kVa}, {{5, {294, 3, 0, 0}}}, {{5, {252, 3, 0, 0}}});
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_THAT(h.warnings[0], HasSubstr("rx_bytes=+42"));
  EXPECT_THAT(h.warnings[0], HasSubstr("bytes differ by 14 per packet"));
}

TEST(Compare, VethNapiBytesMayLackTheHeaderPerPacket) {
  Harness h([](const Link&) {
    DeviceQuirks q;
    q.veth_napi_rx = true;
    return q;
  });
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  // 4 packets, 2 of them took the NAPI path (header not counted).
  h.tick({kVa}, {{5, {400, 4, 400, 4}}}, {{5, {372, 4, 400, 4}}});
  json j = h.tick({kVa}, {{5, {400, 4, 400, 4}}}, {{5, {372, 4, 400, 4}}});
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  EXPECT_EQ(j["interfaces"]["va"]["delta"]["rx_bytes"], 28);
  EXPECT_EQ(j["interfaces"]["va"]["quirks"], json::array({"veth_napi_rx"}));
  // tx is not affected by our own NAPI mode: exact there.
  h.tick({kVa}, {{5, {400, 4, 414, 5}}}, {{5, {372, 4, 400, 5}}});
  j = h.tick({kVa}, {{5, {400, 4, 414, 5}}}, {{5, {372, 4, 400, 5}}});
  EXPECT_EQ(j["interfaces"]["va"]["match"], false);
}

TEST(Compare, GsoSegmentsAndOffloadBoundsAreOneSided) {
  Harness h([](const Link& link) {
    DeviceQuirks q;
    q.gso_segments = link.ifindex == 5;
    q.hw_offload = link.ifindex == 6;
    return q;
  });
  const Link nic{6, "eth0"};
  h.tick({kVa, nic}, {{5, {0, 0, 0, 0}}, {6, {0, 0, 0, 0}}},
         {{5, {0, 0, 0, 0}}, {6, {0, 0, 0, 0}}});
  h.tick({kVa, nic}, {{5, {0, 0, 0, 0}}, {6, {0, 0, 0, 0}}},
         {{5, {0, 0, 0, 0}}, {6, {0, 0, 0, 0}}});
  // One 64 KB GSO skb over veth: 45 segments for BPF, 1 packet for veth.
  // On the offloading NIC, 1000 packets never reached tc.
  CounterMap bpf{{5, {0, 0, 65000, 45}}, {6, {100, 1, 0, 0}}};
  CounterMap proc{{5, {0, 0, 65000, 1}}, {6, {150000, 1001, 0, 0}}};
  h.tick({kVa, nic}, bpf, proc);
  json j = h.tick({kVa, nic}, bpf, proc);
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  EXPECT_EQ(j["interfaces"]["eth0"]["match"], true);
  // The other way round is a real mismatch on both.
  CounterMap bpf2{{5, {0, 0, 65000, 45}}, {6, {200000, 2000, 0, 0}}};
  CounterMap proc2{{5, {0, 0, 65000, 46}}, {6, {150000, 1001, 0, 0}}};
  h.tick({kVa, nic}, bpf2, proc2);
  j = h.tick({kVa, nic}, bpf2, proc2);
  EXPECT_EQ(j["interfaces"]["va"]["match"], false);
  EXPECT_EQ(j["interfaces"]["eth0"]["match"], false);
}

TEST(Compare, LinkAppearingLaterGetsItsOwnBaseline) {
  Harness h;
  const Link vb{9, "vb"};
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  json j = h.tick({kVa, vb}, {{5, {0, 0, 0, 0}}, {9, {7, 1, 0, 0}}},
                  {{5, {0, 0, 0, 0}}, {9, {5'000'000, 4000, 77, 1}}});
  EXPECT_EQ(j["interfaces"]["vb"]["bpf"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["vb"]["proc"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["vb"]["match"], true);
  j = h.tick({kVa, vb}, {{5, {0, 0, 0, 0}}, {9, {107, 2, 0, 0}}},
             {{5, {0, 0, 0, 0}}, {9, {5'000'100, 4001, 77, 1}}});
  EXPECT_EQ(j["interfaces"]["vb"]["bpf"]["rx_bytes"], 100);
  EXPECT_EQ(j["interfaces"]["vb"]["delta"]["rx_bytes"], 0);
}

TEST(Compare, ReappearingIfindexIsANewInterface) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {100, 1, 0, 0}}});
  h.tick({kVa}, {{5, {50, 1, 0, 0}}}, {{5, {150, 2, 0, 0}}});
  h.tick({}, {}, {});  // deleted
  json j = h.tick({{5, "va2"}}, {{5, {0, 0, 0, 0}}}, {{5, {9, 9, 9, 9}}});
  EXPECT_EQ(j["interfaces"]["va2"]["proc"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["va2"]["match"], true);
}

TEST(Compare, CountersGoingBackwardsRestartTheComparison) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {100, 1, 0, 0}}});
  h.tick({kVa}, {{5, {50, 1, 0, 0}}}, {{5, {150, 2, 0, 0}}});
  json j = h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {150, 2, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["bpf"]["rx_bytes"], 0);
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  ASSERT_EQ(h.infos.size(), 1u);
  EXPECT_THAT(h.infos[0], HasSubstr("went backwards"));
}

TEST(Compare, LinkMissingFromOneSourceIsLeftOut) {
  Harness h;
  json j = h.tick({kVa, {6, "eth0"}}, {{5, {0, 0, 0, 0}}, {6, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  EXPECT_TRUE(j["interfaces"].contains("va"));
  EXPECT_FALSE(j["interfaces"].contains("eth0"));
}

TEST(Compare, InFlightPacketsAtTheBaselineBecomeAnAnnouncedSkew) {
  Harness h;
  // Started mid-transfer: 2 packets had passed the driver's counter but not
  // yet tc when the baseline was read, so proc's baseline already holds them
  // and BPF's increments will too.
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {10000, 100, 0, 0}}});
  h.tick({kVa}, {{5, {5200, 52, 0, 0}}}, {{5, {15000, 150, 0, 0}}});  // moving
  // Still trickling: the 2 in flight exceed this interval's 1 packet, but
  // not the first interval's traffic, which bounds an unmeasured skew.
  json j = h.tick({kVa}, {{5, {5300, 53, 0, 0}}}, {{5, {15100, 151, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  j = h.tick({kVa}, {{5, {5300, 53, 0, 0}}}, {{5, {15100, 151, 0, 0}}});  // quiet
  EXPECT_EQ(j["interfaces"]["va"]["delta"]["rx_packets"], 2);
  EXPECT_EQ(j["interfaces"]["va"]["skew"]["rx_packets"], 2);
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  ASSERT_EQ(h.infos.size(), 1u);
  EXPECT_THAT(h.infos[0], HasSubstr("started while traffic was flowing"));
  EXPECT_THAT(h.infos[0], HasSubstr("rx_bytes=+200 rx_packets=+2"));
  h.tick({kVa}, {{5, {5300, 53, 0, 0}}}, {{5, {15100, 151, 0, 0}}});
  EXPECT_TRUE(h.warnings.empty());
  // Later traffic is compared relative to the skew.
  h.tick({kVa}, {{5, {5400, 54, 0, 0}}}, {{5, {15200, 152, 0, 0}}});
  j = h.tick({kVa}, {{5, {5400, 54, 0, 0}}}, {{5, {15200, 152, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["match"], true);
  EXPECT_TRUE(h.warnings.empty());
}

TEST(Compare, SkewLargerThanTheFirstIntervalIsAMismatch) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {100, 1, 0, 0}}}, {{5, {100, 1, 0, 0}}});  // 1 packet moved
  // Moving (within allowance), then quiet twice.
  for (int i = 0; i < 3; ++i) h.tick({kVa}, {{5, {1100, 11, 0, 0}}}, {{5, {100, 1, 0, 0}}});
  json j = json::parse(h.lines.back());
  EXPECT_EQ(j["interfaces"]["va"]["match"], false);
  EXPECT_FALSE(j["interfaces"]["va"].contains("skew"));
  EXPECT_TRUE(h.infos.empty());
  EXPECT_EQ(h.warnings.size(), 1u);
}

TEST(Compare, FinishSummarisesEachInterface) {
  Harness h;
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {1514, 1, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  h.tick({kVa}, {{5, {1514, 1, 0, 0}}}, {{5, {1514, 1, 0, 0}}});
  h.infos.clear();
  h.reporter->finish();
  EXPECT_THAT(h.infos, ElementsAre("compare summary: 'va' (ifindex 5): 4 snapshots, 4 matched, "
                                   "largest delta rx_bytes=+1514 rx_packets=+1 tx_bytes=0 "
                                   "tx_packets=0"));
}

TEST(Compare, ReportWritesTheLineAndNoticesAClosedReader) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  CompareConfig config;
  config.out_fd = fds[1];
  CompareReporter reporter(config);
  EXPECT_TRUE(reporter.report({kVa}, {{{5, {1, 1, 1, 1}}}, {{5, {1, 1, 1, 1}}}}, 0, 0));
  char buf[512] = {};
  ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(json::parse(std::string(buf, n))["source"], "compare");
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_FALSE(reporter.report({kVa}, {{{5, {1, 1, 1, 1}}}, {{5, {1, 1, 1, 1}}}}, 1, 1));
  close(fds[1]);
}

TEST(Compare, ProbingTheLiveLoopbackFindsItsQuirkByIfindexNotByName) {
  const int lo = static_cast<int>(if_nametoindex("lo"));
  ASSERT_GT(lo, 0);
  // Found through the kernel (IFF_LOOPBACK of that ifindex): the name given
  // only has to be the link's current one.
  netmon::DeviceFacts facts = netmon::probe_device({lo, "lo"});
  ASSERT_TRUE(facts.link.has_value());
  EXPECT_EQ(facts.link->name, "lo");
  DeviceQuirks q = netmon::probe_device_quirks({lo, "lo"});
  EXPECT_TRUE(q.loopback_l2_header);
  EXPECT_THAT(q.names(), ElementsAre("loopback_l2_header", "gso_segments"));
  // Called "lo" but not the loopback's ifindex: no quirk from the name alone.
  EXPECT_TRUE(netmon::probe_device_quirks({999999, "lo"}).names().empty());
  // An interface that does not exist has no quirks (strict comparison).
  EXPECT_TRUE(netmon::probe_device_quirks({999999, "nonexistent0"}).names().empty());
}

TEST(Compare, QuirksFollowFromTheDeviceFacts) {
  netmon::DeviceFacts veth;
  veth.link = netmon::LinkInfo{};
  veth.ethtool.driver = "veth";
  EXPECT_THAT(netmon::quirks_from(veth).names(), ElementsAre("gso_segments"));
  veth.link->xdp_native = true;
  veth.peer = netmon::LinkInfo{};
  veth.peer_ethtool.gro_requested = true;
  EXPECT_THAT(netmon::quirks_from(veth).names(),
              ElementsAre("veth_napi_rx", "veth_napi_tx", "gso_segments"));
  netmon::DeviceFacts nic;
  nic.link = netmon::LinkInfo{};
  nic.ethtool.driver = "ixgbe";
  nic.ethtool.hw_tc_offload = true;
  EXPECT_THAT(netmon::quirks_from(nic).names(), ElementsAre("hw_offload"));
  EXPECT_TRUE(netmon::quirks_from(netmon::DeviceFacts{}).names().empty());
}

namespace {

// What the metrics endpoint would be given, without binding a port.
struct RecordingPublisher : netmon::MetricsPublisher {
  void publish_compare(const std::vector<netmon::Snapshot>& per_source,
                       std::vector<netmon::GaugeFamily> gauges,
                       const std::string& ndjson) override {
    state.latest.clear();
    for (const auto& snapshot : per_source)
      state.latest[snapshot.source] = std::make_shared<const netmon::Snapshot>(snapshot);
    state.gauges = std::make_shared<const std::vector<netmon::GaugeFamily>>(std::move(gauges));
    ++state.snapshots_total;
    line = ndjson;
  }
  netmon::MetricsState state;
  std::string line;
};

}  // namespace

TEST(Compare, PublishesSourcesAndDeltasToTheMetricsEndpoint) {
  RecordingPublisher publisher;
  CompareConfig config;
  config.metrics = &publisher;
  CompareReporter reporter(config);
  reporter.report({kVa}, {{{5, {10, 1, 0, 0}}}, {{5, {10, 1, 0, 0}}}}, 0, 0);
  reporter.report({kVa}, {{{5, {30, 2, 0, 0}}}, {{5, {10, 1, 0, 0}}}}, kSecond, 1000);
  EXPECT_EQ(publisher.state.snapshots_total, 2u);
  EXPECT_EQ(json::parse(publisher.line)["seq"], 1);
  std::string text = netmon::format_metrics(publisher.state);
  EXPECT_THAT(text, HasSubstr("netmon_rx_bytes_total{interface=\"va\",source=\"bpf\"} 30\n"));
  EXPECT_THAT(text, HasSubstr("netmon_rx_bytes_total{interface=\"va\",source=\"proc\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_compare_rx_bytes_delta{interface=\"va\"} 20\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_compare_match{interface=\"va\"} 1\n"));
}

TEST(CompareArithmetic, ToleranceHelpersAtTheInt64Edges) {
  using netmon::Band;
  EXPECT_EQ(netmon::saturating_add(INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(netmon::saturating_add(INT64_MAX - 5, 5), INT64_MAX);
  EXPECT_EQ(netmon::saturating_add(2, 3), 5);
  EXPECT_EQ(netmon::magnitude(INT64_MIN), INT64_MAX);
  EXPECT_EQ(netmon::magnitude(-7), 7);
  EXPECT_EQ(netmon::wrapping_sub(INT64_MIN, 1), INT64_MAX);
  EXPECT_EQ(netmon::wrapping_sub(INT64_MAX, -1), INT64_MIN);
  const Band unbounded{0, INT64_MAX, INT64_MAX};
  EXPECT_EQ(netmon::band_excess(INT64_MIN, unbounded), -1);  // INT64_MIN + INT64_MAX
  EXPECT_EQ(netmon::band_excess(INT64_MAX, unbounded), 0);
  EXPECT_EQ(netmon::band_excess(INT64_MIN, Band{}), INT64_MIN);
  EXPECT_EQ(netmon::band_excess(INT64_MAX, Band{0, 0, 14}), INT64_MAX - 14);
  // 14 bytes per packet saturates instead of overflowing.
  DeviceQuirks lo;
  lo.loopback_l2_header = true;
  auto bands = netmon::bands_for(lo, Counters{0, UINT64_MAX, 0, UINT64_MAX / 14});
  EXPECT_EQ(bands[0].shift, INT64_MAX);
  EXPECT_EQ(bands[2].shift, INT64_MAX);
  bands = netmon::bands_for(lo, Counters{0, 3, 0, 0});
  EXPECT_EQ(bands[0].shift, 42);
}

TEST(CompareArithmetic, CountersAtTheUint64EdgeCompareWithoutOverflow) {
  Harness h;
  // Baselines near the top of u64: increments are exact, deltas wrap-free.
  const uint64_t top = UINT64_MAX - 1000;
  h.tick({kVa}, {{5, {top, top, 0, 0}}}, {{5, {0, 0, top, top}}});
  h.tick({kVa}, {{5, {top, top, 0, 0}}}, {{5, {0, 0, top, top}}});
  json j = h.tick({kVa}, {{5, {UINT64_MAX, top + 1, 0, 0}}}, {{5, {1000, 1, top, top}}});
  EXPECT_EQ(j["interfaces"]["va"]["bpf"]["rx_bytes"].get<uint64_t>(), 1000u);
  EXPECT_EQ(j["interfaces"]["va"]["delta"]["rx_bytes"], 0);
  h.tick({kVa}, {{5, {UINT64_MAX, top + 1, 0, 0}}}, {{5, {1000, 1, top, top}}});
  EXPECT_EQ(h.warnings.size(), 0u);
  // A difference of more than INT64_MAX between the two increments is
  // reported modulo 2^64 (as a signed delta), never as UB.
  Harness far;
  far.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  far.tick({kVa}, {{5, {0, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  j = far.tick({kVa}, {{5, {UINT64_MAX, 0, 0, 0}}}, {{5, {0, 0, 0, 0}}});
  EXPECT_EQ(j["interfaces"]["va"]["delta"]["rx_bytes"], -1);
  EXPECT_EQ(j["interfaces"]["va"]["match"], false);
}
