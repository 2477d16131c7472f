// The handshake and frame parser against bytes real clients sent: node's
// `ws` 8.18, wscat 6.1 and Chromium 156 (recorded by
// tests/e2e/web/record_clients.js into tests/fixtures/websocket/; each
// client's key and masks are its own random ones, the accept value node's).
// NETMON_WS_FIXTURES points at a fresh recording instead: the e2e test
// e2e_web_real_clients records the installed clients and runs these tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "header_fields.h"
#include "websocket_frame.h"
#include "websocket_handshake.h"

namespace netmon::web {
namespace {

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("NETMON_WS_FIXTURES");
  std::ifstream in(
      (dir ? std::string(dir) : std::string(NETMON_FIXTURES) + "/websocket") + "/" + name,
      std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Recorded {
  HandshakeResult handshake;
  std::string node_accept;
  std::vector<WsEvent> events;
};

Recorded replay(const std::string& client) {
  Recorded r;
  std::string head = fixture(client + ".request");
  auto fields = parse_header_fields(head);
  EXPECT_TRUE(fields) << client;
  if (!fields) return r;
  r.handshake = websocket_handshake(head.substr(0, head.find(' ')), *fields, {});
  r.node_accept = fixture(client + ".accept");
  if (!r.node_accept.empty()) r.node_accept.pop_back();  // the newline
  // Fed in pieces of 5 bytes, as a slow network would deliver them.
  WsParser parser;
  std::string frames = fixture(client + ".frames");
  for (std::size_t i = 0; i < frames.size(); i += 5) parser.feed(frames.substr(i, 5), r.events);
  return r;
}

const std::vector<std::string> kMessages = {"hello netmon", std::string(300, 'x'),
                                            "\xe2\x9c\x93 \xc2\xb5s"};

void expect_messages_then_close(const std::vector<WsEvent>& events, std::size_t messages,
                                std::uint16_t close_code) {
  std::size_t next = 0;
  for (const WsEvent& e : events) {
    if (e.kind == WsEvent::Kind::kPing) continue;
    if (next < messages) {
      EXPECT_EQ(e.kind, WsEvent::Kind::kMessage);
      EXPECT_EQ(e.opcode, WsOpcode::kText);
      EXPECT_EQ(e.payload, kMessages[next]);
      ++next;
      continue;
    }
    EXPECT_EQ(e.kind, WsEvent::Kind::kClose);
    EXPECT_EQ(e.code, close_code);
    ++next;
  }
  EXPECT_EQ(next, messages + 1);
}

TEST(RealClients, NodeWs) {
  Recorded r = replay("ws-node");
  ASSERT_TRUE(r.handshake.ok) << r.handshake.error;
  EXPECT_NE(r.handshake.response.find("Sec-WebSocket-Accept: " + r.node_accept + "\r\n"),
            std::string::npos);
  expect_messages_then_close(r.events, 3, ws_close::kNormal);
  ASSERT_EQ(r.events.size(), 5u);
  EXPECT_EQ(r.events[3].kind, WsEvent::Kind::kPing);
  EXPECT_EQ(WsParser::reply(r.events[3]), ws_frame(WsOpcode::kPong, "are you there"));
  EXPECT_EQ(r.events[4].reason, "bye");
}

TEST(RealClients, Wscat) {
  Recorded r = replay("wscat");
  ASSERT_TRUE(r.handshake.ok) << r.handshake.error;
  EXPECT_NE(r.handshake.response.find("Sec-WebSocket-Accept: " + r.node_accept + "\r\n"),
            std::string::npos);
  // wscat closes without a status code; the echo says 1000.
  expect_messages_then_close(r.events, 1, ws_close::kNoStatus);
  EXPECT_EQ(WsParser::reply(r.events.back()), ws_close_frame(ws_close::kNormal));
}

// Chromium sends Origin (the page's: same host, so allowed by default) and
// offers permessage-deflate, which is not accepted, so its frames stay plain.
TEST(RealClients, Chromium) {
  Recorded r = replay("chromium");
  ASSERT_TRUE(r.handshake.ok) << r.handshake.error;
  EXPECT_NE(r.handshake.response.find("Sec-WebSocket-Accept: " + r.node_accept + "\r\n"),
            std::string::npos);
  EXPECT_EQ(r.handshake.response.find("Sec-WebSocket-Extensions"), std::string::npos);
  expect_messages_then_close(r.events, 3, ws_close::kNormal);
  EXPECT_EQ(r.events.back().reason, "bye");

  // The same browser request from a page of another site is refused.
  std::string head = fixture("chromium.request");
  auto fields = parse_header_fields(head);
  ASSERT_TRUE(fields);
  for (auto& [name, value] : *fields) {
    if (name == "Origin") value = "http://evil.example";
  }
  EXPECT_EQ(websocket_handshake("GET", *fields, {}).status, 403);
}

}  // namespace
}  // namespace netmon::web
