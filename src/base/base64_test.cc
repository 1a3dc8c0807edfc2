#include "base/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rte {
namespace {

struct Vector {
  const char* plain;
  const char* standard;
  const char* url;
};

// RFC 4648 section 10.
constexpr Vector kRfcVectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Base64Test, EncodesRfc4648Vectors) {
  for (const Vector& v : kRfcVectors) {
    EXPECT_EQ(Base64Encode(std::string_view(v.plain)), v.standard) << v.plain;
    EXPECT_EQ(Base64UrlEncode(v.plain), v.url) << v.plain;
    const std::string s(v.plain);
    const std::vector<uint8_t> bytes(s.begin(), s.end());
    EXPECT_EQ(Base64Encode(std::span<const uint8_t>(bytes)), v.standard);
  }
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  for (const Vector& v : kRfcVectors) {
    EXPECT_EQ(Base64Decode(v.standard), std::optional<std::string>(v.plain)) << v.standard;
    EXPECT_EQ(Base64UrlDecode(v.url), std::optional<std::string>(v.plain)) << v.url;
    // The URL-safe decoder also takes exact padding.
    EXPECT_EQ(Base64UrlDecode(v.standard), std::optional<std::string>(v.plain)) << v.standard;
  }
}

TEST(Base64Test, AlphabetsDiffer) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(std::string_view(bytes)), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64Decode("+/+/"), bytes);
  EXPECT_EQ(Base64UrlDecode("-_-_"), bytes);
  EXPECT_FALSE(Base64Decode("-_-_"));
  EXPECT_FALSE(Base64UrlDecode("+/+/"));
}

TEST(Base64Test, StandardNeedsPadding) {
  EXPECT_FALSE(Base64Decode("Zg"));
  EXPECT_FALSE(Base64Decode("Zm8"));
  EXPECT_FALSE(Base64Decode("Zg="));
}

TEST(Base64Test, RejectsBadPaddingAndLength) {
  for (const char* bad : {"Z", "Zg=", "Zg===", "Zm9=v", "=", "====", "Zm8==", "Z===", "Zm9vY"}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
    EXPECT_FALSE(Base64UrlDecode(bad)) << bad;
  }
}

TEST(Base64Test, RejectsInvalidCharacters) {
  for (const char* bad : {"Zm9v!", "Zm 9v", "Zm9v\n", "Zm.v", "Zm9v\x80", "Zg=a"}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
    EXPECT_FALSE(Base64UrlDecode(bad)) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string_view("Zm\0v", 4)));
}

TEST(Base64Test, RejectsNonZeroTrailingBits) {
  EXPECT_FALSE(Base64Decode("Zh=="));  // "Zg==" with a stray low bit
  EXPECT_FALSE(Base64UrlDecode("Zh"));
  EXPECT_FALSE(Base64UrlDecode("Zm9"));
  EXPECT_TRUE(Base64UrlDecode("Zm8"));
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 7) {
    const std::string part = all.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(std::string_view(part))), part);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(part)), part);
  }
}

}  // namespace
}  // namespace rte
