#include "sse.h"

#include <gtest/gtest.h>

namespace netmon::web {
namespace {

TEST(Sse, OneNdjsonLinePerEvent) {
  const std::string line = R"({"source":"netdev","seq":3,"interfaces":{}})";
  EXPECT_EQ(sse_event(line + "\n"), "data: " + line + "\n\n");
  EXPECT_EQ(sse_event(line), "data: " + line + "\n\n");
  EXPECT_EQ(sse_event(line + "\r\n"), "data: " + line + "\n\n");
  EXPECT_EQ(sse_event(""), "data: \n\n");
}

// EventSource splits fields at CR, LF and CRLF; each line must stay data.
TEST(Sse, EmbeddedLineBreaksBecomeSeparateDataFields) {
  EXPECT_EQ(sse_event("a\nb"), "data: a\ndata: b\n\n");
  EXPECT_EQ(sse_event("a\rb\r\nc"), "data: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(sse_event("a\n\nb"), "data: a\ndata: \ndata: b\n\n");
}

TEST(Sse, Comment) {
  EXPECT_EQ(sse_comment("keep-alive"), ": keep-alive\n\n");
  EXPECT_EQ(sse_comment("a\nb\rc"), ": a b c\n\n");
}

TEST(Sse, HeadersDeclareEventStreamWithoutCaching) {
  std::string h(kSseHeaders);
  EXPECT_NE(h.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(h.find("Cache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_EQ(h.find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace netmon::web
