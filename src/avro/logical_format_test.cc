#include "avro/logical_format.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace rte::avro {
namespace {

std::string Date(int64_t days) {
  char buf[kMaxTemporalChars];
  return {buf, FormatDate(days, buf)};
}

std::string Timestamp(int64_t v, TimeUnit unit, bool utc) {
  char buf[kMaxTemporalChars];
  return {buf, FormatTimestamp(v, unit, utc, buf)};
}

std::string Time(int64_t v, TimeUnit unit) {
  char buf[kMaxTemporalChars];
  return {buf, FormatTimeOfDay(v, unit, buf)};
}

// A deliberately naive calendar, stepped one day at a time, to check the
// closed-form conversion against.
struct NaiveDate {
  int64_t y;
  int m;
  int d;
  static bool Leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
  static int MonthDays(int64_t y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && Leap(y) ? 29 : kDays[m - 1];
  }
  void Next() {
    if (++d > MonthDays(y, m)) {
      d = 1;
      if (++m > 12) {
        m = 1;
        ++y;
      }
    }
  }
  void Prev() {
    if (--d < 1) {
      if (--m < 1) {
        m = 12;
        --y;
      }
      d = MonthDays(y, m);
    }
  }
  std::string Text() const {
    char buf[64];
    if (y >= 0 && y <= 9999) {
      snprintf(buf, sizeof(buf), "%04lld-%02d-%02d", static_cast<long long>(y), m, d);
    } else {
      snprintf(buf, sizeof(buf), "%c%06lld-%02d-%02d", y < 0 ? '-' : '+', static_cast<long long>(y < 0 ? -y : y), m, d);
    }
    return buf;
  }
};

TEST(LogicalFormatTest, DatesMatchNaiveCalendarForAMillionDaysEachWay) {
  NaiveDate fwd{1970, 1, 1};
  NaiveDate back{1970, 1, 1};
  for (int64_t i = 0; i < 1'000'000; ++i) {
    ASSERT_EQ(Date(i), fwd.Text()) << i;
    ASSERT_EQ(Date(-i), back.Text()) << -i;
    fwd.Next();
    back.Prev();
  }
}

TEST(LogicalFormatTest, KnownDatesAndTimestamps) {
  EXPECT_EQ(Date(0), "1970-01-01");
  EXPECT_EQ(Date(20785), "2026-11-28");
  EXPECT_EQ(Date(-1), "1969-12-31");
  EXPECT_EQ(Timestamp(1764362110123, TimeUnit::kMillis, true), "2025-11-28T20:35:10.123Z");
  EXPECT_EQ(Timestamp(-1, TimeUnit::kMicros, false), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(Timestamp(-1, TimeUnit::kNanos, true), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(Timestamp(INT64_MAX, TimeUnit::kMillis, true), "+292278994-08-17T07:12:55.807Z");
  EXPECT_EQ(Timestamp(INT64_MIN, TimeUnit::kMillis, true), "-292275055-05-16T16:47:04.192Z");
  EXPECT_EQ(Time(0, TimeUnit::kMillis), "00:00:00.000");
  EXPECT_EQ(Time(86'399'999, TimeUnit::kMillis), "23:59:59.999");
  EXPECT_EQ(Time(3'723'000'004, TimeUnit::kMicros), "01:02:03.000004");
  EXPECT_TRUE(IsTimeOfDay(86'399'999, TimeUnit::kMillis));
  EXPECT_FALSE(IsTimeOfDay(86'400'000, TimeUnit::kMillis));
  EXPECT_FALSE(IsTimeOfDay(-1, TimeUnit::kMicros));
}

TEST(LogicalFormatTest, Uuid) {
  const uint8_t b[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
                         0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};
  char buf[40];
  EXPECT_EQ(std::string(buf, FormatUuid(std::span<const uint8_t, 16>(b), buf)),
            "123e4567-e89b-12d3-a456-426614174000");
}

// Schoolbook decimal of a big-endian two's complement integer: doubling and
// adding on a decimal digit string, independent of the limb algorithm.
std::string NaiveDecimal(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return "0";
  const bool negative = bytes[0] & 0x80;
  std::vector<uint8_t> mag = bytes;
  if (negative) {
    for (auto& b : mag) b = static_cast<uint8_t>(~b);
    for (size_t i = mag.size(); i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }
  std::string digits = "0";  // least significant first
  for (uint8_t byte : mag) {
    for (int bit = 7; bit >= 0; --bit) {
      int carry = (byte >> bit) & 1;
      for (char& c : digits) {
        const int v = (c - '0') * 2 + carry;
        c = static_cast<char>('0' + v % 10);
        carry = v / 10;
      }
      if (carry) digits.push_back(static_cast<char>('0' + carry));
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out(digits.rbegin(), digits.rend());
  return negative && out != "0" ? "-" + out : out;
}

TEST(LogicalFormatTest, DecimalMatchesNaiveConversion) {
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes(rng() % 80);
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    if (!bytes.empty() && rng() % 4 == 0) bytes[0] = rng() % 2 ? 0x00 : 0xFF;  // sign extension
    std::string got;
    ASSERT_TRUE(AppendDecimal(bytes, 0, &got));
    ASSERT_EQ(got, NaiveDecimal(bytes));
  }
}

TEST(LogicalFormatTest, DecimalScales) {
  auto dec = [](std::vector<uint8_t> b, int32_t scale) {
    std::string s;
    EXPECT_TRUE(AppendDecimal(b, scale, &s));
    return s;
  };
  EXPECT_EQ(dec({0x04, 0xD2}, 2), "12.34");
  EXPECT_EQ(dec({0xFB, 0x2E}, 2), "-12.34");
  EXPECT_EQ(dec({0x05}, 2), "0.05");
  EXPECT_EQ(dec({0xFB}, 2), "-0.05");
  EXPECT_EQ(dec({0x05}, 5), "0.00005");
  EXPECT_EQ(dec({0x00}, 3), "0.000");
  EXPECT_EQ(dec({0x7B}, 0), "123");
  EXPECT_EQ(dec({0x7B}, 3), "0.123");
  std::vector<uint8_t> max(kMaxDecimalBytes, 0xFF);
  max[0] = 0x7F;
  std::string s;
  EXPECT_TRUE(AppendDecimal(max, kMaxDecimalPrecision, &s));
  std::vector<uint8_t> too_big(kMaxDecimalBytes + 1, 0x11);
  s.clear();
  EXPECT_FALSE(AppendDecimal(too_big, 0, &s));
  EXPECT_TRUE(s.empty());
}

// No bytes (an empty Avro bytes value, whose data() may be null) is zero.
// Under UBSan this also checks nothing is copied from the null pointer.
TEST(LogicalFormatTest, DecimalOfNoBytesIsZero) {
  std::string s;
  EXPECT_TRUE(AppendDecimal(std::span<const uint8_t>(), 0, &s));
  EXPECT_EQ(s, "0");
  s.clear();
  EXPECT_TRUE(AppendDecimal(std::span<const uint8_t>(), 2, &s));
  EXPECT_EQ(s, "0.00");
}

}  // namespace
}  // namespace rte::avro
