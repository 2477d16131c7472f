#include "header_fields.h"

#include <gtest/gtest.h>

namespace netmon::web {
namespace {

TEST(HeaderFields, ParsesCrlfAndBareLf) {
  auto f = parse_header_fields(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:9310\r\nUpgrade:websocket \r\n"
      "X-Empty:\r\n\r\nbody: not a header\r\n");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0], (std::pair<std::string, std::string>{"Host", "127.0.0.1:9310"}));
  EXPECT_EQ((*f)[1].second, "websocket");
  EXPECT_EQ((*f)[2].second, "");
  f = parse_header_fields("GET / HTTP/1.1\nA: 1\nB:\t2\t\n\n");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[1].second, "2");
  EXPECT_EQ(parse_header_fields("GET / HTTP/1.1")->size(), 0u);
}

TEST(HeaderFields, RejectsMalformed) {
  for (const char* bad :
       {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\n: v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nA(b): 1\r\n\r\n", "GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n",
        "GET / HTTP/1.1\r\nA: x\ry\r\n\r\n"}) {
    EXPECT_FALSE(parse_header_fields(bad)) << bad;
  }
}

TEST(HeaderFields, SingleHeader) {
  HeaderFields f = {{"Origin", "a"}, {"host", "h"}, {"X", "1"}, {"x", "2"}};
  EXPECT_EQ(single_header(f, "HOST"), "h");
  EXPECT_EQ(single_header(f, "origin"), "a");
  EXPECT_FALSE(single_header(f, "X"));
  EXPECT_FALSE(single_header(f, "missing"));
}

}  // namespace
}  // namespace netmon::web
