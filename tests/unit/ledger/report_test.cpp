#include "ledger/report.h"

#include <gtest/gtest.h>

#include <functional>
#include <sstream>
#include <vector>

#include "ledger_test_util.h"

namespace netmon::ledger {
namespace {

using test::local;
using test::ScopedTz;
using test::TempDir;

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Store s = Store::open(path(), {}, local("2026-11-30 12:00:00"));
    SaveBatch b;
    std::vector<PeriodDelta> deltas;
    b.deltas = [&](const std::function<bool(const PeriodDelta&)>& each) {
      for (const PeriodDelta& d : deltas)
        if (!each(d)) return;
    };
    auto add = [&](PeriodKind k, const char* name, const char* label, Counts c) {
      deltas.push_back({k, name, label, c});
    };
    add(PeriodKind::kDay, "wwan0", "2026-11-29", {1610612736, 1200000, 471859200, 900000});
    add(PeriodKind::kDay, "wwan0", "2026-11-30", {512, 4, 1536, 12});
    add(PeriodKind::kDay, "wwan0", "2026-11-28", {3000000000, 2000000, 1000, 10});
    add(PeriodKind::kDay, "eth0", "2026-11-30", {10, 1, 20, 2});
    add(PeriodKind::kMonth, "wwan0", "2026-10", {5000, 50, 7000, 70});
    add(PeriodKind::kMonth, "wwan0", "2026-11", {1000000, 1000, 3000000, 3000});
    add(PeriodKind::kHour, "wwan0", "2026-11-30T14", {1, 1, 2, 1});
    std::string err;
    ASSERT_EQ(s.save(b, &err), SaveStatus::kOk) << err;
  }
  std::string path() const { return dir_.file("netmon.db"); }
  std::string report(ReportOptions o, bool expect_ok = true) {
    Store s = Store::open_read_only(path());
    std::ostringstream out;
    std::string err;
    EXPECT_EQ(write_report(s, o, out, &err), expect_ok) << err;
    return expect_ok ? out.str() : err;
  }
  ScopedTz tz_{"UTC"};
  TempDir dir_;
};

TEST(HumanBytes, Units) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(1610612736), "1.50 GiB");
  EXPECT_EQ(human_bytes(uint64_t{5} << 40), "5.00 TiB");
}

TEST_F(ReportTest, DaysAsJsonExactOldestFirst) {
  ReportOptions o;
  o.period = "days";
  o.json = true;
  o.interfaces = {"wwan0"};
  EXPECT_EQ(
      report(o),
      R"({"interfaces":{"wwan0":{"days":[)"
      R"({"period":"2026-11-28","rx_bytes":3000000000,"rx_packets":2000000,"tx_bytes":1000,"tx_packets":10},)"
      R"({"period":"2026-11-29","rx_bytes":1610612736,"rx_packets":1200000,"tx_bytes":471859200,"tx_packets":900000},)"
      R"({"period":"2026-11-30","rx_bytes":512,"rx_packets":4,"tx_bytes":1536,"tx_packets":12}]}}})"
      "\n");
}

TEST_F(ReportTest, AllInterfacesSortedByName) {
  ReportOptions o;
  o.period = "hours";
  o.json = true;
  EXPECT_EQ(
      report(o),
      R"({"interfaces":{"eth0":{"hours":[]},"wwan0":{"hours":[)"
      R"({"period":"2026-11-30T14","rx_bytes":1,"rx_packets":1,"tx_bytes":2,"tx_packets":1}]}}})"
      "\n");
}

TEST_F(ReportTest, DaysAsATable) {
  ReportOptions o;
  o.period = "days";
  o.interfaces = {"wwan0"};
  EXPECT_EQ(report(o),
            " wwan0  /  daily\n"
            "\n"
            "  day                   rx |           tx |        total\n"
            "  -------------------------+--------------+-------------\n"
            "  2026-11-28      2.79 GiB |       1000 B |     2.79 GiB\n"
            "  2026-11-29      1.50 GiB |   450.00 MiB |     1.94 GiB\n"
            "  2026-11-30         512 B |     1.50 KiB |     2.00 KiB\n"
            "  -------------------------+--------------+-------------\n"
            "\n");
}

TEST_F(ReportTest, MonthsWithTheEstimateForTheCurrentMonth) {
  ReportOptions o;
  o.period = "months";
  o.interfaces = {"wwan0"};
  o.now = local("2026-11-16 00:00:00");  // half of November gone
  // 2,000,000 and 6,000,000 bytes: twice the use so far.
  EXPECT_EQ(report(o),
            " wwan0  /  monthly\n"
            "\n"
            "  month                rx |           tx |        total\n"
            "  ------------------------+--------------+-------------\n"
            "  2026-10        4.88 KiB |     6.84 KiB |    11.72 KiB\n"
            "  2026-11      976.56 KiB |     2.86 MiB |     3.81 MiB\n"
            "  ------------------------+--------------+-------------\n"
            "  estimated      1.91 MiB |     5.72 MiB |     7.63 MiB\n"
            "\n");
  // A later month: no estimate for a month that is over.
  o.now = local("2026-12-02 00:00:00");
  EXPECT_EQ(report(o).find("estimated"), std::string::npos);
  o.json = true;
  EXPECT_EQ(
      report(o),
      R"({"interfaces":{"wwan0":{"months":[)"
      R"({"period":"2026-10","rx_bytes":5000,"rx_packets":50,"tx_bytes":7000,"tx_packets":70},)"
      R"({"period":"2026-11","rx_bytes":1000000,"rx_packets":1000,"tx_bytes":3000000,"tx_packets":3000}]}}})"
      "\n");
}

TEST_F(ReportTest, TopDaysBusiestFirst) {
  ReportOptions o;
  o.period = "top";
  o.json = true;
  o.interfaces = {"wwan0"};
  o.top = 2;
  EXPECT_EQ(
      report(o),
      R"({"interfaces":{"wwan0":{"top":[)"
      R"({"period":"2026-11-28","rx_bytes":3000000000,"rx_packets":2000000,"tx_bytes":1000,"tx_packets":10},)"
      R"({"period":"2026-11-29","rx_bytes":1610612736,"rx_packets":1200000,"tx_bytes":471859200,"tx_packets":900000}]}}})"
      "\n");
}

TEST_F(ReportTest, BadInputSaysWhy) {
  ReportOptions o;
  o.period = "weeks";
  EXPECT_EQ(report(o, false),
            "unknown report period 'weeks': expected fivemin, hours, days, months, years or top");
  o.period = "days";
  o.interfaces = {"wlan9"};
  EXPECT_EQ(report(o, false), "interface 'wlan9' is not in the ledger '" + path() + "'");
}

TEST_F(ReportTest, ReadsBesideAWriterInsideATransaction) {
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer,
                         "BEGIN IMMEDIATE; UPDATE \"day\" SET rx_bytes = 7 WHERE period = "
                         "'2026-11-30' AND interface = 'eth0'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  ReportOptions o;
  o.period = "days";
  o.json = true;
  o.interfaces = {"eth0"};
  // The reader sees the last commit and is not blocked by the open write.
  EXPECT_EQ(
      report(o),
      R"({"interfaces":{"eth0":{"days":[{"period":"2026-11-30","rx_bytes":10,"rx_packets":1,"tx_bytes":20,"tx_packets":2}]}}})"
      "\n");
  ASSERT_EQ(sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(writer);
  EXPECT_NE(report(o).find(R"("rx_bytes":7,)"), std::string::npos);
}

}  // namespace
}  // namespace netmon::ledger
