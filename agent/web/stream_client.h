// One long-lived /events or /ws client, apart from its socket: what to send
// it next and when to hang up. The HTTP server keeps one per streaming
// connection and does only the I/O: it writes pending(), reports written()
// and received() bytes, hands every snapshot to snapshot(), calls idle() when
// nothing was sent for a while, and closes the socket once finished().
//
// Memory per client: references to at most two shared snapshot frames, one
// control frame of its own (at most 129 bytes), and for WebSocket the
// parser's buffer (at most a 4 KiB message plus one read); nothing grows with
// the time a client stalls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "outbox.h"
#include "websocket_frame.h"

namespace netmon::web {

enum class StreamKind { kSse, kWebSocket };

// One snapshot framed for each transport, once, for every client: the server
// makes one per snapshot and hands the same to all (see Outbox).
struct SnapshotFrames {
  Frame sse;  // "data: <line>\n\n"
  Frame ws;   // one unmasked text frame

  static SnapshotFrames of(std::string_view ndjson_line);
};

class StreamClient {
 public:
  // `response_head` goes out first: sse_response_head() for /events, the
  // HandshakeResult's response for /ws.
  StreamClient(StreamKind kind, std::string response_head);

  // The next snapshot, as one SSE event or one WebSocket text message. A
  // stalled client's unsent snapshot is replaced by this one (counted in
  // dropped()).
  void snapshot(const SnapshotFrames& frames);
  // The same for one client: frames `ndjson_line` (trailing newline optional).
  void snapshot(std::string_view ndjson_line) { snapshot(SnapshotFrames::of(ndjson_line)); }

  // Bytes the client sent. WebSocket: pings are answered, a close is echoed
  // and ends the stream, a protocol error is answered with its close code
  // and ends it; data messages are ignored (the stream is read-only). SSE
  // clients send nothing after the request; whatever comes is ignored.
  void received(std::string_view bytes);

  // Nothing was sent for a while: an SSE comment or a WebSocket ping, so
  // proxies and NAT keep the connection, and a dead peer is found out by
  // the write failing. Only when nothing else is waiting.
  void idle();

  // The agent is going away: WebSocket gets close 1001, SSE the end of the
  // frames already queued; then finished().
  void shutdown();

  std::string_view pending() const { return outbox_.next(); }
  void written(std::size_t n) { outbox_.consume(n); }

  // Everything owed was sent and the stream is over: close the socket.
  bool finished() const { return ending_ && outbox_.empty(); }

  // Why the stream ended, for the log: "" (still open, or shutdown()),
  // "peer closed (1000)", "protocol error (1002): client frame not masked", …
  const std::string& end_reason() const { return end_reason_; }

  std::uint64_t dropped() const { return outbox_.dropped(); }
  std::size_t held_bytes() const { return outbox_.held_bytes(); }

 private:
  StreamKind kind_;
  Outbox outbox_;
  WsParser parser_;
  bool ending_ = false;
  std::string end_reason_;
};

// "HTTP/1.1 200 OK" with kSseHeaders and Connection: close: the body is the
// stream and ends when the connection does.
std::string sse_response_head();

}  // namespace netmon::web
