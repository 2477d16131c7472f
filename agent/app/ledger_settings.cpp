#include "app/ledger_settings.h"

#include <charconv>

#include "config/duration.h"
#include "sys/error.h"

namespace netmon {
namespace {

std::string at(const std::string& where, int line) { return where + ":" + std::to_string(line); }

[[noreturn]] void bad(const std::string& where, const UciValue& v, const std::string& what) {
  throw UsageError(at(where, v.line) + ": " + what);
}

ledger::Quota quota_of(const std::string& where, const UciQuotaSection& s) {
  auto missing = [&](const char* option) {
    throw UsageError(at(where, s.line) + ": config quota needs option " + option);
  };
  if (!s.interface || s.interface->text.empty()) missing("interface");
  if (!s.limit || s.limit->text.empty()) missing("limit");
  const std::string period = s.period ? s.period->text : "month";
  const std::string direction = s.direction ? s.direction->text : "total";
  if (period != "day" && period != "month")
    bad(where, *s.period, "invalid quota period '" + period + "': expected day or month");
  if (direction != "rx" && direction != "tx" && direction != "total")
    bad(where, *s.direction,
        "invalid quota direction '" + direction + "': expected rx, tx or total");
  // One grammar for both places: the section is the --quota it stands for.
  const std::string spec = s.interface->text + "=" + s.limit->text + "/" + period + ":" + direction;
  std::string error;
  auto quota = ledger::parse_quota(spec, &error);
  if (!quota) bad(where, *s.limit, "invalid quota for '" + s.interface->text + "': " + error);
  if (s.alerts) {
    auto thresholds = ledger::parse_thresholds(s.alerts->text, &error);
    if (!thresholds)
      bad(where, *s.alerts, "invalid quota alerts '" + s.alerts->text + "': " + error);
    quota->thresholds = std::move(*thresholds);
  }
  return std::move(*quota);
}

}  // namespace

std::vector<std::string> apply_uci_ledger_settings(const UciLedgerConfig& uci, Options& options) {
  std::vector<std::string> warnings;
  const std::string& where = uci.where;
  // Everything is checked, used or not: a broken setting is reported the
  // day it is written, not the day the command line stops overriding it.
  std::optional<std::chrono::milliseconds> save_interval;
  if (uci.save_interval) {
    save_interval = parse_duration(uci.save_interval->text);
    if (!save_interval || *save_interval < std::chrono::seconds(1))
      bad(where, *uci.save_interval,
          "invalid save_interval '" + uci.save_interval->text +
              "': expected a duration of at least 1s, such as 30s or 15m");
  }
  int month_start = 0;
  if (uci.month_start) {
    const std::string& t = uci.month_start->text;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), month_start);
    if (ec != std::errc() || end != t.data() + t.size() || month_start < 1 || month_start > 28)
      bad(where, *uci.month_start,
          "invalid month_start '" + t + "': expected a day of the month, 1 to 28");
  }
  std::vector<int> alerts;
  if (uci.quota_alerts) {
    std::string error;
    auto parsed = ledger::parse_thresholds(uci.quota_alerts->text, &error);
    if (!parsed)
      bad(where, *uci.quota_alerts,
          "invalid quota_alerts '" + uci.quota_alerts->text + "': " + error);
    alerts = std::move(*parsed);
  }
  std::vector<ledger::Quota> quotas;
  for (const UciQuotaSection& s : uci.quotas) {
    ledger::Quota q = quota_of(where, s);
    for (const ledger::Quota& other : quotas)
      if (other.name == q.name)
        throw UsageError(at(where, s.line) + ": a second config quota for '" + q.name + "'");
    quotas.push_back(std::move(q));
  }

  if (uci.ledger && !uci.ledger->text.empty() && !options.ledger) options.ledger = uci.ledger->text;
  if (save_interval && !options.save_interval_given) options.save_interval = *save_interval;
  if (uci.month_start && !options.month_start_given) options.month_start = month_start;
  if (uci.quota_alerts && !options.quota_alerts_given) options.quota_alerts = alerts;
  for (ledger::Quota& q : quotas) {
    bool on_command_line = false;
    for (const ledger::Quota& given : options.quotas) on_command_line |= given.name == q.name;
    if (on_command_line) continue;
    if (!options.ledger) {
      warnings.push_back(where + ": config quota for '" + q.name +
                         "' ignored: no ledger (--ledger or option ledger)");
      continue;
    }
    options.quotas.push_back(std::move(q));
  }
  return warnings;
}

}  // namespace netmon
