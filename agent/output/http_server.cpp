#include "output/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>

#include "sys/error.h"

namespace netmon {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  Fd fd;
  Clock::time_point deadline;
  // The last byte received or sent (or the accept): who is closed first
  // when the cap or the byte budget needs room.
  Clock::time_point last_active;
  std::string in;      // the request head as it arrives
  size_t scanned = 0;  // how much of `in` has been searched for the blank line
  std::string out;     // the response, once there is one
  std::shared_ptr<const std::string> out_body;  // sent after `out` (HttpResponse::shared_body)
  size_t sent = 0;                              // of `out`, then of `out_body`
  // HttpResponse::body_stream, until its last part is in `out`; each part
  // replaces the one sent before it.
  std::function<bool(std::string&)> out_stream;
  bool chunked = false;  // out_stream's parts go framed as chunks (HTTP/1.1)
  bool responding = false;
  // Set once the router made this a stream (/events, /ws): no deadline,
  // read and written until either side ends it.
  std::unique_ptr<web::StreamClient> stream;
  bool stream_started = false;
  Clock::time_point last_write{};     // for the keep-alive
  Clock::time_point last_progress{};  // for dropping a stalled reader
};

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "";  // the reason phrase is optional (RFC 9112, 4)
  }
}

// The response's bytes, except a shared body or a streamed one: those are
// sent from where they are, or as they are made.
std::string serialize(const HttpResponse& response, bool head_only, bool chunked = false) {
  const std::string_view body = response.body_text();
  const bool copy_body = !head_only && !response.shared_body && !response.body_stream;
  std::string out;
  out.reserve(128 + (copy_body ? body.size() : 0));
  out +=
      "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  if (!response.body_stream)
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  else if (chunked)
    out += "Transfer-Encoding: chunked\r\n";
  out += "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (copy_body) out += body;
  return out;
}

// `chunked`: the client speaks HTTP/1.1, so a streamed body can be framed.
void start_response(Connection& c, HttpResponse response, bool head_only, bool chunked = false) {
  chunked = chunked && response.body_stream;
  c.out = serialize(response, head_only, chunked);
  if (!head_only) {
    // A stream replaces the other bodies: each part restarts `sent`.
    if (response.body_stream)
      c.out_stream = std::move(response.body_stream);
    else
      c.out_body = std::move(response.shared_body);
    c.chunked = chunked;
  }
  c.responding = true;
}

