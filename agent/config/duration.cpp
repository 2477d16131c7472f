#include "config/duration.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace netmon {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  size_t digits_end = 0;
  bool seen_digit = false, seen_dot = false;
  for (; digits_end < text.size(); ++digits_end) {
    char c = text[digits_end];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return std::nullopt;
  std::string_view unit = text.substr(digits_end);
  double scale;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s" || unit.empty()) {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else {
    return std::nullopt;
  }
  double value = std::strtod(std::string(text.substr(0, digits_end)).c_str(), nullptr) * scale;
  constexpr double kOneDayMs = 86'400'000;
  if (!(value >= 1) || value > kOneDayMs) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(value)));
}

}  // namespace netmon
