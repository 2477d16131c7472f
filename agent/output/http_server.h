// A small HTTP/1.1 server for the Prometheus endpoint: one thread, one poll()
// loop, one request per connection. Every connection is accepted at once (a
// scrape never waits behind idle ones in the kernel's backlog); a connection
// cap, a per-connection deadline and a byte budget bound what idle, slow and
// non-reading clients can hold, the longest idle being closed first. In-tree because Debian's
// cpp-httplib is linked against OpenSSL and brotli, which cost the agent about 4.4 MiB of RSS even
// when --listen is not used, and has no static library for routers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sys/fd.h"
#include "web/stream_client.h"

namespace netmon {

// Where --listen binds. Only numeric addresses (and "localhost"): a router's
// agent must not depend on name resolution to come up.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0", ...
  int port = 0;      // 0 picks a free port (see HttpServer::port())

  // "127.0.0.1:9310", "[::1]:9310"; IPv6 in brackets.
  std::string to_string() const;
};

// What a handler answers. The server adds the status line, Content-Type,
// Content-Length and `Connection: close`.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, in order
  // Instead of `body` when set: a body shared with its owner (the latest
  // snapshot line, 0.3 MiB at 1,000 interfaces with --ledger), sent from
  // there rather than copied into the response and again into the
  // connection's buffer.
  std::shared_ptr<const std::string> shared_body;
  // Instead of either when set: a body made as it is sent, for one too large
  // to hold whole (/metrics, 0.7 MB at 1,000 interfaces with --ledger).
  // Called on the server's thread once the part it gave last is sent; it
  // appends the next part to `out` and returns false once that was the last.
  // Sent chunked to HTTP/1.1 clients, so one cut off (the agent stopped, a
  // part that threw) is seen to be; an HTTP/1.0 client reads to the close.
  std::function<bool(std::string& out)> body_stream;

  std::string_view body_text() const { return shared_body ? *shared_body : body; }
};

// Called on the server's thread for every well-formed request, with the
// request-target's path (query string removed, not percent-decoded). For HEAD
// the server sends the headers of the response returned, without its body.
// An exception thrown is logged and answered with 500.
using HttpHandler = std::function<HttpResponse(std::string_view method, std::string_view path)>;

// A request as the stream router sees it: the whole head, so it can read
// header fields (Origin, Host, Upgrade, Sec-WebSocket-*).
struct HttpRequest {
  std::string_view method;
  std::string_view path;
  std::string_view version;  // "HTTP/1.1"
  std::string_view head;     // request line, fields and the blank line
};

// What the router makes of a request: not its business (the HttpHandler
// answers), a response of its own, or a long-lived stream.
struct HttpRoute {
  enum class Kind { kPass, kRespond, kRaw, kStream };
  Kind kind = Kind::kPass;
  HttpResponse response;                      // kRespond
  std::string raw;                            // kRaw: sent as it is, then closed
  std::unique_ptr<web::StreamClient> stream;  // kStream
};

// Called on the server's thread before the HttpHandler; exceptions as there.
using HttpRouter = std::function<HttpRoute(const HttpRequest& request)>;

// The newest NDJSON line, made on request: what the streams are given when
// the last line published was null (none was made: no stream was open).
// Called on the server's thread; null if there is none yet.
using LineSource = std::function<std::shared_ptr<const std::string>()>;

struct HttpLimits {
  // From accept to the last byte of the response. A client that has not sent
  // a full request head, or not read the response, by then is disconnected
  // (an idle or slowloris client included: bytes do not extend it).
  std::chrono::milliseconds deadline{2000};
  // Request connections open at once (streams apart). Every connection is
  // accepted; at the cap the one idle longest (no byte received or sent for
  // the longest time) is closed to make room, so a new client always gets in.
  // Also kept to half the RLIMIT_NOFILE soft limit, less max_streams (the
  // server raises the soft limit to the hard one at start), so the rest of
  // the agent keeps fds for attaching.
  size_t max_connections = 4096;
  // Request heads and unsent responses held across all request connections.
  // Beyond it the connection idle longest among those holding bytes is
  // closed (never the last one: a single larger response is still served).
  size_t max_buffered_bytes = size_t{8} << 20;
  // Streams (/events, /ws) open at once, on top of max_connections and
  // without its deadline, so streams never take the slots a scrape needs.
  // One more is answered 503. 64: ten browsers (one stream each) and ten
  // programs fit three times over; each costs at most a few KiB (StreamClient).
  size_t max_streams = 64;
  // A stream with nothing sent for this long gets a keep-alive (an SSE
  // comment, a WebSocket ping).
  std::chrono::milliseconds stream_idle{15000};
  // A stream whose pending bytes made no progress for this long is dropped:
  // a stalled reader must not hold its slot for ever.
  std::chrono::milliseconds stream_stall{30000};
};

// Request line plus headers, terminator included. Longer heads get 431.
inline constexpr size_t kMaxRequestHead = 8192;

class HttpServer {
 public:
  // Binds `address` (numeric IPv4 or IPv6; SO_REUSEADDR, never SO_REUSEPORT,
  // so a second agent cannot share the port) and starts the serving thread.
  // Throws Error "cannot listen on ADDR: <strerror>".
  HttpServer(const ListenAddress& address, HttpHandler handler, HttpLimits limits = {},
             HttpRouter router = {}, LineSource line_source = {});
  // Stops the thread and closes every connection, answered or not; does not
  // wait for clients, so it returns promptly.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (differs from the address's when that was 0).
  int port() const { return port_; }

  // From any thread (the main loop's, once per tick): the newest NDJSON line
  // for every stream. The server frames each line once for all clients, and
  // only while a stream is open (a new one gets the newest line framed); a
  // client that cannot keep up gets the newest line, never a backlog. Null:
  // a newer snapshot whose line was not made; a stream that opens asks the
  // LineSource for it.
  void publish(std::shared_ptr<const std::string> ndjson_line);
  void publish(std::string ndjson_line) {
    publish(std::make_shared<const std::string>(std::move(ndjson_line)));
  }

  // Snapshots streams could not take (replaced while a client was slow),
  // since start; and streams open now. Any thread.
  uint64_t stream_dropped() const { return stream_dropped_.load(std::memory_order_relaxed); }
  size_t stream_clients() const { return stream_clients_.load(std::memory_order_relaxed); }
  // Request connections closed to make room (the cap or the byte budget),
  // since start; and the cap in force (max_connections, lowered to fit the
  // fd limit). Any thread.
  uint64_t connections_evicted() const { return evicted_.load(std::memory_order_relaxed); }
  size_t connection_cap() const { return connection_cap_; }

 private:
  void run();

  std::string where_;  // the address, for log messages
  HttpHandler handler_;
  HttpLimits limits_;
  Fd listener_;
  Fd stop_;  // eventfd; readable once the destructor wants the thread gone
  HttpRouter router_;
  LineSource line_source_;
  Fd published_;  // eventfd; readable once publish() queued a line
  std::mutex published_mutex_;
  // Lines not yet handed to the streams, oldest first: a few, so that a
  // server thread that falls a tick or two behind (a busy machine) still
  // gives every reading client every line; beyond that the oldest go, counted.
  std::deque<std::shared_ptr<const std::string>> published_lines_;  // guarded by published_mutex_
  std::atomic<uint64_t> stream_dropped_{0};
  std::atomic<size_t> stream_clients_{0};
  std::atomic<uint64_t> evicted_{0};
  size_t connection_cap_ = 0;
  int port_ = 0;
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace netmon
