// The Prometheus endpoint: `--listen ADDR:PORT` serves GET /metrics (text
// exposition format 0.0.4) and GET /snapshot (the latest NDJSON line), so a
// fleet is scraped by the Prometheus people already run instead of anything
// home-made.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reporter.h"
#include "core/snapshot.h"
#include "output/http_server.h"
#include "output/prometheus.h"
#include "web/origin.h"

namespace netmon {

// "HOST:PORT", "[IPV6]:PORT" or ":PORT"; an empty host means loopback
// (127.0.0.1), never all addresses: exposing counters is an explicit choice
// ("0.0.0.0:9310", "[::]:9310"). Throws UsageError naming the text.
ListenAddress parse_listen_address(const std::string& text);

// Serves /metrics and /snapshot from its own thread while the main loop
// feeds it snapshots; also the live page (/, /app.js, /style.css, compiled
// in) and the streams /events (SSE) and /ws (WebSocket), one NDJSON line per
// event or message. Binding happens in the constructor, so a bad address or
// a port in use fails before the agent attaches anything or writes output.
class MetricsServer : public SnapshotObserver, public MetricsPublisher {
 public:
  // Binds and starts serving. Throws Error ("cannot listen on ...: Address
  // already in use"); UsageError for a malformed address.
  // `origins`: the --allow-origin list, for /ws's Origin check, the CORS
  // header of /events and the Host check of the page and streams.
  MetricsServer(const ListenAddress& address, BuildInfo build, web::OriginPolicy origins = {});
  // Stops serving and joins the thread; connections still open (a slow
  // client, an idle keep-alive one) are dropped, so this returns promptly.
  ~MetricsServer() override;

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port actually bound (differs from the address's when that was 0).
  int port() const { return http_.port(); }

  // SnapshotObserver, on the main loop's thread: the snapshot's counters replace
  // those previously published for snapshot.source, `ndjson` becomes the
  // /snapshot answer, netmon_snapshots_total goes up by one.
  void on_snapshot(std::shared_ptr<const Snapshot> snapshot,
                   std::shared_ptr<const std::string> ndjson) override;
  // Only while a stream (/events, /ws) is open: /snapshot and a stream that
  // opens get the line made on request, so the service's way (--listen
  // --quiet) makes no line a tick that nobody reads (0.2 MB at 1,000
  // interfaces with --ledger, twice over while the next one is made).
  bool wants_line() const override;

  // For --compare's reporter, once per reading: the counters of every
  // source (labelled source="bpf", source="proc"), the delta gauges (they
  // replace those of the previous call; see GaugeFamily) and the line it
  // wrote, which /snapshot returns. Counts as one snapshot.
  void publish_compare(const std::vector<Snapshot>& per_source, std::vector<GaugeFamily> deltas,
                       const std::string& ndjson) override;

  // One more interface a source failed to start observing (the link
  // tracker's watch failures): netmon_attach_failures_total. Any thread.
  void count_attach_failure();

  // Current /metrics body (what a scrape would get now).
  std::string metrics_text() const;

 private:
  // What a scrape formats: the published state and the streams' figures.
  MetricsState scrape_state() const;
  // The newest line: as published, or made from the newest snapshot when
  // none was. Null before the first. Any thread.
  std::shared_ptr<const std::string> latest_line() const;
  // The routing, on the server's thread.
  HttpResponse respond(std::string_view method, std::string_view path) const;
  // The page and the streams, which need the request's header fields.
  HttpRoute route(const HttpRequest& request) const;

  web::OriginPolicy origins_;

  mutable std::mutex mutex_;  // guards state_, line_snapshot_ and latest_line_
  MetricsState state_;
  // The snapshot the newest line is of, while that line may yet have to be
  // made (plain mode; --compare always hands its line over).
  std::shared_ptr<const Snapshot> line_snapshot_;
  // The newest line, shared with the streams' queue: one copy a tick. Made
  // on request (mutable) when on_snapshot got none.
  mutable std::shared_ptr<const std::string> latest_line_;

  // Last: its thread calls respond(), so it starts after and stops before
  // everything above.
  HttpServer http_;
};

}  // namespace netmon
