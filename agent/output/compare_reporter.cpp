#include "output/compare_reporter.h"

#include <spdlog/spdlog.h>

#include <map>

#include "output/json_writer.h"
#include "output/ndjson.h"

namespace netmon {
namespace {

void write_counters(JsonWriter& json, const Counters& c) {
  json.begin_object();
  json.key("rx_bytes").value(c.rx_bytes);
  json.key("rx_packets").value(c.rx_packets);
  json.key("tx_bytes").value(c.tx_bytes);
  json.key("tx_packets").value(c.tx_packets);
  json.end_object();
}

void write_values(JsonWriter& json, const CounterValues& v) {
  json.begin_object();
  for (int i = 0; i < 4; ++i) json.key(kCounterNames[i]).value(v[i]);
  json.end_object();
}

}  // namespace

std::string compare_to_ndjson(const CompareTick& tick, const std::vector<std::string>& sources,
                              int64_t wall_ms) {
  // Rows are keyed by ifindex, the JSON object by name: should two rows
  // share a name (a rename not yet seen), the later row wins the key's
  // first place, as a JSON object's last value would.
  std::map<std::string, size_t> last_of_name;
  for (size_t r = 0; r < tick.rows.size(); ++r) last_of_name[tick.rows[r].link.name] = r;

  std::string line;
  line.reserve(128 + tick.rows.size() * 400);
  JsonWriter json(line);
  json.begin_object();
  json.key("source").value("compare");
  json.key("seq").value(tick.seq);
  json.key("ts_ms").value(wall_ms);
  json.key("interval_ms").value(tick.interval_ms);
  json.key("interfaces").begin_object();
  for (size_t r = 0; r < tick.rows.size(); ++r) {
    auto last = last_of_name.find(tick.rows[r].link.name);
    if (last == last_of_name.end()) continue;  // written already
    const CompareRow& row = tick.rows[last->second];
    last_of_name.erase(last);
    json.key(row.link.name).begin_object();
    json.key("ifindex").value(row.link.ifindex);
    for (size_t src = 0; src < row.increments.size(); ++src) {
      json.key(sources[src]);
      write_counters(json, row.increments[src]);
    }
    json.key("delta");
    write_values(json, row.delta);
    json.key("match").value(row.match);
    if (!row.quirks.empty()) {
      json.key("quirks").begin_array();
      for (const std::string& name : row.quirks) json.value(name);
      json.end_array();
    }
    if (row.skew != CounterValues{}) {
      json.key("skew");
      write_values(json, row.skew);
    }
    json.end_object();
  }
  json.end_object();
  json.end_object();
  line += '\n';
  return line;
}

CompareReporter::CompareReporter(CompareConfig config)
    : config_(std::move(config)), reconciler_(config_.sources, config_.quirks) {
  if (!config_.warn) config_.warn = [](const std::string& m) { spdlog::warn("{}", m); };
  if (!config_.info) config_.info = [](const std::string& m) { spdlog::info("{}", m); };
  for (const std::string& source : config_.sources) builders_.emplace_back(source);
}

std::string CompareReporter::compare(const std::vector<Link>& links,
                                     const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                                     int64_t wall_ms) {
  CompareTick tick = reconciler_.reconcile(links, readings, monotonic_ns);
  for (const Finding& finding : tick.findings)
    (finding.level == Finding::Level::kWarning ? config_.warn : config_.info)(finding.text);
  std::string line = compare_to_ndjson(tick, config_.sources, wall_ms);
  last_rows_ = std::move(tick.rows);
  return line;
}

bool CompareReporter::report(const std::vector<Link>& links,
                             const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                             int64_t wall_ms) {
  std::string line = compare(links, readings, monotonic_ns, wall_ms);
  if (config_.metrics) publish(links, readings, monotonic_ns, wall_ms, line);
  return config_.out_fd < 0 || write_line(config_.out_fd, line);
}

void CompareReporter::publish(const std::vector<Link>& links,
                              const std::vector<CounterMap>& readings, int64_t monotonic_ns,
                              int64_t wall_ms, const std::string& line) {
  std::vector<Snapshot> per_source;
  for (size_t src = 0; src < readings.size(); ++src)
    per_source.push_back(builders_[src].build(links, readings[src], monotonic_ns, wall_ms));
  const std::string versus = config_.sources[0] + " minus " + config_.sources[1];
  std::vector<GaugeFamily> gauges;
  for (int i = 0; i < 4; ++i) {
    GaugeFamily family{std::string("netmon_compare_") + kCounterNames[i] + "_delta",
                       versus + " " + kCounterNames[i] + " since the link was first seen",
                       {}};
    for (const CompareRow& row : last_rows_)
      family.samples.push_back({{{"interface", row.link.name}}, static_cast<double>(row.delta[i])});
    gauges.push_back(std::move(family));
  }
  GaugeFamily match{"netmon_compare_match",
                    "1 when " + config_.sources[0] + " and " + config_.sources[1] +
                        " agree within the documented tolerance",
                    {}};
  for (const CompareRow& row : last_rows_)
    match.samples.push_back({{{"interface", row.link.name}}, row.match ? 1.0 : 0.0});
  gauges.push_back(std::move(match));
  config_.metrics->publish_compare(per_source, std::move(gauges), line);
}

void CompareReporter::finish() {
  for (const Finding& finding : reconciler_.summary()) config_.info(finding.text);
}

}  // namespace netmon
