#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tuple>

#include "ledger_test_util.h"

namespace netmon::ledger {
namespace {

using test::local;
using test::ScopedTz;
using test::TempDir;

constexpr int64_t kSec = 1'000'000'000;

class Recorder : public LedgerEvents {
 public:
  void on_quota(const QuotaAlert& a) override { alerts.push_back(a); }
  void on_note(const Note& n) override { notes.push_back(n); }
  std::vector<QuotaAlert> alerts;
  std::vector<Note> notes;
};

class LedgerTest : public ::testing::Test {
 protected:
  LedgerOptions options() const {
    LedgerOptions o;
    o.path = dir_.file("netmon.db");
    o.booking.min_plausible_time = 1764547200;  // 2025-12-01, whatever the build day
    return o;
  }
  static Reading rd(uint32_t ifindex, uint64_t rx, uint64_t tx, const char* name = "wwan0") {
    return {name, ifindex, {rx, rx / 100, tx, tx / 100}};
  }
  ScopedTz tz_{"UTC"};
  TempDir dir_;
};

TEST_F(LedgerTest, BooksEveryPeriodAndSavesOnlyAtTheInterval) {
  int64_t t0 = local("2026-11-30 13:58:00");
  Ledger l(options(), "boot-a", t0);
  l.tick(t0, 100 * kSec, {rd(3, 1000, 500)});  // baseline
  EXPECT_FALSE(l.maybe_save(100 * kSec));
  for (int i = 1; i <= 299; ++i) {
    l.tick(t0 + i, (100 + i) * kSec, {rd(3, 1000 + 100u * i, 500 + 10u * i)});
    EXPECT_FALSE(l.maybe_save((100 + i) * kSec)) << i;
  }
  EXPECT_EQ(l.stats().saves, 0u);
  l.tick(t0 + 300, 400 * kSec, {rd(3, 31000, 3500)});
  EXPECT_TRUE(l.maybe_save(400 * kSec));
  EXPECT_EQ(l.stats().saves, 1u);
  EXPECT_EQ(l.pending_rows(), 0u);
  const Store& s = l.store();
  // 13:58:01 .. 13:59:59 in the first five minutes and hour, the rest after.
  EXPECT_EQ(s.total(PeriodKind::kFiveMin, "wwan0", "2026-11-30T13:55"),
            (Counts{11900, 119, 1190, 11}));
  EXPECT_EQ(s.total(PeriodKind::kHour, "wwan0", "2026-11-30T13"), (Counts{11900, 119, 1190, 11}));
  EXPECT_EQ(s.total(PeriodKind::kHour, "wwan0", "2026-11-30T14"), (Counts{18100, 181, 1810, 19}));
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{30000, 300, 3000, 30}));
  EXPECT_EQ(s.total(PeriodKind::kMonth, "wwan0", "2026-11"), (Counts{30000, 300, 3000, 30}));
  EXPECT_EQ(s.total(PeriodKind::kYear, "wwan0", "2026"), (Counts{30000, 300, 3000, 30}));
  EXPECT_EQ(l.usage("wwan0", PeriodKind::kDay, t0 + 300), (Counts{30000, 300, 3000, 30}));
}

