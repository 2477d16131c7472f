// Accounting periods in the system's local time zone (TZ, as the C library
// sees it), shaped like a bill: a month may start on day 1..28, a week on any
// weekday. Times are Unix seconds; a period is named by its start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netmon::ledger {

enum class PeriodKind { kFiveMin, kHour, kDay, kWeek, kMonth, kYear };

struct Calendar {
  int month_start_day = 1;  // 1..28: a month starting on day D runs D .. D-1 of the next
  int week_start = 1;       // 0 = Sunday .. 6 = Saturday
};

// Start of the period that contains t.
int64_t period_start(PeriodKind kind, int64_t t, const Calendar& cal);
// Start of the period after the one that starts at `start` (its exclusive end).
int64_t period_end(PeriodKind kind, int64_t start, const Calendar& cal);
// `2026-11-30T14:05` (five minutes), `2026-11-30T14` (hour), `2026-11-30`
// (day, week: its first day), `2026-11` (month starting on day 1) or its start
// date `2026-11-15` (other start days), `2026` (year). Labels of one kind sort
// chronologically as strings.
std::string period_label(PeriodKind kind, int64_t start, const Calendar& cal);

// `t` (Unix seconds) in UTC through strftime's `fmt`: stamps in messages and
// file names, which must not depend on the zone the periods are kept in.
std::string utc_text(int64_t t, const char* fmt);

// "fivemin", "hour", "day", "week", "month", "year".
const char* period_name(PeriodKind kind);

// Month start day or week start out of range: a one-line reason.
std::optional<std::string> validate(const Calendar& cal);

}  // namespace netmon::ledger
