#include "sys/utf8.h"

#include <gtest/gtest.h>

using netmon::utf8_invalid_length;
using netmon::utf8_sanitize;
using netmon::utf8_sequence_length;
using netmon::utf8_valid;

TEST(Utf8, ValidSequencesHaveTheirLength) {
  EXPECT_EQ(utf8_sequence_length("a", 0), 1u);
  EXPECT_EQ(utf8_sequence_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3u);      // €
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4u);  // 😀
  EXPECT_EQ(utf8_sequence_length("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF
}

TEST(Utf8, InvalidSequencesHaveNone) {
  for (const char* bad :
       {"\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF0\x80\x80\xAF",
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x82", "\xE2\x82x"})
    EXPECT_EQ(utf8_sequence_length(bad, 0), 0u) << bad;
}

TEST(Utf8, OneReplacementPerMaximalInvalidSubpart) {
  // A truncated sequence is one U+FFFD; the byte that cut it short is
  // looked at again on its own.
  EXPECT_EQ(utf8_invalid_length("\xE2\x82x", 0), 2u);
  EXPECT_EQ(utf8_sanitize("\xE2\x82x"), "\xEF\xBF\xBDx");
  EXPECT_EQ(utf8_sanitize("\xF0\x9F\x98"), "\xEF\xBF\xBD");
  // A lead byte whose second byte is out of its range (overlong, surrogate)
  // is a subpart of one byte, and so is each continuation byte after it.
  EXPECT_EQ(utf8_sanitize("\xE0\x80\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_sanitize("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_sanitize("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(utf8_sanitize("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(Utf8, WholeStringValidation) {
  EXPECT_TRUE(utf8_valid(""));
  EXPECT_TRUE(utf8_valid("plain"));
  EXPECT_TRUE(utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  EXPECT_TRUE(utf8_valid("\xed\x9f\xbf"));  // U+D7FF, just below the surrogates
  for (const char* bad :
       {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3\x28"}) {
    EXPECT_FALSE(utf8_valid(bad)) << bad;
  }
}
