#include "websocket_frame.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sys/utf8.h"

namespace netmon::web {
namespace {

using Kind = WsEvent::Kind;

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int x : b) out += static_cast<char>(x);
  return out;
}

// A client frame: first byte as given, masked with `key`.
std::string client_frame(std::uint8_t b0, const std::string& payload,
                         std::string key = bytes({0x37, 0xfa, 0x21, 0x3d})) {
  std::string out;
  out += static_cast<char>(b0);
  std::uint64_t len = payload.size();
  if (len <= 125) {
    out += static_cast<char>(0x80 | len);
  } else if (len <= 0xFFFF) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(len >> 8);
    out += static_cast<char>(len & 0xFF);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((len >> (8 * i)) & 0xFF);
  }
  out += key;
  for (std::size_t i = 0; i < payload.size(); ++i)
    out += static_cast<char>(payload[i] ^ key[i & 3]);
  return out;
}

std::vector<WsEvent> parse(const std::string& in, WsParserLimits limits = {}) {
  WsParser p(limits);
  std::vector<WsEvent> events;
  p.feed(in, events);
  return events;
}

WsParserLimits client_side(std::size_t max_message = 4096) {
  WsParserLimits l;
  l.expect_masked = false;
  l.max_message = max_message;
  return l;
}

// RFC 6455 §5.7, byte for byte.
const std::string kUnmaskedHello = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kMaskedHello =
    bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const std::string kFragmentedHello =
    bytes({0x01, 0x03, 0x48, 0x65, 0x6c}) + bytes({0x80, 0x02, 0x6c, 0x6f});
const std::string kUnmaskedPing = bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string kMaskedPong =
    bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});

TEST(WsFrame, Rfc6455ExamplesEncoded) {
  EXPECT_EQ(ws_text_frame("Hello"), kUnmaskedHello);
  EXPECT_EQ(ws_frame(WsOpcode::kPing, "Hello"), kUnmaskedPing);
  // The unmasked pong a server answers that ping with.
  EXPECT_EQ(ws_frame(WsOpcode::kPong, "Hello"), bytes({0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));

  std::string b256(256, '\x5a');
  EXPECT_EQ(ws_frame(WsOpcode::kBinary, b256), bytes({0x82, 0x7E, 0x01, 0x00}) + b256);
  std::string b64k(65536, '\xa5');
  EXPECT_EQ(ws_frame(WsOpcode::kBinary, b64k),
            bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}) + b64k);
}

TEST(WsFrame, LengthEncodingBoundaries) {
  EXPECT_EQ(ws_text_frame(std::string(125, 'x')).substr(0, 2), bytes({0x81, 125}));
  EXPECT_EQ(ws_text_frame(std::string(126, 'x')).substr(0, 4), bytes({0x81, 126, 0x00, 126}));
  EXPECT_EQ(ws_text_frame(std::string(65535, 'x')).substr(0, 4), bytes({0x81, 126, 0xff, 0xff}));
  EXPECT_EQ(ws_text_frame(std::string(65536, 'x')).size(), 65536u + 10);
  EXPECT_EQ(ws_text_frame("").size(), 2u);
}

TEST(WsParser, Rfc6455ExamplesParsed) {
  auto e = parse(kMaskedHello);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::kMessage);
  EXPECT_EQ(e[0].opcode, WsOpcode::kText);
  EXPECT_EQ(e[0].payload, "Hello");

  // The unmasked examples are server frames: a client-side parser takes them.
  e = parse(kUnmaskedHello, client_side());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].payload, "Hello");
  e = parse(kFragmentedHello, client_side());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::kMessage);
  EXPECT_EQ(e[0].payload, "Hello");
  e = parse(kUnmaskedPing, client_side());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::kPing);
  EXPECT_EQ(WsParser::reply(e[0]), bytes({0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));

  e = parse(kMaskedPong);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::kPong);
  EXPECT_EQ(e[0].payload, "Hello");
  EXPECT_EQ(WsParser::reply(e[0]), "");

  std::string b256(256, '\x5a');
  e = parse(bytes({0x82, 0x7E, 0x01, 0x00}) + b256, client_side());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].opcode, WsOpcode::kBinary);
  EXPECT_EQ(e[0].payload, b256);
  std::string b64k(65536, '\xa5');
  e = parse(bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0, 0}) + b64k, client_side(65536));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].payload, b64k);
}

