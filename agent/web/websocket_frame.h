// WebSocket data framing (RFC 6455 §5): what the server writes, and an
// incremental parser for what clients send. The agent only ever sends; a
// client's frames matter for ping/pong and close, and for refusing a peer that
// breaks the protocol before it costs memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netmon::web {

enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes the server sends or reports (RFC 6455 §7.4.1).
namespace ws_close {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;  // reported only, never sent
inline constexpr std::uint16_t kInvalidPayload = 1007;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kTooBig = 1009;
}  // namespace ws_close

// One unmasked frame with FIN set, as a server sends it: the shortest of the
// 7-, 16- or 64-bit length encodings.
std::string ws_frame(WsOpcode opcode, std::string_view payload);

// A snapshot line as one text message (a trailing '\n' is not part of it).
inline std::string ws_text_frame(std::string_view text) { return ws_frame(WsOpcode::kText, text); }

// A close frame: the code and a UTF-8 reason (cut to fit the 125-byte
// control-frame limit); kNoStatus gives an empty close body.
std::string ws_close_frame(std::uint16_t code, std::string_view reason = {});

// One thing the parser found in the byte stream.
struct WsEvent {
  enum class Kind {
    kMessage,  // a complete (reassembled) data message: opcode kText or kBinary
    kPing,     // answer with a pong carrying `payload` (WsParser::reply does)
    kPong,     // unsolicited or not: nothing to do
    kClose,    // the peer closes with `code` (kNoStatus if it gave none), `reason`
    kFail,     // the peer broke the protocol: send a close with `code`, then drop it
  };
  Kind kind = Kind::kMessage;
  WsOpcode opcode = WsOpcode::kText;
  std::string payload;  // message or ping/pong application data
  std::uint16_t code = 0;
  std::string reason;  // close reason from the peer, or what went wrong
};

struct WsParserLimits {
  // Largest data message, after reassembly of its fragments. The agent's
  // clients have nothing to say, so the default is small; a larger message
  // fails with 1009.
  std::size_t max_message = 4096;
  // True on the server side: every client frame must be masked (§5.1). False
  // parses a server's frames (tests, clients), which must not be.
  bool expect_masked = true;
};

// Incremental parser: feed bytes as they arrive, in pieces of any size.
// After a kClose or kFail event the parser stops; later bytes are ignored.
class WsParser {
 public:
  explicit WsParser(WsParserLimits limits = {}) : limits_(limits) {}

  // Parses what it can of `bytes` (buffering a partial frame header and
  // payload, never more than the limits allow) and appends what it found.
  void feed(std::string_view bytes, std::vector<WsEvent>& events);

  // True once a kClose or kFail was reported.
  bool done() const { return done_; }

  // Bytes the server should send for an event: a pong for kPing, the echoed
  // close for kClose (§5.5.1), the close with the failure's code for kFail;
  // empty for data and pongs.
  static std::string reply(const WsEvent& event);

 private:
  // Tries to take one whole frame off the front of buffer_; false when more
  // bytes are needed or the parser stopped.
  bool parse_one(std::vector<WsEvent>& events);
  void fail(std::uint16_t code, std::string why, std::vector<WsEvent>& events);

  WsParserLimits limits_;
  std::string buffer_;   // received, not yet parsed
  std::string message_;  // fragments of the data message in progress
  bool in_message_ = false;
  WsOpcode message_opcode_ = WsOpcode::kText;
  bool done_ = false;
};

}  // namespace netmon::web
