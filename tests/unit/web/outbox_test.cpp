#include "outbox.h"

#include <gtest/gtest.h>

#include <string>

#include "sse.h"
#include "websocket_frame.h"

namespace netmon::web {
namespace {

std::string drain(Outbox& box, std::size_t step = 1 << 20) {
  std::string out;
  while (!box.empty()) {
    std::string_view next = box.next();
    std::size_t n = next.size() < step ? next.size() : step;
    out.append(next.substr(0, n));
    box.consume(n);
  }
  return out;
}

TEST(Outbox, KeepsUpWhenTheClientKeepsUp) {
  Outbox box;
  EXPECT_TRUE(box.empty());
  for (int i = 0; i < 3; ++i) {
    box.push_snapshot(sse_event("line " + std::to_string(i)));
    EXPECT_EQ(drain(box), "data: line " + std::to_string(i) + "\n\n");
  }
  EXPECT_EQ(box.dropped(), 0u);
}

// A stalled client: the frame on the wire finishes, then only the newest
// snapshot follows; everything between is dropped and counted.
TEST(Outbox, StalledClientGetsTheLatestSnapshotOnly) {
  Outbox box;
  box.push_snapshot("frame-0|");
  box.consume(3);  // part of frame 0 is on the wire
  for (int i = 1; i <= 1000; ++i) {
    std::string frame = "frame-" + std::to_string(i) + "|";
    box.push_snapshot(frame);
    // Bounded: the frame in progress and the newest one, nothing else.
    EXPECT_EQ(box.held_bytes(), 8 + frame.size()) << i;
  }
  EXPECT_EQ(box.dropped(), 999u);
  EXPECT_EQ(drain(box, 2), "me-0|frame-1000|");
  EXPECT_EQ(box.dropped(), 999u);
}

TEST(Outbox, MemoryStaysBoundedWithLargeSnapshots) {
  Outbox box;
  const std::string big(100000, 'x');
  for (int i = 0; i < 200; ++i) box.push_snapshot(sse_event(big + std::to_string(i)));
  // Two frames of ~100 kB, not 200.
  EXPECT_LT(box.held_bytes(), 2 * 100100u + 64);
  EXPECT_EQ(box.dropped(), 198u);
  std::string out = drain(box, 4096);
  EXPECT_EQ(out, sse_event(big + "0") + sse_event(big + "199"));
  // An idle outbox gives its frames back.
  EXPECT_EQ(box.held_bytes(), 0u);
}

// Many clients, one copy: every outbox refers to the same frame.
TEST(Outbox, SnapshotFramesAreSharedNotCopied) {
  Frame frame = make_frame(sse_event(std::string(100000, 'x')));
  Outbox a, b;
  a.push_snapshot(frame);
  b.push_snapshot(frame);
  EXPECT_EQ(a.next().data(), frame->data());
  EXPECT_EQ(b.next().data(), frame->data());
  EXPECT_EQ(frame.use_count(), 3);
  a.consume(a.next().size());
  b.consume(b.next().size());
  EXPECT_EQ(frame.use_count(), 1);  // released once written
}

TEST(Outbox, HeadGoesFirstAndIsNeverDropped) {
  Outbox box;
  box.start("HEAD|");
  box.push_snapshot("one|");
  box.push_snapshot("two|");
  box.push_control("pong|", false);
  box.start("again|");  // not a fresh outbox: ignored
  EXPECT_EQ(drain(box), "HEAD|pong|two|");
  EXPECT_EQ(box.dropped(), 1u);
}

TEST(Outbox, KeepaliveOnlyWhenIdle) {
  Outbox box;
  box.push_keepalive(sse_comment("ka"));
  box.push_keepalive(sse_comment("ka2"));  // one in progress already
  box.push_snapshot(sse_event("s"));
  box.push_keepalive(sse_comment("ka3"));  // a snapshot waits: pointless
  EXPECT_EQ(drain(box), ": ka\n\ndata: s\n\n");
  EXPECT_EQ(box.dropped(), 0u);
}

TEST(Outbox, PongGoesBeforeThePendingSnapshotButAfterTheFrameInProgress) {
  Outbox box;
  box.push_snapshot("AAAA");
  box.consume(1);
  box.push_snapshot("BBBB");
  box.push_control(ws_frame(WsOpcode::kPong, "1"), false);
  box.push_control(ws_frame(WsOpcode::kPong, "2"), false);  // only the newest pong
  EXPECT_EQ(drain(box), "AAA" + ws_frame(WsOpcode::kPong, "2") + "BBBB");
  EXPECT_FALSE(box.closing());
}

TEST(Outbox, CloseEndsTheStream) {
  Outbox box;
  box.push_snapshot("AAAA");
  box.push_snapshot("BBBB");
  box.push_control(ws_close_frame(ws_close::kGoingAway), true);
  box.push_snapshot("CCCC");
  box.push_control(ws_frame(WsOpcode::kPong, ""), false);
  EXPECT_TRUE(box.closing());
  EXPECT_EQ(drain(box), "AAAA" + ws_close_frame(ws_close::kGoingAway));
  EXPECT_TRUE(box.closing());
  EXPECT_TRUE(box.empty());
  EXPECT_EQ(box.dropped(), 1u);  // BBBB; CCCC came after the close
}

TEST(Outbox, ConsumeNeverRunsPastTheFrame) {
  Outbox box;
  box.push_snapshot("abc");
  box.push_snapshot("def");
  box.consume(100);
  EXPECT_EQ(box.next(), "def");
}

}  // namespace
}  // namespace netmon::web
