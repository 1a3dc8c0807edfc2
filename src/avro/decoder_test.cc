#include "avro/decoder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "avro/binary_writer.h"

namespace rte::avro {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------- helpers

std::shared_ptr<const Schema> MustParse(std::string_view text, const std::vector<std::string>& refs = {}) {
  auto r = Schema::Parse(text, refs);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << text;
  return r.ok() ? *r : nullptr;
}

std::span<const uint8_t> Span(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

// Decodes both ways; checks the two outputs agree (both fail, or the text is
// exactly the serialized value). Returns the value or the error.
Result<json::value> DecodeBoth(const Schema& schema, std::span<const uint8_t> data, const DecodeOptions& opt = {}) {
  Result<json::value> v = DecodeToValue(schema, data, opt);
  std::string text = "prefix";
  Status st = DecodeToJson(schema, data, &text, opt);
  EXPECT_EQ(v.ok(), st.ok()) << (v.ok() ? st.error().message : v.error().message);
  if (v.ok() && st.ok()) {
    EXPECT_EQ(text, "prefix" + json::serialize(*v));
  } else if (!st.ok()) {
    EXPECT_EQ(text, "prefix") << "output must be left as it was on error";
    EXPECT_FALSE(st.error().message.empty());
  }
  if (!v.ok() && !st.ok()) {
    EXPECT_EQ(v.error().code, st.error().code);
  }
  return v;
}

Errc DecodeError(const Schema& schema, const std::vector<uint8_t>& data, const DecodeOptions& opt = {}) {
  Result<json::value> v = DecodeBoth(schema, Span(data), opt);
  EXPECT_FALSE(v.ok()) << json::serialize(*v);
  return v.ok() ? Errc::kOk : v.error().code;
}

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

struct Vector {
  std::string name;
  std::string schema;
  std::vector<std::string> references;
  std::vector<uint8_t> payload;
  json::value expected;
};

std::vector<Vector> LoadVectors() {
  std::string path;
  if (const char* root = std::getenv("RTE_SOURCE_DIR")) {
    path = std::string(root) + "/src/avro/testdata/vectors.json";
  } else {
    std::string here = __FILE__;
    path = here.substr(0, here.rfind('/')) + "/testdata/vectors.json";
  }
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  json::value doc = json::parse(ss.str());
  std::vector<Vector> out;
  for (const json::value& v : doc.at("vectors").as_array()) {
    Vector vec;
    vec.name = json::value_to<std::string>(v.at("name"));
    vec.schema = json::value_to<std::string>(v.at("schema"));
    for (const json::value& r : v.at("references").as_array()) vec.references.push_back(json::value_to<std::string>(r));
    vec.payload = FromHex(v.at("payload_hex").as_string());
    vec.expected = v.at("expected");
    out.push_back(std::move(vec));
  }
  return out;
}

const std::vector<Vector>& Vectors() {
  static const std::vector<Vector> vectors = LoadVectors();
  return vectors;
}

// ---------------------------------------------------------------- vectors

TEST(DecoderVectorsTest, MatchFastavro) {
  ASSERT_GE(Vectors().size(), 100u);
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.name);
    auto schema = MustParse(v.schema, v.references);
    ASSERT_NE(schema, nullptr);
    Result<json::value> got = DecodeBoth(*schema, Span(v.payload));
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, v.expected) << "got      " << json::serialize(*got) << "\nexpected " << json::serialize(v.expected);
    std::string text;
    ASSERT_TRUE(DecodeToJson(*schema, Span(v.payload), &text).ok());
    EXPECT_EQ(json::parse(text), v.expected) << text;
    // Also byte for byte, which checks field order (object equality does not).
    EXPECT_EQ(text, json::serialize(v.expected));
  }
}

