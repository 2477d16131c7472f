// Human durations on the command line and in configs: "250ms", "2s", "1.5s".
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace netmon {

// Accepts a positive decimal number followed by "ms", "s" or "m"; a bare
// number means seconds. Returns std::nullopt for anything else, including
// zero, negatives, and values below 1 ms or above one day.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace netmon