TEST(WsParser, ServerRequiresMaskAndClientForbidsIt) {
  auto e = parse(kUnmaskedHello);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::kFail);
  EXPECT_EQ(e[0].code, ws_close::kProtocolError);
  EXPECT_EQ(WsParser::reply(e[0]).substr(0, 4),
            bytes({0x88, static_cast<int>(e[0].reason.size() + 2), 0x03, 0xea}));
  e = parse(kMaskedHello, client_side());
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, ws_close::kProtocolError);
}

TEST(WsParser, MaskedPingAnsweredWithUnmaskedPong) {
  auto e = parse(client_frame(0x89, "Hello"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].kind, Kind::kPing);
  EXPECT_EQ(WsParser::reply(e[0]), bytes({0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  e = parse(client_frame(0x89, ""));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(WsParser::reply(e[0]), bytes({0x8a, 0x00}));
}

TEST(WsParser, FragmentsWithInterleavedControlFrames) {
  std::string in = client_frame(0x01, "Hel") + client_frame(0x89, "p") + client_frame(0x00, "l") +
                   client_frame(0x8a, "") + client_frame(0x80, "o") +
                   client_frame(0x82, "\xff\xfe");
  auto e = parse(in);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].kind, Kind::kPing);
  EXPECT_EQ(e[0].payload, "p");
  EXPECT_EQ(e[1].kind, Kind::kPong);
  EXPECT_EQ(e[2].kind, Kind::kMessage);
  EXPECT_EQ(e[2].payload, "Hello");
  EXPECT_EQ(e[3].kind, Kind::kMessage);
  EXPECT_EQ(e[3].opcode, WsOpcode::kBinary);
  EXPECT_EQ(e[3].payload, "\xff\xfe");
}

// The same stream cut into pieces of every size gives the same events.
TEST(WsParser, IncrementalFeedingAnyChunking) {
  std::string in = client_frame(0x81, "Hello") + client_frame(0x01, std::string(200, 'a')) +
                   client_frame(0x89, "ping") + client_frame(0x80, std::string(70000 - 200, 'b')) +
                   client_frame(0x88, bytes({0x03, 0xe8}) + "bye");
  WsParserLimits limits;
  limits.max_message = 70000;
  auto whole = parse(in, limits);
  ASSERT_EQ(whole.size(), 4u);
  EXPECT_EQ(whole[2].payload.size(), 70000u);
  EXPECT_EQ(whole[3].kind, Kind::kClose);

  std::mt19937 rng(15);
  for (std::size_t max_chunk : {1, 2, 3, 7, 100, 5000}) {
    WsParser p(limits);
    std::vector<WsEvent> events;
    for (std::size_t i = 0; i < in.size();) {
      std::size_t n = 1 + rng() % max_chunk;
      p.feed(std::string_view(in).substr(i, n), events);
      i += n;
    }
    ASSERT_EQ(events.size(), whole.size()) << max_chunk;
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].kind, whole[i].kind);
      EXPECT_EQ(events[i].payload, whole[i].payload);
      EXPECT_EQ(events[i].code, whole[i].code);
    }
  }
}

