// SHA-1 (FIPS 180-4), for the WebSocket handshake only: RFC 6455 fixes the
// hash, and the static router build has no OpenSSL. Not for anything where
// collision resistance matters.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace netmon::web {

using Sha1Digest = std::array<std::uint8_t, 20>;

Sha1Digest sha1(std::string_view data);

}  // namespace netmon::web
