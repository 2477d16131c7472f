#include "output/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "output/ndjson.h"
#include "sys/error.h"
#include "web/header_fields.h"
#include "web/sse.h"
#include "web/stream_client.h"
#include "web/web_assets.h"
#include "web/websocket_handshake.h"

namespace netmon {
namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

HttpResponse plain(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// "Name: value\r\n..." as header pairs.
std::vector<std::pair<std::string, std::string>> split_headers(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t eol = text.find("\r\n");
    const std::string_view line = text.substr(0, eol);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      out.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 2);
  }
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// DNS rebinding: a page on evil.example whose name is made to resolve to
// 127.0.0.1 is, to the browser, same-origin with the agent, Origin check
// included. Its requests still carry Host: evil.example, so the page and the
// streams answer only a Host that is an IP address, "localhost", or the host
// of an --allow-origin origin. No Host (HTTP/1.0 programs) is let in: only
// browsers are the concern, and they always send it.
bool host_allowed(const web::HeaderFields& fields, const web::OriginPolicy& policy) {
  size_t count = 0;
  std::string_view value;
  for (const auto& [name, v] : fields) {
    if (lowercase(name) == "host") {
      ++count;
      value = v;
    }
  }
  if (count == 0) return true;
  if (count > 1) return false;
  std::string host;
  if (!value.empty() && value.front() == '[') {
    const size_t close = value.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(value.substr(0, close + 1));
    in6_addr v6;
    if (inet_pton(AF_INET6, std::string(value.substr(1, close - 1)).c_str(), &v6) == 1) return true;
  } else {
    host = lowercase(value.substr(0, value.rfind(':')));
    in_addr v4;
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return true;
    if (host == "localhost") return true;
  }
  host = lowercase(host);
  return std::any_of(policy.allowed.begin(), policy.allowed.end(),
                     [&](const web::Origin& o) { return o.host == host; });
}

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

void MetricsServer::on_snapshot(std::shared_ptr<const Snapshot> snapshot,
                                std::shared_ptr<const std::string> ndjson) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_.latest[snapshot->source] = snapshot;
  ++state_.snapshots_total;
  // Without a line (nobody wanted one), latest_line() makes it on request.
  line_snapshot_ = std::move(snapshot);
  latest_line_ = ndjson;
  http_.publish(std::move(ndjson));
}

bool MetricsServer::wants_line() const { return http_.stream_clients() > 0; }

std::shared_ptr<const std::string> MetricsServer::latest_line() const {
  std::shared_ptr<const Snapshot> snapshot;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (latest_line_ || !line_snapshot_) return latest_line_;
    snapshot = line_snapshot_;
  }
  auto line = std::make_shared<std::string>();
  to_ndjson(*snapshot, *line);
  std::lock_guard<std::mutex> lock(mutex_);
  // Kept for the next request, unless a newer snapshot came meanwhile.
  if (line_snapshot_ == snapshot && !latest_line_) latest_line_ = line;
  return line;
}

void MetricsServer::publish_compare(const std::vector<Snapshot>& per_source,
                                    std::vector<GaugeFamily> deltas, const std::string& ndjson) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Snapshot& snapshot : per_source)
    state_.latest[snapshot.source] = std::make_shared<const Snapshot>(snapshot);
  state_.gauges = std::make_shared<const std::vector<GaugeFamily>>(std::move(deltas));
  ++state_.snapshots_total;
  line_snapshot_.reset();
  latest_line_ = std::make_shared<const std::string>(ndjson);
  http_.publish(latest_line_);
}

MetricsState MetricsServer::scrape_state() const {
  const uint64_t dropped = http_.stream_dropped();
  const uint64_t clients = http_.stream_clients();
  MetricsState state;
  {
    // A copy of pointers and a few counters: the snapshots and gauges are
    // shared and immutable, so the lock is held for no formatting.
    std::lock_guard<std::mutex> lock(mutex_);
    state = state_;
  }
  state.stream_dropped_snapshots_total = dropped;
  state.stream_clients = clients;
  return state;
}

std::string MetricsServer::metrics_text() const { return format_metrics(scrape_state()); }

