#include "core/snapshot.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "output/ndjson.h"

using netmon::CounterMap;
using netmon::Link;
using netmon::SnapshotBuilder;

namespace {
constexpr int64_t kSecond = 1'000'000'000;
}

TEST(Snapshot, FirstIsBaselineWithZeroRates) {
  SnapshotBuilder builder("bpf");
  auto s = builder.build({{2, "eth0"}}, {{2, {100, 1, 200, 2}}}, 5 * kSecond, 1700000000000);
  EXPECT_EQ(s.seq, 0u);
  EXPECT_EQ(s.interval_ms, 0);
  ASSERT_EQ(s.interfaces.size(), 1u);
  EXPECT_EQ(s.interfaces[0].totals.rx_bytes, 100u);
  EXPECT_EQ(s.interfaces[0].rates.rx_bps, 0);
}

TEST(Snapshot, RatesOverMeasuredInterval) {
  SnapshotBuilder builder("netdev");
  builder.build({{2, "eth0"}}, {{2, {0, 0, 0, 0}}}, 0, 0);
  // 500 ms later: 1000 bytes and 10 packets in, 250 bytes and 1 packet out.
  auto s = builder.build({{2, "eth0"}}, {{2, {1000, 10, 250, 1}}}, kSecond / 2, 500);
  EXPECT_EQ(s.seq, 1u);
  EXPECT_EQ(s.interval_ms, 500);
  const auto& r = s.interfaces.at(0).rates;
  EXPECT_DOUBLE_EQ(r.rx_bps, 16000);
  EXPECT_DOUBLE_EQ(r.tx_bps, 4000);
  EXPECT_DOUBLE_EQ(r.rx_pps, 20);
  EXPECT_DOUBLE_EQ(r.tx_pps, 2);
}

TEST(Snapshot, RenamedLinkKeepsHistoryNewLinkStartsAtZeroRate) {
  SnapshotBuilder builder("bpf");
  builder.build({{2, "eth0"}}, {{2, {0, 0, 0, 0}}}, 0, 0);
  auto s = builder.build({{2, "wan"}, {3, "veth0"}}, {{2, {800, 1, 0, 0}}, {3, {5000, 5, 0, 0}}},
                         kSecond, 1000);
  ASSERT_EQ(s.interfaces.size(), 2u);
  EXPECT_EQ(s.interfaces[0].link.name, "wan");
  EXPECT_DOUBLE_EQ(s.interfaces[0].rates.rx_bps, 6400);
  EXPECT_DOUBLE_EQ(s.interfaces[1].rates.rx_bps, 0);
}

TEST(Snapshot, CountersGoingBackwardsMeanANewInterfaceNotASpike) {
  SnapshotBuilder builder("bpf");
  builder.build({{7, "a"}}, {{7, {1'000'000, 1000, 0, 0}}}, 0, 0);
  auto s = builder.build({{7, "b"}}, {{7, {10, 1, 0, 0}}}, kSecond, 1000);
  EXPECT_DOUBLE_EQ(s.interfaces.at(0).rates.rx_bps, 0);
  EXPECT_DOUBLE_EQ(s.interfaces.at(0).rates.rx_pps, 0);
}

TEST(Snapshot, LinksWithoutReadingsAreLeftOut) {
  SnapshotBuilder builder("proc");
  auto s = builder.build({{2, "eth0"}, {3, "gone"}}, {{2, {}}}, 0, 0);
  ASSERT_EQ(s.interfaces.size(), 1u);
  EXPECT_EQ(s.interfaces[0].link.name, "eth0");
}

