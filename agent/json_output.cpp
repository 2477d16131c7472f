#include "json_output.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "error.h"

namespace netmon {
namespace {

// Whole rates print as integers ("rx_bps":0), fractional ones as decimals.
nlohmann::ordered_json rate(double value) {
  if (value >= 0 && value < 9.0e15 && value == static_cast<double>(static_cast<uint64_t>(value)))
    return static_cast<uint64_t>(value);
  return value;
}

}  // namespace

std::string to_ndjson(const Snapshot& snapshot) {
  // ordered_json keeps the documented key order (source, seq, ts_ms, ...).
  nlohmann::ordered_json interfaces = nlohmann::ordered_json::object();
  for (const InterfaceSnapshot& entry : snapshot.interfaces) {
    interfaces[entry.link.name] = {
        {"ifindex", entry.link.ifindex},         {"rx_bytes", entry.totals.rx_bytes},
        {"rx_packets", entry.totals.rx_packets}, {"tx_bytes", entry.totals.tx_bytes},
        {"tx_packets", entry.totals.tx_packets}, {"rx_bps", rate(entry.rates.rx_bps)},
        {"tx_bps", rate(entry.rates.tx_bps)},    {"rx_pps", rate(entry.rates.rx_pps)},
        {"tx_pps", rate(entry.rates.tx_pps)},
    };
  }
  nlohmann::ordered_json line = {
      {"source", snapshot.source},
      {"seq", snapshot.seq},
      {"ts_ms", snapshot.ts_ms},
      {"interval_ms", snapshot.interval_ms},
      {"interfaces", std::move(interfaces)},
  };
  // Interface names are bytes; never let an odd one abort the agent.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool write_line(int fd, const std::string& line) {
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return false;
      throw Error(errno_message("cannot write to stdout", errno));
    }
    written += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace netmon
