#include "stream_client.h"

#include <gtest/gtest.h>

#include <string>

#include "sse.h"
#include "websocket_frame.h"

namespace netmon::web {
namespace {

std::string drain(StreamClient& c) {
  std::string out;
  while (!c.pending().empty()) {
    std::string_view p = c.pending();
    out.append(p);
    c.written(p.size());
  }
  return out;
}

std::string masked(std::uint8_t b0, const std::string& payload) {
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  std::string out;
  out += static_cast<char>(b0);
  out += static_cast<char>(0x80 | payload.size());
  out.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(payload[i] ^ key[i & 3]);
  return out;
}

const std::string kLine = R"({"source":"netdev","seq":1,"interfaces":{}})";

TEST(StreamClient, SseHeadThenEventsThenKeepalive) {
  StreamClient c(StreamKind::kSse, sse_response_head());
  c.snapshot(kLine + "\n");
  std::string out = drain(c);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\nConnection: close\r\n\r\ndata: " +
                kLine + "\n\n");
  c.idle();
  EXPECT_EQ(drain(c), ": keep-alive\n\n");
  c.received("anything");  // ignored
  EXPECT_FALSE(c.finished());
  c.shutdown();
  EXPECT_TRUE(c.finished());
}

// The head is never replaced by a snapshot, however long the client stalls.
TEST(StreamClient, StalledClientGetsHeadThenLatest) {
  StreamClient c(StreamKind::kWebSocket, "HEAD");
  for (int i = 0; i < 100; ++i) c.snapshot("line " + std::to_string(i));
  EXPECT_EQ(drain(c), "HEAD" + ws_text_frame("line 99"));
  EXPECT_EQ(c.dropped(), 99u);
}

TEST(StreamClient, OneFramingPerSnapshotForAllClients) {
  SnapshotFrames frames = SnapshotFrames::of(kLine + "\n");
  EXPECT_EQ(*frames.sse, sse_event(kLine));
  EXPECT_EQ(*frames.ws, ws_text_frame(kLine));
  StreamClient a(StreamKind::kSse, "H"), b(StreamKind::kSse, "H"), w(StreamKind::kWebSocket, "H");
  for (StreamClient* c : {&a, &b, &w}) {
    c->written(1);  // the head
    c->snapshot(frames);
  }
  EXPECT_EQ(a.pending().data(), frames.sse->data());
  EXPECT_EQ(b.pending().data(), frames.sse->data());
  EXPECT_EQ(w.pending().data(), frames.ws->data());
}

TEST(StreamClient, WebSocketPingPongAndCloseEcho) {
  StreamClient c(StreamKind::kWebSocket, "HEAD");
  c.snapshot(kLine + "\n");
  EXPECT_EQ(drain(c), "HEAD" + ws_text_frame(kLine));
  c.snapshot(kLine);
  c.written(1);  // part of a frame is on the wire
  c.snapshot("newer");
  c.received(masked(0x89, "hi"));
  c.received(masked(0x81, "typed by a user"));  // read-only stream: ignored
  EXPECT_FALSE(c.finished());
  EXPECT_EQ(drain(c), ws_text_frame(kLine).substr(1) + ws_frame(WsOpcode::kPong, "hi") +
                          ws_text_frame("newer"));
  c.received(masked(0x88, "\x03\xe8"));
  c.snapshot("after close");   // not sent
  EXPECT_FALSE(c.finished());  // the echo is owed first
  EXPECT_EQ(drain(c), ws_close_frame(ws_close::kNormal));
  EXPECT_TRUE(c.finished());
  EXPECT_EQ(c.end_reason(), "peer closed (1000)");
}

TEST(StreamClient, ProtocolErrorClosesWithItsCode) {
  StreamClient c(StreamKind::kWebSocket, "HEAD");
  drain(c);
  c.received("\x81\x05Hello");  // unmasked
  std::string out = drain(c);
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out.substr(0, 1), "\x88");
  EXPECT_EQ(out.substr(2, 2), "\x03\xea");
  EXPECT_TRUE(c.finished());
  EXPECT_EQ(c.end_reason(), "protocol error (1002): client frame not masked");

  StreamClient big(StreamKind::kWebSocket, "");
  big.received(std::string("\x82\xfe\x20\x00", 4));  // 8 KiB binary: over the limit
  EXPECT_EQ(drain(big).substr(2, 2), "\x03\xf1");
  EXPECT_EQ(big.end_reason().rfind("message too big (1009)", 0), 0u);
}

TEST(StreamClient, WebSocketIdlePingsAndShutdownSays1001) {
  StreamClient c(StreamKind::kWebSocket, "");
  c.idle();
  EXPECT_EQ(drain(c), ws_frame(WsOpcode::kPing, ""));
  c.shutdown();
  EXPECT_FALSE(c.finished());
  EXPECT_EQ(drain(c), ws_close_frame(ws_close::kGoingAway));
  EXPECT_TRUE(c.finished());
}

}  // namespace
}  // namespace netmon::web