// Once `out` is sent: the body stream's next part in its place, framed when
// chunked, the terminating chunk after the last. False if the stream threw:
// the response then ends unterminated.
bool next_part(Connection& c, const std::string& where) {
  // The part is made in `out` itself, behind room for its chunk-size line,
  // which is written once the size is known: one buffer a connection.
  constexpr size_t kSizeRoom = 18;  // 16 hex digits and CRLF
  const size_t room = c.chunked ? kSizeRoom : 0;
  c.out.assign(room, ' ');
  c.sent = 0;
  bool more = false;
  try {
    more = c.out_stream(c.out);
  } catch (const std::exception& e) {
    spdlog::warn("http://{}: a response body failed midway: {}", where, e.what());
    return false;
  } catch (...) {
    spdlog::warn("http://{}: a response body failed midway", where);
    return false;
  }
  if (!more) c.out_stream = nullptr;
  if (!c.chunked) return true;
  const size_t size = c.out.size() - room;
  if (size == 0) {
    c.out.clear();
  } else {
    char line[kSizeRoom];
    char* end = std::to_chars(line, line + sizeof(line), size, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    c.sent = room - static_cast<size_t>(end - line);
    c.out.replace(c.sent, static_cast<size_t>(end - line), line, static_cast<size_t>(end - line));
    c.out += "\r\n";
  }
  if (!more) c.out += "0\r\n\r\n";
  return true;
}

size_t unsent(const Connection& c) {
  return c.out.size() + (c.out_body ? c.out_body->size() : 0) - c.sent;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// One past the blank line that ends the head, or npos. Lines may end in bare
// LF (RFC 9112, 2.2), so "\n\n" ends it as well as "\n\r\n".
size_t find_head_end(const std::string& data, size_t& scanned) {
  size_t from = scanned >= 2 ? scanned - 2 : 0;  // a terminator may straddle reads
  scanned = data.size();
  for (size_t i = data.find('\n', from); i != std::string::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return std::string::npos;
}

bool is_token_char(char c) {
  // strchr() also finds the string's terminator: NUL is no token character.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

// `prefix` in lowercase.
bool starts_with_ignoring_case(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

struct RequestLine {
  std::string_view method;
  std::string_view path;
  std::string_view version;
};

// `METHOD SP TARGET SP HTTP/1.x`; the path is the target without its query.
std::optional<RequestLine> parse_request_line(std::string_view head) {
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return std::nullopt;
  RequestLine request;
  request.method = line.substr(0, sp1);
  request.version = line.substr(sp2 + 1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);

  if (!std::all_of(request.method.begin(), request.method.end(), is_token_char))
    return std::nullopt;
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9')
    return std::nullopt;
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;

  // Servers must accept absolute-form ("GET http://host/metrics"), which some
  // clients send through proxies; only the path matters here.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (starts_with_ignoring_case(target, scheme)) {
      const size_t slash = target.find('/', scheme.size());
      target = slash == std::string_view::npos ? "/" : target.substr(slash);
      break;
    }
  }
  target = target.substr(0, target.find('?'));
  if (target.empty() || (target[0] != '/' && target != "*")) return std::nullopt;
  request.path = target;
  return request;
}

struct Handlers {
  const HttpHandler& handler;
  const HttpRouter& router;
  const std::string& where;
  bool streams_full;  // at max_streams: a new stream gets 503
};

void prepare_response(Connection& c, std::string_view head, const Handlers& h) {
  const HttpHandler& handler = h.handler;
  const std::string& where = h.where;
  HttpResponse response;
  bool head_only = false;
  bool chunked = false;
  if (std::optional<RequestLine> request = parse_request_line(head)) {
    head_only = request->method == "HEAD";
    chunked = request->version != "HTTP/1.0";
    try {
      HttpRoute route;
      if (h.router) route = h.router({request->method, request->path, request->version, head});
      switch (route.kind) {
        case HttpRoute::Kind::kPass:
          response = handler(request->method, request->path);
          break;
        case HttpRoute::Kind::kRespond:
          response = std::move(route.response);
          break;
        case HttpRoute::Kind::kRaw:
          c.out = std::move(route.raw);
          c.responding = true;
          return;
        case HttpRoute::Kind::kStream:
          if (h.streams_full) {
            response = plain(503, "too many streams open; try again later\n");
            response.headers.emplace_back("Retry-After", "5");
          } else {
            c.stream = std::move(route.stream);
            return;
          }
          break;
      }
    } catch (const std::exception& e) {
      spdlog::warn("http://{}: {} {}: {}", where, request->method, request->path, e.what());
      response = plain(500, "internal error\n");
    } catch (...) {
      spdlog::warn("http://{}: {} {}: unknown exception", where, request->method, request->path);
      response = plain(500, "internal error\n");
    }
  } else {
    response = plain(400, "bad request: expected METHOD TARGET HTTP/1.x\n");
  }
  start_response(c, std::move(response), head_only, chunked);
}

// After the response: close() with unread bytes (a request body, the rest of
// an oversized head) in the receive queue sends RST instead of FIN, and the
// client may then lose the response. Read away what has already arrived.
void finish(Connection& c) {
  ::shutdown(c.fd.get(), SHUT_WR);
  char discard[4096];
  for (int i = 0; i < 16 && ::recv(c.fd.get(), discard, sizeof(discard), 0) > 0; ++i) {
  }
}

// For a client past its deadline: a graceful close would leave the unsent
// rest of a response queued in the kernel for as long as the client keeps its
// receive window shut; a reset frees it at once.
void reset_on_close(const Connection& c) {
  const linger abort{1, 0};
  ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
}

// Sends what is left of the response. False once the connection is done with:
// all sent, or the client gone.
bool send_pending(Connection& c, const std::string& where) {
  while (unsent(c) > 0 || c.out_stream) {
    if (unsent(c) == 0) {
      if (!next_part(c, where)) {
        // A chunked client sees the missing last chunk; one reading to the
        // close must see a reset, not an ending.
        if (!c.chunked) reset_on_close(c);
        return false;
      }
      continue;
    }
    iovec parts[2];
    size_t count = 0;
    if (c.sent < c.out.size()) parts[count++] = {c.out.data() + c.sent, c.out.size() - c.sent};
    if (c.out_body) {
      const size_t from = c.sent > c.out.size() ? c.sent - c.out.size() : 0;
      parts[count++] = {const_cast<char*>(c.out_body->data()) + from, c.out_body->size() - from};
    }
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(c.fd.get(), &message, MSG_NOSIGNAL);
    if (n >= 0) {
      c.sent += static_cast<size_t>(n);
      if (n > 0) c.last_active = Clock::now();
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    } else if (errno != EINTR) {
      return false;
    }
  }
  finish(c);
  return false;
}

// Reads what has arrived and answers once the head is complete. False when
// the connection is to be closed.
bool receive(Connection& c, const Handlers& h) {
  char buf[4096];
  for (;;) {
    // Never more than one byte past the limit: enough to know it is exceeded.
    const size_t room = kMaxRequestHead + 1 - c.in.size();
    const ssize_t n = ::recv(c.fd.get(), buf, std::min(sizeof(buf), room), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    if (n == 0) return false;  // gone before sending a whole head
    c.last_active = Clock::now();
    c.in.append(buf, static_cast<size_t>(n));
    // RFC 9112, 2.2: empty lines (CRLF or LF) before the request line are
    // ignored; a lone CR may be the start of one, so it waits for more.
    if (c.scanned == 0) {
      size_t skip = 0;
      for (;;) {
        if (c.in.compare(skip, 2, "\r\n") == 0) {
          skip += 2;
        } else if (c.in.compare(skip, 1, "\n") == 0) {
          skip += 1;
        } else {
          break;
        }
      }
      c.in.erase(0, skip);
      if (c.in.empty() || c.in == "\r") continue;
    }
    const size_t end = find_head_end(c.in, c.scanned);
    if (end != std::string::npos && end <= kMaxRequestHead) {
      prepare_response(c, std::string_view(c.in).substr(0, end), h);
      if (c.stream) {
        // A WebSocket client may send its first frames right behind the
        // handshake; they belong to the stream.
        c.stream->received(std::string_view(c.in).substr(end));
        std::string().swap(c.in);
        return true;
      }
      return send_pending(c, h.where);
    }
    if (c.in.size() > kMaxRequestHead) {
      c.out = serialize(plain(431, "request head larger than 8 KiB\n"), false);
      c.responding = true;
      return send_pending(c, h.where);
    }
  }
}

// Writes what the stream has pending, without blocking. False when the
// connection is to be closed (the client gone, or the stream over).
bool send_stream(Connection& c, Clock::time_point now) {
  for (std::string_view out = c.stream->pending(); !out.empty(); out = c.stream->pending()) {
    const ssize_t n = ::send(c.fd.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.stream->written(static_cast<size_t>(n));
      c.last_write = c.last_progress = now;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  if (!c.stream->finished()) return true;
  finish(c);
  return false;
}

// Reads what a stream's client sent (WebSocket pings, its close) and writes
// what is pending. False when the connection is to be closed.
bool service_stream(Connection& c, Clock::time_point now) {
  char buf[4096];
  // Bounded, so a client that floods the socket cannot keep the thread here.
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      c.stream->received(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) return false;  // the client hung up
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return false;
  }
  return send_stream(c, now);
}

bool is_transient_accept_error(int err) {
  switch (err) {
    // The connection died in the backlog, or (Linux) a network error already
    // pending on it: try the next one.
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

// The fd limit the server may count on: the soft RLIMIT_NOFILE, raised to
// the hard one first (no privilege needed), since the distribution default
// of 1024 would cap a server meant to outlast 1,000 idle connections.
rlim_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return 1024;
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

}  // namespace

std::string ListenAddress::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HttpServer::HttpServer(const ListenAddress& address, HttpHandler handler, HttpLimits limits,
                       HttpRouter router, LineSource line_source)
    : where_(address.to_string()),
      handler_(std::move(handler)),
      limits_(limits),
      router_(std::move(router)),
      line_source_(std::move(line_source)) {
  const std::string what = "cannot listen on " + where_;
  if (address.port < 0 || address.port > 65535) throw Error(what + ": port out of range");

  sockaddr_storage storage{};
  socklen_t length;
  int family;
  if (address.host.find(':') != std::string::npos) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    family = AF_INET6;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(address.port));
    if (inet_pton(AF_INET6, address.host.c_str(), &sin6->sin6_addr) != 1)
      throw Error(what + ": not a numeric IPv6 address");
    length = sizeof(*sin6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    family = AF_INET;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(address.port));
    if (inet_pton(AF_INET, address.host.c_str(), &sin->sin_addr) != 1)
      throw Error(what + ": not a numeric IPv4 address");
    length = sizeof(*sin);
  }

  listener_.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) throw Error(errno_message(what, errno));
  // Lets a restarted agent bind over its predecessor's TIME_WAIT connections.
  // SO_REUSEPORT would also let a second agent bind the same port and
  // silently take half the scrapes.
  const int yes = 1;
  if (::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes)) < 0 ||
      ::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&storage), length) < 0 ||
      ::listen(listener_.get(), SOMAXCONN) < 0)
    throw Error(errno_message(what, errno));

  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) < 0)
    throw Error(errno_message(what, errno));
  port_ = ntohs(family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                   : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);

  // Half the fds for HTTP at most: the rest of the agent attaches (a tcx
  // link or two per interface) and reads files for as long as it runs.
  const rlim_t fds = raise_fd_limit();
  const rlim_t half =
      fds == RLIM_INFINITY ? limits_.max_connections + limits_.max_streams : fds / 2;
  const size_t room =
      half > limits_.max_streams + 1 ? static_cast<size_t>(half) - limits_.max_streams : 1;
  connection_cap_ = std::max<size_t>(1, std::min(limits_.max_connections, room));
  if (connection_cap_ < limits_.max_connections)
    spdlog::info("http://{}: at most {} connections (fd limit {})", where_, connection_cap_,
                 static_cast<unsigned long long>(fds));

  stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_) throw Error(errno_message(what + ": eventfd", errno));
  published_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!published_) throw Error(errno_message(what + ": eventfd", errno));

  // The thread inherits this thread's signal mask: the agent blocks SIGINT
  // and SIGTERM before it gets here, so they keep going to its signalfd.
  thread_ = std::thread([this] {
    try {
      run();
    } catch (const std::exception& e) {
      spdlog::warn("http://{} stopped serving: {}", where_, e.what());
    } catch (...) {
      spdlog::warn("http://{} stopped serving: unknown exception", where_);
    }
  });
}

