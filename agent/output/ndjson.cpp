#include "output/ndjson.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>

#include "output/json_writer.h"
#include "sys/error.h"

namespace netmon {
namespace {

struct CounterField {
  const char* key;
  uint64_t Counters::*field;
};
constexpr CounterField kCounterFields[] = {{"rx_bytes", &Counters::rx_bytes},
                                           {"rx_packets", &Counters::rx_packets},
                                           {"tx_bytes", &Counters::tx_bytes},
                                           {"tx_packets", &Counters::tx_packets}};

struct RateField {
  const char* key;
  double Rates::*field;
};
constexpr RateField kRateFields[] = {{"rx_bps", &Rates::rx_bps},
                                     {"tx_bps", &Rates::tx_bps},
                                     {"rx_pps", &Rates::rx_pps},
                                     {"tx_pps", &Rates::tx_pps}};

// Rendered into `out` with the constant keys as literals: with the ledger,
// these two objects doubled the snapshot line, and key by key through the
// writer they cost more than booking the readings. The bytes are the
// writer's (tests/unit/ledger_wiring_test.cpp checks the whole line).
void append_counts(std::string& out, std::string_view head, const std::string& period,
                   const Counters& counts) {
  out += head;  // "day":{"period":
  append_json_string(out, period);
  out += ",\"rx_bytes\":";
  append_json_uint(out, counts.rx_bytes);
  out += ",\"rx_packets\":";
  append_json_uint(out, counts.rx_packets);
  out += ",\"tx_bytes\":";
  append_json_uint(out, counts.tx_bytes);
  out += ",\"tx_packets\":";
  append_json_uint(out, counts.tx_packets);
  out += '}';
}

// Only with --ledger: without it the line stays as it always was.
void write_usage(JsonWriter& json, std::string& out, const InterfaceUsage& usage) {
  json.key("usage").raw("");  // the writer's comma and key; the object goes straight to `out`
  std::string& scratch = out;
  append_counts(scratch, "{\"day\":{\"period\":", usage.day, usage.today);
  append_counts(scratch, ",\"month\":{\"period\":", usage.month, usage.this_month);
  if (usage.quota) {
    // One per --quota: through the writer.
    scratch += ",\"quota\":";
    JsonWriter quota(scratch);
    const QuotaUsage& q = *usage.quota;
    quota.begin_object();
    quota.key("period").value(q.period);
    quota.key("kind").value(q.kind);
    quota.key("direction").value(q.direction);
    quota.key("used_bytes").value(q.used);
    quota.key("limit_bytes").value(q.limit);
    quota.key("percent").value_whole_as_integer(std::round(q.percent * 100) / 100);
    quota.key("projected_bytes").value(q.projected);
    quota.end_object();
  }
  scratch += '}';
}

}  // namespace

std::string to_ndjson(const Snapshot& snapshot) {
  // Streamed, keys in the documented order: a DOM (nlohmann's ordered_json,
  // with its linear key lookup) cost ~20x more at 1,000 interfaces.
  std::string line;
  // With the ledger's usage (about 200 bytes more) a line sized for the
  // counters alone was copied again as it grew.
  const bool usage = !snapshot.interfaces.empty() && snapshot.interfaces.front().usage;
  line.reserve(128 + snapshot.interfaces.size() * (usage ? 448 : 200));
  JsonWriter json(line);
  json.begin_object();
  json.key("source").value(snapshot.source);
  json.key("seq").value(snapshot.seq);
  json.key("ts_ms").value(snapshot.ts_ms);
  json.key("interval_ms").value(snapshot.interval_ms);
  json.key("interfaces").begin_object();
  for (const InterfaceSnapshot& entry : snapshot.interfaces) {
    json.key(entry.link.name).begin_object();
    json.key("ifindex").value(entry.link.ifindex);
    for (const CounterField& c : kCounterFields) json.key(c.key).value(entry.totals.*c.field);
    // Whole rates print as integers ("rx_bps":0); after the snapshot's
    // rounding the others have at most three decimals ("rx_pps":0.333).
    for (const RateField& r : kRateFields)
      json.key(r.key).value_whole_as_integer(entry.rates.*r.field);
    if (entry.usage) write_usage(json, line, *entry.usage);
    json.end_object();
  }
  json.end_object();
  json.end_object();
  line += '\n';
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
