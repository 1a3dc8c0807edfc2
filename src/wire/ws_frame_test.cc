#include "wire/ws_frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace rte::wire {
namespace {

// Builds a masked client frame.
std::string ClientFrame(uint8_t first_byte, std::string_view payload, uint32_t mask = 0x11223344) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((uint64_t{n} >> s) & 0xFF));
  }
  uint8_t m[4] = {uint8_t(mask >> 24), uint8_t(mask >> 16), uint8_t(mask >> 8), uint8_t(mask)};
  f.append(reinterpret_cast<char*>(m), 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ m[i & 3]));
  return f;
}

struct Got {
  Opcode op;
  std::string payload;
};

ParseVerdict FeedAll(FrameParser& p, std::string_view bytes, std::vector<Got>* out, size_t chunk = SIZE_MAX) {
  ParseVerdict v;
  for (size_t i = 0; i < bytes.size() && v.ok(); i += chunk) {
    v = p.Feed(bytes.substr(i, std::min(chunk, bytes.size() - i)), [&](const ClientMessage& m) {
      out->push_back({m.opcode, std::string(m.payload)});
      return true;
    });
  }
  return v;
}

TEST(WsFrameTest, ServerFrameHeaderSizes) {
  EXPECT_EQ(EncodeFrame(Opcode::kText, "hi"), std::string("\x81\x02hi", 4));
  std::string mid(300, 'x');
  auto f = EncodeFrame(Opcode::kText, mid);
  EXPECT_EQ(f.size(), 4 + 300u);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 126);
  EXPECT_EQ((static_cast<uint8_t>(f[2]) << 8) | static_cast<uint8_t>(f[3]), 300);
  std::string big(70000, 'y');
  EXPECT_EQ(EncodeFrame(Opcode::kBinary, big).size(), 10 + 70000u);
  auto close = EncodeCloseFrame(1008, "unknown channel");
  EXPECT_EQ(static_cast<uint8_t>(close[0]), 0x88);
  EXPECT_EQ((static_cast<uint8_t>(close[2]) << 8) | static_cast<uint8_t>(close[3]), 1008);
}

TEST(WsFrameTest, AcceptKeyMatchesRfcExample) {
  // RFC 6455 §1.3.
  EXPECT_EQ(ComputeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsFrameTest, ParsesMessagesSplitAnywhere) {
  std::string stream = ClientFrame(0x81, "hello") + ClientFrame(0x89, "p") + ClientFrame(0x81, std::string(1000, 'z'));
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, SIZE_MAX}) {
    FrameParser p(64 * 1024);
    std::vector<Got> got;
    ASSERT_TRUE(FeedAll(p, stream, &got, chunk).ok());
    ASSERT_EQ(got.size(), 3u) << chunk;
    EXPECT_EQ(got[0].payload, "hello");
    EXPECT_EQ(got[1].op, Opcode::kPing);
    EXPECT_EQ(got[2].payload, std::string(1000, 'z'));
    EXPECT_EQ(p.buffered_bytes() <= 1000u + 64, true);
  }
}

TEST(WsFrameTest, ReassemblesFragmentsWithInterleavedControl) {
  FrameParser p(1024);
  std::vector<Got> got;
  std::string s = ClientFrame(0x01, "ab") + ClientFrame(0x8A, "") + ClientFrame(0x00, "cd") + ClientFrame(0x80, "e");
  ASSERT_TRUE(FeedAll(p, s, &got).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].op, Opcode::kPong);
  EXPECT_EQ(got[1].op, Opcode::kText);
  EXPECT_EQ(got[1].payload, "abcde");
}

TEST(WsFrameTest, RejectsProtocolViolations) {
  struct Case {
    std::string bytes;
    uint16_t code;
  } cases[] = {
      {std::string("\x81\x02hi", 4), kCloseProtocolError},  // unmasked
      {ClientFrame(0xC1, "x"), kCloseProtocolError},          // RSV1 without extension
      {ClientFrame(0x83, "x"), kCloseProtocolError},          // reserved opcode
      {ClientFrame(0x09, "x"), kCloseProtocolError},          // fragmented control frame
      {ClientFrame(0x80, "x"), kCloseProtocolError},          // continuation with nothing to continue
      {ClientFrame(0x01, "a") + ClientFrame(0x81, "b"), kCloseProtocolError},  // new message mid-fragment
      {ClientFrame(0x81, std::string(2000, 'a')), kCloseMessageTooBig},
      {ClientFrame(0x01, std::string(600, 'a')) + ClientFrame(0x80, std::string(600, 'a')), kCloseMessageTooBig},
      {ClientFrame(0x81, "\xff\xfe"), kCloseInvalidPayload},
  };
  for (const auto& c : cases) {
    FrameParser p(1024);
    std::vector<Got> got;
    auto v = FeedAll(p, c.bytes, &got);
    EXPECT_EQ(v.close_code, c.code) << v.reason;
  }
}

TEST(WsFrameTest, OversizeIsDetectedFromTheHeaderAlone) {
  FrameParser p(1024);
  std::vector<Got> got;
  std::string header = ClientFrame(0x81, std::string(1 << 20, 'a')).substr(0, 14);  // header + mask only
  EXPECT_EQ(FeedAll(p, header, &got).close_code, kCloseMessageTooBig);
}

TEST(WsFrameTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Müller €"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace rte::wire
