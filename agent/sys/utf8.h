// UTF-8 validation, the one decoder behind every place that checks text or
// replaces bytes that are not text (interface names are bytes to the kernel).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netmon {

// Length of the valid UTF-8 sequence that starts at s[i] (1 to 4), or 0 when
// none does: a stray continuation byte, a truncated sequence, an overlong
// form, a surrogate, or a code point above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// When utf8_sequence_length(s, i) is 0: how many bytes one U+FFFD replaces,
// the "maximal subpart" of Unicode's substitution practice (what the WHATWG
// decoder and nlohmann::json do): the longest prefix at s[i] that could
// still begin a valid sequence, or 1 byte when none does.
std::size_t utf8_invalid_length(std::string_view s, std::size_t i);

// Whether all of `s` is well-formed UTF-8 (RFC 3629).
bool utf8_valid(std::string_view s);

// The replacement character, as UTF-8 bytes.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// `s` with every invalid part replaced by U+FFFD (see utf8_invalid_length).
std::string utf8_sanitize(std::string_view s);

}  // namespace netmon
