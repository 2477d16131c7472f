#include "ledger/quota.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace netmon::ledger {
namespace {

struct Unit {
  const char* suffix;
  uint64_t factor;
};

// Longest suffixes first so "KiB" is not read as "B".
const Unit kUnits[] = {
    {"KiB", uint64_t{1} << 10},
    {"MiB", uint64_t{1} << 20},
    {"GiB", uint64_t{1} << 30},
    {"TiB", uint64_t{1} << 40},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000000},
    {"GB", 1000000000},
    {"TB", 1000000000000},
    {"B", 1},
};

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

std::string Quota::key() const {
  return std::to_string(limit) + "/" + period_name(period) + ":" + direction_name(direction);
}

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::kRx:
      return "rx";
    case Direction::kTx:
      return "tx";
    case Direction::kTotal:
      return "total";
  }
  return "?";
}

uint64_t used_bytes(const Counts& c, Direction d) {
  switch (d) {
    case Direction::kRx:
      return c.rx_bytes;
    case Direction::kTx:
      return c.tx_bytes;
    case Direction::kTotal:
      return c.rx_bytes + c.tx_bytes;
  }
  return 0;
}

std::optional<uint64_t> parse_size(std::string_view text, std::string* error) {
  size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
    ++digits;
  std::string_view number = text.substr(0, digits), suffix = text.substr(digits);
  uint64_t factor = 0;
  if (suffix.empty()) factor = 1;
  for (const Unit& u : kUnits)
    if (suffix == u.suffix) factor = u.factor;
  if (number.empty() || factor == 0 || std::count(number.begin(), number.end(), '.') > 1 ||
      number.front() == '.' || number.back() == '.') {
    *error = "bad size " + quoted(text) +
             ": expected a number with an optional unit (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB)";
    return std::nullopt;
  }
  size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  uint64_t value = 0;
  for (char ch : whole) {
    if (value > (std::numeric_limits<uint64_t>::max() - 9) / 10) {
      *error = "size " + quoted(text) + " is too large";
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (value > std::numeric_limits<uint64_t>::max() / factor) {
    *error = "size " + quoted(text) + " is too large";
    return std::nullopt;
  }
  uint64_t bytes = value * factor;
  if (dot != std::string_view::npos) {
    // The fraction exactly (1.5GiB is 1610612736 bytes), rounded down to a
    // whole byte; six digits keep the product within 64 bits.
    std::string_view frac = number.substr(dot + 1);
    if (frac.size() > 6) {
      *error = "size " + quoted(text) + " has more than six decimals";
      return std::nullopt;
    }
    uint64_t num = 0, den = 1;
    for (char ch : frac) {
      num = num * 10 + static_cast<uint64_t>(ch - '0');
      den *= 10;
    }
    uint64_t add = num * factor / den;
    if (bytes > std::numeric_limits<uint64_t>::max() - add) {
      *error = "size " + quoted(text) + " is too large";
      return std::nullopt;
    }
    bytes += add;
  }
  if (bytes == 0) {
    *error = "size " + quoted(text) + " must be more than zero";
    return std::nullopt;
  }
  return bytes;
}

std::optional<Quota> parse_quota(std::string_view spec, std::string* error) {
  size_t eq = spec.find('=');
  size_t slash = spec.find('/', eq == std::string_view::npos ? 0 : eq);
  if (eq == std::string_view::npos || eq == 0 || slash == std::string_view::npos) {
    *error = "bad quota " + quoted(spec) +
             ": expected IFACE=SIZE/PERIOD[:DIRECTION], e.g. wwan0=20GiB/month or eth0=5GB/day:tx";
    return std::nullopt;
  }
  Quota q;
  q.name = std::string(spec.substr(0, eq));
  if (q.name.size() > 15) {
    *error = "bad quota " + quoted(spec) + ": interface name longer than 15 characters";
    return std::nullopt;
  }
  std::string why;
  auto size = parse_size(spec.substr(eq + 1, slash - eq - 1), &why);
  if (!size) {
    *error = "bad quota " + quoted(spec) + ": " + why;
    return std::nullopt;
  }
  q.limit = *size;
  std::string_view rest = spec.substr(slash + 1);
  size_t colon = rest.find(':');
  std::string_view period = rest.substr(0, colon);
  if (period == "day") {
    q.period = PeriodKind::kDay;
  } else if (period == "month") {
    q.period = PeriodKind::kMonth;
  } else {
    *error = "bad quota " + quoted(spec) + ": period " + quoted(period) + " is not day or month";
    return std::nullopt;
  }
  if (colon != std::string_view::npos) {
    std::string_view dir = rest.substr(colon + 1);
    if (dir == "rx") {
      q.direction = Direction::kRx;
    } else if (dir == "tx") {
      q.direction = Direction::kTx;
    } else if (dir == "total") {
      q.direction = Direction::kTotal;
    } else {
      *error =
          "bad quota " + quoted(spec) + ": direction " + quoted(dir) + " is not rx, tx or total";
      return std::nullopt;
    }
  }
  return q;
}

std::optional<std::vector<int>> parse_thresholds(std::string_view text, std::string* error) {
  std::vector<int> out;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma - pos);
    int v = 0;
    bool ok = !item.empty() && item.size() <= 4;
    for (char ch : item) {
      if (ch < '0' || ch > '9') ok = false;
      v = v * 10 + (ch - '0');
    }
    if (!ok || v < 1 || v > 1000) {
      *error = "bad quota threshold " + quoted(item) + " in " + quoted(text) +
               ": expected percentages 1..1000 separated by commas, e.g. 80,90,100";
      return std::nullopt;
    }
    out.push_back(v);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

uint64_t threshold_bytes(uint64_t limit, int threshold) {
  // ceil(limit * t / 100) without a 128-bit product (32-bit targets have none).
  uint64_t t = static_cast<uint64_t>(threshold);
  uint64_t hi = limit / 100, lo = limit % 100;
  long double whole = static_cast<long double>(hi) * t;
  if (whole > static_cast<long double>(std::numeric_limits<uint64_t>::max()))
    return std::numeric_limits<uint64_t>::max();
  return hi * t + (lo * t + 99) / 100;
}

QuotaStatus evaluate(const Quota& q, const Counts& used_in_period, int64_t now,
                     const Calendar& cal) {
  QuotaStatus s;
  s.used = used_bytes(used_in_period, q.direction);
  s.limit = q.limit;
  s.percent = q.limit ? static_cast<double>(s.used) * 100.0 / static_cast<double>(q.limit) : 0;
  s.period_start = period_start(q.period, now, cal);
  s.period_end = period_end(q.period, s.period_start, cal);
  s.period = period_label(q.period, s.period_start, cal);
  int64_t elapsed = std::max<int64_t>(now - s.period_start, 1);
  int64_t length = s.period_end - s.period_start;
  long double proj = static_cast<long double>(s.used) * length / elapsed;
  s.projected = proj >= static_cast<long double>(std::numeric_limits<uint64_t>::max())
                    ? std::numeric_limits<uint64_t>::max()
                    : static_cast<uint64_t>(proj);
  return s;
}

}  // namespace netmon::ledger
