#include <gtest/gtest.h>

#include "origin.h"
#include "websocket_handshake.h"

namespace netmon::web {
namespace {

// RFC 6455 §1.3 and §4.2.2's example.
TEST(WebSocketAccept, Rfc6455Example) {
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

HeaderFields valid_request() {
  return {{"Host", "127.0.0.1:9310"},
          {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Sec-WebSocket-Version", "13"}};
}

HeaderFields with(HeaderFields h, const std::string& name, const std::string& value) {
  for (auto& [n, v] : h) {
    if (n == name) {
      v = value;
      return h;
    }
  }
  h.emplace_back(name, value);
  return h;
}

HeaderFields without(HeaderFields h, const std::string& name) {
  HeaderFields out;
  for (auto& f : h) {
    if (f.first != name) out.push_back(f);
  }
  return out;
}

TEST(WebSocketHandshake, AcceptsValidUpgradeWithExactResponse) {
  auto r = websocket_handshake("GET", valid_request(), {});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.status, 101);
  EXPECT_EQ(r.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

// What browsers and node's ws send: mixed case, token lists.
TEST(WebSocketHandshake, TokenListsAndCaseInsensitiveNames) {
  HeaderFields h = {{"host", "localhost:9310"},
                    {"UPGRADE", "WebSocket"},
                    {"connection", "keep-alive, Upgrade"},
                    {"sec-websocket-key", "AQIDBAUGBwgJCgsMDQ4PEA=="},
                    {"SEC-WEBSOCKET-VERSION", "13"}};
  auto r = websocket_handshake("GET", h, {});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.response.find(
                "Sec-WebSocket-Accept: " + websocket_accept("AQIDBAUGBwgJCgsMDQ4PEA==") + "\r\n"),
            std::string::npos);
  // Connection tokens split over two header lines also count.
  h = with(without(h, "connection"), "Connection", "keep-alive");
  h.emplace_back("Connection", "upgrade");
  EXPECT_TRUE(websocket_handshake("GET", h, {}).ok);
}

TEST(WebSocketHandshake, RefusesBadRequests) {
  struct Case {
    const char* what;
    std::string method;
    HeaderFields headers;
    int status;
  };
  const Case cases[] = {
      {"POST", "POST", valid_request(), 405},
      {"no Upgrade", "GET", without(valid_request(), "Upgrade"), 400},
      {"Upgrade: h2c", "GET", with(valid_request(), "Upgrade", "h2c"), 400},
      {"Connection: keep-alive", "GET", with(valid_request(), "Connection", "keep-alive"), 400},
      {"Connection: upgrades", "GET", with(valid_request(), "Connection", "upgrades"), 400},
      {"no Host", "GET", without(valid_request(), "Host"), 400},
      {"version 8", "GET", with(valid_request(), "Sec-WebSocket-Version", "8"), 426},
      {"no version", "GET", without(valid_request(), "Sec-WebSocket-Version"), 426},
      {"no key", "GET", without(valid_request(), "Sec-WebSocket-Key"), 400},
      {"key of 15 bytes", "GET", with(valid_request(), "Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4P"),
       400},
      {"key of 17 bytes", "GET",
       with(valid_request(), "Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEBE="), 400},
      {"key not base64", "GET",
       with(valid_request(), "Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!=="), 400},
  };
  for (const Case& c : cases) {
    auto r = websocket_handshake(c.method, c.headers, {});
    EXPECT_FALSE(r.ok) << c.what;
    EXPECT_EQ(r.status, c.status) << c.what;
    EXPECT_FALSE(r.error.empty()) << c.what;
    EXPECT_EQ(r.response.rfind("HTTP/1.1 " + std::to_string(c.status) + " ", 0), 0u) << c.what;
    EXPECT_NE(r.response.find("Connection: close\r\n"), std::string::npos) << c.what;
  }
  auto r = websocket_handshake("GET", with(valid_request(), "Sec-WebSocket-Version", "8"), {});
  EXPECT_NE(r.response.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  HeaderFields two_keys = valid_request();
  two_keys.emplace_back("Sec-WebSocket-Key", "AQIDBAUGBwgJCgsMDQ4PEA==");
  EXPECT_EQ(websocket_handshake("GET", two_keys, {}).status, 400);
}

TEST(Origin, ParsesAndNormalizes) {
  auto o = parse_origin("HTTP://Router.LAN");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->scheme, "http");
  EXPECT_EQ(o->host, "router.lan");
  EXPECT_EQ(o->port, 80);
  o = parse_origin("https://[fe80::1]:8443/");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->host, "[fe80::1]");
  EXPECT_EQ(o->port, 8443);
  EXPECT_EQ(parse_origin("https://grafana.example")->port, 443);
  for (const char* bad :
       {"null", "", "router.lan", "file://x", "ftp://x", "http://", "http://a/b", "http://u@a",
        "http://a:0", "http://a:65536", "http://a:12x", "http://a b", "http://a?x"}) {
    EXPECT_FALSE(parse_origin(bad)) << bad;
  }
}

TEST(Origin, DefaultAllowsNoOriginAndSameHostOnly) {
  OriginPolicy none;
  EXPECT_TRUE(origin_allowed(std::nullopt, "127.0.0.1:9310", none));
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:9310", "127.0.0.1:9310", none));
  EXPECT_TRUE(origin_allowed("http://LOCALHOST:9310", "localhost:9310", none));
  EXPECT_TRUE(origin_allowed("http://router.lan", "router.lan:80", none));
  EXPECT_TRUE(origin_allowed("http://[::1]:9310", "[::1]:9310", none));
  EXPECT_FALSE(origin_allowed("http://evil.example", "127.0.0.1:9310", none));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:9310", none));
  EXPECT_FALSE(origin_allowed("https://127.0.0.1:9310", "127.0.0.1:9310", none));
  EXPECT_FALSE(origin_allowed("null", "127.0.0.1:9310", none));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:9310", "", none));
}

TEST(Origin, AllowListFromFlag) {
  OriginPolicy policy;
  policy.allowed.push_back(*parse_origin("https://grafana.example:3000"));
  EXPECT_TRUE(origin_allowed("https://grafana.example:3000", "127.0.0.1:9310", policy));
  EXPECT_TRUE(origin_allowed("https://GRAFANA.example:3000", "127.0.0.1:9310", policy));
  EXPECT_FALSE(origin_allowed("http://grafana.example:3000", "127.0.0.1:9310", policy));
  EXPECT_FALSE(origin_allowed("https://grafana.example", "127.0.0.1:9310", policy));
}

TEST(WebSocketHandshake, OriginRefusedWith403) {
  auto r = websocket_handshake("GET", with(valid_request(), "Origin", "http://evil.example"), {});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.error.find("--allow-origin"), std::string::npos);
  EXPECT_TRUE(
      websocket_handshake("GET", with(valid_request(), "Origin", "http://127.0.0.1:9310"), {}).ok);
  OriginPolicy policy;
  policy.allowed.push_back(*parse_origin("http://evil.example"));
  EXPECT_TRUE(
      websocket_handshake("GET", with(valid_request(), "Origin", "http://evil.example"), policy)
          .ok);
  // Control characters in a refused origin do not reach the log line.
  r = websocket_handshake("GET", with(valid_request(), "Origin", "http://a\x1b[31m"), {});
  EXPECT_EQ(r.error.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace netmon::web
