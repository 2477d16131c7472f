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

void write_counts(JsonWriter& json, const char* key, const std::string& period,
                  const Counters& counts) {
  json.key(key).begin_object();
  json.key("period").value(period);
  for (const CounterField& c : kCounterFields) json.key(c.key).value(counts.*c.field);
  json.end_object();
}

// Only with --ledger: without it the line stays as it always was.
void write_usage(JsonWriter& json, const InterfaceUsage& usage) {
  json.key("usage").begin_object();
  write_counts(json, "day", usage.day, usage.today);
  write_counts(json, "month", usage.month, usage.this_month);
  if (usage.quota) {
    const QuotaUsage& q = *usage.quota;
    json.key("quota").begin_object();
    json.key("period").value(q.period);
    json.key("kind").value(q.kind);
    json.key("direction").value(q.direction);
    json.key("used_bytes").value(q.used);
    json.key("limit_bytes").value(q.limit);
    json.key("percent").value_whole_as_integer(std::round(q.percent * 100) / 100);
    json.key("projected_bytes").value(q.projected);
    json.end_object();
  }
  json.end_object();
}

}  // namespace

std::string to_ndjson(const Snapshot& snapshot) {
  // Streamed, keys in the documented order: a DOM (nlohmann's ordered_json,
  // with its linear key lookup) cost ~20x more at 1,000 interfaces.
  std::string line;
  line.reserve(128 + snapshot.interfaces.size() * 200);
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
    if (entry.usage) write_usage(json, *entry.usage);
    json.end_object();
  }
  json.end_object();
  // Last, and only from a source that reports it (bpf with legacy tc), so
  // every other line stays as it was.
  if (snapshot.health) {
    json.key("health").begin_object();
    json.key("tc_preempted").value(snapshot.health->tc_preempted);
    json.key("tc_preempted_seconds")
        .value_whole_as_integer(std::round(snapshot.health->tc_preempted_seconds * 1e6) / 1e6);
    json.end_object();
  }
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
