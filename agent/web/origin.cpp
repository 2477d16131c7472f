#include "origin.h"

#include <cctype>

namespace netmon::web {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "host", "host:port", "[v6]", "[v6]:port" -> host and port (default_port if
// none). nullopt when malformed.
std::optional<std::pair<std::string, int>> split_authority(std::string_view a, int default_port) {
  if (a.empty()) return std::nullopt;
  std::string_view host;
  std::string_view rest;
  if (a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    host = a.substr(0, close + 1);
    rest = a.substr(close + 1);
  } else {
    auto colon = a.find(':');
    host = a.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : a.substr(colon);
  }
  if (host.empty()) return std::nullopt;
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
              c == '[' || c == ']' || c == ':';
    if (!ok) return std::nullopt;
  }
  int port = default_port;
  if (!rest.empty()) {
    if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return std::nullopt;
    port = 0;
    for (char c : rest.substr(1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return std::nullopt;
  }
  return std::make_pair(lower(host), port);
}

}  // namespace

std::optional<Origin> parse_origin(std::string_view text) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string scheme = lower(text.substr(0, sep));
  int default_port;
  if (scheme == "http") {
    default_port = 80;
  } else if (scheme == "https") {
    default_port = 443;
  } else {
    return std::nullopt;
  }
  std::string_view authority = text.substr(sep + 3);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  if (authority.find_first_of("/?#@") != std::string_view::npos) return std::nullopt;
  auto hp = split_authority(authority, default_port);
  if (!hp) return std::nullopt;
  return Origin{scheme, hp->first, hp->second};
}

bool origin_allowed(std::optional<std::string_view> origin, std::string_view host_header,
                    const OriginPolicy& policy) {
  if (!origin) return true;
  auto parsed = parse_origin(*origin);
  if (!parsed) return false;
  for (const Origin& allowed : policy.allowed) {
    if (allowed == *parsed) return true;
  }
  // The agent serves plain http only, so its own page's origin is http with
  // the Host the browser used for the page.
  auto host = split_authority(host_header, 80);
  return host && parsed->scheme == "http" && parsed->host == host->first &&
         parsed->port == host->second;
}

}  // namespace netmon::web
