#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "app/options.h"
#include "core/link_tracker.h"
#include "fakes.h"
#include "http_client.h"
#include "output/metrics_endpoint.h"
#include "output/ndjson.h"
#include "output/snapshot_reporter.h"
#include "sys/error.h"
#include "web/web_assets.h"

using netmon::BuildInfo;
using netmon::GaugeFamily;
using netmon::MetricsServer;
using netmon::MetricsState;
using netmon::Snapshot;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace {

Snapshot fake_snapshot(const std::string& source, uint64_t seq) {
  Snapshot s;
  s.source = source;
  s.seq = seq;
  s.ts_ms = 1700000000123;
  s.interval_ms = 1000;
  s.interfaces.push_back({{2, "eth0"}, {1000, 10, 2000, 20}, {}});
  s.interfaces.push_back({{3, "wlan0"}, {18446744073709551615ULL, 1, 0, 0}, {}});
  return s;
}

MetricsState state_with(const Snapshot& snapshot) {
  MetricsState state;
  state.latest[snapshot.source] = std::make_shared<const Snapshot>(snapshot);
  state.snapshots_total = snapshot.seq + 1;
  state.build = {"0.1.0", "0123456789abcdef"};
  return state;
}

}  // namespace

namespace {

// `n` interfaces under two sources, the ledger's figures and a quota on
// every third: every step of the text has samples to split.
MetricsState many_interfaces(size_t n) {
  Snapshot bpf = fake_snapshot("bpf", 1);
  bpf.interfaces.clear();
  for (size_t i = 0; i < n; ++i) {
    netmon::InterfaceSnapshot entry{
        {static_cast<int>(i + 2), "veth" + std::to_string(i)}, {i * 1000, i, i * 2000, 2 * i}, {}};
    netmon::InterfaceUsage usage;
    usage.today = {i, i + 1};
    usage.this_month = {i * 10, i * 10 + 1};
    if (i % 3 == 0) {
      auto quota = std::make_shared<netmon::QuotaUsage>();
      quota->limit = 1000;
      quota->used = i;
      quota->projected = 2 * i;
      quota->direction = "total";
      quota->kind = "month";
      usage.quota = quota;
    }
    entry.usage = usage;
    bpf.interfaces.push_back(entry);
  }
  MetricsState state = state_with(bpf);
  Snapshot proc = bpf;
  proc.source = "proc";
  state.latest["proc"] = std::make_shared<const Snapshot>(proc);
  return state;
}

}  // namespace

TEST(MetricsFormat, PartsMakeTheWholeAndEndOnLines) {
  const MetricsState state = many_interfaces(300);
  const std::string whole = netmon::format_metrics(state);
  ASSERT_THAT(whole, HasSubstr("\nnetmon_quota_projected_bytes{interface=\"veth297\","));
  ASSERT_THAT(whole, HasSubstr("\nnetmon_usage_bytes{interface=\"veth299\",direction=\"tx\","
                               "period=\"month\"} 2991\n"));
  for (size_t min_bytes : {size_t{1}, size_t{100}, size_t{4096}, size_t{64} << 10}) {
    netmon::MetricsWriter writer(state);
    std::string joined, part;
    size_t parts = 0;
    for (bool more = true; more;) {
      part.clear();
      more = writer.write(part, min_bytes);
      ++parts;
      // A part is whole lines, at least min_bytes of them but for the last
      // (which may be empty: the interfaces after the previous part had no
      // quota to show).
      if (more) EXPECT_GE(part.size(), min_bytes) << min_bytes;
      if (!part.empty()) EXPECT_EQ(part.back(), '\n') << min_bytes;
      joined += part;
    }
    EXPECT_EQ(joined, whole) << min_bytes;
    EXPECT_GE(parts, whole.size() / std::max<size_t>(min_bytes, 2048) / 2) << min_bytes;
  }
}

