#include "websocket_handshake.h"

#include <cctype>
#include <optional>

#include "base64.h"
#include "sha1.h"

namespace netmon::web {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> values_of(const HeaderFields& headers, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) out.push_back(trim(v));
  }
  return out;
}

// True when any header line of that name, read as a comma-separated token
// list, holds `token`.
bool has_token(const HeaderFields& headers, std::string_view name, std::string_view token) {
  for (std::string_view v : values_of(headers, name)) {
    while (!v.empty()) {
      auto comma = v.find(',');
      if (iequals(trim(v.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

HandshakeResult refuse(int status, std::string error) {
  HandshakeResult r;
  r.status = status;
  const char* reason = status == 403   ? "Forbidden"
                       : status == 405 ? "Method Not Allowed"
                       : status == 426 ? "Upgrade Required"
                                       : "Bad Request";
  std::string body = error + "\n";
  r.response = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  if (status == 426) r.response += "Sec-WebSocket-Version: 13\r\n";
  if (status == 405) r.response += "Allow: GET\r\n";
  r.response +=
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  r.error = std::move(error);
  return r;
}

// For the log line: a header value is the client's, so nothing unprintable
// and nothing long goes through.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 100)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::string websocket_accept(std::string_view key) {
  std::string input(key);
  input += kGuid;
  Sha1Digest d = sha1(input);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

HandshakeResult websocket_handshake(std::string_view method, const HeaderFields& headers,
                                    const OriginPolicy& policy) {
  if (method != "GET") return refuse(405, "websocket: method must be GET");
  if (!has_token(headers, "Upgrade", "websocket"))
    return refuse(400, "websocket: missing 'Upgrade: websocket'");
  if (!has_token(headers, "Connection", "upgrade"))
    return refuse(400, "websocket: 'Connection' does not list 'Upgrade'");
  auto hosts = values_of(headers, "Host");
  if (hosts.size() != 1) return refuse(400, "websocket: need exactly one Host header");
  auto versions = values_of(headers, "Sec-WebSocket-Version");
  if (versions.size() != 1 || versions[0] != "13")
    return refuse(426, "websocket: unsupported Sec-WebSocket-Version (need 13)");
  auto keys = values_of(headers, "Sec-WebSocket-Key");
  if (keys.size() != 1) return refuse(400, "websocket: need exactly one Sec-WebSocket-Key");
  auto nonce = base64_decode(keys[0]);
  if (!nonce || nonce->size() != 16)
    return refuse(400, "websocket: Sec-WebSocket-Key is not base64 of 16 bytes");
  auto origins = values_of(headers, "Origin");
  if (origins.size() > 1) return refuse(403, "websocket: more than one Origin header");
  std::optional<std::string_view> origin;
  if (!origins.empty()) origin = origins[0];
  if (!origin_allowed(origin, hosts[0], policy))
    return refuse(
        403, "websocket: origin '" + printable(*origin) + "' not allowed (see --allow-origin)");

  HandshakeResult r;
  r.ok = true;
  r.status = 101;
  r.response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      websocket_accept(keys[0]) + "\r\n\r\n";
  return r;
}

}  // namespace netmon::web
