#include "json_output.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "error.h"

namespace netmon {
namespace {

void append_uint(std::string& out, uint64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void append_int(std::string& out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

// Whole rates print as integers ("rx_bps":0), fractional ones as decimals
// formatted by nlohmann, as before.
void append_rate(std::string& out, double value) {
  if (value >= 0 && value < 9.0e15 && value == static_cast<double>(static_cast<uint64_t>(value)))
    append_uint(out, static_cast<uint64_t>(value));
  else
    out += nlohmann::json(value).dump();
}

// A JSON string. Names are printable ASCII in practice and copied as they
// are; anything else (quotes, control bytes, invalid UTF-8) goes through
// nlohmann's escaping with U+FFFD for bad bytes, so the output is unchanged.
void append_string(std::string& out, const std::string& text) {
  bool plain = true;
  for (unsigned char c : text) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string to_ndjson(const Snapshot& snapshot) {
  // Written directly, keys in the documented order: a DOM (nlohmann's
  // ordered_json, with its linear key lookup) cost ~20x more at 1,000
  // interfaces.
  std::string line;
  line.reserve(128 + snapshot.interfaces.size() * 200);
  line += "{\"source\":";
  append_string(line, snapshot.source);
  line += ",\"seq\":";
  append_uint(line, snapshot.seq);
  line += ",\"ts_ms\":";
  append_int(line, snapshot.ts_ms);
  line += ",\"interval_ms\":";
  append_int(line, snapshot.interval_ms);
  line += ",\"interfaces\":{";
  bool first = true;
  for (const InterfaceSnapshot& entry : snapshot.interfaces) {
    if (!first) line += ',';
    first = false;
    append_string(line, entry.link.name);
    line += ":{\"ifindex\":";
    append_int(line, entry.link.ifindex);
    line += ",\"rx_bytes\":";
    append_uint(line, entry.totals.rx_bytes);
    line += ",\"rx_packets\":";
    append_uint(line, entry.totals.rx_packets);
    line += ",\"tx_bytes\":";
    append_uint(line, entry.totals.tx_bytes);
    line += ",\"tx_packets\":";
    append_uint(line, entry.totals.tx_packets);
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
