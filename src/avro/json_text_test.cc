#include "avro/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

namespace rte::avro {
namespace {

TEST(JsonTextTest, EscapesExactlyLikeBoostJson) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  all += "\u00e9\u4e2d\U0001F600\u2028";
  for (size_t i = 0; i <= all.size(); ++i) {
    const std::string s = all.substr(0, i % 0x80) + std::string(i % 9, 'a') + all;  // alignments
    std::string out;
    ASSERT_TRUE(AppendJsonString(s, &out));
    ASSERT_EQ(out, boost::json::serialize(boost::json::value(s)));
    ASSERT_EQ(JsonStringLength(s), out.size());
  }
}

TEST(JsonTextTest, Utf8ValidationAgreesWithBoostParser) {
  std::mt19937 rng(99);
  const uint8_t interesting[] = {0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                                 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF, 0x90, 0x9F, 0xA0, 0x8F};
  int valid = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s(1 + rng() % 12, ' ');
    for (char& c : s) c = static_cast<char>(interesting[rng() % sizeof(interesting)]);
    boost::system::error_code ec;
    boost::json::parse("\"" + s + "\"", ec);
    const bool boost_valid = !ec;
    ASSERT_EQ(IsValidUtf8(s), boost_valid) << i;
    ASSERT_EQ(JsonStringLength(s).has_value(), boost_valid);
    std::string out;
    ASSERT_EQ(AppendJsonString(s, &out), boost_valid);
    valid += boost_valid;
  }
  EXPECT_GT(valid, 1000);  // the sample covers both outcomes
}

TEST(JsonTextTest, Base64Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}, {"\xff\xfe\xfd", "//79"}};
  for (const auto& [in, want] : cases) {
    std::string out = "x";
    AppendBase64({reinterpret_cast<const uint8_t*>(in.data()), in.size()}, &out);
    EXPECT_EQ(out, "x" + want);
    EXPECT_EQ(Base64Length(in.size()), want.size());
  }
}

TEST(JsonTextTest, NumbersLikeBoostJson) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (!std::isfinite(d)) continue;
    char buf[kMaxNumberChars];
    ASSERT_EQ(std::string(buf, FormatDouble(d, buf)), boost::json::serialize(boost::json::value(d)));
    const auto v = static_cast<int64_t>(rng());
    ASSERT_EQ(std::string(buf, FormatInt64(v, buf)), std::to_string(v));
    ASSERT_EQ(Int64Length(v), std::to_string(v).size());
  }
  char buf[kMaxNumberChars];
  EXPECT_EQ(std::string(buf, FormatInt64(INT64_MIN, buf)), "-9223372036854775808");
  EXPECT_EQ(Int64Length(INT64_MIN), 20u);
}

TEST(JsonTextTest, FloatToDoubleIsShortestAndRoundTrips) {
  EXPECT_EQ(FloatToDouble(0.1f), 0.1);
  EXPECT_EQ(FloatToDouble(16777216.0f), 16777216.0);
  std::mt19937 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isfinite(f)) continue;
    ASSERT_EQ(static_cast<float>(FloatToDouble(f)), f);
  }
}

}  // namespace
}  // namespace rte::avro
