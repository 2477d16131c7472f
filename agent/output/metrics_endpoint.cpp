#include "output/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

#include "sys/error.h"

namespace netmon {
namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

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