TEST_F(LedgerTest, UsageByPositionFollowsEachNameWhenTheReadingsChangeOrder) {
  int64_t t0 = local("2026-11-30 12:00:00");
  Ledger l(options(), "boot-a", t0);
  l.tick(t0, kSec, {rd(1, 0, 0, "a"), rd(2, 0, 0, "b"), rd(3, 0, 0, "c")});
  l.tick(t0 + 1, 2 * kSec, {rd(1, 100, 1, "a"), rd(2, 0, 0, "b"), rd(3, 300, 3, "c")});
  l.tick(t0 + 2, 3 * kSec, {rd(1, 100, 1, "a"), rd(2, 0, 0, "b"), rd(3, 300, 3, "c")});
  Counts day, month;
  for (auto [name, position, rx] : {std::tuple{"a", 0, 100}, {"b", 1, 0}, {"c", 2, 300}}) {
    l.usage(name, t0 + 2, &day, &month, position);
    EXPECT_EQ(day.rx_bytes, static_cast<uint64_t>(rx)) << name;
  }
  // Another order: positions are this tick's, totals stay each name's.
  l.tick(t0 + 3, 4 * kSec, {rd(3, 300, 3, "c"), rd(2, 700, 100, "b"), rd(1, 150, 1, "a")});
  for (auto [name, position, rx] : {std::tuple{"a", 2, 150}, {"b", 1, 700}, {"c", 0, 300}}) {
    l.usage(name, t0 + 3, &day, &month, position);
    EXPECT_EQ(day.rx_bytes, static_cast<uint64_t>(rx)) << name;
    EXPECT_EQ(month, day) << name;
    l.usage(name, t0 + 3, &day, &month, 2 - position);  // a wrong hint costs a lookup only
    EXPECT_EQ(day.rx_bytes, static_cast<uint64_t>(rx)) << name;
    l.usage(name, t0 + 3, &day, &month);
    EXPECT_EQ(day.rx_bytes, static_cast<uint64_t>(rx)) << name;
  }
  l.usage("x", t0 + 3, &day, &month, 0);  // never seen: nothing
  EXPECT_TRUE(day.zero() && month.zero());
}

TEST_F(LedgerTest, TrafficHeldWhileTheClockWasWrongShowsOnceItIsBooked) {
  int64_t t0 = local("2026-11-30 12:00:00");
  Ledger l(options(), "boot-a", t0);
  l.tick(t0, kSec, {rd(1, 0, 0, "a")});
  const int64_t wrong = local("1970-01-02 00:00:00");
  l.tick(wrong, 2 * kSec, {rd(1, 500, 5, "a")});  // held
  Counts day, month;
  l.usage("a", t0 + 1, &day, &month, 0);
  EXPECT_TRUE(day.zero() && month.zero());
  l.tick(t0 + 10, 3 * kSec, {rd(1, 500, 5, "a")});  // the clock is back: booked now
  l.usage("a", t0 + 10, &day, &month, 0);
  EXPECT_EQ(day.rx_bytes, 500u);
  EXPECT_EQ(month.rx_packets, 5u);
}

TEST_F(LedgerTest, KillNineBetweenSavesLosesNothingAndCountsNothingTwice) {
  int64_t t0 = local("2026-11-30 12:00:00");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Ledger l(options(), "boot-a", t0);
    l.tick(t0, 10 * kSec, {rd(3, 1000, 1000)});
    l.tick(t0 + 1, 11 * kSec, {rd(3, 2000, 1500)});
    l.save();
    // Booked after the last save, then the process dies without saving.
    l.tick(t0 + 2, 12 * kSec, {rd(3, 5000, 1700)});
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  {
    Recorder rec;
    Ledger l(options(), "boot-a", t0 + 60);
    // The kernel kept counting while netmon was down.
    l.tick(t0 + 60, 70 * kSec, {rd(3, 9000, 2000)}, &rec);
    ASSERT_FALSE(rec.notes.empty());
    EXPECT_EQ(rec.notes[0].kind, NoteKind::kRestartCredit);
    ASSERT_EQ(l.close(), SaveStatus::kOk);
  }
  Store s = Store::open(options().path, {}, t0);
  // Everything from the baseline (1000/1000) to the last reading, once.
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{8000, 80, 1000, 10}));
}

TEST_F(LedgerTest, RebootCreditsWhatWasCountedBeforeTheAgentStarted) {
  int64_t t0 = local("2026-11-30 12:00:00");
  {
    Ledger l(options(), "boot-a", t0);
    l.tick(t0, 10 * kSec, {rd(3, 100000, 100000)});
    l.tick(t0 + 1, 11 * kSec, {rd(3, 150000, 120000)});
  }  // destructor: close and save
  {
    Ledger l(options(), "boot-b", t0 + 600);
    // After the reboot: same ifindex, counters restarted from zero at boot.
    l.tick(t0 + 600, 30 * kSec, {rd(3, 7000, 3000)});
    l.tick(t0 + 601, 31 * kSec, {rd(3, 8000, 3100)});
  }
  Store s = Store::open(options().path, {}, t0);
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{58000, 580, 23100, 231}));
}

