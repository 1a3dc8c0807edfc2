#include "registry/confluent_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rte::registry {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string PayloadOf(const Framed& f) {
  return std::string(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
}

TEST(ConfluentFramingTest, ParsesAvroHeaderAndPayload) {
  const std::string rec = Bytes({0x00, 0x00, 0x01, 0x02, 0x03, 0x54, 0x0a});
  auto f = ParseConfluentFrame(rec);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->schema_id, 0x010203);
  EXPECT_EQ(PayloadOf(*f), Bytes({0x54, 0x0a}));
  EXPECT_TRUE(f->message_indexes().empty());
  // The payload views into the input, no copy.
  EXPECT_EQ(reinterpret_cast<const char*>(f->payload.data()), rec.data() + 5);
}

TEST(ConfluentFramingTest, HeaderOnlyGivesEmptyPayload) {
  auto f = ParseConfluentFrame(Bytes({0, 0, 0, 0, 7}));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->schema_id, 7);
  EXPECT_TRUE(f->payload.empty());
}

TEST(ConfluentFramingTest, JsonSchemaPayloadIsPlainJson) {
  const std::string rec = FrameConfluent(42, R"({"a":1})");
  auto f = ParseConfluentFrame(rec, SchemaType::kJson);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->schema_id, 42);
  EXPECT_EQ(PayloadOf(*f), R"({"a":1})");
  EXPECT_TRUE(f->message_indexes().empty());
}

TEST(ConfluentFramingTest, TruncatedHeaderIsOutOfRange) {
  for (size_t n = 1; n < 5; ++n) {
    auto f = ParseConfluentFrame(std::string(n, '\0'));
    ASSERT_FALSE(f.ok()) << n;
    EXPECT_EQ(f.error().code, Errc::kOutOfRange);
    EXPECT_NE(f.error().message.find("truncated"), std::string::npos);
  }
  auto empty = ParseConfluentFrame(std::string());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::kOutOfRange);
}

TEST(ConfluentFramingTest, BadMagicNamesTheByte) {
  auto f = ParseConfluentFrame(std::string(R"({"plain":"json"})"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(f.error().message, "not Confluent-framed (magic 0x7b)");
  auto g = ParseConfluentFrame(Bytes({0xff, 0, 0, 0, 1}));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message, "not Confluent-framed (magic 0xff)");
}

TEST(ConfluentFramingTest, GuidMagicIsRecognisedAsUnsupported) {
  std::string rec = Bytes({0x01});
  for (int i = 0; i < 16; ++i) rec.push_back(static_cast<char>(0xa0 + i));
  rec += "payload";
  auto f = ParseConfluentFrame(rec);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, Errc::kUnsupported);
  EXPECT_NE(f.error().message.find("a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf"), std::string::npos)
      << f.error().message;
  auto short_guid = ParseConfluentFrame(Bytes({0x01, 1, 2, 3}));
  ASSERT_FALSE(short_guid.ok());
  EXPECT_EQ(short_guid.error().code, Errc::kOutOfRange);
}

TEST(ConfluentFramingTest, NegativeSchemaIdIsRejected) {
  auto f = ParseConfluentFrame(Bytes({0, 0x80, 0, 0, 1}));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, Errc::kInvalidArgument);
}

TEST(ConfluentFramingTest, ProtobufSingleZeroMeansFirstMessage) {
  const std::string rec = Bytes({0, 0, 0, 0, 9, 0x00, 0x08, 0x96, 0x01});
  auto f = ParseConfluentFrame(rec, SchemaType::kProtobuf);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->schema_id, 9);
  ASSERT_EQ(f->message_indexes().size(), 1u);
  EXPECT_EQ(f->message_indexes()[0], 0);
  EXPECT_EQ(PayloadOf(*f), Bytes({0x08, 0x96, 0x01}));
}

TEST(ConfluentFramingTest, ProtobufIndexListIsZigZag) {
  // count 3 (zigzag 6), indexes 1, 0, 70 (zigzag 2, 0, 140 = 0x8c 0x01).
  const std::string rec = Bytes({0, 0, 0, 0, 5, 0x06, 0x02, 0x00, 0x8c, 0x01, 0xAA});
  auto f = ParseConfluentFrame(rec, SchemaType::kProtobuf);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(std::vector<int32_t>(f->message_indexes().begin(), f->message_indexes().end()),
            (std::vector<int32_t>{1, 0, 70}));
  EXPECT_EQ(PayloadOf(*f), Bytes({0xAA}));
}

TEST(ConfluentFramingTest, ProtobufBadIndexListsFail) {
  // Header then nothing: the count is missing.
  EXPECT_EQ(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1}), SchemaType::kProtobuf).error().code,
            Errc::kOutOfRange);
  // Count 2 but one index.
  EXPECT_EQ(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 0x04, 0x02}), SchemaType::kProtobuf)
                .error()
                .code,
            Errc::kOutOfRange);
  // Negative count (zigzag 1 = -1).
  EXPECT_EQ(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 0x01}), SchemaType::kProtobuf).error().code,
            Errc::kInvalidArgument);
  // Negative index.
  EXPECT_EQ(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 0x02, 0x03}), SchemaType::kProtobuf)
                .error()
                .code,
            Errc::kInvalidArgument);
  // Count above the limit (zigzag 66 = 33).
  EXPECT_EQ(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 66}), SchemaType::kProtobuf).error().code,
            Errc::kOutOfRange);
  // Varint longer than 5 bytes / overflowing 32 bits.
  EXPECT_FALSE(
      ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}),
                          SchemaType::kProtobuf)
          .ok());
  EXPECT_FALSE(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x10}),
                                   SchemaType::kProtobuf)
                   .ok());
  // Unterminated varint.
  EXPECT_FALSE(ParseConfluentFrame(Bytes({0, 0, 0, 0, 1, 0x80}), SchemaType::kProtobuf).ok());
}

TEST(ConfluentFramingTest, FrameConfluentRoundTrips) {
  const std::vector<int32_t> indexes{3, 1, 200000};
  const std::string rec = FrameConfluent(123456, "xyz", indexes, true);
  auto f = ParseConfluentFrame(rec, SchemaType::kProtobuf);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->schema_id, 123456);
  EXPECT_EQ(std::vector<int32_t>(f->message_indexes().begin(), f->message_indexes().end()),
            indexes);
  EXPECT_EQ(PayloadOf(*f), "xyz");

  const std::string first = FrameConfluent(5, "p", {}, true);
  EXPECT_EQ(first, Bytes({0, 0, 0, 0, 5, 0, 'p'}));
  EXPECT_EQ(FrameConfluent(5, "p"), Bytes({0, 0, 0, 0, 5, 'p'}));
}

TEST(ConfluentFramingTest, EveryPrefixOfAValidFrameIsHandled) {
  const std::string rec = FrameConfluent(77, "abcdef", std::vector<int32_t>{2, 5}, true);
  for (size_t n = 0; n <= rec.size(); ++n) {
    auto f = ParseConfluentFrame(std::string_view(rec).substr(0, n), SchemaType::kProtobuf);
    if (f.ok()) {
      EXPECT_LE(f->payload.size(), n);
      EXPECT_EQ(f->schema_id, 77);
    }
  }
}

}  // namespace
}  // namespace rte::registry
