// Request header fields, which the agent's HTTP server does not parse yet
// (its /metrics needs only the request line) but /ws needs (Upgrade, Origin,
// Sec-WebSocket-*) and /events may (Last-Event-ID is not used: a stream
// restarts from the newest snapshot).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netmon::web {

// In arrival order, names as sent (compare them case-insensitively), values
// with surrounding spaces and tabs trimmed.
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

// The fields of a request head: everything after the request line, up to the
// blank line (or the end). Lines end in CRLF or bare LF. nullopt when a line
// has no colon, an empty or non-token name, whitespace before the colon
// (RFC 9112 §5.1: reject), a line folded onto the previous one (obsolete,
// §5.2: reject), or a control character in a value.
std::optional<HeaderFields> parse_header_fields(std::string_view head);

// Field names and header tokens compare case-insensitively (ASCII).
bool iequals(std::string_view a, std::string_view b);

// The value of the only field called `name`; nullopt when there is none or
// more than one.
std::optional<std::string_view> single_header(const HeaderFields& fields, std::string_view name);

}  // namespace netmon::web
