#include "output/prometheus.h"

#include <algorithm>
#include <charconv>
#include <cmath>

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

void labelled_sample(std::string& out, std::string_view name,
                     const std::vector<std::pair<std::string, std::string>>& labels,
                     const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out += ',';
      out += labels[i].first;
      out += "=\"";
      out += escape_label_value(labels[i].second);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
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
  return out;
}

// The usage ledger's figures (--ledger), only when some interface has them,
// so an agent without a ledger serves exactly what it always did.
static void format_usage(std::string& out, const MetricsState& state) {
  bool any_usage = false, any_quota = false;
  for (const auto& entry : state.latest)
    for (const InterfaceSnapshot& i : entry.second->interfaces)
      if (i.usage) {
        any_usage = true;
        any_quota = any_quota || i.usage->quota != nullptr;
      }
  if (!any_usage) return;
  family_header(out, "netmon_usage_bytes", "gauge",
                "Bytes booked by the usage ledger in the current day and billing month.");
  for (const auto& [source, snapshot] : state.latest)
    for (const InterfaceSnapshot& i : snapshot->interfaces) {
      if (!i.usage) continue;
      const std::pair<const char*, const UsageBytes*> periods[] = {{"day", &i.usage->today},
                                                                   {"month", &i.usage->this_month}};
      for (const auto& [period, counts] : periods) {
        labelled_sample(out, "netmon_usage_bytes",
                        {{"interface", i.link.name}, {"direction", "rx"}, {"period", period}},
                        std::to_string(counts->rx_bytes));
        labelled_sample(out, "netmon_usage_bytes",
                        {{"interface", i.link.name}, {"direction", "tx"}, {"period", period}},
                        std::to_string(counts->tx_bytes));
      }
    }
  if (!any_quota) return;
  struct QuotaFamily {
    const char* name;
    const char* help;
  };
  const QuotaFamily families[] = {
      {"netmon_quota_limit_bytes", "The interface's quota (--quota) for its period."},
      {"netmon_quota_used_bytes", "Bytes counted against the quota in its current period."},
      {"netmon_quota_used_ratio", "Used bytes over the quota's limit (1 = reached)."},
      {"netmon_quota_projected_bytes",
       "Used bytes extrapolated linearly to the end of the quota's period."}};
  for (int f = 0; f < 4; ++f) {
    family_header(out, families[f].name, "gauge", families[f].help);
    for (const auto& [source, snapshot] : state.latest)
      for (const InterfaceSnapshot& i : snapshot->interfaces) {
        if (!i.usage || !i.usage->quota) continue;
        const QuotaUsage& q = *i.usage->quota;
        std::string value = f == 0   ? std::to_string(q.limit)
                            : f == 1 ? std::to_string(q.used)
                            : f == 2 ? format_value(q.limit ? double(q.used) / double(q.limit) : 0)
                                     : std::to_string(q.projected);
        labelled_sample(
            out, families[f].name,
            {{"interface", i.link.name}, {"direction", q.direction}, {"period", q.kind}}, value);
      }
  }
}

// For the first scrape, which has no previous size to go by: samples counted,
// at a generous 96 bytes each (about 60 are used; reserved pages that are
// never written cost no memory).
static size_t estimated_size(const MetricsState& state) {
  size_t samples = 0;
  for (const auto& entry : state.latest)
    for (const InterfaceSnapshot& i : entry.second->interfaces)
      samples +=
          std::size(kCounterFamilies) + (i.usage ? 4 : 0) + (i.usage && i.usage->quota ? 4 : 0);
  return 4096 + samples * 96;
}

std::string format_metrics(const MetricsState& state, size_t expected_size) {
  std::string out;
  out.reserve(expected_size ? expected_size + expected_size / 16 : estimated_size(state));
  for (const CounterFamily& family : kCounterFamilies) {
    family_header(out, family.name, "counter", family.help);
    for (const auto& [source, snapshot] : state.latest)
      for (const InterfaceSnapshot& entry : snapshot->interfaces)
        labelled_sample(out, family.name, {{"interface", entry.link.name}, {"source", source}},
                        std::to_string(entry.totals.*family.field));
  }

  family_header(out, "netmon_up", "gauge", "1 while the agent runs and serves this endpoint.");
  out += "netmon_up 1\n";
  family_header(out, "netmon_snapshots_total", "counter",
                "Snapshots taken since the agent started.");
  out += "netmon_snapshots_total " + std::to_string(state.snapshots_total) + "\n";
  family_header(out, "netmon_attach_failures_total", "counter",
                "Interfaces a source failed to start observing (e.g. a tc attach error); they "
                "are skipped.");
  out += "netmon_attach_failures_total " + std::to_string(state.attach_failures_total) + "\n";
  family_header(out, "netmon_tc_preempted_total", "counter",
                "Times another tc filter was found in front of netmon's (or netmon's was "
                "removed) and netmon's was put back in front; legacy tc only.");
  for (const auto& [source, snapshot] : state.latest)
    if (snapshot->health)
      labelled_sample(out, "netmon_tc_preempted_total", {{"source", source}},
                      std::to_string(snapshot->health->tc_preempted));
  family_header(out, "netmon_tc_preempted_seconds_total", "counter",
                "Seconds in which packets may have passed uncounted because another tc filter "
                "was in front of netmon's.");
  for (const auto& [source, snapshot] : state.latest)
    if (snapshot->health)
      labelled_sample(out, "netmon_tc_preempted_seconds_total", {{"source", source}},
                      format_value(snapshot->health->tc_preempted_seconds));
  family_header(out, "netmon_stream_clients", "gauge", "Clients of /events and /ws connected now.");
  out += "netmon_stream_clients " + std::to_string(state.stream_clients) + "\n";
  family_header(out, "netmon_stream_dropped_snapshots_total", "counter",
                "Snapshots a slow /events or /ws client could not take; it got a newer one.");
  out += "netmon_stream_dropped_snapshots_total " +
         std::to_string(state.stream_dropped_snapshots_total) + "\n";
  family_header(out, "netmon_build_info", "gauge",
                "Agent version and build id of the embedded BPF object; always 1.");
  labelled_sample(out, "netmon_build_info",
                  {{"version", state.build.version}, {"bpf_object", state.build.bpf_object}}, "1");

  int64_t last_ms = -1;
  for (const auto& [source, snapshot] : state.latest) last_ms = std::max(last_ms, snapshot->ts_ms);
  if (last_ms >= 0) {
    family_header(out, "netmon_last_snapshot_timestamp_seconds", "gauge",
                  "Wall-clock time of the latest snapshot, in Unix seconds.");
    out += "netmon_last_snapshot_timestamp_seconds " +
           format_value(static_cast<double>(last_ms) / 1000.0) + "\n";
  }

  format_usage(out, state);

  for (const GaugeFamily& family : state.gauges) {
    family_header(out, family.name.c_str(), "gauge", family.help);
    for (const GaugeSample& sample : family.samples)
      labelled_sample(out, family.name, sample.labels, format_value(sample.value));
  }
  return out;
}

}  // namespace netmon
