// Base64 with the standard alphabet and padding (RFC 4648 §4), as the
// WebSocket handshake's Sec-WebSocket-Key and -Accept use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netmon::web {

std::string base64_encode(std::string_view data);

// Strict: the length must be a multiple of 4, padding only at the end, no
// whitespace, and the unused bits of the last symbol zero (so every encoding
// has exactly one accepted spelling). nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace netmon::web
