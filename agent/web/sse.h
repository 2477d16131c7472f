// Server-Sent Events framing (WHATWG HTML §9.2): one snapshot per event, so a
// browser's EventSource gets each NDJSON line as one `message` event's data,
// and `curl -N` shows the lines with a "data: " in front.
#pragma once

#include <string>
#include <string_view>

namespace netmon::web {

// Response headers for /events, after the status line, each ending in CRLF.
// No Content-Length: the body is the stream, ended by closing the connection.
// Cache-Control keeps proxies from holding it back; X-Accel-Buffering does
// the same for nginx, which people put in front of routers' web servers.
inline constexpr std::string_view kSseHeaders =
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\n";

// "data: <line>\n\n". A trailing "\n" (or "\r\n") of the NDJSON line is
// dropped; should the text hold line breaks anyway, each line becomes its
// own "data:" field, which EventSource joins back with "\n".
std::string sse_event(std::string_view text);

// ": <text>\n\n" — a comment, ignored by EventSource; sent when there was no
// snapshot for a while so proxies and NAT keep the connection open. Line
// breaks in `text` become spaces.
std::string sse_comment(std::string_view text);

}  // namespace netmon::web