TEST(WsParser, CloseCodes) {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
    auto e = parse(client_frame(0x88, bytes({code >> 8, code & 0xff}) + "why"));
    ASSERT_EQ(e.size(), 1u) << code;
    EXPECT_EQ(e[0].kind, Kind::kClose) << code;
    EXPECT_EQ(e[0].code, code);
    EXPECT_EQ(e[0].reason, "why");
    // The echo carries the code, and no reason.
    EXPECT_EQ(WsParser::reply(e[0]), bytes({0x88, 0x02, code >> 8, code & 0xff}));
  }
  auto e = parse(client_frame(0x88, ""));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, ws_close::kNoStatus);
  EXPECT_EQ(WsParser::reply(e[0]), bytes({0x88, 0x02, 0x03, 0xe8}));

  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    e = parse(client_frame(0x88, bytes({code >> 8, code & 0xff})));
    ASSERT_EQ(e.size(), 1u) << code;
    EXPECT_EQ(e[0].kind, Kind::kFail) << code;
    EXPECT_EQ(e[0].code, ws_close::kProtocolError) << code;
  }
  e = parse(client_frame(0x88, bytes({0x03})));
  EXPECT_EQ(e.at(0).code, ws_close::kProtocolError);
  e = parse(client_frame(0x88, bytes({0x03, 0xe8, 0xc0, 0x80})));
  EXPECT_EQ(e.at(0).kind, Kind::kFail);
  EXPECT_EQ(e.at(0).code, ws_close::kInvalidPayload);
}

TEST(WsParser, StopsAfterClose) {
  WsParser p;
  std::vector<WsEvent> e;
  p.feed(client_frame(0x88, bytes({0x03, 0xe9})) + client_frame(0x81, "late"), e);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, ws_close::kGoingAway);
  EXPECT_TRUE(p.done());
  p.feed(client_frame(0x81, "later"), e);
  EXPECT_EQ(e.size(), 1u);
}

TEST(WsParser, ProtocolErrorsClose1002) {
  struct Case {
    const char* what;
    std::string in;
  };
  std::string top_bit = bytes({0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0});
  const Case cases[] = {
      {"RSV1", client_frame(0xc1, "x")},
      {"RSV2", client_frame(0xa1, "x")},
      {"RSV3", client_frame(0x91, "x")},
      {"opcode 3", client_frame(0x83, "x")},
      {"opcode 7", client_frame(0x87, "x")},
      {"opcode 0xB", client_frame(0x8b, "x")},
      {"opcode 0xF", client_frame(0x8f, "x")},
      {"continuation first", client_frame(0x80, "x")},
      {"text inside fragmented", client_frame(0x01, "a") + client_frame(0x81, "b")},
      {"binary inside fragmented", client_frame(0x02, "a") + client_frame(0x02, "b")},
      {"fragmented ping", client_frame(0x09, "x")},
      {"fragmented close", client_frame(0x08, "")},
      {"ping of 126 bytes", client_frame(0x89, std::string(126, 'p'))},
      {"close of 126 bytes", client_frame(0x88, bytes({3, 0xe8}) + std::string(124, 'r'))},
      {"64-bit length, top bit", top_bit},
  };
  for (const Case& c : cases) {
    auto e = parse(c.in);
    ASSERT_EQ(e.size(), 1u) << c.what;
    EXPECT_EQ(e[0].kind, Kind::kFail) << c.what;
    EXPECT_EQ(e[0].code, ws_close::kProtocolError) << c.what;
    EXPECT_FALSE(e[0].reason.empty()) << c.what;
  }
}

TEST(WsParser, OversizeCloses1009BeforeThePayloadArrives) {
  WsParserLimits limits;
  limits.max_message = 100;
  WsParser p(limits);
  std::vector<WsEvent> e;
  std::string frame = client_frame(0x81, std::string(101, 'x'));
  p.feed(frame.substr(0, 4), e);  // header only
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, ws_close::kTooBig);

  e = parse(client_frame(0x81, std::string(100, 'x')), limits);
  EXPECT_EQ(e.at(0).kind, Kind::kMessage);
  e = parse(client_frame(0x01, std::string(60, 'x')) + client_frame(0x80, std::string(41, 'x')),
            limits);
  EXPECT_EQ(e.at(0).code, ws_close::kTooBig);
  // A 4 GiB length (past a 32-bit size_t) is refused from its header alone.
  e = parse(bytes({0x82, 0xff, 0, 0, 0, 0x01, 0, 0, 0, 0}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, ws_close::kTooBig);
  // The default is small: the agent's clients have nothing to say.
  e = parse(client_frame(0x82, std::string(5000, 'x')));
  EXPECT_EQ(e.at(0).code, ws_close::kTooBig);
}

