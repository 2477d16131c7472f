// Quotas for metered links: `IFACE=SIZE/PERIOD[:DIRECTION]`, thresholds, and
// the arithmetic of used / limit / percent / linear projection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/booking.h"
#include "ledger/period.h"

namespace netmon::ledger {

enum class Direction { kRx, kTx, kTotal };

struct Quota {
  std::string name;
  uint64_t limit = 0;                      // bytes
  PeriodKind period = PeriodKind::kMonth;  // kDay or kMonth
  Direction direction = Direction::kTotal;
  // Alert percentages of this quota (UCI `option alerts`); empty: the
  // ledger's (--quota-alerts).
  std::vector<int> thresholds;

  // Stable text naming the quota in the store, e.g. "21474836480/month:total":
  // a changed limit or direction is a new quota with its own alerts.
  std::string key() const;
};

// `wwan0=20GiB/month`, `eth0=5GB/day:tx`. Sizes: plain bytes, IEC
// (KiB MiB GiB TiB) or SI (kB/KB MB GB TB), optionally fractional
// (`1.5GiB`). On bad input: nullopt and a one-line reason in *error.
std::optional<Quota> parse_quota(std::string_view spec, std::string* error);
std::optional<uint64_t> parse_size(std::string_view text, std::string* error);
// `80,90,100`: integers 1..1000, returned sorted without duplicates.
std::optional<std::vector<int>> parse_thresholds(std::string_view text, std::string* error);

uint64_t used_bytes(const Counts& c, Direction d);
const char* direction_name(Direction d);

struct QuotaStatus {
  uint64_t used = 0;
  uint64_t limit = 0;
  double percent = 0;      // used / limit * 100
  uint64_t projected = 0;  // used, extrapolated linearly to the end of the period
  int64_t period_start = 0;
  int64_t period_end = 0;
  std::string period;  // label of the quota period
};

QuotaStatus evaluate(const Quota& q, const Counts& used_in_period, int64_t now,
                     const Calendar& cal);

// The smallest byte count at which `threshold` percent of `limit` is reached
// (exact, without overflow for any 64-bit limit).
uint64_t threshold_bytes(uint64_t limit, int threshold);

}  // namespace netmon::ledger
