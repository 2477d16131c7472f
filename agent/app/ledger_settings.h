// The usage ledger's settings from UCI (`config quota` sections and the
// ledger options of `config netmon`) merged into the command line's: the
// command line wins, per setting and, for quotas, per interface.
#pragma once

#include <string>
#include <vector>

#include "app/options.h"
#include "config/uci_ledger.h"

namespace netmon {

// Applies `uci` to `options` where the command line is silent. Throws
// UsageError("<where>:<line>: ...") (exit status 2) for a malformed value
// or quota section. Returns warnings for the caller to log (quotas that
// cannot apply because no ledger is configured).
std::vector<std::string> apply_uci_ledger_settings(const UciLedgerConfig& uci, Options& options);

}  // namespace netmon
