#include "ledger/quota.h"

#include <gtest/gtest.h>

#include "ledger_test_util.h"

namespace netmon::ledger {
namespace {

using test::local;
using test::ScopedTz;

uint64_t size(const char* s) {
  std::string err;
  auto v = parse_size(s, &err);
  EXPECT_TRUE(v) << err;
  return v.value_or(0);
}

std::string size_error(const char* s) {
  std::string err;
  EXPECT_FALSE(parse_size(s, &err)) << s;
  return err;
}

TEST(QuotaParse, Sizes) {
  EXPECT_EQ(size("12345"), 12345u);
  EXPECT_EQ(size("12345B"), 12345u);
  EXPECT_EQ(size("1KiB"), 1024u);
  EXPECT_EQ(size("20GiB"), 21474836480u);
  EXPECT_EQ(size("2TiB"), 2199023255552u);
  EXPECT_EQ(size("3MiB"), 3145728u);
  EXPECT_EQ(size("1kB"), 1000u);
  EXPECT_EQ(size("1KB"), 1000u);
  EXPECT_EQ(size("5GB"), 5000000000u);
  EXPECT_EQ(size("7MB"), 7000000u);
  EXPECT_EQ(size("1TB"), 1000000000000u);
  EXPECT_EQ(size("1.5GiB"), 1610612736u);
  EXPECT_EQ(size("0.5KiB"), 512u);
  EXPECT_EQ(size("2.25GB"), 2250000000u);
}

TEST(QuotaParse, BadSizes) {
  EXPECT_EQ(size_error("20XB"),
            "bad size '20XB': expected a number with an optional unit (B, KiB, MiB, GiB, TiB, kB, "
            "MB, GB, TB)");
  EXPECT_EQ(size_error("0GiB"), "size '0GiB' must be more than zero");
  EXPECT_EQ(size_error("99999999999TiB"), "size '99999999999TiB' is too large");
  EXPECT_EQ(size_error("99999999999999999999"), "size '99999999999999999999' is too large");
  size_error("");
  size_error("GiB");
  size_error("1..5GiB");
  size_error("-5GB");
  size_error("5 GB");
  size_error("1.GiB");
  EXPECT_EQ(size_error("1.1234567GiB"), "size '1.1234567GiB' has more than six decimals");
}

TEST(QuotaParse, Specs) {
  std::string err;
  auto q = parse_quota("wwan0=20GiB/month", &err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->name, "wwan0");
  EXPECT_EQ(q->limit, 21474836480u);
  EXPECT_EQ(q->period, PeriodKind::kMonth);
  EXPECT_EQ(q->direction, Direction::kTotal);
  EXPECT_EQ(q->key(), "21474836480/month:total");
  q = parse_quota("eth0=5GB/day:tx", &err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->limit, 5000000000u);
  EXPECT_EQ(q->period, PeriodKind::kDay);
  EXPECT_EQ(q->direction, Direction::kTx);
  q = parse_quota("rmnet_data0=1000/day:rx", &err);
  ASSERT_TRUE(q) << err;
  EXPECT_EQ(q->direction, Direction::kRx);
}

TEST(QuotaParse, BadSpecsSayWhy) {
  std::string err;
  EXPECT_FALSE(parse_quota("wwan0", &err));
  EXPECT_EQ(err,
            "bad quota 'wwan0': expected IFACE=SIZE/PERIOD[:DIRECTION], e.g. wwan0=20GiB/month or "
            "eth0=5GB/day:tx");
  EXPECT_FALSE(parse_quota("=20GiB/month", &err));
  EXPECT_FALSE(parse_quota("wwan0=20GiB", &err));
  EXPECT_FALSE(parse_quota("wwan0=20GiB/week", &err));
  EXPECT_EQ(err, "bad quota 'wwan0=20GiB/week': period 'week' is not day or month");
  EXPECT_FALSE(parse_quota("wwan0=20GiB/month:up", &err));
  EXPECT_EQ(err, "bad quota 'wwan0=20GiB/month:up': direction 'up' is not rx, tx or total");
  EXPECT_FALSE(parse_quota("wwan0=20QB/month", &err));
  EXPECT_EQ(err.rfind("bad quota 'wwan0=20QB/month': bad size '20QB'", 0), 0u) << err;
  EXPECT_FALSE(parse_quota("averyveryverylongname=1GB/day", &err));
  EXPECT_EQ(err,
            "bad quota 'averyveryverylongname=1GB/day': interface name longer than 15 characters");
}

TEST(QuotaParse, Thresholds) {
  std::string err;
  auto t = parse_thresholds("100,80,90,80", &err);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(*t, (std::vector<int>{80, 90, 100}));
  EXPECT_EQ(*parse_thresholds("50", &err), (std::vector<int>{50}));
  EXPECT_FALSE(parse_thresholds("80,,100", &err));
  EXPECT_EQ(err,
            "bad quota threshold '' in '80,,100': expected percentages 1..1000 separated by "
            "commas, e.g. 80,90,100");
  EXPECT_FALSE(parse_thresholds("0", &err));
  EXPECT_FALSE(parse_thresholds("1001", &err));
  EXPECT_FALSE(parse_thresholds("80%", &err));
  EXPECT_FALSE(parse_thresholds("", &err));
}

TEST(Quota, ThresholdBytesIsExactCeiling) {
  EXPECT_EQ(threshold_bytes(1000, 80), 800u);
  EXPECT_EQ(threshold_bytes(999, 80), 800u);  // 799.2 rounds up
  EXPECT_EQ(threshold_bytes(21474836480u, 90), 19327352832u);
  EXPECT_EQ(threshold_bytes(21474836481u, 90), 19327352833u);  // 19327352832.9
  EXPECT_EQ(threshold_bytes(UINT64_MAX, 100), UINT64_MAX);
  EXPECT_EQ(threshold_bytes(UINT64_MAX, 1000), UINT64_MAX);
}

TEST(Quota, EvaluateUsedPercentProjection) {
  ScopedTz tz("UTC");
  Calendar cal;
  cal.month_start_day = 15;
  Quota q{"wwan0", 20000, PeriodKind::kMonth, Direction::kTotal, {}};
  // Ten days into a 30-day billing month (Nov 15 .. Dec 14), 5000 bytes used.
  int64_t now = local("2026-11-25 00:00:00");
  QuotaStatus s = evaluate(q, {3000, 3, 2000, 2}, now, cal);
  EXPECT_EQ(s.used, 5000u);
  EXPECT_EQ(s.limit, 20000u);
  EXPECT_DOUBLE_EQ(s.percent, 25.0);
  EXPECT_EQ(s.projected, 15000u);
  EXPECT_EQ(s.period, "2026-11-15");
  EXPECT_EQ(s.period_start, local("2026-11-15 00:00:00"));
  EXPECT_EQ(s.period_end, local("2026-12-15 00:00:00"));
  q.direction = Direction::kTx;
  EXPECT_EQ(evaluate(q, {3000, 3, 2000, 2}, now, cal).used, 2000u);
  q.direction = Direction::kRx;
  EXPECT_EQ(evaluate(q, {3000, 3, 2000, 2}, now, cal).used, 3000u);
  // A day quota six hours in: projected four times the use.
  Quota d{"eth0", 1000, PeriodKind::kDay, Direction::kTotal, {}};
  s = evaluate(d, {100, 1, 50, 1}, local("2026-11-25 06:00:00"), cal);
  EXPECT_EQ(s.projected, 600u);
  EXPECT_EQ(s.period, "2026-11-25");
}

}  // namespace
}  // namespace netmon::ledger
