#include "output/ndjson.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>

#include "output/json_writer.h"
#include "sys/error.h"

namespace netmon {
namespace {

// Rates print as integers when whole ("rx_bps":0), else in the writer's
// shortest form, which after the snapshot's rounding has at most three
// decimals ("rx_bps":1234.567).
void append_rate(std::string& out, double value) {
  if (value >= 0 && value < 9.0e15 && value == static_cast<double>(static_cast<uint64_t>(value)))
    append_json_uint(out, static_cast<uint64_t>(value));
  else
    append_json_double(out, value);
}

}  // namespace

std::string to_ndjson(const Snapshot& snapshot) {
  // Written directly, keys in the documented order: a DOM (nlohmann's
  // ordered_json, with its linear key lookup) cost ~20x more at 1,000
  // interfaces.
  std::string line;
  line.reserve(128 + snapshot.interfaces.size() * 200);
  line += "{\"source\":";
  append_json_string(line, snapshot.source);
  line += ",\"seq\":";
  append_json_uint(line, snapshot.seq);
  line += ",\"ts_ms\":";
  append_json_int(line, snapshot.ts_ms);
  line += ",\"interval_ms\":";
  append_json_int(line, snapshot.interval_ms);
  line += ",\"interfaces\":{";
  bool first = true;
  for (const InterfaceSnapshot& entry : snapshot.interfaces) {
    if (!first) line += ',';
    first = false;
    append_json_string(line, entry.link.name);
    line += ":{\"ifindex\":";
    append_json_int(line, entry.link.ifindex);
    line += ",\"rx_bytes\":";
    append_json_uint(line, entry.totals.rx_bytes);
    line += ",\"rx_packets\":";
    append_json_uint(line, entry.totals.rx_packets);
    line += ",\"tx_bytes\":";
    append_json_uint(line, entry.totals.tx_bytes);
    line += ",\"tx_packets\":";
    append_json_uint(line, entry.totals.tx_packets);
    line += ",\"rx_bps\":";
    append_rate(line, entry.rates.rx_bps);
    line += ",\"tx_bps\":";
    append_rate(line, entry.rates.tx_bps);
    line += ",\"rx_pps\":";
    append_rate(line, entry.rates.rx_pps);
    line += ",\"tx_pps\":";
    append_rate(line, entry.rates.tx_pps);
    line += '}';
  }
  line += "}}\n";
  return line;
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
