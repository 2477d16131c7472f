#include "ledger/period.h"

#include <ctime>

namespace netmon::ledger {
namespace {

struct tm local_tm(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  localtime_r(&tt, &tm);
  return tm;
}

// mktime normalises out-of-range fields (day 32, month 12), which is what
// makes "next month" and "previous day" arithmetic safe across DST changes.
int64_t local_midnight(int year, int mon, int mday) {
  struct tm tm {};
  tm.tm_year = year;
  tm.tm_mon = mon;
  tm.tm_mday = mday;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm));
}

std::string format(int64_t t, const char* fmt) {
  struct tm tm = local_tm(t);
  char buf[32];
  size_t n = strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

}  // namespace

std::string utc_text(int64_t t, const char* fmt) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  size_t n = strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

int64_t period_start(PeriodKind kind, int64_t t, const Calendar& cal) {
  struct tm tm = local_tm(t);
  switch (kind) {
    case PeriodKind::kFiveMin:
      // From the local broken-down time, not t % 300: every zone offset in
      // use is a multiple of five minutes, but this does not depend on it.
      return t - (tm.tm_min % 5) * 60 - tm.tm_sec;
    case PeriodKind::kHour:
      return t - tm.tm_min * 60 - tm.tm_sec;
    case PeriodKind::kDay:
      return local_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday);
    case PeriodKind::kWeek: {
      int back = (tm.tm_wday - cal.week_start + 7) % 7;
      return local_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday - back);
    }
    case PeriodKind::kMonth:
      if (tm.tm_mday >= cal.month_start_day)
        return local_midnight(tm.tm_year, tm.tm_mon, cal.month_start_day);
      return local_midnight(tm.tm_year, tm.tm_mon - 1, cal.month_start_day);
    case PeriodKind::kYear:
      return local_midnight(tm.tm_year, 0, 1);
  }
  return t;
}

int64_t period_end(PeriodKind kind, int64_t start, const Calendar& cal) {
  struct tm tm = local_tm(start);
  switch (kind) {
    case PeriodKind::kFiveMin:
      return start + 300;
    case PeriodKind::kHour:
      return start + 3600;
    case PeriodKind::kDay:
      return local_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday + 1);
    case PeriodKind::kWeek:
      return local_midnight(tm.tm_year, tm.tm_mon, tm.tm_mday + 7);
    case PeriodKind::kMonth:
      return local_midnight(tm.tm_year, tm.tm_mon + 1, cal.month_start_day);
    case PeriodKind::kYear:
      return local_midnight(tm.tm_year + 1, 0, 1);
  }
  return start;
}

std::string period_label(PeriodKind kind, int64_t start, const Calendar& cal) {
  switch (kind) {
    case PeriodKind::kFiveMin:
      return format(start, "%Y-%m-%dT%H:%M");
    case PeriodKind::kHour:
      return format(start, "%Y-%m-%dT%H");
    case PeriodKind::kDay:
    case PeriodKind::kWeek:
      return format(start, "%Y-%m-%d");
    case PeriodKind::kMonth:
      return format(start, cal.month_start_day == 1 ? "%Y-%m" : "%Y-%m-%d");
    case PeriodKind::kYear:
      return format(start, "%Y");
  }
  return {};
}

const char* period_name(PeriodKind kind) {
  switch (kind) {
    case PeriodKind::kFiveMin:
      return "fivemin";
    case PeriodKind::kHour:
      return "hour";
    case PeriodKind::kDay:
      return "day";
    case PeriodKind::kWeek:
      return "week";
    case PeriodKind::kMonth:
      return "month";
    case PeriodKind::kYear:
      return "year";
  }
  return "?";
}

std::optional<std::string> validate(const Calendar& cal) {
  if (cal.month_start_day < 1 || cal.month_start_day > 28)
    return "month start day " + std::to_string(cal.month_start_day) +
           " is out of range (1..28: every month has that day)";
  if (cal.week_start < 0 || cal.week_start > 6)
    return "week start " + std::to_string(cal.week_start) +
           " is out of range (0 = Sunday .. 6 = Saturday)";
  return std::nullopt;
}

}  // namespace netmon::ledger
