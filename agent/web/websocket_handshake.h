// The server side of the WebSocket opening handshake (RFC 6455 §4.2): decides
// from a request's method and headers whether it is a valid upgrade to
// version 13 from an allowed origin, and writes the 101 response or the
// error response that refuses it.
#pragma once

#include <string>
#include <string_view>

#include "header_fields.h"
#include "origin.h"

namespace netmon::web {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string websocket_accept(std::string_view key);

struct HandshakeResult {
  bool ok = false;
  // On success 101; otherwise 400 (malformed upgrade), 403 (origin refused),
  // 405 (not GET) or 426 (wrong version; the response names version 13).
  int status = 400;
  std::string error;     // one line for the log, empty when ok
  std::string response;  // the complete response head (and short body) to send
};

// Checks: GET; Upgrade lists "websocket"; Connection lists "upgrade" (token
// lists, case-insensitive, possibly over several header lines); exactly one
// Sec-WebSocket-Version, equal to 13; exactly one Sec-WebSocket-Key that is
// base64 of 16 bytes; a Host; Origin allowed by `policy` (origin_allowed).
// No subprotocol or extension is offered, so none is negotiated.
HandshakeResult websocket_handshake(std::string_view method, const HeaderFields& headers,
                                    const OriginPolicy& policy);

}  // namespace netmon::web
