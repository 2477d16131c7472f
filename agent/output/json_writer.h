// The one JSON writer of the agent: NDJSON snapshots, --compare lines and
// anything later outputs add. Streaming (no DOM): keys come out in the order
// written, numbers through std::to_chars, strings through one escape
// function over sys/utf8, so every output spells values the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netmon {

// `text` as a JSON string, quotes included: '"', '\\' and control bytes
// escaped (\n, \t, ... or \u00XX), other bytes kept as they are (no \u for
// non-ASCII), and every part that is not UTF-8 replaced by one U+FFFD per
// maximal invalid subpart (sys/utf8.h). Identical to nlohmann::json's
// dump(-1, ' ', false, error_handler_t::replace), which the tests check.
void append_json_string(std::string& out, std::string_view text);

// A double in the shortest form that reads back as the same value, laid out
// as nlohmann::json does: decimal notation while the decimal point falls
// within 15 digits left or 4 digits right of the first digit ("0.001",
// "1234.5", "5.0"), else "1.5e+16" / "1e-05". NaN and infinities, which JSON
// cannot hold, become null.
void append_json_double(std::string& out, double value);

void append_json_uint(std::string& out, uint64_t value);
void append_json_int(std::string& out, int64_t value);

// Commas and nesting for the common case: key()/value() inside objects,
// value() inside arrays. Writes into the string it was given.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(double number);
  // An integer when `number` is whole (and below 9e15), else as value():
  // how NDJSON rates read ("rx_bps":0, "rx_pps":0.333).
  JsonWriter& value_whole_as_integer(double number);
  // A value the caller has already rendered as JSON (a hot path that writes
  // constant keys as literals); nothing is checked or escaped.
  JsonWriter& raw(std::string_view json);

 private:
  void separate();  // the comma before a value or key, unless first

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

}  // namespace netmon
