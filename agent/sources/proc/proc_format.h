// The /proc/netmon text format written by netmon_proc.ko (kmod/netmon_proc.c):
//
//   # netmon 1
//   # iface ifindex rx_bytes rx_packets tx_bytes tx_packets rx_errors tx_errors ...
//   eth0 2 123 4 567 8 0 0 0 0
//
// The parser goes by the header, not by position: columns may come in any
// order and columns it does not know are skipped, so the module can add
// columns within format 1 without breaking older agents. A new major version
// is a deliberate break and is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"
#include "sys/error.h"

namespace netmon {

// The major format version this agent reads (NETMON_PROC_VERSION in abi.h).
inline constexpr int kProcFormatVersion = 1;

struct ProcRow {
  std::string name;
  int ifindex = 0;
  Counters counters;
};

// A file in a newer major format than kProcFormatVersion: the module was
// upgraded, and waiting will not make the file readable.
class ProcNewerFormat : public Error {
 public:
  using Error::Error;
};

// Parses a whole /proc/netmon text. Rows come back in file order; a
// duplicated ifindex is kept as is (seq_file may repeat a row when
// interfaces change between two read() chunks) and left to the caller.
// Throws Error "<origin>:<line>: <what is wrong>" for anything that is not a
// well-formed file: missing or unknown marker, a newer major version (as
// ProcNewerFormat), a header without a required column, a row with the wrong
// number of fields, a counter that is not a plain decimal or does not fit in
// 64 bits. Never guesses: a number it returns is exactly the number in the
// file.
std::vector<ProcRow> parse_proc_netmon(std::string_view text, std::string_view origin);

}  // namespace netmon
