// The one JSON writer against nlohmann::json, the independent reader (and,
// for strings and doubles, the former writer whose bytes must not change).
#include "output/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

using netmon::append_json_double;
using netmon::append_json_string;
using netmon::JsonWriter;

namespace {

std::string nlohmann_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ours_string(const std::string& text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string ours_double(double value) {
  std::string out;
  append_json_double(out, value);
  return out;
}

}  // namespace

TEST(JsonWriter, StringsAreEscapedExactlyAsNlohmannDoes) {
  for (const std::string& text :
       {std::string(""), std::string("eth0"), std::string("a\"b\\c"), std::string("\n\t\r\b\f"),
        std::string("\x01\x1f\x7f", 3), std::string("nul\0byte", 8), std::string("caf\xC3\xA9"),
        std::string("\xE2\x82x"), std::string("\xFF\xFE"), std::string("\xF0\x9F\x98")})
    EXPECT_EQ(ours_string(text), nlohmann_string(text)) << text;
}

TEST(JsonWriter, RandomBytesAreEscapedExactlyAsNlohmannDoes) {
  std::mt19937 random(12);  // fixed: a failure reproduces
  // Bytes weighted towards the interesting ones: ASCII controls, UTF-8 lead
  // and continuation bytes.
  const std::string alphabet = std::string(
      "a\"\\\x01\x1f\x7f\x80\xBF\xC2\xC3\xDF\xE0\xE2\xED\xEF"
      "\xF0\xF4\xF5\xFF\xA0\x9F\x8F\x90",
      24);
  for (int i = 0; i < 20000; ++i) {
    std::string text(random() % 12, ' ');
    for (char& c : text) c = alphabet[random() % alphabet.size()];
    ASSERT_EQ(ours_string(text), nlohmann_string(text)) << testing::PrintToString(text);
  }
}

TEST(JsonWriter, DoublesAreLaidOutAsNlohmannDoes) {
  for (double v : {0.0,
                   -0.0,
                   0.001,
                   0.5,
                   1.0,
                   1.5,
                   1234.567,
                   8.0e15,
                   1.0e15,
                   9.99e14,
                   123456789012345.6,
                   1.2345678901234567e16,
                   1.0e16,
                   1.0e20,
                   1.0e-5,
                   0.0001,
                   -2.5,
                   1.0e300,
                   std::numeric_limits<double>::min(),
                   std::numeric_limits<double>::max(),
                   5e-324})
    EXPECT_EQ(ours_double(v), nlohmann::json(v).dump()) << v;
  EXPECT_EQ(ours_double(std::nan("")), "null");
  EXPECT_EQ(ours_double(INFINITY), "null");
}

TEST(JsonWriter, RatesOfThreeDecimalsAreLaidOutAsNlohmannDoes) {
  // What the snapshot writes: per-second values rounded to three decimals,
  // below 2^53 / 1000 (9 Tbit/s), where three decimals still exist. Above
  // that, nlohmann's Grisu2 sometimes writes a digit more than the shortest
  // form std::to_chars gives (5.5526328784803376e+16 for
  // 5.552632878480338e+16); both read back as the same double.
  std::mt19937_64 random(7);
  for (int i = 0; i < 1000000; ++i) {
    const double bits = static_cast<double>((random() >> 11) >> (random() % 53)) / 1000.0;
    const double v = std::round(bits / (1.0 + (random() % 5000) / 1000.0) * 1000.0) / 1000.0;
    ASSERT_EQ(ours_double(v), nlohmann::json(v).dump()) << v;
  }
}

TEST(JsonWriter, NestingAndCommasMakeValidJsonInKeyOrder) {
  std::string out;
  JsonWriter json(out);
  json.begin_object();
  json.key("u").value(uint64_t{18446744073709551615u});
  json.key("i").value(int64_t{-9223372036854775807 - 1});
  json.key("b").value(false);
  json.key("a").begin_array().value("x").value(1).begin_object().end_object().end_array();
  json.key("o").begin_object().key("k").value(0.25).end_object();
  json.end_object();
  EXPECT_EQ(out, R"({"u":18446744073709551615,"i":-9223372036854775808,"b":false,"a":["x",1,{}],)"
                 R"("o":{"k":0.25}})");
  auto parsed = nlohmann::ordered_json::parse(out);
  EXPECT_EQ(parsed["u"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(parsed["i"].get<int64_t>(), INT64_MIN);
}
