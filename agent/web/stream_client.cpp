#include "stream_client.h"

#include <vector>

#include "sse.h"

namespace netmon::web {

std::string sse_response_head() {
  return "HTTP/1.1 200 OK\r\n" + std::string(kSseHeaders) + "Connection: close\r\n\r\n";
}

StreamClient::StreamClient(StreamKind kind, std::string response_head) : kind_(kind) {
  outbox_.start(std::move(response_head));
}

SnapshotFrames SnapshotFrames::of(std::string_view ndjson_line) {
  SnapshotFrames f;
  f.sse = make_frame(sse_event(ndjson_line));
  if (!ndjson_line.empty() && ndjson_line.back() == '\n') ndjson_line.remove_suffix(1);
  if (!ndjson_line.empty() && ndjson_line.back() == '\r') ndjson_line.remove_suffix(1);
  f.ws = make_frame(ws_text_frame(ndjson_line));
  return f;
}

void StreamClient::snapshot(const SnapshotFrames& frames) {
  if (ending_) return;
  outbox_.push_snapshot(kind_ == StreamKind::kSse ? frames.sse : frames.ws);
}

void StreamClient::received(std::string_view bytes) {
  if (kind_ != StreamKind::kWebSocket || ending_) return;
  std::vector<WsEvent> events;
  parser_.feed(bytes, events);
  for (const WsEvent& e : events) {
    switch (e.kind) {
      case WsEvent::Kind::kPing:
        outbox_.push_control(WsParser::reply(e), false);
        break;
      case WsEvent::Kind::kClose:
        outbox_.push_control(WsParser::reply(e), true);
        ending_ = true;
        end_reason_ = "peer closed (" + std::to_string(e.code) + ")";
        break;
      case WsEvent::Kind::kFail:
        outbox_.push_control(WsParser::reply(e), true);
        ending_ = true;
        end_reason_ = (e.code == ws_close::kTooBig           ? "message too big ("
                       : e.code == ws_close::kInvalidPayload ? "invalid payload ("
                                                             : "protocol error (") +
                      std::to_string(e.code) + "): " + e.reason;
        break;
      case WsEvent::Kind::kMessage:
      case WsEvent::Kind::kPong:
        break;
    }
  }
}

void StreamClient::idle() {
  if (ending_) return;
  outbox_.push_keepalive(kind_ == StreamKind::kSse ? sse_comment("keep-alive")
                                                   : ws_frame(WsOpcode::kPing, {}));
}

void StreamClient::shutdown() {
  if (ending_) return;
  ending_ = true;
  if (kind_ == StreamKind::kWebSocket)
    outbox_.push_control(ws_close_frame(ws_close::kGoingAway), true);
}

}  // namespace netmon::web
