#include "config/uci_ledger.h"

#include "sys/error.h"

namespace netmon {
namespace {

std::string at(const std::string& where, int line) { return where + ":" + std::to_string(line); }

std::optional<UciValue> last_value(const UciSection& s, const char* name) {
  const UciOption* o = s.find(name);
  if (!o || o->values.empty()) return std::nullopt;
  return o->values.back();
}

}  // namespace

UciLedgerConfig extract_ledger_config(const UciPackage& package) {
  UciLedgerConfig out;
  out.where = package.where;
  for (const UciSection& s : package.sections) {
    if (s.type == "netmon") {
      if (auto v = last_value(s, "ledger")) out.ledger = v;
      if (auto v = last_value(s, "save_interval")) out.save_interval = v;
      if (auto v = last_value(s, "month_start")) out.month_start = v;
      if (auto v = last_value(s, "quota_alerts")) out.quota_alerts = v;
      continue;
    }
    if (s.type != "quota") continue;
    UciQuotaSection q;
    q.line = s.line;
    for (const UciOption& o : s.options) {
      std::optional<UciValue>* slot = o.name == "interface"   ? &q.interface
                                      : o.name == "limit"     ? &q.limit
                                      : o.name == "period"    ? &q.period
                                      : o.name == "direction" ? &q.direction
                                      : o.name == "alerts"    ? &q.alerts
                                                              : nullptr;
      int line = o.values.empty() ? s.line : o.values.front().line;
      if (!slot)
        throw Error(at(package.where, line) + ": unknown option '" + o.name +
                    "' in config quota: expected interface, limit, period, direction or alerts");
      if (o.is_list)
        throw Error(at(package.where, line) + ": '" + o.name +
                    "' in config quota is one value: use option, not list");
      if (!o.values.empty()) *slot = o.values.back();
    }
    out.quotas.push_back(std::move(q));
  }
  return out;
}

}  // namespace netmon
