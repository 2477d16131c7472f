#include "sys/utf8.h"

namespace netmon {
namespace {

struct Lead {
  std::size_t length;  // 0: not a lead byte
  unsigned char lo;    // allowed range of the second byte: excludes overlong
  unsigned char hi;    // forms, surrogates and code points past U+10FFFF
};

Lead lead_of(unsigned char c) {
  if (c < 0x80) return {1, 0, 0};
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// How many bytes at s[i] form a valid prefix of the sequence lead_of(s[i])
// announces (the lead byte included).
std::size_t valid_prefix(std::string_view s, std::size_t i, const Lead& lead) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  std::size_t n = 1;
  if (lead.length <= 1) return n;
  if (i + 1 >= s.size() || byte(i + 1) < lead.lo || byte(i + 1) > lead.hi) return n;
  for (n = 2; n < lead.length; ++n)
    if (i + n >= s.size() || byte(i + n) < 0x80 || byte(i + n) > 0xBF) return n;
  return n;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const Lead lead = lead_of(static_cast<unsigned char>(s[i]));
  if (lead.length == 0) return 0;
  return valid_prefix(s, i, lead) == lead.length ? lead.length : 0;
}

std::size_t utf8_invalid_length(std::string_view s, std::size_t i) {
  const Lead lead = lead_of(static_cast<unsigned char>(s[i]));
  return lead.length == 0 ? 1 : valid_prefix(s, i, lead);
}

bool utf8_valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string utf8_sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (std::size_t n = utf8_sequence_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += kUtf8Replacement;
      i += utf8_invalid_length(s, i);
    }
  }
  return out;
}

}  // namespace netmon