TEST(DecoderVectorsTest, EveryTruncationFails) {
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.name);
    auto schema = MustParse(v.schema, v.references);
    ASSERT_NE(schema, nullptr);
    for (size_t n = 0; n < v.payload.size(); ++n) {
      std::vector<uint8_t> cut(v.payload.begin(), v.payload.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_NE(DecodeError(*schema, cut), Errc::kOk) << "prefix of " << n << " bytes";
    }
  }
}

TEST(DecoderVectorsTest, TrailingByteFails) {
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.name);
    auto schema = MustParse(v.schema, v.references);
    std::vector<uint8_t> longer = v.payload;
    longer.push_back(0);
    EXPECT_EQ(DecodeError(*schema, longer), Errc::kInvalidArgument);
  }
}

TEST(DecoderVectorsTest, OutputLimitIsExactForBothOutputs) {
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.name);
    auto schema = MustParse(v.schema, v.references);
    std::string text;
    ASSERT_TRUE(DecodeToJson(*schema, Span(v.payload), &text).ok());
    DecodeOptions exact;
    exact.max_output_bytes = text.size();
    EXPECT_TRUE(DecodeBoth(*schema, Span(v.payload), exact).ok());
    DecodeOptions one_less;
    one_less.max_output_bytes = text.size() - 1;
    EXPECT_EQ(DecodeError(*schema, v.payload, one_less), Errc::kResourceExhausted);
  }
}

TEST(DecoderVectorsTest, RandomMutationsNeverDisagree) {
  std::mt19937 rng(12345);
  for (const Vector& v : Vectors()) {
    SCOPED_TRACE(v.name);
    if (v.payload.empty()) continue;
    auto schema = MustParse(v.schema, v.references);
    for (int i = 0; i < 200; ++i) {
      std::vector<uint8_t> m = v.payload;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) m[rng() % m.size()] = static_cast<uint8_t>(rng());
      (void)DecodeBoth(*schema, Span(m));  // checks agreement; either outcome is fine
    }
  }
}

// ---------------------------------------------------------------- hand-made values

