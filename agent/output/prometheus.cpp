#include "output/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <iterator>

#include "sys/utf8.h"

namespace netmon {
namespace {

// HELP text escapes only backslash and newline (format 0.0.4).
std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);  // shortest round-trip form
  return std::string(buf, result.ptr);
}

void family_header(std::string& out, const char* name, const char* type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

using Label = std::pair<std::string_view, std::string_view>;

// A label value escaped into `out` (escape_label_value without the copy).
void append_label_value(std::string& out, std::string_view value) {
  for (size_t i = 0; i < value.size();) {
    const char c = value[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      size_t n = utf8_sequence_length(value, i);
      if (n == 0) {
        out += kUtf8Replacement;
        i += utf8_invalid_length(value, i);
        continue;
      }
      out.append(value.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
}

template <typename Labels>
void append_sample(std::string& out, std::string_view name, const Labels& labels,
                   std::string_view value) {
  out += name;
  if (std::begin(labels) != std::end(labels)) {
    char separator = '{';
    for (const auto& [label, label_value] : labels) {
      out += separator;
      separator = ',';
      out += label;
      out += "=\"";
      append_label_value(out, label_value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void labelled_sample(std::string& out, std::string_view name, std::initializer_list<Label> labels,
                     std::string_view value) {
  append_sample(out, name, labels, value);
}

void labelled_sample(std::string& out, std::string_view name,
                     const std::vector<std::pair<std::string, std::string>>& labels,
                     std::string_view value) {
  append_sample(out, name, labels, value);
}

void unlabelled_sample(std::string& out, std::string_view name, std::string_view value) {
  append_sample(out, name, std::initializer_list<Label>{}, value);
}

// A counter's digits in `buf`, without the allocation std::to_string makes
// (eight thousand samples a scrape at 1,000 interfaces with --ledger).
std::string_view decimal(uint64_t value, char (&buf)[24]) {
  return {buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), value).ptr - buf)};
}

struct CounterFamily {
  const char* name;
  const char* help;
  uint64_t Counters::*field;
};

constexpr CounterFamily kCounterFamilies[] = {
    {"netmon_rx_bytes_total",
     "Bytes received on the interface (L2 frame without FCS) since the source began counting it.",
     &Counters::rx_bytes},
    {"netmon_rx_packets_total",
     "Packets received on the interface (GSO super-packets as their segments) since the source "
     "began counting it.",
     &Counters::rx_packets},
    {"netmon_tx_bytes_total",
     "Bytes transmitted on the interface (L2 frame without FCS) since the source began counting "
     "it.",
     &Counters::tx_bytes},
    {"netmon_tx_packets_total",
     "Packets transmitted on the interface (GSO super-packets as their segments) since the source "
     "began counting it.",
     &Counters::tx_packets},
};

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  append_label_value(out, value);
  return out;
}

namespace {

struct QuotaFamily {
  const char* name;
  const char* help;
};

constexpr QuotaFamily kQuotaFamilies[] = {
    {"netmon_quota_limit_bytes", "The interface's quota (--quota) for its period."},
    {"netmon_quota_used_bytes", "Bytes counted against the quota in its current period."},
    {"netmon_quota_used_ratio", "Used bytes over the quota's limit (1 = reached)."},
    {"netmon_quota_projected_bytes",
     "Used bytes extrapolated linearly to the end of the quota's period."}};

// The steps of the text, in order: each a family header (or a block of
// small families) and then, for the per-interface ones, a walk over every
// interface of every source, which is where a part can end.
enum Step : int {
  kCounterFamilies0 = 0,  // one step per kCounterFamilies entry
  kAgentFamilies = kCounterFamilies0 + static_cast<int>(std::size(kCounterFamilies)),
  kUsage,           // only when some interface has ledger figures (--ledger)
  kQuotaFamilies0,  // one step per kQuotaFamilies entry, when a quota is set
  kGauges = kQuotaFamilies0 + static_cast<int>(std::size(kQuotaFamilies)),
  kStepCount,
};

// The families about the agent itself: a few samples each.
void agent_families(std::string& out, const MetricsState& state) {
  char digits[24];
  family_header(out, "netmon_up", "gauge", "1 while the agent runs and serves this endpoint.");
  unlabelled_sample(out, "netmon_up", "1");
  family_header(out, "netmon_snapshots_total", "counter",
                "Snapshots taken since the agent started.");
  unlabelled_sample(out, "netmon_snapshots_total", decimal(state.snapshots_total, digits));
  family_header(out, "netmon_attach_failures_total", "counter",
                "Interfaces a source failed to start observing (e.g. a tc attach error); they "
                "are skipped.");
  unlabelled_sample(out, "netmon_attach_failures_total",
                    decimal(state.attach_failures_total, digits));
  family_header(out, "netmon_tc_preempted_total", "counter",
                "Times another tc filter was found in front of netmon's (or netmon's was "
                "removed) and netmon's was put back in front; legacy tc only.");
  for (const auto& [source, snapshot] : state.latest)
    if (snapshot->health)
      labelled_sample(out, "netmon_tc_preempted_total", {{"source", source}},
                      decimal(snapshot->health->tc_preempted, digits));
  family_header(out, "netmon_tc_preempted_seconds_total", "counter",
                "Seconds in which packets may have passed uncounted because another tc filter "
                "was in front of netmon's.");
  for (const auto& [source, snapshot] : state.latest)
    if (snapshot->health)
      labelled_sample(out, "netmon_tc_preempted_seconds_total", {{"source", source}},
                      format_value(snapshot->health->tc_preempted_seconds));
  family_header(out, "netmon_stream_clients", "gauge", "Clients of /events and /ws connected now.");
  unlabelled_sample(out, "netmon_stream_clients", decimal(state.stream_clients, digits));
  family_header(out, "netmon_stream_dropped_snapshots_total", "counter",
                "Snapshots a slow /events or /ws client could not take; it got a newer one.");
  unlabelled_sample(out, "netmon_stream_dropped_snapshots_total",
                    decimal(state.stream_dropped_snapshots_total, digits));
  family_header(out, "netmon_build_info", "gauge",
                "Agent version and build id of the embedded BPF object; always 1.");
  labelled_sample(out, "netmon_build_info",
                  {{"version", state.build.version}, {"bpf_object", state.build.bpf_object}}, "1");

  int64_t last_ms = -1;
  for (const auto& [source, snapshot] : state.latest) last_ms = std::max(last_ms, snapshot->ts_ms);
  if (last_ms >= 0) {
    family_header(out, "netmon_last_snapshot_timestamp_seconds", "gauge",
                  "Wall-clock time of the latest snapshot, in Unix seconds.");
    unlabelled_sample(out, "netmon_last_snapshot_timestamp_seconds",
                      format_value(static_cast<double>(last_ms) / 1000.0));
  }
}

void usage_samples(std::string& out, const InterfaceSnapshot& i) {
  if (!i.usage) return;
  char digits[24];
  const std::pair<const char*, const UsageBytes*> periods[] = {{"day", &i.usage->today},
                                                               {"month", &i.usage->this_month}};
  for (const auto& [period, counts] : periods) {
    labelled_sample(out, "netmon_usage_bytes",
                    {{"interface", i.link.name}, {"direction", "rx"}, {"period", period}},
                    decimal(counts->rx_bytes, digits));
    labelled_sample(out, "netmon_usage_bytes",
                    {{"interface", i.link.name}, {"direction", "tx"}, {"period", period}},
                    decimal(counts->tx_bytes, digits));
  }
}

void quota_sample(std::string& out, size_t family, const InterfaceSnapshot& i) {
  if (!i.usage || !i.usage->quota) return;
  const QuotaUsage& q = *i.usage->quota;
  char digits[24];
  const std::string ratio =
      family == 2 ? format_value(q.limit ? double(q.used) / double(q.limit) : 0) : std::string();
  const std::string_view value = family == 0   ? decimal(q.limit, digits)
                                 : family == 1 ? decimal(q.used, digits)
                                 : family == 2 ? std::string_view(ratio)
                                               : decimal(q.projected, digits);
  labelled_sample(out, kQuotaFamilies[family].name,
                  {{"interface", i.link.name}, {"direction", q.direction}, {"period", q.kind}},
                  value);
}

}  // namespace

MetricsWriter::MetricsWriter(MetricsState state) : state_(std::move(state)) {
  // The ledger's families appear only when some interface has its figures,
  // so an agent without a ledger serves exactly what it always did.
  for (const auto& entry : state_.latest)
    for (const InterfaceSnapshot& i : entry.second->interfaces)
      if (i.usage) {
        any_usage_ = true;
        any_quota_ = any_quota_ || i.usage->quota != nullptr;
      }
}

bool MetricsWriter::write(std::string& out, size_t min_bytes) {
  const size_t until_size = out.size() + std::max<size_t>(min_bytes, 1);
  for (; step_ < kStepCount; ++step_, walking_ = false) {
    if (!walking_) {
      begin_step(out);
      source_ = state_.latest.begin();
      interface_ = 0;
      walking_ = true;
    }
    if (!walk_step(out, until_size)) return true;
  }
  return false;
}

void MetricsWriter::begin_step(std::string& out) {
  if (step_ < kAgentFamilies) {
    const CounterFamily& family = kCounterFamilies[step_ - kCounterFamilies0];
    family_header(out, family.name, "counter", family.help);
  } else if (step_ == kAgentFamilies) {
    agent_families(out, state_);
  } else if (step_ == kUsage) {
    if (any_usage_)
      family_header(out, "netmon_usage_bytes", "gauge",
                    "Bytes booked by the usage ledger in the current day and billing month.");
  } else if (step_ < kGauges) {
    const QuotaFamily& family = kQuotaFamilies[step_ - kQuotaFamilies0];
    if (any_quota_) family_header(out, family.name, "gauge", family.help);
  } else {
    if (!state_.gauges) return;
    for (const GaugeFamily& family : *state_.gauges) {
      family_header(out, family.name.c_str(), "gauge", family.help);
      for (const GaugeSample& sample : family.samples)
        labelled_sample(out, family.name, sample.labels, format_value(sample.value));
    }
  }
}

// Every interface of every source, from where the last part stopped; false
// when `out` reached `until_size` first.
template <typename Sample>
bool MetricsWriter::walk(std::string& out, size_t until_size, Sample sample) {
  for (; source_ != state_.latest.end(); ++source_, interface_ = 0) {
    const std::vector<InterfaceSnapshot>& interfaces = source_->second->interfaces;
    while (interface_ < interfaces.size()) {
      if (out.size() >= until_size) return false;
      sample(source_->first, interfaces[interface_++]);
    }
  }
  return true;
}

bool MetricsWriter::walk_step(std::string& out, size_t until_size) {
  if (step_ < kAgentFamilies) {
    const CounterFamily& family = kCounterFamilies[step_ - kCounterFamilies0];
    return walk(out, until_size, [&](const std::string& source, const InterfaceSnapshot& i) {
      char digits[24];
      labelled_sample(out, family.name, {{"interface", i.link.name}, {"source", source}},
                      decimal(i.totals.*family.field, digits));
    });
  }
  if (step_ == kUsage && any_usage_)
    return walk(out, until_size,
                [&](const std::string&, const InterfaceSnapshot& i) { usage_samples(out, i); });
  if (step_ >= kQuotaFamilies0 && step_ < kGauges && any_quota_) {
    const size_t family = static_cast<size_t>(step_ - kQuotaFamilies0);
    return walk(out, until_size, [&](const std::string&, const InterfaceSnapshot& i) {
      quota_sample(out, family, i);
    });
  }
  return true;
}

std::string format_metrics(const MetricsState& state) {
  std::string out;
  MetricsWriter writer(state);
  while (writer.write(out, size_t{1} << 20)) {
  }
  return out;
}

}  // namespace netmon