TEST_F(LedgerTest, HeldTrafficLandsInThePeriodItBelongsTo) {
  int64_t real = local("2026-11-30 12:00:00");
  Recorder rec;
  {
    Ledger l(options(), "boot-a", 30);
    // Booted in 1970; NTP sets the clock after 20 minutes of monotonic time.
    l.tick(30, 30 * kSec, {rd(3, 0, 0)}, &rec);
    l.tick(60, 60 * kSec, {rd(3, 4000, 2000)}, &rec);
    l.tick(90, 90 * kSec, {rd(3, 6000, 3000)}, &rec);
    l.tick(real, 1230 * kSec, {rd(3, 6500, 3100)}, &rec);
  }
  Store s = Store::open(options().path, {}, real);
  // The held readings were 1140 s before 12:00:00: 11:41:00, in 11:40.
  EXPECT_EQ(s.total(PeriodKind::kFiveMin, "wwan0", "2026-11-30T11:40"),
            (Counts{6000, 60, 3000, 30}));
  EXPECT_EQ(s.total(PeriodKind::kFiveMin, "wwan0", "2026-11-30T12:00"), (Counts{500, 5, 100, 1}));
  EXPECT_EQ(s.total(PeriodKind::kYear, "wwan0", "1970"), Counts{});
  EXPECT_EQ(s.rows(PeriodKind::kDay, "wwan0").size(), 1u);
}

TEST_F(LedgerTest, AClockTrustedBackAnHourLaterBooksTheEarlierDayBesideTheLaterOne) {
  int64_t t0 = local("2026-11-30 12:00:00");
  const int64_t back = local("2026-11-29 12:00:00");  // an NTP server ran it a day ahead
  LedgerOptions o = options();
  o.save_interval_s = 86400;  // everything below stays unsaved until close()
  {
    Ledger l(o, "boot-a", t0);
    l.tick(t0, 10 * kSec, {rd(3, 0, 0)});
    l.tick(t0 + 10, 20 * kSec, {rd(3, 1000, 100)});  // 2026-11-30
    l.tick(back, 30 * kSec, {rd(3, 3000, 300)});     // behind the newest booking: held
    EXPECT_EQ(l.pending_rows(), 5u);
    // Still back after an hour: trusted, the held traffic and what follows
    // go to 2026-11-29 while 2026-11-30's totals are unsaved beside them.
    l.tick(back + 3600, 3630 * kSec, {rd(3, 4000, 400)});
    l.tick(back + 3610, 3640 * kSec, {rd(3, 4500, 450)});
    EXPECT_EQ(l.usage("wwan0", PeriodKind::kDay, back + 3610), (Counts{3500, 35, 350, 3}));
    EXPECT_EQ(l.usage("wwan0", PeriodKind::kDay, t0), (Counts{1000, 10, 100, 1}));
    EXPECT_EQ(l.usage("wwan0", PeriodKind::kMonth, t0), (Counts{4500, 45, 450, 4}));
    EXPECT_GT(l.pending_rows(), 5u);
  }
  Store s = Store::open(options().path, {}, t0);
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{1000, 10, 100, 1}));
  EXPECT_EQ(s.total(PeriodKind::kDay, "wwan0", "2026-11-29"), (Counts{3500, 35, 350, 3}));
  EXPECT_EQ(s.total(PeriodKind::kMonth, "wwan0", "2026-11"), (Counts{4500, 45, 450, 4}));
  EXPECT_EQ(s.total(PeriodKind::kYear, "wwan0", "2026"), (Counts{4500, 45, 450, 4}));
}