TEST(WsParser, TextMustBeUtf8AcrossFragments) {
  // U+20AC (e2 82 ac) split between two fragments is fine.
  auto e = parse(client_frame(0x01, "\xe2\x82") + client_frame(0x80, "\xac"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].payload, "\xe2\x82\xac");
  e = parse(client_frame(0x81, "ab\xff"));
  EXPECT_EQ(e.at(0).code, ws_close::kInvalidPayload);
  e = parse(client_frame(0x01, "\xe2\x82") + client_frame(0x80, "x"));
  EXPECT_EQ(e.at(0).code, ws_close::kInvalidPayload);
  // Binary is not text.
  e = parse(client_frame(0x82, "ab\xff"));
  EXPECT_EQ(e.at(0).kind, Kind::kMessage);
}

TEST(WsCloseFrame, ReasonCutToControlLimitOnCharacterBoundary) {
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xc3\xa9";  // 200 bytes of "é"
  std::string f = ws_close_frame(ws_close::kTooBig, reason);
  ASSERT_LE(f.size(), 2u + 125);
  EXPECT_EQ(static_cast<std::uint8_t>(f[1]), f.size() - 2);
  EXPECT_EQ(f.substr(2, 2), bytes({0x03, 0xf1}));
  EXPECT_TRUE(utf8_valid(f.substr(4)));
  EXPECT_EQ(f.size() - 4, 122u);  // 61 whole "é", not 123 bytes with half of one
  EXPECT_EQ(ws_close_frame(ws_close::kNoStatus), bytes({0x88, 0x00}));
}

}  // namespace
}  // namespace netmon::web

namespace netmon::web {
namespace {

// Random streams — valid frames with random bytes flipped, and plain noise —
// fed whole and in random pieces: the parser never crashes (the ASan build
// checks its memory use), reports the same events either way, and stops at
// the first close or failure.
TEST(WsParser, RandomStreamsParseTheSameInAnyPieces) {
  std::mt19937 rng(6455);
  for (int round = 0; round < 3000; ++round) {
    std::string in;
    int frames = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < frames; ++f) {
      static const std::uint8_t heads[] = {0x81, 0x01, 0x80, 0x00, 0x82, 0x89, 0x8a, 0x88};
      std::string payload(rng() % 300, '\0');
      for (char& c : payload) c = static_cast<char>(rng() % 128);
      in += client_frame(heads[rng() % sizeof heads], payload,
                         bytes({int(rng() % 256), int(rng() % 256), int(rng() % 256), 7}));
    }
    if (round % 3 == 1) {
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips)
        in[rng() % in.size()] ^= static_cast<char>(1 << (rng() % 8));
    } else if (round % 3 == 2) {
      for (char& c : in) c = static_cast<char>(rng());
    }
    WsParserLimits limits;
    limits.max_message = 512;
    auto whole = parse(in, limits);
    WsParser p(limits);
    std::vector<WsEvent> pieces;
    for (std::size_t i = 0; i < in.size();) {
      std::size_t n = 1 + rng() % 40;
      p.feed(std::string_view(in).substr(i, n), pieces);
      i += n;
    }
    ASSERT_EQ(pieces.size(), whole.size()) << round;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(pieces[i].kind, whole[i].kind) << round;
      EXPECT_EQ(pieces[i].payload, whole[i].payload) << round;
      EXPECT_EQ(pieces[i].code, whole[i].code) << round;
      bool last = i + 1 == whole.size();
      bool ends = whole[i].kind == WsEvent::Kind::kClose || whole[i].kind == WsEvent::Kind::kFail;
      EXPECT_TRUE(!ends || last) << round;  // nothing after a close or failure
      EXPECT_LE(whole[i].payload.size(), 512u);
    }
  }
}

}  // namespace
}  // namespace netmon::web
