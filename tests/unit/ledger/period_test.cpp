#include "ledger/period.h"

#include <gtest/gtest.h>

#include "ledger_test_util.h"

namespace netmon::ledger {
namespace {

using test::local;
using test::ScopedTz;

TEST(Period, LabelsInUtc) {
  ScopedTz tz("UTC");
  Calendar cal;
  int64_t t = local("2026-11-30 14:07:31");
  EXPECT_EQ(period_label(PeriodKind::kFiveMin, period_start(PeriodKind::kFiveMin, t, cal), cal),
            "2026-11-30T14:05");
  EXPECT_EQ(period_label(PeriodKind::kHour, period_start(PeriodKind::kHour, t, cal), cal),
            "2026-11-30T14");
  EXPECT_EQ(period_label(PeriodKind::kDay, period_start(PeriodKind::kDay, t, cal), cal),
            "2026-11-30");
  EXPECT_EQ(period_label(PeriodKind::kMonth, period_start(PeriodKind::kMonth, t, cal), cal),
            "2026-11");
  EXPECT_EQ(period_label(PeriodKind::kYear, period_start(PeriodKind::kYear, t, cal), cal), "2026");
  EXPECT_EQ(period_start(PeriodKind::kFiveMin, t, cal), local("2026-11-30 14:05:00"));
  EXPECT_EQ(period_end(PeriodKind::kFiveMin, period_start(PeriodKind::kFiveMin, t, cal), cal),
            local("2026-11-30 14:10:00"));
  EXPECT_EQ(period_end(PeriodKind::kYear, period_start(PeriodKind::kYear, t, cal), cal),
            local("2027-01-01 00:00:00"));
}

TEST(Period, MonthStartDayRunsToTheDayBeforeInTheNextMonth) {
  ScopedTz tz("UTC");
  Calendar cal;
  cal.month_start_day = 15;
  int64_t before = local("2026-11-14 23:59:59");
  int64_t on = local("2026-11-15 00:00:00");
  EXPECT_EQ(period_start(PeriodKind::kMonth, before, cal), local("2026-10-15 00:00:00"));
  EXPECT_EQ(period_label(PeriodKind::kMonth, period_start(PeriodKind::kMonth, before, cal), cal),
            "2026-10-15");
  EXPECT_EQ(period_start(PeriodKind::kMonth, on, cal), on);
  EXPECT_EQ(period_label(PeriodKind::kMonth, on, cal), "2026-11-15");
  EXPECT_EQ(period_end(PeriodKind::kMonth, on, cal), local("2026-12-15 00:00:00"));
  // Across the year: December 15th to January 14th.
  int64_t jan = local("2027-01-03 10:00:00");
  EXPECT_EQ(period_start(PeriodKind::kMonth, jan, cal), local("2026-12-15 00:00:00"));
  EXPECT_EQ(period_end(PeriodKind::kMonth, local("2026-12-15 00:00:00"), cal),
            local("2027-01-15 00:00:00"));
  // Day 28 exists in February.
  cal.month_start_day = 28;
  EXPECT_EQ(period_start(PeriodKind::kMonth, local("2027-03-01 00:00:00"), cal),
            local("2027-02-28 00:00:00"));
  EXPECT_EQ(period_end(PeriodKind::kMonth, local("2027-02-28 00:00:00"), cal),
            local("2027-03-28 00:00:00"));
}

TEST(Period, WeekStartIsConfigurable) {
  ScopedTz tz("UTC");
  Calendar monday;  // 2026-11-30 is a Monday
  Calendar sunday;
  sunday.week_start = 0;
  int64_t wed = local("2026-12-02 12:00:00");
  EXPECT_EQ(period_start(PeriodKind::kWeek, wed, monday), local("2026-11-30 00:00:00"));
  EXPECT_EQ(period_start(PeriodKind::kWeek, wed, sunday), local("2026-11-29 00:00:00"));
  EXPECT_EQ(period_label(PeriodKind::kWeek, local("2026-11-29 00:00:00"), sunday), "2026-11-29");
  EXPECT_EQ(period_end(PeriodKind::kWeek, local("2026-11-30 00:00:00"), monday),
            local("2026-12-07 00:00:00"));
  // The start day itself belongs to its own week.
  EXPECT_EQ(period_start(PeriodKind::kWeek, local("2026-11-30 00:00:00"), monday),
            local("2026-11-30 00:00:00"));
}

TEST(Period, BerlinDaysAcrossDstAreLocalDays) {
  ScopedTz tz("Europe/Berlin");
  Calendar cal;
  // 2026-03-29: clocks go from 02:00 to 03:00, a 23-hour day.
  int64_t spring = local("2026-03-29 12:00:00");
  int64_t s = period_start(PeriodKind::kDay, spring, cal);
  EXPECT_EQ(s, local("2026-03-29 00:00:00"));
  EXPECT_EQ(period_end(PeriodKind::kDay, s, cal) - s, 23 * 3600);
  // 2026-10-25: clocks go from 03:00 back to 02:00, a 25-hour day.
  int64_t autumn = local("2026-10-25 12:00:00");
  s = period_start(PeriodKind::kDay, autumn, cal);
  EXPECT_EQ(period_end(PeriodKind::kDay, s, cal) - s, 25 * 3600);
  EXPECT_EQ(period_label(PeriodKind::kDay, s, cal), "2026-10-25");
  // In UTC, local midnight of that day is 22:00 the evening before (CEST, +2).
  EXPECT_EQ(s, 1792879200);
  // The hour after the change: 03:30 CET is 02:30 UTC.
  int64_t h = period_start(PeriodKind::kHour, local("2026-10-25 03:30:00"), cal);
  EXPECT_EQ(period_label(PeriodKind::kHour, h, cal), "2026-10-25T03");
  EXPECT_EQ(h, local("2026-10-25 03:00:00"));
  // Both 02:xx hours of that night are labelled T02 and are an hour apart.
  int64_t first = period_start(PeriodKind::kHour, local("2026-10-25 02:10:00", 1), cal);
  int64_t second = period_start(PeriodKind::kHour, local("2026-10-25 02:10:00", 0), cal);
  EXPECT_EQ(second - first, 3600);
  EXPECT_EQ(period_label(PeriodKind::kHour, first, cal), "2026-10-25T02");
  EXPECT_EQ(period_label(PeriodKind::kHour, second, cal), "2026-10-25T02");
  // A month containing the change is still a calendar month.
  int64_t m = period_start(PeriodKind::kMonth, autumn, cal);
  EXPECT_EQ(period_label(PeriodKind::kMonth, m, cal), "2026-10");
  EXPECT_EQ(period_end(PeriodKind::kMonth, m, cal) - m, 31 * 86400 + 3600);
}

TEST(Period, SameInstantDifferentZonesDifferentDays) {
  Calendar cal;
  int64_t t = 1796079600;  // 2026-11-30 23:00:00 UTC
  {
    ScopedTz tz("UTC");
    EXPECT_EQ(period_label(PeriodKind::kDay, period_start(PeriodKind::kDay, t, cal), cal),
              "2026-11-30");
  }
  {
    ScopedTz tz("Europe/Berlin");
    EXPECT_EQ(period_label(PeriodKind::kDay, period_start(PeriodKind::kDay, t, cal), cal),
              "2026-12-01");
    EXPECT_EQ(period_label(PeriodKind::kMonth, period_start(PeriodKind::kMonth, t, cal), cal),
              "2026-12");
  }
}

TEST(Period, ValidateRejectsOutOfRange) {
  Calendar cal;
  EXPECT_FALSE(validate(cal));
  cal.month_start_day = 29;
  EXPECT_EQ(validate(cal).value_or(""),
            "month start day 29 is out of range (1..28: every month has that day)");
  cal.month_start_day = 0;
  EXPECT_TRUE(validate(cal));
  cal = Calendar{};
  cal.week_start = 7;
  EXPECT_TRUE(validate(cal));
}

}  // namespace
}  // namespace netmon::ledger
