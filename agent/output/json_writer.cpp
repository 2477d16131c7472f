#include "output/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "sys/utf8.h"

namespace netmon {
namespace {

// The JSON escape of one ASCII byte, or nullptr when it needs none.
const char* short_escape(unsigned char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

// nlohmann's exponent: sign always, at least two digits.
void append_exponent(std::string& out, int e) {
  out += e < 0 ? '-' : '+';
  e = std::abs(e);
  if (e < 10) out += '0';
  char buffer[8];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), e);
  out.append(buffer, result.ptr);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    // A run that needs no escape (every key, nearly every name) is appended
    // at once: byte by byte, this was the largest user-space cost of a
    // snapshot at 1,000 interfaces.
    std::size_t plain = i;
    while (plain < text.size()) {
      const auto p = static_cast<unsigned char>(text[plain]);
      if (p < 0x20 || p >= 0x80 || p == '"' || p == '\\') break;
      ++plain;
    }
    if (plain > i) {
      out.append(text.data() + i, plain - i);
      i = plain;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (const char* escaped = short_escape(c)) {
        out += escaped;
      } else if (c < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
    } else if (std::size_t n = utf8_sequence_length(text, i)) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += kUtf8Replacement;
      i += utf8_invalid_length(text, i);
    }
  }
  out += '"';
}

void append_json_double(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  if (value == 0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  // The shortest round-trip digits, as d.ddde±x; then laid out by
  // nlohmann's rules (its serializer's format_buffer).
  char sci[64];
  auto result =
      std::to_chars(sci, sci + sizeof(sci), std::fabs(value), std::chars_format::scientific);
  const char* e = std::find(sci, result.ptr, 'e');
  std::string digits;
  for (const char* p = sci; p < e; ++p)
    if (*p != '.') digits += *p;
  int exponent = 0;
  std::from_chars(e + 1 + (e[1] == '+'), result.ptr, exponent);

  if (value < 0) out += '-';
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // where the decimal point goes, from the first digit
  constexpr int kMinExp = -4, kMaxExp = 15;
  if (k <= n && n <= kMaxExp) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
    out += ".0";
  } else if (0 < n && n <= kMaxExp) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n), std::string::npos);
  } else if (kMinExp < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += 'e';
    append_exponent(out, n - 1);
  }
}

void append_json_uint(std::string& out, uint64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void append_json_int(std::string& out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (!first_.back()) out_ += ',';
  first_.back() = false;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  append_json_string(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  append_json_string(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t number) {
  separate();
  append_json_uint(out_, number);
  return *this;
}

JsonWriter& JsonWriter::value(int64_t number) {
  separate();
  append_json_int(out_, number);
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  separate();
  append_json_double(out_, number);
  return *this;
}

JsonWriter& JsonWriter::value_whole_as_integer(double number) {
  if (number >= 0 && number < 9.0e15 &&
      number == static_cast<double>(static_cast<uint64_t>(number)))
    return value(static_cast<uint64_t>(number));
  return value(number);
}

}  // namespace netmon