TEST(DecoderTest, TimeOutsideOneDayRendersAsNumber) {
  auto ms = MustParse(R"({"type":"int","logicalType":"time-millis"})");
  auto v = DecodeBoth(*ms, Span(BinaryWriter().Int(86'400'000).bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::value(86'400'000));
  v = DecodeBoth(*ms, Span(BinaryWriter().Int(-1).bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::value(-1));
  auto us = MustParse(R"({"type":"long","logicalType":"time-micros"})");
  v = DecodeBoth(*us, Span(BinaryWriter().Long(86'400'000'000).bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::value(86'400'000'000));
}

TEST(DecoderTest, InvalidDecimalLogicalTypeIsPlainBytes) {
  auto s = MustParse(R"({"type":"bytes","logicalType":"decimal","precision":2,"scale":3})");
  auto v = DecodeBoth(*s, Span(BinaryWriter().Bytes({0x01}).bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::value("AQ=="));
}

TEST(DecoderTest, DecimalWithSignExtensionAndEmptyBytes) {
  auto s = MustParse(R"({"type":"bytes","logicalType":"decimal","precision":10,"scale":2})");
  struct Case {
    std::vector<uint8_t> bytes;
    const char* want;
  } cases[] = {
      {{}, "0.00"},
      {{0x00, 0x00, 0x00, 0x01}, "0.01"},
      {{0xFF, 0xFF, 0xFF, 0xFF}, "-0.01"},
      {{0xFF, 0x80}, "-1.28"},
      {{0x00, 0x80}, "1.28"},
      {{0x80, 0, 0, 0, 0, 0, 0, 0}, "-92233720368547758.08"},
      {{0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, "92233720368547758.07"},
      {{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, "184467440737095516.16"},
      {{0xFF, 0, 0, 0, 0, 0, 0, 0, 0}, "-184467440737095516.16"},
  };
  for (const Case& c : cases) {
    auto v = DecodeBoth(*s, Span(BinaryWriter().Bytes(c.bytes).bytes()));
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, json::value(c.want));
  }
  // Many sign-extension bytes are fine; more significant bytes than the cap are not.
  std::vector<uint8_t> padded(4000, 0xFF);
  padded.push_back(0x9C);  // -100
  auto v = DecodeBoth(*s, Span(BinaryWriter().Bytes(padded).bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, json::value("-1.00"));
  std::vector<uint8_t> huge(600, 0x11);
  EXPECT_EQ(DecodeError(*s, BinaryWriter().Bytes(huge).bytes()), Errc::kOutOfRange);
}

TEST(DecoderTest, FloatUsesShortestFloatForm) {
  auto s = MustParse(R"("float")");
  std::string text;
  ASSERT_TRUE(DecodeToJson(*s, Span(BinaryWriter().Float(0.1f).bytes()), &text).ok());
  EXPECT_EQ(json::parse(text), json::value(0.1));
}

TEST(DecoderTest, NanAndInfinityAreNull) {
  auto s = MustParse(R"({"type":"record","name":"R","fields":[{"name":"f","type":"float"},{"name":"d","type":"double"}]})");
  auto v = DecodeBoth(*s, Span(BinaryWriter().Float(std::numeric_limits<float>::quiet_NaN())
                                   .Double(-std::numeric_limits<double>::infinity())
                                   .bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(json::serialize(*v), R"({"f":null,"d":null})");
}

TEST(DecoderTest, FieldNamesAreEscaped) {
  auto s = MustParse(R"({"type":"record","name":"R","fields":[{"name":"a\"b","type":"int"}]})");
  std::string text;
  ASSERT_TRUE(DecodeToJson(*s, Span(BinaryWriter().Int(1).bytes()), &text).ok());
  EXPECT_EQ(text, R"({"a\"b":1})");
}

// ---------------------------------------------------------------- hostile input

TEST(DecoderHostileTest, NegativeAndHugeLengths) {
  auto str = MustParse(R"("string")");
  auto bytes = MustParse(R"("bytes")");
  EXPECT_EQ(DecodeError(*str, BinaryWriter().Long(-1).bytes()), Errc::kOutOfRange);
  EXPECT_EQ(DecodeError(*bytes, BinaryWriter().Long(-1).Raw("abc").bytes()), Errc::kOutOfRange);
  EXPECT_EQ(DecodeError(*str, BinaryWriter().Long(INT64_MIN).bytes()), Errc::kOutOfRange);
  EXPECT_EQ(DecodeError(*str, BinaryWriter().Long(int64_t{1} << 40).Raw("abc").bytes()), Errc::kOutOfRange);
  EXPECT_EQ(DecodeError(*bytes, BinaryWriter().Long(INT64_MAX).bytes()), Errc::kOutOfRange);
  auto fixed = MustParse(R"({"type":"fixed","name":"F","size":2147483647})");
  EXPECT_EQ(DecodeError(*fixed, BinaryWriter().Raw("abc").bytes()), Errc::kOutOfRange);
}

TEST(DecoderHostileTest, HugeCountsFailFast) {
  auto longs = MustParse(R"({"type":"array","items":"long"})");
  EXPECT_EQ(DecodeError(*longs, BinaryWriter().Long(int64_t{1} << 40).Long(1).bytes()), Errc::kOutOfRange);
  auto map = MustParse(R"({"type":"map","values":"null"})");
  EXPECT_EQ(DecodeError(*map, BinaryWriter().Long(int64_t{1} << 40).bytes()), Errc::kOutOfRange);
  // Items that take no bytes: only the output limit stops them.
  auto nulls = MustParse(R"({"type":"array","items":"null"})");
  EXPECT_EQ(DecodeError(*nulls, BinaryWriter().Long(int64_t{1} << 40).Long(0).bytes()), Errc::kResourceExhausted);
  DecodeOptions small;
  small.max_output_bytes = 1000;
  EXPECT_EQ(DecodeError(*nulls, BinaryWriter().Long(INT64_MAX).Long(0).bytes(), small), Errc::kResourceExhausted);
  auto empties = MustParse(R"({"type":"array","items":{"type":"record","name":"E","fields":[]}})");
  EXPECT_EQ(DecodeError(*empties, BinaryWriter().Long(-(int64_t{1} << 40)).Long(0).Long(0).bytes(), small),
            Errc::kResourceExhausted);
  // A negative count of INT64_MIN has no positive counterpart.
  EXPECT_EQ(DecodeError(*nulls, BinaryWriter().Long(INT64_MIN).Long(0).bytes()), Errc::kOutOfRange);
}

TEST(DecoderHostileTest, BlockByteSizeMustMatch) {
  auto longs = MustParse(R"({"type":"array","items":"long"})");
  // Block of 2 items declared as 3 bytes, but they take 2.
  EXPECT_EQ(DecodeError(*longs, BinaryWriter().Long(-2).Long(3).Long(1).Long(2).Byte(0).Long(0).bytes()),
            Errc::kInvalidArgument);
  // Negative and oversized block sizes.
  EXPECT_EQ(DecodeError(*longs, BinaryWriter().Long(-1).Long(-1).Long(1).Long(0).bytes()), Errc::kOutOfRange);
  EXPECT_EQ(DecodeError(*longs, BinaryWriter().Long(-1).Long(100).Long(1).Long(0).bytes()), Errc::kOutOfRange);
  // Count larger than the block can hold.
  EXPECT_EQ(DecodeError(*longs, BinaryWriter().Long(-5).Long(2).Long(1).Long(2).Long(0).bytes()), Errc::kOutOfRange);
}

TEST(DecoderHostileTest, BadUnionAndEnumIndexes) {
  auto u = MustParse(R"(["null","string"])");
  EXPECT_EQ(DecodeError(*u, BinaryWriter().Long(2).bytes()), Errc::kInvalidArgument);
  EXPECT_EQ(DecodeError(*u, BinaryWriter().Long(-1).bytes()), Errc::kInvalidArgument);
  EXPECT_EQ(DecodeError(*u, BinaryWriter().Long(INT64_MAX).bytes()), Errc::kInvalidArgument);
  auto empty_union = MustParse(R"([])");
  EXPECT_EQ(DecodeError(*empty_union, BinaryWriter().Long(0).bytes()), Errc::kInvalidArgument);
  auto e = MustParse(R"({"type":"enum","name":"E","symbols":["A","B"]})");
  EXPECT_EQ(DecodeError(*e, BinaryWriter().Int(2).bytes()), Errc::kInvalidArgument);
  EXPECT_EQ(DecodeError(*e, BinaryWriter().Int(-1).bytes()), Errc::kInvalidArgument);
  EXPECT_EQ(DecodeError(*e, BinaryWriter().Long(int64_t{1} << 33).bytes()), Errc::kInvalidArgument);
}

TEST(DecoderHostileTest, BadVarints) {
  auto l = MustParse(R"("long")");
  std::vector<uint8_t> eleven(10, 0xFF);
  eleven.push_back(0x01);
  EXPECT_EQ(DecodeError(*l, eleven), Errc::kInvalidArgument);
  std::vector<uint8_t> overflow(9, 0xFF);
  overflow.push_back(0x02);  // a 65th bit
  EXPECT_EQ(DecodeError(*l, overflow), Errc::kInvalidArgument);
  EXPECT_EQ(DecodeError(*l, {0x80, 0x80}), Errc::kOutOfRange);  // truncated
  auto i = MustParse(R"("int")");
  EXPECT_EQ(DecodeError(*i, BinaryWriter().Long(int64_t{1} << 31).bytes()), Errc::kInvalidArgument);
  EXPECT_EQ(DecodeError(*i, BinaryWriter().Long(-(int64_t{1} << 31) - 1).bytes()), Errc::kInvalidArgument);
}

TEST(DecoderHostileTest, BooleanMustBeZeroOrOne) {
  auto b = MustParse(R"("boolean")");
  EXPECT_EQ(DecodeError(*b, {0x02}), Errc::kInvalidArgument);
}

TEST(DecoderHostileTest, InvalidUtf8IsRejected) {
  auto s = MustParse(R"("string")");
  for (std::string bad : {std::string("\xC0\x80"), std::string("\xED\xA0\x80"), std::string("\xF4\x90\x80\x80"),
                          std::string("\xE2\x82"), std::string("ok\xFF"), std::string("\x80")}) {
    EXPECT_EQ(DecodeError(*s, BinaryWriter().String(bad).bytes()), Errc::kInvalidArgument);
  }
  auto m = MustParse(R"({"type":"map","values":"int"})");
  EXPECT_EQ(DecodeError(*m, BinaryWriter().Long(1).String("\xC3").Int(1).Long(0).bytes()), Errc::kInvalidArgument);
  // The same bytes are fine as Avro bytes.
  auto b = MustParse(R"("bytes")");
  EXPECT_TRUE(DecodeBoth(*b, Span(BinaryWriter().String("\xC0\x80").bytes())).ok());
}

TEST(DecoderHostileTest, RepeatedMapKeyIsRejected) {
  auto m = MustParse(R"({"type":"map","values":"int"})");
  EXPECT_EQ(DecodeError(*m, BinaryWriter().Long(2).String("a").Int(1).String("a").Int(2).Long(0).bytes()),
            Errc::kInvalidArgument);
  // Beyond the inline key set too, and across blocks.
  BinaryWriter w;
  w.Long(40);
  for (int i = 0; i < 40; ++i) w.String("k" + std::to_string(i)).Int(i);
  w.Long(1).String("k3").Int(0).Long(0);
  EXPECT_EQ(DecodeError(*m, w.bytes()), Errc::kInvalidArgument);
  BinaryWriter ok;
  ok.Long(40);
  for (int i = 0; i < 40; ++i) ok.String("k" + std::to_string(i)).Int(i);
  ok.Long(0);
  auto v = DecodeBoth(*m, Span(ok.bytes()));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->as_object().size(), 40u);
}

TEST(DecoderHostileTest, DepthIsLimited) {
  auto list = MustParse(R"({"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]})");
  auto chain = [](int records) {
    BinaryWriter w;
    for (int i = 1; i < records; ++i) w.Long(1);
    w.Long(0);
    return w.bytes();
  };
  EXPECT_TRUE(DecodeBoth(*list, Span(chain(64))).ok());
  EXPECT_EQ(DecodeError(*list, chain(65)), Errc::kResourceExhausted);
  EXPECT_EQ(DecodeError(*list, chain(100000)), Errc::kResourceExhausted);
  auto arrays = MustParse(R"({"type":"record","name":"A","fields":[{"name":"a","type":{"type":"array","items":"A"}}]})");
  BinaryWriter deep;
  for (int i = 0; i < 10000; ++i) deep.Long(1);
  EXPECT_EQ(DecodeError(*arrays, deep.bytes()), Errc::kResourceExhausted);
  DecodeOptions shallow;
  shallow.max_depth = 3;
  EXPECT_TRUE(DecodeBoth(*list, Span(chain(3)), shallow).ok());
  EXPECT_EQ(DecodeError(*list, chain(4), shallow), Errc::kResourceExhausted);
}

TEST(DecoderHostileTest, ErrorNamesThePath) {
  auto s = MustParse(R"({"type":"record","name":"R","fields":[
      {"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"name","type":"string"}]}}}]})");
  std::string text;
  Status st = DecodeToJson(*s, Span(BinaryWriter().Long(2).String("ok").Long(-3).bytes()), &text);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("$.items[1].name"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace rte::avro
