#pragma once

#include <string_view>

namespace netmon::web {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
// above U+10FFFF, no truncated sequence at the end.
bool valid_utf8(std::string_view s);

}  // namespace netmon::web
