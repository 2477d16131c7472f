// Which web pages may read the live stream. A browser attaches `Origin` to
// every WebSocket handshake, and nothing but the server stops another site
// open in the same browser from connecting to ws://127.0.0.1:9310/ws, so the
// server must check it (RFC 6455 §10.2). Programs (websocat, wscat, curl)
// send no Origin and are let in: the listen address is their boundary.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netmon::web {

// scheme://host[:port], lowercased, port made explicit (80/443 by default).
struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;    // "router.lan", "192.168.1.1", "[fe80::1]"
  int port = 0;

  bool operator==(const Origin& o) const {
    return scheme == o.scheme && host == o.host && port == o.port;
  }
};

// Parses an Origin header value or an --allow-origin argument. Accepts only
// http and https with a host and an optional port, nothing after (a trailing
// "/" is tolerated, since people paste URLs). nullopt for "null", other
// schemes, paths, userinfo, bad ports.
std::optional<Origin> parse_origin(std::string_view text);

struct OriginPolicy {
  // From --allow-origin ORIGIN (repeatable), parsed with parse_origin.
  std::vector<Origin> allowed;
};

// Whether a request carrying `origin` (the header's value; nullopt when
// absent) may be served a stream. Allowed: no Origin at all; an Origin whose
// host and port equal the request's Host header (the agent's own page); one
// listed in the policy. Everything else, "null" included, is refused.
// `host_header` is the Host header's value ("127.0.0.1:9310"; port optional,
// 80 assumed as for http).
bool origin_allowed(std::optional<std::string_view> origin, std::string_view host_header,
                    const OriginPolicy& policy);

}  // namespace netmon::web
