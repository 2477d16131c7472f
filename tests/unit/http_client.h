// A raw-socket HTTP client for the server tests: it must not share code with
// the server it checks, and tests need to send malformed, partial and slow
// requests that no real client library would.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sys/fd.h"

namespace netmon::test {

// A connected, blocking TCP socket to host:port (numeric IPv4 or IPv6), or
// throws. TCP_NODELAY so that small writes leave as separate segments.
inline Fd connect_tcp(const std::string& host, int port) {
  sockaddr_storage storage{};
  socklen_t length;
  int family;
  if (host.find(':') != std::string::npos) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    family = AF_INET6;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr);
    length = sizeof(*sin6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    family = AF_INET;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &sin->sin_addr);
    length = sizeof(*sin);
  }
  Fd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0)
    throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  const int yes = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  return fd;
}

inline void send_all(const Fd& fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
}

struct ReadResult {
  std::string data;
  bool closed = false;  // the server closed (EOF or reset) before the timeout
  bool reset = false;   // by a reset
};

// Everything the server sends until it closes the connection, or until
// `timeout` passes.
inline ReadResult read_until_closed(
    const Fd& fd, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  ReadResult result;
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return result;
    pollfd p{fd.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return result;
    char buf[65536];
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result.closed = true;
      result.reset = n < 0 && errno == ECONNRESET;
      return result;
    }
    result.data.append(buf, static_cast<size_t>(n));
  }
}

// Sends `request` as one write and returns the whole response.
inline std::string http_exchange(int port, const std::string& request,
                                 const std::string& host = "127.0.0.1") {
  Fd fd = connect_tcp(host, port);
  send_all(fd, request);
  return read_until_closed(fd).data;
}

// The response to "METHOD PATH HTTP/1.1".
inline std::string http_request(int port, const std::string& method, const std::string& path) {
  return http_exchange(port, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

// The payload of a chunked body (RFC 9112, 7.1), or throws if it is not
// well framed or lacks the last chunk (a response cut off).
inline std::string dechunk(const std::string& body) {
  std::string payload;
  size_t at = 0;
  for (;;) {
    const size_t line_end = body.find("\r\n", at);
    if (line_end == std::string::npos) throw std::runtime_error("chunk size line unterminated");
    size_t size = 0;
    size_t digits = 0;
    for (size_t i = at; i < line_end; ++i, ++digits) {
      const char c = body[i];
      const int v = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (v < 0) throw std::runtime_error("bad chunk size");
      size = size * 16 + static_cast<size_t>(v);
    }
    if (digits == 0) throw std::runtime_error("empty chunk size");
    at = line_end + 2;
    if (size == 0) {
      if (body.compare(at, std::string::npos, "\r\n") != 0)
        throw std::runtime_error("bytes after the last chunk");
      return payload;
    }
    if (at + size + 2 > body.size() || body.compare(at + size, 2, "\r\n") != 0)
      throw std::runtime_error("chunk shorter than its size");
    payload.append(body, at, size);
    at += size + 2;
  }
}

}  // namespace netmon::test
