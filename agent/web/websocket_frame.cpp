#include "websocket_frame.h"

#include "sys/utf8.h"

namespace netmon::web {
namespace {

constexpr std::size_t kMaxControlPayload = 125;

bool is_control(std::uint8_t op) { return op & 0x8; }

bool known_opcode(std::uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}

// Codes a peer may put on the wire (§7.4): the defined ones except those
// reserved for reporting (1004-1006, 1015), and 3000-4999 for applications.
bool valid_close_code(std::uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace

std::string ws_frame(WsOpcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  std::uint64_t len = payload.size();
  if (len <= 125) {
    out += static_cast<char>(len);
  } else if (len <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(len >> 8);
    out += static_cast<char>(len & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((len >> (8 * i)) & 0xFF);
  }
  out += payload;
  return out;
}

std::string ws_close_frame(std::uint16_t code, std::string_view reason) {
  if (code == ws_close::kNoStatus) return ws_frame(WsOpcode::kClose, {});
  std::string body;
  body += static_cast<char>(code >> 8);
  body += static_cast<char>(code & 0xFF);
  // Cut on a character boundary, so the reason stays valid UTF-8.
  std::size_t room = kMaxControlPayload - 2;
  if (reason.size() > room) {
    std::size_t cut = room;
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  body += reason;
  return ws_frame(WsOpcode::kClose, body);
}

void WsParser::fail(std::uint16_t code, std::string why, std::vector<WsEvent>& events) {
  WsEvent e;
  e.kind = WsEvent::Kind::kFail;
  e.code = code;
  e.reason = std::move(why);
  events.push_back(std::move(e));
  done_ = true;
  buffer_.clear();
  buffer_.shrink_to_fit();
  message_.clear();
  message_.shrink_to_fit();
}

void WsParser::feed(std::string_view bytes, std::vector<WsEvent>& events) {
  if (done_) return;
  buffer_ += bytes;
  while (parse_one(events)) {
  }
}

bool WsParser::parse_one(std::vector<WsEvent>& events) {
  if (done_ || buffer_.size() < 2) return false;
  const auto* b = reinterpret_cast<const std::uint8_t*>(buffer_.data());
  bool fin = b[0] & 0x80;
  std::uint8_t rsv = b[0] & 0x70;
  std::uint8_t op = b[0] & 0x0F;
  bool masked = b[1] & 0x80;
  std::uint64_t len = b[1] & 0x7F;

  // Everything decidable from the first two bytes is decided before waiting
  // for the rest, so a bad peer is refused at once.
  if (rsv != 0) {
    fail(ws_close::kProtocolError, "reserved bits set without an extension", events);
    return false;
  }
  if (!known_opcode(op)) {
    fail(ws_close::kProtocolError, "reserved opcode " + std::to_string(op), events);
    return false;
  }
  if (masked != limits_.expect_masked) {
    fail(ws_close::kProtocolError,
         limits_.expect_masked ? "client frame not masked" : "server frame masked", events);
    return false;
  }
  if (is_control(op) && (!fin || len > kMaxControlPayload)) {
    fail(ws_close::kProtocolError,
         fin ? "control frame longer than 125 bytes" : "fragmented control frame", events);
    return false;
  }

  std::size_t header = 2;
  if (len == 126) {
    if (buffer_.size() < 4) return false;
    len = std::uint64_t{b[2]} << 8 | b[3];
    header = 4;
  } else if (len == 127) {
    if (buffer_.size() < 10) return false;
    len = 0;
    for (int i = 0; i < 8; ++i) len = len << 8 | b[2 + i];
    header = 10;
    if (len >> 63) {
      fail(ws_close::kProtocolError, "64-bit length with the top bit set", events);
      return false;
    }
  }

  if (!is_control(op)) {
    if (op == 0x0 && !in_message_) {
      fail(ws_close::kProtocolError, "continuation frame without a message to continue", events);
      return false;
    }
    if (op != 0x0 && in_message_) {
      fail(ws_close::kProtocolError, "new data frame inside a fragmented message", events);
      return false;
    }
    std::uint64_t so_far = in_message_ ? message_.size() : 0;
    if (len > limits_.max_message || so_far + len > limits_.max_message) {
      fail(ws_close::kTooBig,
           "message larger than " + std::to_string(limits_.max_message) + " bytes", events);
      return false;
    }
  }

  std::size_t mask_at = header;
  if (masked) header += 4;
  if (buffer_.size() < header + len) return false;

  std::string payload = buffer_.substr(header, len);
  if (masked) {
    const char* key = buffer_.data() + mask_at;
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= key[i & 3];
  }
  buffer_.erase(0, header + len);

  if (is_control(op)) {
    WsEvent e;
    if (op == 0x9) {
      e.kind = WsEvent::Kind::kPing;
      e.opcode = WsOpcode::kPing;
      e.payload = std::move(payload);
    } else if (op == 0xA) {
      e.kind = WsEvent::Kind::kPong;
      e.opcode = WsOpcode::kPong;
      e.payload = std::move(payload);
    } else {
      if (payload.size() == 1) {
        fail(ws_close::kProtocolError, "close frame with a 1-byte body", events);
        return false;
      }
      e.kind = WsEvent::Kind::kClose;
      e.opcode = WsOpcode::kClose;
      e.code = ws_close::kNoStatus;
      if (payload.size() >= 2) {
        e.code = static_cast<std::uint16_t>(static_cast<std::uint8_t>(payload[0]) << 8 |
                                            static_cast<std::uint8_t>(payload[1]));
        if (!valid_close_code(e.code)) {
          fail(ws_close::kProtocolError, "invalid close code " + std::to_string(e.code), events);
          return false;
        }
        e.reason = payload.substr(2);
        if (!utf8_valid(e.reason)) {
          fail(ws_close::kInvalidPayload, "close reason is not UTF-8", events);
          return false;
        }
      }
      events.push_back(std::move(e));
      done_ = true;
      return false;
    }
    events.push_back(std::move(e));
    return true;
  }

  if (op != 0x0) {
    in_message_ = true;
    message_opcode_ = static_cast<WsOpcode>(op);
    message_.clear();
  }
  message_ += payload;
  if (!fin) return true;

  in_message_ = false;
  if (message_opcode_ == WsOpcode::kText && !utf8_valid(message_)) {
    fail(ws_close::kInvalidPayload, "text message is not UTF-8", events);
    return false;
  }
  WsEvent e;
  e.kind = WsEvent::Kind::kMessage;
  e.opcode = message_opcode_;
  e.payload = std::move(message_);
  message_.clear();
  events.push_back(std::move(e));
  return true;
}

std::string WsParser::reply(const WsEvent& event) {
  switch (event.kind) {
    case WsEvent::Kind::kPing:
      return ws_frame(WsOpcode::kPong, event.payload);
    case WsEvent::Kind::kClose:
      // Echo the code (§5.5.1); a close without one is answered with 1000.
      return ws_close_frame(event.code == ws_close::kNoStatus ? ws_close::kNormal : event.code);
    case WsEvent::Kind::kFail:
      return ws_close_frame(event.code, event.reason);
    case WsEvent::Kind::kMessage:
    case WsEvent::Kind::kPong:
      break;
  }
  return {};
}

}  // namespace netmon::web
