#include "output/ndjson.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

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

// Rendered with the constant text as literals into a buffer appended at
// once: with the ledger these objects double the snapshot line, and key by
// key through the writer (or append by append) they cost more than booking
// the readings. The bytes are the writer's (tests/unit/ledger_wiring_test.cpp
// checks the whole line against nlohmann's).
char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}
char* put(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }

// The text around an interface's usage figures: the same for every
// interface (the periods are the line's, in "usage_periods").
constexpr std::string_view kDayHead = "\"usage\":{\"day\":{\"rx_bytes\":";
constexpr std::string_view kMonthHead = "},\"month\":{\"rx_bytes\":";
constexpr std::string_view kTxKey = ",\"tx_bytes\":";
// Both heads, four numbers of up to 20 digits, two tx keys, two braces.
constexpr size_t kUsageMax = kDayHead.size() + kMonthHead.size() + 4 * 20 + 2 * kTxKey.size() + 2;

char* put_bytes(char* p, const UsageBytes& bytes) {
  p = put(p, bytes.rx_bytes);
  p = put(p, kTxKey);
  return put(p, bytes.tx_bytes);
}

// Only with --ledger: without it the line stays as it always was.
void write_usage(JsonWriter& json, std::string& out, const InterfaceUsage& usage) {
  char buffer[kUsageMax];
  char* const start = buffer;
  char* p = put(start, kDayHead);
  p = put_bytes(p, usage.today);
  p = put(p, kMonthHead);
  p = put_bytes(p, usage.this_month);
  *p++ = '}';
  if (!usage.quota) *p++ = '}';
  json.raw(std::string_view(start, static_cast<size_t>(p - start)));  // the writer's comma first
  if (!usage.quota) return;
  // One per --quota: through the writer.
  out += ",\"quota\":";
  JsonWriter quota(out);
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
  out += '}';
}

}  // namespace

std::string to_ndjson(const Snapshot& snapshot) {
  std::string line;
  to_ndjson(snapshot, line);
  return line;
}

void to_ndjson(const Snapshot& snapshot, std::string& line) {
  // Streamed, keys in the documented order: a DOM (nlohmann's ordered_json,
  // with its linear key lookup) cost ~20x more at 1,000 interfaces.
  line.clear();
  // With the ledger's usage (about 80 bytes more) a line sized for the
  // counters alone was copied again as it grew.
  const bool usage = !snapshot.interfaces.empty() && snapshot.interfaces.front().usage;
  line.reserve(128 + snapshot.interfaces.size() * (usage ? 256 : 200));
  JsonWriter json(line);
  json.begin_object();
  json.key("source").value(snapshot.source);
  json.key("seq").value(snapshot.seq);
  json.key("ts_ms").value(snapshot.ts_ms);
  json.key("interval_ms").value(snapshot.interval_ms);
  if (!snapshot.usage_day.empty()) {
    json.key("usage_periods").begin_object();
    json.key("day").value(snapshot.usage_day);
    json.key("month").value(snapshot.usage_month);
    json.end_object();
  }
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