TEST(Json, OneLineInDocumentedOrder) {
  SnapshotBuilder builder("bpf");
  builder.build({{2, "eth0"}}, {{2, {}}}, 0, 0);
  auto s =
      builder.build({{2, "eth0"}}, {{2, {1500, 3, UINT64_MAX, 1}}}, 4 * kSecond, 1764160000123);
  std::string line = netmon::to_ndjson(s);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(
      line.rfind("{\"source\":\"bpf\",\"seq\":1,\"ts_ms\":1764160000123,\"interval_ms\":4000,", 0),
      0u)
      << line;

  auto j = nlohmann::json::parse(line);
  const auto& eth0 = j["interfaces"]["eth0"];
  EXPECT_EQ(eth0["ifindex"], 2);
  EXPECT_EQ(eth0["rx_bytes"].get<uint64_t>(), 1500u);
  EXPECT_EQ(eth0["tx_bytes"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(eth0["rx_bps"].get<double>(), 3000);
  EXPECT_EQ(eth0["rx_pps"].get<double>(), 0.75);
  EXPECT_TRUE(eth0["rx_bps"].is_number_integer());
  // nlohmann::json sorts keys on parse; check the raw text for order instead.
  EXPECT_NE(line.find("\"ifindex\":2,\"rx_bytes\":1500,\"rx_packets\":3,\"tx_bytes\":"),
            std::string::npos)
      << line;
}

TEST(Json, HealthComesLastAndOnlyWhenTheSourceReportsIt) {
  SnapshotBuilder builder("bpf");
  auto s = builder.build({{2, "eth0"}}, {{2, {}}}, 0, 0);
  EXPECT_EQ(netmon::to_ndjson(s).find("health"), std::string::npos);
  s.health = netmon::SourceHealth{2, 0.0003114};
  std::string line = netmon::to_ndjson(s);
  const std::string tail = ",\"health\":{\"tc_preempted\":2,\"tc_preempted_seconds\":0.000311}}\n";
  ASSERT_GE(line.size(), tail.size());
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail) << line;
  s.health = netmon::SourceHealth{};
  EXPECT_NE(netmon::to_ndjson(s).find("\"health\":{\"tc_preempted\":0,\"tc_preempted_seconds\":0}"),
            std::string::npos);
}

TEST(Json, EmptySelectionIsAnEmptyObject) {
  SnapshotBuilder builder("netdev");
  auto line = netmon::to_ndjson(builder.build({}, {}, 0, 0));
  EXPECT_NE(line.find("\"interfaces\":{}"), std::string::npos) << line;
}

TEST(Json, OddInterfaceNameBytesBecomeReplacementCharacters) {
  SnapshotBuilder builder("netdev");
  // Two invalid bytes, then a truncated 3-byte sequence: one U+FFFD each.
  std::string odd =
      "e\xff\xfe"
      "x\xe2\x82";
  auto line = netmon::to_ndjson(builder.build({{9, odd}}, {{9, {}}}, 0, 0));
  EXPECT_NE(line.find("\"e\xEF\xBF\xBD\xEF\xBF\xBDx\xEF\xBF\xBD\":{\"ifindex\":9"),
            std::string::npos)
      << line;
  auto j = nlohmann::json::parse(line);
  EXPECT_TRUE(j["interfaces"].contains("e\xEF\xBF\xBD\xEF\xBF\xBDx\xEF\xBF\xBD"));
}

TEST(Json, QuotesAndControlBytesInNamesAreEscaped) {
  SnapshotBuilder builder("netdev");
  auto line = netmon::to_ndjson(builder.build({{9, "a\"b\\c\td"}}, {{9, {}}}, 0, 0));
  EXPECT_NE(line.find(R"("a\"b\\c\td":{)"), std::string::npos) << line;
  EXPECT_TRUE(nlohmann::json::parse(line)["interfaces"].contains("a\"b\\c\td"));
}

TEST(Json, FractionalRatesHaveTheirThreeDecimals) {
  SnapshotBuilder builder("netdev");
  builder.build({{2, "eth0"}}, {{2, {}}}, 0, 0);
  // 1 packet and 1 byte in 3 s: 0.333 pps, 2.667 bps.
  auto line = netmon::to_ndjson(builder.build({{2, "eth0"}}, {{2, {1, 1, 0, 0}}}, 3 * kSecond, 0));
  EXPECT_NE(line.find(R"("rx_bps":2.667,"tx_bps":0,"rx_pps":0.333,"tx_pps":0})"), std::string::npos)
      << line;
}

TEST(Snapshot, CounterDeltaSeesThrough32BitWrapsOnlyWhenPlausible) {
  using netmon::counter_delta;
  const uint64_t k32 = uint64_t{1} << 32;
  EXPECT_EQ(counter_delta(10, 25, true), 15u);
  EXPECT_EQ(counter_delta(k32 - 1, 0, true), 1u);  // the smallest wrap
  EXPECT_EQ(counter_delta(k32 - 100, 50, true), 150u);
  EXPECT_EQ(counter_delta(k32 - 1, k32 / 2 - 2, true), k32 / 2 - 1);   // the largest
  EXPECT_EQ(counter_delta(k32 - 1, k32 / 2 - 1, true), std::nullopt);  // half the range: reset
  EXPECT_EQ(counter_delta(1'000'000, 10, true), std::nullopt);         // re-created link
  EXPECT_EQ(counter_delta(k32, 5, true), std::nullopt);                // was 64-bit wide: reset
  EXPECT_EQ(counter_delta(k32 - 100, 50, false), std::nullopt);        // BPF: never wraps
  EXPECT_EQ(counter_delta(0, UINT64_MAX, true), UINT64_MAX);
  EXPECT_EQ(counter_delta(UINT64_MAX, 0, true), std::nullopt);
}

TEST(Snapshot, NetdevCountersWrappingAt32BitsKeepTheirRate) {
  SnapshotBuilder builder("netdev");
  const uint64_t k32 = uint64_t{1} << 32;
  builder.build({{2, "eth0"}}, {{2, {k32 - 500, k32 - 1, 0, 0}}}, 0, 0);
  auto s = builder.build({{2, "eth0"}}, {{2, {500, 1, 0, 0}}}, kSecond, 1000);
  EXPECT_DOUBLE_EQ(s.interfaces.at(0).rates.rx_bps, 8000);
  EXPECT_DOUBLE_EQ(s.interfaces.at(0).rates.rx_pps, 2);
  // The same fall on BPF's own 64-bit counters is a reset.
  SnapshotBuilder bpf("bpf");
  bpf.build({{2, "eth0"}}, {{2, {k32 - 500, k32 - 1, 0, 0}}}, 0, 0);
  s = bpf.build({{2, "eth0"}}, {{2, {500, 1, 0, 0}}}, kSecond, 1000);
  EXPECT_DOUBLE_EQ(s.interfaces.at(0).rates.rx_bps, 0);
}

TEST(Snapshot, RatesAtTheUint64EdgeNeitherOverflowNorWrap) {
  SnapshotBuilder builder("bpf");
  builder.build({{2, "eth0"}}, {{2, {0, 0, 0, 0}}}, 0, 0);
  // Every counter from 0 to UINT64_MAX in one second: bits = 8 x that, which
  // u64 arithmetic would wrap to a small number.
  auto s = builder.build({{2, "eth0"}}, {{2, {UINT64_MAX, UINT64_MAX, 0, 0}}}, kSecond, 1000);
  const auto& r = s.interfaces.at(0).rates;
  EXPECT_DOUBLE_EQ(r.rx_bps, 8.0 * 18446744073709551615.0);
  EXPECT_DOUBLE_EQ(r.rx_pps, 18446744073709551615.0);
  std::string line = netmon::to_ndjson(s);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["interfaces"]["eth0"]["rx_bytes"].get<uint64_t>(), UINT64_MAX);
  EXPECT_DOUBLE_EQ(j["interfaces"]["eth0"]["rx_bps"].get<double>(), r.rx_bps);
  // A nanosecond interval and int64 timestamps at their ends.
  SnapshotBuilder fast("netdev");
  fast.build({{2, "eth0"}}, {{2, {0, 0, 0, 0}}}, INT64_MAX - 1, INT64_MAX);
  s = fast.build({{2, "eth0"}}, {{2, {1, 1, 0, 0}}}, INT64_MAX, INT64_MIN);
  EXPECT_EQ(s.interval_ms, 0);
  EXPECT_DOUBLE_EQ(s.interfaces.at(0).rates.rx_pps, 1e9);
  EXPECT_NE(netmon::to_ndjson(s).find("\"ts_ms\":-9223372036854775808,"), std::string::npos);
}