TEST_F(LedgerTest, HeldTrafficIsSavedAtExitEvenIfTheClockNeverRecovers) {
  int64_t t0 = local("2026-11-30 12:00:00");
  {
    Ledger l(options(), "boot-a", t0);
    l.tick(t0, 10 * kSec, {rd(3, 0, 0)});
    l.tick(t0 + 10, 20 * kSec, {rd(3, 100, 100)});
    l.save();
    // The clock jumps back to 1970 (a battery-less RTC after a brownout).
    l.tick(5, 30 * kSec, {rd(3, 400, 200)});
    l.tick(6, 40 * kSec, {rd(3, 900, 300)});
  }
  Store s = Store::open(options().path, {}, t0);
  EXPECT_EQ(s.total(PeriodKind::kFiveMin, "wwan0", "2026-11-30T12:00"), (Counts{900, 9, 300, 3}));
  EXPECT_EQ(s.rows(PeriodKind::kYear, "wwan0").size(), 1u);
}

TEST_F(LedgerTest, FullDiskKeepsCountingAndRetries) {
  int64_t t0 = local("2026-11-30 12:00:00");
  Ledger l(options(), "boot-a", t0);
  // Many interfaces, so that the next save needs new pages in the file.
  auto readings = [](uint64_t rx, uint64_t tx) {
    std::vector<Reading> v{rd(3, rx, tx)};
    for (uint32_t i = 0; i < 200; ++i)
      v.push_back({"eth" + std::to_string(i), 10 + i, {rx, 1, tx, 1}});
    return v;
  };
  l.tick(t0, 10 * kSec, readings(0, 0));
  l.tick(t0 + 1, 11 * kSec, {rd(3, 100, 50)});
  ASSERT_EQ(l.save(), SaveStatus::kOk);
  l.mutable_store().set_max_page_count(1);  // no growth from here
  l.tick(t0 + 400, 410 * kSec, readings(300, 80));
  EXPECT_EQ(l.save(), SaveStatus::kFull);
  EXPECT_EQ(l.stats().failed_saves, 1u);
  EXPECT_EQ(l.pending_rows(), 201u * 5);
  l.tick(t0 + 401, 411 * kSec, readings(1000, 90));
  EXPECT_EQ(l.usage("wwan0", PeriodKind::kDay, t0 + 401), (Counts{1000, 10, 90, 0}));
  EXPECT_EQ(l.store().total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{100, 1, 50, 0}));
  l.mutable_store().set_max_page_count(0);
  ASSERT_EQ(l.save(), SaveStatus::kOk);
  EXPECT_EQ(l.pending_rows(), 0u);
  EXPECT_EQ(l.store().total(PeriodKind::kDay, "wwan0", "2026-11-30"), (Counts{1000, 10, 90, 0}));
  EXPECT_EQ(l.store().total(PeriodKind::kFiveMin, "wwan0", "2026-11-30T12:05"),
            (Counts{900, 9, 40, 0}));
  EXPECT_EQ(l.store().total(PeriodKind::kDay, "eth7", "2026-11-30"), (Counts{1000, 0, 90, 0}));
}

TEST_F(LedgerTest, QuotaAlertsOncePerThresholdAndPeriodAcrossRestarts) {
  int64_t t0 = local("2026-11-30 12:00:00");
  LedgerOptions o = options();
  std::string err;
  o.quotas = {*parse_quota("wwan0=10000/day", &err)};
  Recorder rec;
  {
    Ledger l(o, "boot-a", t0);
    l.tick(t0, 10 * kSec, {rd(3, 0, 0)}, &rec);
    l.tick(t0 + 1, 11 * kSec, {rd(3, 5000, 2999)}, &rec);
    EXPECT_TRUE(rec.alerts.empty());
    l.tick(t0 + 2, 12 * kSec, {rd(3, 5000, 3000)}, &rec);  // exactly 80 %
    ASSERT_EQ(rec.alerts.size(), 1u);
    EXPECT_EQ(rec.alerts[0].threshold, 80);
    EXPECT_EQ(rec.alerts[0].status.used, 8000u);
    EXPECT_EQ(rec.alerts[0].status.period, "2026-11-30");
    // The alert was saved at once.
    EXPECT_EQ(l.stats().saves, 1u);
    l.tick(t0 + 3, 13 * kSec, {rd(3, 5100, 3000)}, &rec);
    EXPECT_EQ(rec.alerts.size(), 1u);
    // 81 % to 105 % in one step: both thresholds, in order.
    l.tick(t0 + 4, 14 * kSec, {rd(3, 7500, 3000)}, &rec);
    ASSERT_EQ(rec.alerts.size(), 3u);
    EXPECT_EQ(rec.alerts[1].threshold, 90);
    EXPECT_EQ(rec.alerts[2].threshold, 100);
    auto st = l.quota_status("wwan0", t0 + 4);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->used, 10500u);
    EXPECT_EQ(st->projected, 20998u);  // 10500 * 86400 / 43204: about half the day gone
  }
  rec.alerts.clear();
  {
    Ledger l(o, "boot-a", t0 + 100);
    l.tick(t0 + 100, 110 * kSec, {rd(3, 8000, 3000)}, &rec);
    EXPECT_TRUE(rec.alerts.empty());
    EXPECT_EQ(l.usage("wwan0", PeriodKind::kDay, t0 + 100).rx_bytes, 8000u);
    // The next day starts over.
    int64_t next = local("2026-12-01 00:00:10");
    l.tick(next, 200 * kSec, {rd(3, 16000, 3000)}, &rec);
    ASSERT_EQ(rec.alerts.size(), 1u);
    EXPECT_EQ(rec.alerts[0].threshold, 80);
    EXPECT_EQ(rec.alerts[0].status.period, "2026-12-01");
  }
}

