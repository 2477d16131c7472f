// A small HTTP/1.1 server for the Prometheus endpoint: one thread, one poll()
// loop, one request per connection. In-tree because Debian's cpp-httplib is
// linked against OpenSSL and brotli, which cost the agent about 4.4 MiB of RSS
// even when --listen is not used, and has no static library for routers.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "sys/fd.h"

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
};

// Called on the server's thread for every well-formed request, with the
// request-target's path (query string removed, not percent-decoded). For HEAD
// the server sends the headers of the response returned, without its body.
// An exception thrown is logged and answered with 500.
using HttpHandler = std::function<HttpResponse(std::string_view method, std::string_view path)>;

struct HttpLimits {
  // From accept to the last byte of the response. A client that has not sent
  // a full request head, or not read the response, by then is disconnected.
  std::chrono::milliseconds deadline{2000};
  // Connections open at once. At the limit the server stops accepting, so
  // further clients wait in the kernel's backlog until a slot frees up.
  size_t max_connections = 32;
};

// Request line plus headers, terminator included. Longer heads get 431.
inline constexpr size_t kMaxRequestHead = 8192;

class HttpServer {
 public:
  // Binds `address` (numeric IPv4 or IPv6; SO_REUSEADDR, never SO_REUSEPORT,
  // so a second agent cannot share the port) and starts the serving thread.
  // Throws Error "cannot listen on ADDR: <strerror>".
  HttpServer(const ListenAddress& address, HttpHandler handler, HttpLimits limits = {});
  // Stops the thread and closes every connection, answered or not; does not
  // wait for clients, so it returns promptly.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound (differs from the address's when that was 0).
  int port() const { return port_; }

 private:
  void run();

  std::string where_;  // the address, for log messages
  HttpHandler handler_;
  HttpLimits limits_;
  Fd listener_;
  Fd stop_;  // eventfd; readable once the destructor wants the thread gone
  int port_ = 0;
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace netmon
