// The usage ledger's settings in netmon's UCI package (issue 14), as
// config/netmon.uci documents them: `option ledger`, `save_interval`,
// `month_start` and `quota_alerts` in a `config netmon` section, and one
// `config quota` section per metered interface.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/uci.h"

namespace netmon {

struct UciQuotaSection {
  int line = 0;  // the `config quota` line
  std::optional<UciValue> interface;
  std::optional<UciValue> limit;      // 20GiB, 5GB, bytes
  std::optional<UciValue> period;     // day | month (default month)
  std::optional<UciValue> direction;  // rx | tx | total (default total)
  std::optional<UciValue> alerts;     // 80,90,100: this quota's thresholds
};

struct UciLedgerConfig {
  std::string where;  // UciPackage::where
  std::optional<UciValue> ledger;
  std::optional<UciValue> save_interval;
  std::optional<UciValue> month_start;
  std::optional<UciValue> quota_alerts;
  std::vector<UciQuotaSection> quotas;  // in file order
};

// Takes the values as text (the caller parses them, with "<where>:<line>: "
// in its errors). Throws Error("<where>:<line>: ...") for a `config quota`
// section with an unknown option or a list, so a typo ("option limt") is
// not a quota silently without its limit. The last value of a repeated
// `netmon` option wins, as for interval and source.
UciLedgerConfig extract_ledger_config(const UciPackage& package);

}  // namespace netmon