TEST(MetricsFormat, CountersPerInterfaceAndSource) {
  std::string text = netmon::format_metrics(state_with(fake_snapshot("bpf", 4)));
  EXPECT_THAT(text, HasSubstr("# TYPE netmon_rx_bytes_total counter\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_rx_bytes_total{interface=\"eth0\",source=\"bpf\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_rx_packets_total{interface=\"eth0\",source=\"bpf\"} 10\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_tx_bytes_total{interface=\"eth0\",source=\"bpf\"} 2000\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_tx_packets_total{interface=\"eth0\",source=\"bpf\"} 20\n"));
  // u64 totals print exactly, not in float notation.
  EXPECT_THAT(text, HasSubstr("netmon_rx_bytes_total{interface=\"wlan0\",source=\"bpf\"} "
                              "18446744073709551615\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_up 1\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_snapshots_total 5\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_attach_failures_total 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("\nnetmon_build_info{version=\"0.1.0\",bpf_object=\"0123456789abcdef\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_last_snapshot_timestamp_seconds 1700000000.123\n"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsFormat, EveryFamilyHasHelpAndTypeOnce) {
  std::string text = netmon::format_metrics(state_with(fake_snapshot("netdev", 0)));
  for (const char* name :
       {"netmon_rx_bytes_total", "netmon_rx_packets_total", "netmon_tx_bytes_total",
        "netmon_tx_packets_total", "netmon_up", "netmon_snapshots_total",
        "netmon_attach_failures_total", "netmon_build_info"}) {
    std::string help = std::string("# HELP ") + name + " ";
    std::string type = std::string("# TYPE ") + name + " ";
    size_t at = text.find(help);
    ASSERT_NE(at, std::string::npos) << name;
    EXPECT_EQ(text.find(help, at + 1), std::string::npos) << name;
    // TYPE directly follows HELP, before any sample.
    size_t line_end = text.find('\n', at);
    EXPECT_EQ(text.compare(line_end + 1, type.size(), type), 0) << name;
  }
}

TEST(MetricsFormat, BeforeFirstSnapshotOnlyHealthSamples) {
  MetricsState state;
  state.build = {"0.1.0", "ff"};
  std::string text = netmon::format_metrics(state);
  EXPECT_THAT(text, StartsWith("# HELP netmon_rx_bytes_total "));
  EXPECT_THAT(text, Not(HasSubstr("netmon_rx_bytes_total{")));
  EXPECT_THAT(text, Not(HasSubstr("netmon_last_snapshot_timestamp_seconds")));
  EXPECT_THAT(text, HasSubstr("\nnetmon_snapshots_total 0\n"));
}

TEST(MetricsFormat, TcPreemptionsOnlyFromASourceThatReportsThem) {
  Snapshot snapshot = fake_snapshot("bpf", 1);
  std::string text = netmon::format_metrics(state_with(snapshot));
  EXPECT_THAT(text, HasSubstr("# TYPE netmon_tc_preempted_total counter\n"));
  EXPECT_THAT(text, Not(HasSubstr("netmon_tc_preempted_total{")));
  snapshot.health = netmon::SourceHealth{3, 0.25};
  text = netmon::format_metrics(state_with(snapshot));
  EXPECT_THAT(text, HasSubstr("\nnetmon_tc_preempted_total{source=\"bpf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_tc_preempted_seconds_total{source=\"bpf\"} 0.25\n"));
}

TEST(MetricsFormat, LabelValuesAreEscaped) {
  EXPECT_EQ(netmon::escape_label_value("eth0"), "eth0");
  EXPECT_EQ(netmon::escape_label_value("a\"b"), "a\\\"b");
  EXPECT_EQ(netmon::escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(netmon::escape_label_value("a\nb"), "a\\nb");
  // Valid UTF-8 passes through; stray bytes become U+FFFD like in the NDJSON.
  EXPECT_EQ(netmon::escape_label_value("wlan\xC3\xA9"), "wlan\xC3\xA9");
  EXPECT_EQ(netmon::escape_label_value("x\xFFy"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(netmon::escape_label_value("\xC3"), "\xEF\xBF\xBD");  // truncated
  EXPECT_EQ(netmon::escape_label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  // A sequence cut short is one U+FFFD, as in the NDJSON (sys/utf8.h).
  EXPECT_EQ(netmon::escape_label_value("\xE2\x82x"), "\xEF\xBF\xBDx");

  Snapshot s = fake_snapshot("bpf", 0);
  s.interfaces[0].link.name = "we\"ird\\if";
  std::string text = netmon::format_metrics(state_with(s));
  EXPECT_THAT(text, HasSubstr("netmon_rx_bytes_total{interface=\"we\\\"ird\\\\if\",source=\"bpf\"} "
                              "1000\n"));
}

TEST(MetricsFormat, GaugeFamiliesForCompare) {
  MetricsState state = state_with(fake_snapshot("bpf", 0));
  state.latest["proc"] = std::make_shared<const Snapshot>(fake_snapshot("proc", 0));
  GaugeFamily family{"netmon_compare_rx_bytes_delta",
                     "bpf minus proc rx bytes\nover the last interval",
                     {{{{"interface", "eth0"}}, -14}, {{{"interface", "wlan0"}}, 0.5}}};
  state.gauges = std::make_shared<const std::vector<GaugeFamily>>(1, family);
  std::string text = netmon::format_metrics(state);
  EXPECT_THAT(text, HasSubstr("netmon_rx_bytes_total{interface=\"eth0\",source=\"bpf\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("netmon_rx_bytes_total{interface=\"eth0\",source=\"proc\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("# HELP netmon_compare_rx_bytes_delta bpf minus proc rx bytes\\nover "
                              "the last interval\n# TYPE netmon_compare_rx_bytes_delta gauge\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_compare_rx_bytes_delta{interface=\"eth0\"} -14\n"));
  EXPECT_THAT(text, HasSubstr("\nnetmon_compare_rx_bytes_delta{interface=\"wlan0\"} 0.5\n"));
}

TEST(ListenAddress, Parses) {
  auto a = netmon::parse_listen_address("127.0.0.1:9310");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9310);
  a = netmon::parse_listen_address(":9310");
  EXPECT_EQ(a.host, "127.0.0.1");  // loopback, never all addresses
  a = netmon::parse_listen_address("[::1]:9310");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.to_string(), "[::1]:9310");
  a = netmon::parse_listen_address("0.0.0.0:80");
  EXPECT_EQ(a.host, "0.0.0.0");
  a = netmon::parse_listen_address("localhost:1");
  EXPECT_EQ(a.host, "127.0.0.1");
}

TEST(ListenAddress, RejectsMalformed) {
  for (const char* bad :
       {"", "9310", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "1.2.3.4:70000", "999.1.1.1:80",
        "::1:9310", "[::1:9310", "[::1]9310", "[1.2.3.4]:80", "example.com:80", "127.0.0.1:-1"}) {
    try {
      netmon::parse_listen_address(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const netmon::UsageError& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string("invalid --listen '") + bad + "'"));
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

namespace {

using netmon::test::http_request;

std::unique_ptr<MetricsServer> start_server() {
  return std::make_unique<MetricsServer>(netmon::parse_listen_address("127.0.0.1:0"),
                                         BuildInfo{"0.1.0", "ff"});
}

// The body of a response, after the blank line; a chunked one decoded (and
// required to be complete).
std::string body_of(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  if (at == std::string::npos) return "";
  const std::string body = response.substr(at + 4);
  const bool chunked =
      response.substr(0, at + 2).find("\r\nTransfer-Encoding: chunked\r\n") != std::string::npos;
  // A HEAD response announces chunks it does not send.
  return chunked && !body.empty() ? netmon::test::dechunk(body) : body;
}

class FailingSource : public netmon::Source {
 public:
  const char* kind() const override { return "bpf"; }
  void watch(const netmon::Link& link) override {
    throw netmon::Error("failed to attach to '" + link.name + "'");
  }
  void unwatch(const netmon::Link&) override {}
  netmon::CounterMap read(const std::vector<netmon::Link>&) override { return {}; }
};

}  // namespace

TEST(MetricsServer, ServesMetricsSnapshotAndErrors) {
  auto server = start_server();
  const int port = server->port();
  ASSERT_GT(port, 0);

  std::string before = http_request(port, "GET", "/snapshot");
  EXPECT_THAT(before, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_EQ(body_of(before), "no snapshot yet\n");
  server->on_snapshot(std::make_shared<const Snapshot>(fake_snapshot("bpf", 0)),
                      std::make_shared<const std::string>("{\"seq\":0}\n"));

  std::string metrics = http_request(port, "GET", "/metrics");
  EXPECT_THAT(metrics, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(metrics, HasSubstr("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  // Made as it is sent, so chunked: a scrape cut off is seen to be.
  EXPECT_THAT(metrics, HasSubstr("\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_THAT(metrics, Not(HasSubstr("\r\nContent-Length:")));
  EXPECT_EQ(body_of(metrics), server->metrics_text());
  EXPECT_THAT(body_of(metrics),
              HasSubstr("netmon_rx_bytes_total{interface=\"eth0\",source=\"bpf\"} 1000\n"));
  EXPECT_THAT(body_of(metrics), HasSubstr("netmon_snapshots_total 1\n"));

  // HEAD: the same headers, no body. A query string does not change the path.
  std::string head = http_request(port, "HEAD", "/metrics?x=1");
  EXPECT_EQ(head, metrics.substr(0, metrics.find("\r\n\r\n") + 4));

  // An HTTP/1.0 client cannot take chunks: the body ends at the close.
  std::string old_client = netmon::test::http_exchange(port, "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_THAT(old_client, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(old_client, Not(HasSubstr("\r\nTransfer-Encoding:")));
  EXPECT_EQ(body_of(old_client), server->metrics_text());

  std::string snapshot = http_request(port, "GET", "/snapshot");
  EXPECT_THAT(snapshot, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(snapshot, HasSubstr("\r\nContent-Type: application/x-ndjson\r\n"));
  EXPECT_EQ(body_of(snapshot), "{\"seq\":0}\n");

  for (const char* path : {"/other", "/metrics/x", "/metricsx", "/metrics/"}) {
    std::string response = http_request(port, "GET", path);
    EXPECT_THAT(response, StartsWith("HTTP/1.1 404 Not Found\r\n")) << path;
    EXPECT_EQ(body_of(response), "not found: netmon serves /metrics and /snapshot\n") << path;
  }
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    for (const char* path : {"/metrics", "/snapshot"}) {
      std::string response = http_request(port, method, path);
      EXPECT_THAT(response, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"))
          << method << " " << path;
      EXPECT_THAT(response, HasSubstr("\r\nAllow: GET, HEAD\r\n")) << method << " " << path;
    }
  }
  // Methods on unknown paths are not 405: there is nothing there.
  EXPECT_THAT(http_request(port, "POST", "/other"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
}

TEST(MetricsServer, LargeScrapeArrivesWholeWhileSnapshotsMoveOn) {
  auto server = start_server();
  MetricsState state = many_interfaces(1000);
  for (const auto& [source, snapshot] : state.latest)
    server->on_snapshot(snapshot, std::make_shared<const std::string>("{}\n"));
  const std::string expected = server->metrics_text();
  ASSERT_GT(expected.size(), size_t{512} << 10);  // several parts

  netmon::Fd fd = netmon::test::connect_tcp("127.0.0.1", server->port());
  const int window = 65536;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  netmon::test::send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  // Once the head has arrived the scrape has begun; most of it still waits
  // for the reader (a 64 KiB window for 1 MB).
  std::string response;
  while (response.find("\r\n\r\n") == std::string::npos) {
    char buf[256];
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    ASSERT_GT(n, 0) << "closed before the head";
    response.append(buf, static_cast<size_t>(n));
  }
  // The agent moves on mid-scrape: the scrape still gets the text of when it began.
  server->on_snapshot(std::make_shared<const Snapshot>(fake_snapshot("bpf", 9)),
                      std::make_shared<const std::string>("{}\n"));
  response += netmon::test::read_until_closed(fd).data;
  EXPECT_EQ(body_of(response), expected);
  EXPECT_NE(server->metrics_text(), expected);
}

namespace {

struct LineRecorder : netmon::SnapshotObserver {
  void on_snapshot(std::shared_ptr<const Snapshot>,
                   std::shared_ptr<const std::string> ndjson) override {
    lines.push_back(std::move(ndjson));
  }
  bool wants_line() const override { return wanting; }
  bool wanting = false;
  std::vector<std::shared_ptr<const std::string>> lines;
};

}  // namespace

TEST(SnapshotReporter, MakesTheLineOnlyForStdoutOrAnObserverThatWantsIt) {
  const std::vector<netmon::Link> links = {{2, "eth0"}};
  const std::vector<netmon::CounterMap> readings = {{{2, {1000, 10, 2000, 20}}}};
  LineRecorder observer;
  netmon::SnapshotReporter quiet("bpf", -1);
  quiet.add_observer(&observer);
  EXPECT_TRUE(quiet.report(links, readings, 1'000'000'000, 1700000000000));
  observer.wanting = true;
  EXPECT_TRUE(quiet.report(links, readings, 2'000'000'000, 1700000001000));
  ASSERT_EQ(observer.lines.size(), 2u);
  EXPECT_EQ(observer.lines[0], nullptr);
  ASSERT_NE(observer.lines[1], nullptr);
  EXPECT_THAT(*observer.lines[1], HasSubstr("\"interfaces\":{\"eth0\":{\"ifindex\":2,"));

  // Written to stdout, the line is made whoever observes.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  netmon::Fd read_end(fds[0]), write_end(fds[1]);
  observer.wanting = false;
  netmon::SnapshotReporter loud("bpf", write_end.get());
  loud.add_observer(&observer);
  EXPECT_TRUE(loud.report(links, readings, 1'000'000'000, 1700000000000));
  ASSERT_EQ(observer.lines.size(), 3u);
  ASSERT_NE(observer.lines[2], nullptr);
  char buf[4096];
  const ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), *observer.lines[2]);
}

TEST(MetricsServer, LineNobodyWantedIsMadeOnRequest) {
  auto server = start_server();
  // No stream open: the service's way (--listen --quiet) makes no line.
  EXPECT_FALSE(server->wants_line());
  const Snapshot first = fake_snapshot("bpf", 0);
  server->on_snapshot(std::make_shared<const Snapshot>(first), nullptr);
  EXPECT_EQ(body_of(http_request(server->port(), "GET", "/snapshot")), netmon::to_ndjson(first));

  // A stream that opens gets the newest line at once, made from the newest
  // snapshot, and from then on the lines are wanted.
  const Snapshot second = fake_snapshot("bpf", 1);
  server->on_snapshot(std::make_shared<const Snapshot>(second), nullptr);
  netmon::Fd events = netmon::test::connect_tcp("127.0.0.1", server->port());
  netmon::test::send_all(events, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const std::string wanted = "data: " + netmon::to_ndjson(second) + "\n";
  std::string received;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (received.find(wanted) == std::string::npos && std::chrono::steady_clock::now() < until) {
    char buf[4096];
    const ssize_t n = ::recv(events.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0)
      received.append(buf, static_cast<size_t>(n));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_THAT(received, HasSubstr(wanted));
  // The server counts the stream once it has started it, after sending.
  for (int i = 0; i < 200 && !server->wants_line(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(server->wants_line());
  EXPECT_EQ(body_of(http_request(server->port(), "GET", "/snapshot")), netmon::to_ndjson(second));
}

TEST(MetricsServer, CompareLineIsTheSnapshot) {
  auto server = start_server();
  Snapshot bpf = fake_snapshot("bpf", 3);
  Snapshot proc = fake_snapshot("proc", 3);
  server->publish_compare({bpf, proc}, {}, "{\"compare\":true}\n");
  EXPECT_EQ(body_of(http_request(server->port(), "GET", "/snapshot")), "{\"compare\":true}\n");
  std::string metrics = body_of(http_request(server->port(), "GET", "/metrics"));
  EXPECT_THAT(metrics,
              HasSubstr("netmon_rx_bytes_total{interface=\"eth0\",source=\"proc\"} 1000\n"));
  EXPECT_THAT(metrics, HasSubstr("\nnetmon_snapshots_total 1\n"));
}

TEST(MetricsServer, PortInUseIsOneLineError) {
  auto first = start_server();
  const std::string where = "127.0.0.1:" + std::to_string(first->port());
  try {
    MetricsServer second(netmon::parse_listen_address(where), BuildInfo{});
    FAIL() << "a second server bound " << where;
  } catch (const netmon::Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot listen on " + where + ": Address already in use");
  }
}

TEST(MetricsServer, CountsAttachFailures) {
  // As the agent wires it: the link tracker's watch failures feed the count.
  auto server = start_server();
  netmon::test::FakeLinkFeed feed;
  feed.present = {{7, {7, "eth7"}}, {8, {8, "eth8"}}};
  FailingSource source;
  netmon::LinkTrackerConfig config;
  config.selects = [](const std::string&) { return true; };
  config.on_watch_failure = [&](const netmon::Link&, const netmon::Error&) {
    server->count_attach_failure();
  };
  netmon::LinkTracker tracker(config, {&source}, feed);
  EXPECT_TRUE(tracker.links().empty());
  EXPECT_THAT(server->metrics_text(), HasSubstr("\nnetmon_attach_failures_total 2\n"));
}

TEST(MetricsServer, StopsPromptlyWithAnIdleKeepAliveClient) {
  auto server = start_server();
  // A client that asked for /metrics and got it, one that connected and
  // said nothing (as a scraper between scrapes may), one mid-request.
  netmon::Fd answered = netmon::test::connect_tcp("127.0.0.1", server->port());
  netmon::test::send_all(answered, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(netmon::test::read_until_closed(answered).data, StartsWith("HTTP/1.1 200 OK\r\n"));
  netmon::Fd silent = netmon::test::connect_tcp("127.0.0.1", server->port());
  netmon::Fd partial = netmon::test::connect_tcp("127.0.0.1", server->port());
  netmon::test::send_all(partial, "GET /metr");

  auto start = std::chrono::steady_clock::now();
  server.reset();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(500));
  EXPECT_TRUE(netmon::test::read_until_closed(silent, std::chrono::milliseconds(1000)).closed);
  EXPECT_TRUE(netmon::test::read_until_closed(partial, std::chrono::milliseconds(1000)).closed);
}

TEST(MetricsServer, ServesThePageAndChecksHostAndOrigin) {
  netmon::web::OriginPolicy policy;
  policy.allowed.push_back(*netmon::web::parse_origin("http://router.lan:9310"));
  auto server = std::make_unique<MetricsServer>(netmon::parse_listen_address("127.0.0.1:0"),
                                                BuildInfo{"0.1.0", "ff"}, policy);
  const int port = server->port();
  using netmon::test::http_exchange;
  auto get = [&](const std::string& path, const std::string& fields) {
    return http_exchange(port, "GET " + path + " HTTP/1.1\r\n" + fields + "\r\n");
  };

  // The page: gzip bytes of the compiled-in asset, for an IP, localhost or
  // a listed host; a rebinding name gets 403.
  const netmon::web::WebAsset* index = netmon::web::find_web_asset("/");
  ASSERT_NE(index, nullptr);
  for (const char* host : {"127.0.0.1:9310", "localhost:9310", "[::1]:9310", "router.lan:9310"}) {
    std::string page = get("/", std::string("Host: ") + host + "\r\n");
    EXPECT_THAT(page, StartsWith("HTTP/1.1 200 OK\r\n")) << host;
    EXPECT_THAT(page, HasSubstr("\r\nContent-Encoding: gzip\r\n")) << host;
    EXPECT_EQ(body_of(page), index->gzip) << host;
  }
  EXPECT_THAT(get("/", "Host: evil.example:9310\r\n"), StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  EXPECT_THAT(get("/app.js", "Host: 127.0.0.1\r\n"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(http_exchange(port, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
              StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  // /metrics does not check Host: Prometheus scrapes by name.
  EXPECT_THAT(get("/metrics", "Host: evil.example:9310\r\n"), StartsWith("HTTP/1.1 200 OK\r\n"));

  const std::string upgrade =
      "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  EXPECT_THAT(get("/ws", "Host: 127.0.0.1:9310\r\nOrigin: http://evil.example\r\n" + upgrade),
              StartsWith("HTTP/1.1 403"));
  EXPECT_THAT(http_exchange(port, "GET /ws HTTP/1.0\r\nHost: 127.0.0.1\r\n" + upgrade + "\r\n"),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(netmon::test::http_request(port, "GET", "/metrics"),
              HasSubstr("\nnetmon_stream_clients 0\n"));
}