namespace {

MetricsState initial_state(BuildInfo build) {
  MetricsState state;
  state.build = std::move(build);
  return state;
}

}  // namespace

MetricsServer::MetricsServer(const ListenAddress& address, BuildInfo build,
                             web::OriginPolicy origins)
    : origins_(std::move(origins)),
      state_(initial_state(std::move(build))),
      http_(
          address,
          [this](std::string_view method, std::string_view path) { return respond(method, path); },
          HttpLimits{}, [this](const HttpRequest& request) { return route(request); },
          [this] { return latest_line(); }) {}

HttpRoute MetricsServer::route(const HttpRequest& request) const {
  HttpRoute route;
  const web::WebAsset* asset = web::find_web_asset(request.path);
  const bool events = request.path == "/events";
  const bool ws = request.path == "/ws";
  if (!asset && !events && !ws) return route;  // /metrics, /snapshot, 404: as before

  route.kind = HttpRoute::Kind::kRespond;
  std::optional<web::HeaderFields> fields = web::parse_header_fields(request.head);
  if (!fields) {
    route.response = plain(400, "bad request: malformed header field\n");
    return route;
  }
  if (!host_allowed(*fields, origins_)) {
    route.response =
        plain(403, "forbidden: Host is not this agent's address (see --allow-origin)\n");
    return route;
  }

  if (asset) {
    if (request.method != "GET" && request.method != "HEAD") {
      route.response = plain(405, "method not allowed\n");
      route.response.headers.emplace_back("Allow", "GET, HEAD");
      return route;
    }
    route.response.content_type = std::string(asset->content_type);
    route.response.body = std::string(asset->gzip);
    route.response.headers = split_headers(web::kWebAssetHeaders);
    return route;
  }

  if (events) {
    if (request.method != "GET") {
      route.response = plain(405, "method not allowed\n");
      route.response.headers.emplace_back("Allow", "GET");
      return route;
    }
    std::string head = web::sse_response_head();
    // Another site may read the stream only when listed with --allow-origin.
    if (std::optional<std::string_view> origin = web::single_header(*fields, "Origin")) {
      std::optional<web::Origin> parsed = web::parse_origin(*origin);
      if (parsed && std::find(origins_.allowed.begin(), origins_.allowed.end(), *parsed) !=
                        origins_.allowed.end())
        head.insert(head.size() - 2, "Access-Control-Allow-Origin: " + std::string(*origin) +
                                         "\r\nVary: Origin\r\n");
    }
    route.kind = HttpRoute::Kind::kStream;
    route.stream = std::make_unique<web::StreamClient>(web::StreamKind::kSse, std::move(head));
    return route;
  }

  // RFC 6455 §4.1: the upgrade is an HTTP/1.1 GET.
  if (request.version != "HTTP/1.1") {
    route.response = plain(400, "bad request: a WebSocket upgrade needs HTTP/1.1\n");
    return route;
  }
  web::HandshakeResult handshake = web::websocket_handshake(request.method, *fields, origins_);
  if (!handshake.ok) {
    spdlog::info("/ws refused ({}): {}", handshake.status, handshake.error);
    route.kind = HttpRoute::Kind::kRaw;
    route.raw = std::move(handshake.response);
    return route;
  }
  route.kind = HttpRoute::Kind::kStream;
  route.stream = std::make_unique<web::StreamClient>(web::StreamKind::kWebSocket,
                                                     std::move(handshake.response));
  return route;
}

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
    // Made a part at a time as the client reads: a scrape holds 16 KiB of
    // text, not the 0.7 MB of the whole at 1,000 interfaces with --ledger
    // (45 parts, each one send).
    auto writer = std::make_shared<MetricsWriter>(scrape_state());
    response.body_stream = [writer](std::string& out) {
      return writer->write(out, size_t{16} << 10);
    };
    return response;
  }
  response.shared_body = latest_line();
  if (!response.shared_body || response.shared_body->empty()) {
    response.shared_body = nullptr;
    response.status = 503;
    response.body = "no snapshot yet\n";
    return response;
  }
  response.content_type = "application/x-ndjson";
  return response;
}

}  // namespace netmon
