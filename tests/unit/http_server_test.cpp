#include "output/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "sys/error.h"
#include "sys/fd.h"

using netmon::Fd;
using netmon::HttpLimits;
using netmon::HttpResponse;
using netmon::HttpServer;
using netmon::ListenAddress;
using netmon::test::connect_tcp;
using netmon::test::http_exchange;
using netmon::test::read_until_closed;
using netmon::test::send_all;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kHelloResponse =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 6\r\n"
    "Connection: close\r\n"
    "X-Test: yes\r\n"
    "\r\n"
    "hello\n";

// Answers "hello\n" with one extra header and remembers every request it saw
// (it runs on the server's thread).
class Recorder {
 public:
  HttpResponse operator()(std::string_view method, std::string_view path) {
    std::lock_guard<std::mutex> lock(mutex_);
    seen_.push_back(std::string(method) + " " + std::string(path));
    return {200, "text/plain; charset=utf-8", "hello\n", {{"X-Test", "yes"}}};
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> seen_;
};

struct Served {
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::unique_ptr<HttpServer> server;
  int port() const { return server->port(); }
};

Served serve(HttpLimits limits = {}, const std::string& host = "127.0.0.1") {
  Served s;
  auto recorder = s.recorder;
  s.server = std::make_unique<HttpServer>(
      ListenAddress{host, 0},
      [recorder](std::string_view method, std::string_view path) {
        return (*recorder)(method, path);
      },
      limits);
  return s;
}

HttpLimits short_deadline(std::chrono::milliseconds deadline, size_t max_connections = 32) {
  HttpLimits limits;
  limits.deadline = deadline;
  limits.max_connections = max_connections;
  return limits;
}

// True when the server has closed `fd` (EOF, nothing else pending), checked
// without waiting.
bool closed_now(const Fd& fd) {
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  char c;
  return ::recv(fd.get(), &c, 1, MSG_PEEK) <= 0;
}

}  // namespace