HttpServer::~HttpServer() {
  const uint64_t one = 1;
  // Cannot fail short of the counter overflowing, which one write never does.
  (void)!::write(stop_.get(), &one, sizeof(one));
  thread_.join();
}

void HttpServer::publish(std::shared_ptr<const std::string> ndjson_line) {
  constexpr size_t kMaxPublishedLines = 8;
  {
    std::lock_guard<std::mutex> lock(published_mutex_);
    if (published_lines_.size() == kMaxPublishedLines) {
      published_lines_.pop_front();
      stream_dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    published_lines_.push_back(std::move(ndjson_line));
  }
  const uint64_t one = 1;
  (void)!::write(published_.get(), &one, sizeof(one));
}

void HttpServer::run() {
  std::vector<Connection> connections;
  std::vector<pollfd> polled;
  Clock::time_point accept_paused_until{};
  // The newest snapshot, and the same framed for both transports, shared by
  // every stream (and given to a new one right after its head). Framed only
  // when a stream takes it: with none open (a scraped agent) that would be
  // two copies of every line for nobody.
  std::shared_ptr<const std::string> latest_line;
  std::shared_ptr<const web::SnapshotFrames> latest;
  auto latest_frames = [&]() -> const web::SnapshotFrames* {
    if (!latest_line && line_source_) {
      try {
        latest_line = line_source_();
      } catch (const std::exception& e) {
        spdlog::warn("http://{}: no line for the streams: {}", where_, e.what());
      }
    }
    if (!latest && latest_line)
      latest = std::make_shared<const web::SnapshotFrames>(web::SnapshotFrames::of(*latest_line));
    return latest.get();
  };
  Clock::time_point evict_logged{};
  uint64_t evicted_unlogged = 0;

  // Bytes a request connection holds in user space.
  auto held = [](const Connection& c) { return c.in.size() + unsent(c); };
  // Closes the request connection idle longest (among those `eligible`):
  // whoever holds the cap or the budget longest without a byte moving goes
  // first, and a newcomer (a scrape) always gets in. False if none.
  auto evict_idlest = [&](auto eligible) {
    Connection* victim = nullptr;
    for (Connection& c : connections)
      if (c.fd && !c.stream && eligible(c) && (!victim || c.last_active < victim->last_active))
        victim = &c;
    if (!victim) return false;
    reset_on_close(*victim);
    victim->fd.reset();
    evicted_.fetch_add(1, std::memory_order_relaxed);
    // Once a minute at most: an attacker must not fill the log instead.
    ++evicted_unlogged;
    const Clock::time_point t = Clock::now();
    if (t - evict_logged >= std::chrono::minutes(1)) {
      spdlog::warn(
          "http://{}: closed {} idle connection(s) to make room (at most {} connections, "
          "{} bytes buffered)",
          where_, evicted_unlogged, connection_cap_, limits_.max_buffered_bytes);
      evict_logged = t;
      evicted_unlogged = 0;
    }
    return true;
  };

  for (;;) {
    const Clock::time_point now = Clock::now();
    // A slow or idle client loses its slot at its deadline, never anyone
    // else's time: nothing here blocks but poll(). A stream has no deadline
    // but is dropped when what it owes made no progress for stream_stall.
    auto expired = [&](Connection& c) {
      if (c.stream_started) {
        if (c.stream->pending().empty()) c.last_progress = now;
        if (now - c.last_progress < limits_.stream_stall) return false;
        spdlog::info("http://{}: dropping a stream client that read nothing for {} ms", where_,
                     limits_.stream_stall.count());
      } else if (c.deadline > now) {
        return false;
      }
      reset_on_close(c);
      return true;
    };
    connections.erase(std::remove_if(connections.begin(), connections.end(), expired),
                      connections.end());

    size_t streams = 0;
    for (Connection& c : connections) {
      if (!c.stream_started) continue;
      ++streams;
      if (c.stream->pending().empty() && now - c.last_write >= limits_.stream_idle) {
        c.stream->idle();
        c.last_write = c.last_progress = now;
      }
    }
    stream_clients_.store(streams, std::memory_order_relaxed);

    // Always accepting (but after a failure other than the cap's, see
    // below): a connection left in the kernel's backlog would wait there
    // behind idle ones, and a scrape must not.
    const bool accepting = now >= accept_paused_until;
    polled.clear();
    polled.push_back({stop_.get(), POLLIN, 0});
    polled.push_back({accepting ? listener_.get() : -1, POLLIN, 0});  // poll() skips fd -1
    polled.push_back({published_.get(), POLLIN, 0});
    Clock::time_point wake = Clock::time_point::max();
    if (now < accept_paused_until) wake = accept_paused_until;
    for (const Connection& c : connections) {
      if (c.stream_started) {
        // POLLOUT only while something waits, or poll() would return at once.
        const bool owing = !c.stream->pending().empty();
        polled.push_back({c.fd.get(), static_cast<short>(POLLIN | (owing ? POLLOUT : 0)), 0});
        wake = std::min(wake, owing ? c.last_progress + limits_.stream_stall
                                    : c.last_write + limits_.stream_idle);
        continue;
      }
      polled.push_back({c.fd.get(), static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
      wake = std::min(wake, c.deadline);
    }
    int timeout = -1;
    if (wake != Clock::time_point::max()) {
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
      timeout = static_cast<int>(std::clamp<decltype(ms)>(ms, 0, INT_MAX));
    }

    if (::poll(polled.data(), polled.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      throw Error(errno_message("poll", errno));
    }
    if (polled[0].revents) {
      // Going away: WebSocket clients get close 1001, and everyone what
      // can be written at once; nobody is waited for.
      for (Connection& c : connections) {
        if (!c.stream_started) continue;
        c.stream->shutdown();
        if (send_stream(c, Clock::now())) reset_on_close(c);
      }
      return;
    }

    const Clock::time_point after = Clock::now();
    if (polled[2].revents & POLLIN) {
      uint64_t count;
      (void)!::read(published_.get(), &count, sizeof(count));
      std::deque<std::shared_ptr<const std::string>> lines;
      {
        std::lock_guard<std::mutex> lock(published_mutex_);
        lines.swap(published_lines_);
      }
      for (size_t i = 0; i < lines.size(); ++i) {
        // A null line (not made) is made from the newest snapshot, which a
        // later line of the batch may precede: only the last one counts.
        if (!lines[i] && i + 1 < lines.size()) continue;
        latest_line = std::move(lines[i]);
        latest.reset();
        uint64_t dropped = 0;
        for (Connection& c : connections) {
          if (!c.fd || !c.stream_started) continue;
          const web::SnapshotFrames* frames = latest_frames();
          if (!frames) continue;
          const uint64_t before = c.stream->dropped();
          c.stream->snapshot(*frames);
          dropped += c.stream->dropped() - before;
          if (!send_stream(c, after)) c.fd.reset();
        }
        stream_dropped_.fetch_add(dropped, std::memory_order_relaxed);
      }
    }

    const Handlers handlers{handler_, router_, where_, streams >= limits_.max_streams};
    for (size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      if (!c.fd || !polled[i + 3].revents) continue;
      if (c.stream_started) {
        if (!service_stream(c, after)) c.fd.reset();
        continue;
      }
      bool keep = c.responding ? send_pending(c, where_) : receive(c, handlers);
      if (keep && c.stream) {
        c.stream_started = true;
        c.last_write = c.last_progress = after;
        if (const web::SnapshotFrames* frames = latest_frames()) c.stream->snapshot(*frames);
        keep = send_stream(c, after);
      }
      if (!keep) c.fd.reset();
    }
    connections.erase(std::remove_if(connections.begin(), connections.end(),
                                     [](const Connection& c) { return !c.fd; }),
                      connections.end());

    // The byte budget: what idle clients hold goes before a fresh response.
    auto over_budget = [&] {
      size_t buffered = 0;
      size_t holders = 0;
      for (const Connection& c : connections) {
        if (c.fd && !c.stream && held(c) > 0) {
          buffered += held(c);
          ++holders;
        }
      }
      return buffered > limits_.max_buffered_bytes && holders > 1;
    };
    while (over_budget() && evict_idlest([&](const Connection& c) { return held(c) > 0; })) {
    }

    if (!(polled[1].revents & POLLIN)) continue;
    size_t requests =
        static_cast<size_t>(std::count_if(connections.begin(), connections.end(),
                                          [](const Connection& c) { return c.fd && !c.stream; }));
    // Bounded per round, so a flood of connects cannot keep the thread here.
    for (int round = 0; round < 256; ++round) {
      Fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (fd) {
        if (requests >= connection_cap_ && evict_idlest([](const Connection&) { return true; }))
          --requests;
        Connection c;
        c.fd = std::move(fd);
        c.last_active = Clock::now();
        c.deadline = c.last_active + limits_.deadline;
        connections.push_back(std::move(c));
        ++requests;
        continue;
      }
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (is_transient_accept_error(err)) continue;
      // Out of fds below the cap (the limit was lowered, or the rest of the
      // agent holds more): an idle connection makes room for the new one.
      if ((err == EMFILE || err == ENFILE) &&
          evict_idlest([](const Connection&) { return true; })) {
        --requests;
        continue;
      }
      // Out of memory, or no connection of ours to close: the connection
      // stays in the backlog and poll() would report it again at once, so
      // wait a little instead of spinning.
      spdlog::warn("http://{}: cannot accept a connection: {}; retrying in 1 s", where_,
                   std::strerror(err));
      accept_paused_until = Clock::now() + std::chrono::seconds(1);
      break;
    }
  }
}

}  // namespace netmon