TEST_F(LedgerTest, BillingMonthStartsOnTheConfiguredDay) {
  LedgerOptions o = options();
  o.calendar.month_start_day = 15;
  int64_t t0 = local("2026-12-14 23:59:58");
  Ledger l(o, "boot-a", t0);
  l.tick(t0, 10 * kSec, {rd(3, 0, 0)});
  l.tick(t0 + 1, 11 * kSec, {rd(3, 100, 0)});
  l.tick(t0 + 3, 13 * kSec, {rd(3, 300, 0)});
  EXPECT_EQ(l.usage("wwan0", PeriodKind::kMonth, t0 + 3).rx_bytes, 200u);
  ASSERT_EQ(l.save(), SaveStatus::kOk);
  EXPECT_EQ(l.store().total(PeriodKind::kMonth, "wwan0", "2026-11-15").rx_bytes, 100u);
  EXPECT_EQ(l.store().total(PeriodKind::kMonth, "wwan0", "2026-12-15").rx_bytes, 200u);
}

TEST_F(LedgerTest, BerlinAutumnNightBooksTwentyFiveHours) {
  ScopedTz berlin("Europe/Berlin");
  int64_t t0 = local("2026-10-25 00:00:00");
  Ledger l(options(), "boot-a", t0);
  l.tick(t0, 0, {rd(3, 0, 0)});
  // One byte per hour for the 25 hours of the day, then one in the next day.
  for (int h = 1; h <= 26; ++h)
    l.tick(t0 + h * 3600 - 1, int64_t{h} * 3600 * kSec, {rd(3, static_cast<uint64_t>(h), 0)});
  ASSERT_EQ(l.save(), SaveStatus::kOk);
  EXPECT_EQ(l.store().total(PeriodKind::kDay, "wwan0", "2026-10-25").rx_bytes, 25u);
  EXPECT_EQ(l.store().total(PeriodKind::kDay, "wwan0", "2026-10-26").rx_bytes, 1u);
  // The repeated 02:xx hour shares its label: both hours' bytes.
  EXPECT_EQ(l.store().total(PeriodKind::kHour, "wwan0", "2026-10-25T02").rx_bytes, 2u);
  EXPECT_EQ(l.store().total(PeriodKind::kHour, "wwan0", "2026-10-25T03").rx_bytes, 1u);
}

TEST_F(LedgerTest, BadCalendarIsRejected) {
  LedgerOptions o = options();
  o.calendar.month_start_day = 31;
  try {
    Ledger l(o, "boot-a", 0);
    FAIL();
  } catch (const LedgerError& e) {
    EXPECT_EQ(std::string(e.what()),
              "month start day 31 is out of range (1..28: every month has that day)");
  }
}

}  // namespace
}  // namespace netmon::ledger