TEST(HttpServer, GetReturnsStatusLineHeadersAndBody) {
  Served s = serve();
  ASSERT_GT(s.port(), 0);
  EXPECT_EQ(http_exchange(s.port(), "GET /hello HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"),
            kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /hello"));
}

TEST(HttpServer, HeadSendsGetHeadersWithoutBody) {
  Served s = serve();
  EXPECT_EQ(http_exchange(s.port(), "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 6\r\n"
            "Connection: close\r\n"
            "X-Test: yes\r\n"
            "\r\n");
  EXPECT_THAT(s.recorder->seen(), ElementsAre("HEAD /hello"));
}

TEST(HttpServer, HandlerSeesPathWithoutQueryString) {
  Served s = serve();
  EXPECT_EQ(http_exchange(s.port(), "GET /metrics?name[]=up&x=%2F HTTP/1.1\r\n\r\n"),
            kHelloResponse);
  EXPECT_EQ(http_exchange(s.port(), "GET /?a HTTP/1.0\r\n\r\n"), kHelloResponse);
  // Absolute-form, as sent through proxies: only the path reaches the handler.
  EXPECT_EQ(http_exchange(s.port(), "GET http://host:9310/snapshot?x HTTP/1.1\r\n\r\n"),
            kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /metrics", "GET /", "GET /snapshot"));
}

TEST(HttpServer, RequestInSmallPiecesIsAssembled) {
  Served s = serve();
  const std::string request = "GET /slow?q=1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\n\r\n";
  Fd fd = connect_tcp("127.0.0.1", s.port());
  for (char c : request) {
    send_all(fd, std::string(1, c));
    std::this_thread::sleep_for(1ms);  // separate segments, separate reads
  }
  EXPECT_EQ(read_until_closed(fd).data, kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /slow"));
}

TEST(HttpServer, BareLineFeedsEndTheHead) {
  Served s = serve();
  EXPECT_EQ(http_exchange(s.port(), "GET /lf HTTP/1.0\nHost: x\n\n"), kHelloResponse);
  // The blank line split across two writes.
  Fd fd = connect_tcp("127.0.0.1", s.port());
  send_all(fd, "GET /split HTTP/1.1\r\nHost: x\r\n\r");
  std::this_thread::sleep_for(20ms);
  send_all(fd, "\n");
  EXPECT_EQ(read_until_closed(fd).data, kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /lf", "GET /split"));
}

TEST(HttpServer, RequestBodyIsIgnored) {
  Served s = serve();
  EXPECT_EQ(http_exchange(s.port(),
                          "POST /form HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello=world"
                          "GET /second HTTP/1.1\r\n\r\n"),
            kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("POST /form"));
}

TEST(HttpServer, MalformedRequestLineIs400) {
  Served s = serve();
  for (const char* bad : {
           "GARBAGE\r\n\r\n",
           "GET /\r\n\r\n",
           "GET / HTTP/2.0\r\n\r\n",
           "GET / HTTP/1.1 extra\r\n\r\n",
           "GET  / HTTP/1.1\r\n\r\n",
           "GET / http/1.1\r\n\r\n",
           "G(T / HTTP/1.1\r\n\r\n",
           "GET metrics HTTP/1.1\r\n\r\n",
           "GET /a\x01z HTTP/1.1\r\n\r\n",
           "\rGET / HTTP/1.1\r\n\r\n",
       }) {
    const std::string response = http_exchange(s.port(), bad);
    EXPECT_THAT(response, StartsWith("HTTP/1.1 400 Bad Request\r\n")) << bad;
    EXPECT_THAT(response, HasSubstr("\r\nConnection: close\r\n")) << bad;
  }
  EXPECT_THAT(s.recorder->seen(), IsEmpty());
}

TEST(HttpServer, NulInTheMethodIs400Not405) {
  // strchr() finds a string's terminator, so a NUL once passed as a token
  // character and reached the handler as method "GE\0T".
  Served s = serve();
  const std::string request("GE\0T /metrics HTTP/1.1\r\n\r\n", 27);
  ASSERT_EQ(request[2], '\0');
  EXPECT_THAT(http_exchange(s.port(), request), StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(http_exchange(s.port(), std::string("\0GET / HTTP/1.1\r\n\r\n", 20)),
              StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(s.recorder->seen(), IsEmpty());
}

TEST(HttpServer, EmptyLinesBeforeTheRequestLineAreSkipped) {
  // RFC 9112, 2.2: a server SHOULD ignore at least one empty line received
  // before the request-line (some clients send a CRLF after a POST body).
  Served s = serve();
  EXPECT_EQ(http_exchange(s.port(), "\r\nGET /crlf HTTP/1.1\r\n\r\n"), kHelloResponse);
  EXPECT_EQ(http_exchange(s.port(), "\n\r\n\nGET /mixed HTTP/1.1\r\n\r\n"), kHelloResponse);
  // The empty line split across reads, the CR alone first.
  Fd fd = connect_tcp("127.0.0.1", s.port());
  send_all(fd, "\r");
  std::this_thread::sleep_for(20ms);
  send_all(fd, "\n");
  std::this_thread::sleep_for(20ms);
  send_all(fd, "GET /split HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_until_closed(fd).data, kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /crlf", "GET /mixed", "GET /split"));
}

TEST(HttpServer, HeadOver8KiBIs431) {
  Served s = serve();
  const std::string start = "GET /big HTTP/1.1\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  // Exactly at the limit, terminator included: served.
  const std::string fits =
      start + std::string(netmon::kMaxRequestHead - start.size() - end.size(), 'a') + end;
  ASSERT_EQ(fits.size(), netmon::kMaxRequestHead);
  EXPECT_EQ(http_exchange(s.port(), fits), kHelloResponse);
  // One byte more: refused, and so is a head that never ends.
  const std::string over =
      start + std::string(fits.size() - start.size() - end.size() + 1, 'a') + end;
  EXPECT_THAT(http_exchange(s.port(), over),
              StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  EXPECT_THAT(http_exchange(s.port(), start + std::string(20000, 'b')),
              StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /big"));
}

TEST(HttpServer, HandlerExceptionIs500) {
  HttpServer server({"127.0.0.1", 0}, [](std::string_view, std::string_view) -> HttpResponse {
    throw std::runtime_error("boom");
  });
  EXPECT_THAT(netmon::test::http_request(server.port(), "GET", "/x"),
              StartsWith("HTTP/1.1 500 Internal Server Error\r\n"));
  // The server survives it.
  EXPECT_THAT(netmon::test::http_request(server.port(), "GET", "/x"),
              StartsWith("HTTP/1.1 500 Internal Server Error\r\n"));
}

std::string patterned(size_t size) {
  std::string body(size, '\0');
  for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 23);
  return body;
}

TEST(HttpServer, LargeResponseIsSentCompletely) {
  const std::string body = patterned(8 << 20);
  HttpServer server({"127.0.0.1", 0}, [&](std::string_view, std::string_view) {
    return HttpResponse{200, "application/octet-stream", body, {}};
  });
  Fd fd = connect_tcp("127.0.0.1", server.port());
  const int window = 65536;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  send_all(fd, "GET /big HTTP/1.1\r\n\r\n");
  // Not reading yet fills both socket buffers: the server must wait for
  // POLLOUT and resume where its last send() stopped.
  std::this_thread::sleep_for(100ms);
  netmon::test::ReadResult result = read_until_closed(fd);
  EXPECT_TRUE(result.closed);
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 8388608\r\n"
      "Connection: close\r\n\r\n";
  ASSERT_EQ(result.data.size(), head.size() + body.size());
  EXPECT_EQ(result.data.compare(0, head.size(), head), 0);
  EXPECT_TRUE(result.data.compare(head.size(), body.size(), body) == 0);
}

TEST(HttpServer, SharedBodyIsSentWholeAfterItsOwnerMovesOnAndNotForHead) {
  // /snapshot's way: the body is the latest line itself, which the agent
  // replaces every tick while a slow reader is still being sent the old one.
  auto line = std::make_shared<const std::string>(patterned(4 << 20));
  std::mutex mutex;
  HttpServer server({"127.0.0.1", 0}, [&](std::string_view, std::string_view) {
    HttpResponse response;
    std::lock_guard<std::mutex> lock(mutex);
    response.shared_body = line;
    return response;
  });
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4194304\r\n"
      "Connection: close\r\n\r\n";
  EXPECT_EQ(http_exchange(server.port(), "HEAD /snapshot HTTP/1.1\r\n\r\n"), head);

  const std::string first = *line;
  Fd fd = connect_tcp("127.0.0.1", server.port());
  const int window = 65536;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  send_all(fd, "GET /snapshot HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // the head and part of the body sent, the rest waits
  {
    std::lock_guard<std::mutex> lock(mutex);
    line = std::make_shared<const std::string>("next\n");
  }
  netmon::test::ReadResult result = read_until_closed(fd);
  EXPECT_TRUE(result.closed);
  ASSERT_EQ(result.data.size(), head.size() + first.size());
  EXPECT_EQ(result.data.compare(0, head.size(), head), 0);
  EXPECT_TRUE(result.data.compare(head.size(), first.size(), first) == 0);
  EXPECT_EQ(http_exchange(server.port(), "GET /snapshot HTTP/1.1\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n"
            "Connection: close\r\n\r\nnext\n");
}

// A body of `parts` parts of `part_size` patterned bytes each, made as it
// is sent; it throws instead of making part `throw_at` (when set).
HttpResponse streamed(size_t parts, size_t part_size, size_t throw_at = SIZE_MAX) {
  HttpResponse response;
  auto made = std::make_shared<size_t>(0);
  response.body_stream = [=](std::string& out) {
    if (*made == throw_at) throw std::runtime_error("part failed");
    out += patterned(part_size);
    return ++*made < parts;
  };
  return response;
}

TEST(HttpServer, StreamedBodyIsChunkedForHttp11AndCloseDelimitedForHttp10) {
  HttpServer server({"127.0.0.1", 0},
                    [&](std::string_view, std::string_view) { return streamed(40, 100000); });
  std::string expected;
  for (int i = 0; i < 40; ++i) expected += patterned(100000);

  Fd fd = connect_tcp("127.0.0.1", server.port());
  const int window = 65536;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);  // the server waits for room part after part
  netmon::test::ReadResult result = read_until_closed(fd);
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(result.data.compare(0, head.size(), head), 0) << result.data.substr(0, 200);
  // 100000 is 186a0: one chunk a part, then the last chunk.
  EXPECT_EQ(result.data.compare(head.size(), 7, "186a0\r\n"), 0);
  EXPECT_TRUE(netmon::test::dechunk(result.data.substr(head.size())) == expected);

  const std::string old = http_exchange(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  const std::string old_head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(old.size(), old_head.size() + expected.size());
  EXPECT_EQ(old.compare(0, old_head.size(), old_head), 0);
  EXPECT_TRUE(old.compare(old_head.size(), expected.size(), expected) == 0);

  EXPECT_EQ(http_exchange(server.port(), "HEAD /metrics HTTP/1.1\r\n\r\n"), head);
}

TEST(HttpServer, StreamedBodyThatFailsMidwayIsSeenCut) {
  HttpServer server({"127.0.0.1", 0},
                    [&](std::string_view, std::string_view) { return streamed(10, 1000, 3); });
  const std::string response = http_exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n");
  const size_t body = response.find("\r\n\r\n") + 4;
  ASSERT_THAT(response, HasSubstr("Transfer-Encoding: chunked\r\n"));
  // Three parts arrived, and no last chunk: a client knows it is cut.
  EXPECT_EQ(response.size() - body, 3 * (5 + 1000 + 2));
  EXPECT_THROW(netmon::test::dechunk(response.substr(body)), std::runtime_error);
  // An HTTP/1.0 client, which reads to the close, gets a reset instead.
  Fd old = connect_tcp("127.0.0.1", server.port());
  send_all(old, "GET /metrics HTTP/1.0\r\n\r\n");
  const netmon::test::ReadResult cut = read_until_closed(old);
  EXPECT_TRUE(cut.reset);
  EXPECT_THAT(cut.data, Not(HasSubstr("Transfer-Encoding")));
  // The server goes on serving.
  EXPECT_THAT(http_exchange(server.port(), "GET /metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(HttpServer, ClientNotReadingIsDroppedAtDeadline) {
  const std::string body = patterned(16 << 20);
  HttpLimits limits = short_deadline(200ms);
  HttpServer server(
      {"127.0.0.1", 0},
      [&](std::string_view, std::string_view) {
        return HttpResponse{200, "application/octet-stream", body, {}};
      },
      limits);
  Fd fd = connect_tcp("127.0.0.1", server.port());
  const int window = 65536;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  send_all(fd, "GET /big HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(400ms);
  // What had arrived, then the reset: far from the whole response.
  netmon::test::ReadResult result = read_until_closed(fd, 2000ms);
  EXPECT_TRUE(result.closed);
  EXPECT_THAT(result.data, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_LT(result.data.size(), body.size() / 2);
  // And it took no slot from the next client.
  EXPECT_THAT(netmon::test::http_request(server.port(), "GET", "/"), StartsWith("HTTP/1.1 200"));
}

TEST(HttpServer, IdleClientDoesNotDelayOthersAndIsClosedAtDeadline) {
  // Long enough that a loaded test machine answers the busy client in time.
  Served s = serve(short_deadline(300ms));
  const auto start = Clock::now();
  Fd idle = connect_tcp("127.0.0.1", s.port());
  send_all(idle, "GET /idle HT");  // a slowloris: part of a head, then nothing
  Fd silent = connect_tcp("127.0.0.1", s.port());

  EXPECT_EQ(http_exchange(s.port(), "GET /busy HTTP/1.1\r\n\r\n"), kHelloResponse);
  EXPECT_LT(Clock::now() - start, 300ms) << "waited for the idle clients";
  EXPECT_FALSE(closed_now(idle)) << "closed before its deadline";

  // Closed once the deadline has passed: waited for, with a deadline of its
  // own, rather than measured against a window of wall-clock time.
  for (const Fd* fd : {&idle, &silent}) {
    netmon::test::ReadResult result = read_until_closed(*fd, 2000ms);
    EXPECT_TRUE(result.closed);
    EXPECT_EQ(result.data, "");  // dropped, not answered
  }
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /busy"));
}

TEST(HttpServer, AtTheCapTheConnectionIdleLongestMakesRoom) {
  // Idle clients wait out no deadline here: a new one gets in at once by
  // closing whoever has been idle longest.
  constexpr size_t kCap = 4;
  Served s = serve(short_deadline(30s, kCap));
  std::vector<Fd> idle;
  for (size_t i = 0; i < 3 * kCap; ++i) {
    idle.push_back(connect_tcp("127.0.0.1", s.port()));
    std::this_thread::sleep_for(5ms);  // accepted one by one, in this order
  }
  const auto start = Clock::now();
  EXPECT_EQ(http_exchange(s.port(), "GET /late HTTP/1.1\r\n\r\n"), kHelloResponse);
  EXPECT_LT(Clock::now() - start, 1000ms) << "waited for idle clients";
  // 12 idle and the scrape through 4 slots: the 9 oldest were closed, unanswered.
  for (size_t i = 0; i < idle.size(); ++i) {
    if (i < 2 * kCap + 1) {
      netmon::test::ReadResult result = read_until_closed(idle[i], 2000ms);
      EXPECT_TRUE(result.closed) << i;
      EXPECT_EQ(result.data, "") << i;
    } else {
      EXPECT_FALSE(closed_now(idle[i])) << i;
    }
  }
  EXPECT_EQ(s.server->connections_evicted(), 2 * kCap + 1);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /late"));
}

namespace {

long self_status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  return -1;
}

// What 1,050 connections may add to this process's RSS: a few hundred bytes
// each in the server, far less than this; sanitizers add shadow memory and
// (ASan) a quarantine of freed blocks.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr long kRssSlackKib = 128 * 1024;
#else
constexpr long kRssSlackKib = 16 * 1024;
#endif

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

}  // namespace

TEST(HttpServer, ScrapesAreAnsweredWhileAThousandIdleAndSlowClientsHoldOn) {
  // Defect 2.2 of issue 13: ~180 idle connections once made /metrics
  // unreachable (32 slots, the rest queued in the backlog). The deadline is
  // long here, so every idle client is really still held during the scrapes.
  constexpr size_t kIdle = 1000;
  constexpr size_t kSlow = 50;
  Served s = serve(short_deadline(60s, 4096));
  ASSERT_GE(s.server->connection_cap(), kIdle + kSlow + 1) << "fd limit too low for this test";
  const long rss_before = self_status_kib("VmRSS:");
  const size_t fds_before = open_fds();

  std::vector<Fd> idle;
  for (size_t i = 0; i < kIdle; ++i) idle.push_back(connect_tcp("127.0.0.1", s.port()));
  // Slowloris: a head that grows by a byte every 300 ms and never ends.
  std::vector<Fd> slow;
  for (size_t i = 0; i < kSlow; ++i) {
    slow.push_back(connect_tcp("127.0.0.1", s.port()));
    send_all(slow.back(), "GET /slow HTTP/1.1\r\nX-Slow: ");
  }
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    while (!stop) {
      for (const Fd& fd : slow) send_all(fd, "a");
      std::this_thread::sleep_for(300ms);
    }
  });

  for (int scrape = 0; scrape < 5; ++scrape) {
    const auto start = Clock::now();
    Fd fd = connect_tcp("127.0.0.1", s.port());
    send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n");
    netmon::test::ReadResult result = read_until_closed(fd, 1000ms);
    EXPECT_TRUE(result.closed) << "scrape " << scrape << " not answered within 1 s";
    EXPECT_EQ(result.data, kHelloResponse) << "scrape " << scrape;
    EXPECT_LT(Clock::now() - start, 1000ms) << "scrape " << scrape;
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  dripper.join();

  // Nobody was closed to make room (the cap is far away), nothing answered
  // the idle or the slow ones, and the server holds one fd per client and a
  // small, bounded amount of memory for all of them.
  EXPECT_EQ(s.server->connections_evicted(), 0u);
  for (const Fd& fd : idle) ASSERT_FALSE(closed_now(fd));
  for (const Fd& fd : slow) ASSERT_FALSE(closed_now(fd));
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /metrics", "GET /metrics", "GET /metrics",
                                              "GET /metrics", "GET /metrics"));
  const size_t server_fds = open_fds() - fds_before - idle.size() - slow.size();
  EXPECT_LE(server_fds, kIdle + kSlow + 8);
  EXPECT_LT(self_status_kib("VmRSS:") - rss_before, kRssSlackKib) << "KiB for 1,050 connections";
}

TEST(HttpServer, ByteBudgetClosesTheIdlestNonReaderBeforeAFreshScrape) {
  const std::string body = patterned(12 << 20);
  HttpLimits limits = short_deadline(30s);
  limits.max_buffered_bytes = 8 << 20;
  HttpServer server(
      {"127.0.0.1", 0},
      [&](std::string_view, std::string_view) {
        return HttpResponse{200, "application/octet-stream", body, {}};
      },
      limits);
  // Three clients that ask and never read: 12 MiB each, of which loopback's
  // socket buffers take at most about 4 MiB, so each holds 8 MiB or more in
  // the server: every newcomer puts it over the 8 MiB budget.
  std::vector<Fd> stalled;
  for (int i = 0; i < 3; ++i) {
    stalled.push_back(connect_tcp("127.0.0.1", server.port()));
    const int window = 65536;
    ::setsockopt(stalled.back().get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
    send_all(stalled.back(), "GET /big HTTP/1.1\r\n\r\n");
    std::this_thread::sleep_for(100ms);
  }
  // A reader still gets all of its response, the oldest non-reader went.
  Fd fd = connect_tcp("127.0.0.1", server.port());
  send_all(fd, "GET /big HTTP/1.1\r\n\r\n");
  // Generous: a sanitizer build copies these 12 MiB responses slowly.
  netmon::test::ReadResult result = read_until_closed(fd, 30000ms);
  EXPECT_TRUE(result.closed);
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(result.data.size(), head.size() + body.size());
  EXPECT_GE(server.connections_evicted(), 2u);
  EXPECT_TRUE(read_until_closed(stalled[0], 10000ms).closed);
}

TEST(HttpServer, RaisesTheFdSoftLimitAndCapsConnectionsBelowIt) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  if (before.rlim_max == RLIM_INFINITY || before.rlim_max < 2048)
    GTEST_SKIP() << "hard fd limit " << before.rlim_max;
  rlimit low = before;
  low.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  Served s = serve();
  rlimit after{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  EXPECT_EQ(s.server->connection_cap(),
            std::min<size_t>(4096, static_cast<size_t>(before.rlim_max / 2) - 64));
  ::setrlimit(RLIMIT_NOFILE, &before);
}

TEST(HttpServer, ServesIpv6Loopback) {
  {
    Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe && errno == EAFNOSUPPORT) GTEST_SKIP() << "no IPv6 in this kernel";
    ASSERT_TRUE(probe) << std::strerror(errno);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    if (::bind(probe.get(), reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6)) < 0 &&
        errno == EADDRNOTAVAIL)
      GTEST_SKIP() << "no ::1 on this host";
  }
  Served s = serve({}, "::1");
  ASSERT_GT(s.port(), 0);
  EXPECT_EQ(http_exchange(s.port(), "GET /v6 HTTP/1.1\r\nHost: [::1]\r\n\r\n", "::1"),
            kHelloResponse);
  EXPECT_THAT(s.recorder->seen(), ElementsAre("GET /v6"));
}

namespace {

using netmon::HttpRequest;
using netmon::HttpRoute;
using netmon::web::StreamClient;
using netmon::web::StreamKind;

// /events-like streams at /sse, a WebSocket stream (with a stand-in head) at
// /ws; everything else goes to the Recorder.
std::unique_ptr<HttpServer> serve_streams(HttpLimits limits, std::shared_ptr<Recorder> recorder) {
  return std::make_unique<HttpServer>(
      ListenAddress{"127.0.0.1", 0},
      [recorder](std::string_view method, std::string_view path) {
        return (*recorder)(method, path);
      },
      limits,
      [](const HttpRequest& request) {
        HttpRoute route;
        if (request.path == "/sse" || request.path == "/ws") {
          route.kind = HttpRoute::Kind::kStream;
          const bool ws = request.path == "/ws";
          route.stream = std::make_unique<StreamClient>(
              ws ? StreamKind::kWebSocket : StreamKind::kSse, ws ? "WS\r\n\r\n" : "SSE\r\n\r\n");
        }
        return route;
      });
}

// Reads from `fd` until `data` ends with `suffix` or `timeout` passes.
std::string read_until(const Fd& fd, std::string_view suffix, std::chrono::milliseconds timeout) {
  std::string data;
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until &&
         (data.size() < suffix.size() ||
          data.compare(data.size() - suffix.size(), suffix.size(), suffix) != 0)) {
    pollfd p{fd.get(), POLLIN, 10};
    if (::poll(&p, 1, 10) != 1) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

TEST(HttpServerStreams, NewClientGetsHeadAndNewestSnapshotThenEveryPublishedOne) {
  auto recorder = std::make_shared<Recorder>();
  auto server = serve_streams({}, recorder);
  server->publish("{\"seq\":1}\n");
  server->publish("{\"seq\":2}\n");  // replaces seq 1 before anyone took it
  Fd fd = connect_tcp("127.0.0.1", server->port());
  send_all(fd, "GET /sse HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_until(fd, "}\n\n", 2000ms), "SSE\r\n\r\ndata: {\"seq\":2}\n\n");
  server->publish("{\"seq\":3}\n");
  EXPECT_EQ(read_until(fd, "}\n\n", 2000ms), "data: {\"seq\":3}\n\n");
  EXPECT_EQ(server->stream_clients(), 1u);
  EXPECT_THAT(recorder->seen(), IsEmpty());
}

TEST(HttpServerStreams, StreamsOutliveTheDeadlineAndLeaveRequestSlotsFree) {
  HttpLimits limits = short_deadline(100ms, 1);
  limits.max_streams = 2;
  auto recorder = std::make_shared<Recorder>();
  auto server = serve_streams(limits, recorder);
  std::vector<Fd> streams;
  for (int i = 0; i < 2; ++i) {
    streams.push_back(connect_tcp("127.0.0.1", server->port()));
    send_all(streams.back(), "GET /sse HTTP/1.1\r\n\r\n");
    EXPECT_EQ(read_until(streams.back(), "\r\n\r\n", 2000ms), "SSE\r\n\r\n");
  }
  // One over the stream limit: refused at once, not queued.
  EXPECT_THAT(http_exchange(server->port(), "GET /sse HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  std::this_thread::sleep_for(300ms);  // three deadlines
  // The one request slot is free for a scrape, promptly.
  const auto start = Clock::now();
  EXPECT_EQ(http_exchange(server->port(), "GET /metrics HTTP/1.1\r\n\r\n"), kHelloResponse);
  EXPECT_LT(Clock::now() - start, 1000ms);
  server->publish("x");
  for (const Fd& fd : streams) EXPECT_EQ(read_until(fd, "x\n\n", 2000ms), "data: x\n\n");
}

TEST(HttpServerStreams, StalledReaderHoldsNoBacklogAndIsDroppedAfterStall) {
  HttpLimits limits;
  limits.stream_stall = 500ms;
  auto server = serve_streams(limits, std::make_shared<Recorder>());
  Fd fd = connect_tcp("127.0.0.1", server->port());
  const int window = 4096;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &window, sizeof(window));
  send_all(fd, "GET /sse HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  const std::string line(256 << 10, 'x');  // far more than the socket buffers take
  for (int i = 0; i < 40; ++i) {
    server->publish(line);
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(200ms);
  // Beyond what the socket buffers took, each one replaced the last.
  EXPECT_GE(server->stream_dropped(), 1u);
  // Past the stall limit the connection is reset; what arrived is far less
  // than the 10 MiB published.
  std::this_thread::sleep_for(600ms);
  netmon::test::ReadResult result = read_until_closed(fd, 3000ms);
  EXPECT_TRUE(result.closed);
  EXPECT_LT(result.data.size(), 3 * line.size());
  EXPECT_EQ(server->stream_clients(), 0u);
}

TEST(HttpServerStreams, IdleStreamGetsKeepAlives) {
  HttpLimits limits;
  limits.stream_idle = 100ms;
  auto server = serve_streams(limits, std::make_shared<Recorder>());
  Fd sse = connect_tcp("127.0.0.1", server->port());
  send_all(sse, "GET /sse HTTP/1.1\r\n\r\n");
  EXPECT_THAT(read_until(sse, "\n\n", 2000ms), StartsWith("SSE\r\n\r\n"));
  EXPECT_THAT(read_until(sse, "\n\n", 2000ms), StartsWith(": "));  // an SSE comment
  Fd ws = connect_tcp("127.0.0.1", server->port());
  send_all(ws, "GET /ws HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_until(ws, "\r\n\r\n", 2000ms), "WS\r\n\r\n");
  // A ping: FIN + opcode 9.
  std::string ping = read_until(ws, "x", 500ms);
  ASSERT_FALSE(ping.empty());
  EXPECT_EQ(static_cast<unsigned char>(ping[0]), 0x89);
}

TEST(HttpServerStreams, ShutdownSendsWebSocketClose1001) {
  auto server = serve_streams({}, std::make_shared<Recorder>());
  Fd fd = connect_tcp("127.0.0.1", server->port());
  send_all(fd, "GET /ws HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_until(fd, "\r\n\r\n", 2000ms), "WS\r\n\r\n");
  server.reset();
  netmon::test::ReadResult result = read_until_closed(fd, 2000ms);
  EXPECT_TRUE(result.closed);
  EXPECT_EQ(result.data, std::string("\x88\x02\x03\xe9", 4));
}
