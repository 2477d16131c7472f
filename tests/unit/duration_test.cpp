#include "config/duration.h"

#include <gtest/gtest.h>

using netmon::parse_duration;
using std::chrono::milliseconds;

TEST(Duration, AcceptsDocumentedForms) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2s"), milliseconds(2000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration("3"), milliseconds(3000));
  EXPECT_EQ(parse_duration("1m"), milliseconds(60000));
  EXPECT_EQ(parse_duration("0.25"), milliseconds(250));
}

TEST(Duration, RejectsNonsense) {
  for (const char* bad : {"", "s", "ms", "-1s", "0", "0ms", "0.0001s", "1.2.3s", "1 s", "1sec",
                          "abc", "1e3", "2h", "2d", "100000m"})
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}
