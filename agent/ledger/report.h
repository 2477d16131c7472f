// `--report PERIOD [--json] [IFACE...]`: the books for people (vnstat -d / -m
// / -h style tables) or for programs (JSON with exact integers).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "ledger/booking.h"
#include "ledger/period.h"
#include "ledger/store.h"

namespace netmon::ledger {

struct ReportOptions {
  std::string period;  // fivemin, hours, days, months, years, top
  bool json = false;
  std::vector<std::string> interfaces;  // empty: every interface in the ledger
  Calendar calendar;                    // which month is current, for its estimate
  int64_t now = 0;
  size_t top = 10;  // rows of `top` (the busiest days)
};

// Writes the report to `out`. False, with a one-line reason in *error, for an
// unknown PERIOD or an interface the ledger does not know.
bool write_report(const Store& store, const ReportOptions& opts, std::ostream& out,
                  std::string* error);

// 1536 -> "1.50 KiB"; below 1 KiB "512 B".
std::string human_bytes(uint64_t bytes);

}  // namespace netmon::ledger
