#include "metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

#include "cli.h"

namespace netmon {
namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

// Length of the valid UTF-8 sequence at s[i], or 0 if there is none.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

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

ListenAddress parse_listen_address(const std::string& text) {
  auto invalid = [&](const std::string& why) {
    return UsageError("invalid --listen '" + text + "': " + why +
                      " (expected 127.0.0.1:9310, :9310 or [::1]:9310)");
  };
  size_t colon;
  ListenAddress address;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) throw invalid("missing ']'");
    address.host = text.substr(1, close - 1);
    colon = close + 1;
    if (colon >= text.size() || text[colon] != ':') throw invalid("missing ':PORT'");
    in6_addr v6;
    if (inet_pton(AF_INET6, address.host.c_str(), &v6) != 1)
      throw invalid("'" + address.host + "' is not an IPv6 address");
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos) throw invalid("missing ':PORT'");
    address.host = text.substr(0, colon);
    if (address.host.find(':') != std::string::npos) throw invalid("IPv6 addresses go in brackets");
    if (address.host.empty() || address.host == "localhost") address.host = "127.0.0.1";
    in_addr v4;
    if (inet_pton(AF_INET, address.host.c_str(), &v4) != 1)
      throw invalid("'" + address.host + "' is not a numeric IPv4 address");
  }
  const std::string port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    throw invalid("port must be a number from 0 to 65535");
  address.port = static_cast<int>(value);
  return address;
}

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
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
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

std::string format_metrics(const MetricsState& state) {
  std::string out;
  out.reserve(1024);
  for (const CounterFamily& family : kCounterFamilies) {
    family_header(out, family.name, "counter", family.help);
    for (const auto& [source, snapshot] : state.latest)
      for (const InterfaceSnapshot& entry : snapshot.interfaces)
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
  family_header(out, "netmon_build_info", "gauge",
                "Agent version and build id of the embedded BPF object; always 1.");
  labelled_sample(out, "netmon_build_info",
                  {{"version", state.build.version}, {"bpf_object", state.build.bpf_object}}, "1");

  int64_t last_ms = -1;
  for (const auto& [source, snapshot] : state.latest) last_ms = std::max(last_ms, snapshot.ts_ms);
  if (last_ms >= 0) {
    family_header(out, "netmon_last_snapshot_timestamp_seconds", "gauge",
                  "Wall-clock time of the latest snapshot, in Unix seconds.");
    out += "netmon_last_snapshot_timestamp_seconds " +
           format_value(static_cast<double>(last_ms) / 1000.0) + "\n";
  }

  for (const GaugeFamily& family : state.gauges) {
    family_header(out, family.name.c_str(), "gauge", family.help);
    for (const GaugeSample& sample : family.samples)
      labelled_sample(out, family.name, sample.labels, format_value(sample.value));
  }
  return out;
}

namespace {

// Forwards to the wrapped source, counting watch() failures.
class AttachFailureCounter : public Source {
 public:
  AttachFailureCounter(std::unique_ptr<Source> inner, std::function<void()> on_failure)
      : inner_(std::move(inner)), on_failure_(std::move(on_failure)) {}

  const char* kind() const override { return inner_->kind(); }
  void watch(const Link& link) override {
    try {
      inner_->watch(link);
    } catch (...) {
      on_failure_();
      throw;
    }
  }
  void unwatch(const Link& link) override { inner_->unwatch(link); }
  CounterMap read(const std::vector<Link>& links) override { return inner_->read(links); }

 private:
  std::unique_ptr<Source> inner_;
  std::function<void()> on_failure_;
};

}  // namespace

std::unique_ptr<Source> MetricsServer::count_attach_failures(std::unique_ptr<Source> source) {
  return std::make_unique<AttachFailureCounter>(std::move(source),
                                                [this] { count_attach_failure(); });
}

void MetricsServer::count_attach_failure() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++state_.attach_failures_total;
}

void MetricsServer::on_snapshot(const Snapshot& snapshot, const std::string& ndjson) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.latest[snapshot.source] = snapshot;
  ++state_.snapshots_total;
  latest_line_ = ndjson;
}

void MetricsServer::publish_compare(const std::vector<Snapshot>& per_source,
                                    std::vector<GaugeFamily> deltas, const std::string& ndjson) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Snapshot& snapshot : per_source) state_.latest[snapshot.source] = snapshot;
  state_.gauges = std::move(deltas);
  ++state_.snapshots_total;
  latest_line_ = ndjson;
}

std::string MetricsServer::metrics_text() const {
  MetricsState copy;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    copy = state_;
  }
  return format_metrics(copy);
}

namespace {

MetricsState initial_state(BuildInfo build) {
  MetricsState state;
  state.build = std::move(build);
  return state;
}

}  // namespace

MetricsServer::MetricsServer(const ListenAddress& address, BuildInfo build)
    : state_(initial_state(std::move(build))),
      http_(address, [this](std::string_view method, std::string_view path) {
        return respond(method, path);
      }) {}

MetricsServer::~MetricsServer() = default;

HttpResponse MetricsServer::respond(std::string_view method, std::string_view path) const {
  HttpResponse response;
  if (path != "/metrics" && path != "/snapshot") {
    response.status = 404;
    response.body = "not found: netmon serves /metrics and /snapshot\n";
    return response;
  }
  // Both resources are read-only: other methods learn which ones work.
  if (method != "GET" && method != "HEAD") {
    response.status = 405;
    response.body = "method not allowed\n";
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  if (path == "/metrics") {
    response.content_type = kExpositionType;
    response.body = metrics_text();
    return response;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    response.body = latest_line_;
  }
  if (response.body.empty()) {
    response.status = 503;
    response.body = "no snapshot yet\n";
    return response;
  }
  response.content_type = "application/x-ndjson";
  return response;
}

}  // namespace netmon
