#include "avro/logical_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace rte::avro {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;
constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr int64_t kNanosPerDay = 86'400'000'000'000;

int64_t UnitsPerDay(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis: return kMillisPerDay;
    case TimeUnit::kMicros: return kMicrosPerDay;
    case TimeUnit::kNanos: return kNanosPerDay;
  }
  return kMillisPerDay;
}

int FractionDigits(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis: return 3;
    case TimeUnit::kMicros: return 6;
    case TimeUnit::kNanos: return 9;
  }
  return 3;
}

// Writes `v` (>= 0) right-aligned in exactly `width` digits.
inline void PutDigits(uint64_t v, int width, char* p) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// Civil date from days since 1970-01-01, proleptic Gregorian (the
// era-of-400-years method of H. Hinnant's "chrono-compatible low-level date
// algorithms", re-derived here).
struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;  // days since 0000-03-01
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                  // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);           // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                // [0, 11], March = 0
  const unsigned day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const unsigned month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

size_t PutYear(int64_t year, char* p) {
  if (year >= 0 && year <= 9999) {
    PutDigits(static_cast<uint64_t>(year), 4, p);
    return 4;
  }
  p[0] = year < 0 ? '-' : '+';
  const uint64_t mag = year < 0 ? 0 - static_cast<uint64_t>(year) : static_cast<uint64_t>(year);
  int width = 6;
  for (uint64_t t = mag / 1000000; t > 0; t /= 10) ++width;
  PutDigits(mag, width, p + 1);
  return 1 + static_cast<size_t>(width);
}

// Floor division and its non-negative remainder.
inline void FloorDivMod(int64_t v, int64_t d, int64_t* q, int64_t* r) {
  *q = v / d;
  *r = v % d;
  if (*r < 0) {
    *q -= 1;
    *r += d;
  }
}

}  // namespace

size_t FormatDate(int64_t days, char* buf) {
  const CivilDate c = CivilFromDays(days);
  size_t n = PutYear(c.year, buf);
  buf[n] = '-';
  PutDigits(c.month, 2, buf + n + 1);
  buf[n + 3] = '-';
  PutDigits(c.day, 2, buf + n + 4);
  return n + 6;
}

bool IsTimeOfDay(int64_t value, TimeUnit unit) { return value >= 0 && value < UnitsPerDay(unit); }

size_t FormatTimeOfDay(int64_t value, TimeUnit unit, char* buf) {
  const int digits = FractionDigits(unit);
  int64_t per_second = 1;
  for (int i = 0; i < digits; ++i) per_second *= 10;
  const int64_t seconds = value / per_second;
  const int64_t fraction = value % per_second;
  PutDigits(static_cast<uint64_t>(seconds / 3600), 2, buf);
  buf[2] = ':';
  PutDigits(static_cast<uint64_t>(seconds / 60 % 60), 2, buf + 3);
  buf[5] = ':';
  PutDigits(static_cast<uint64_t>(seconds % 60), 2, buf + 6);
  buf[8] = '.';
  PutDigits(static_cast<uint64_t>(fraction), digits, buf + 9);
  return 9 + static_cast<size_t>(digits);
}

size_t FormatTimestamp(int64_t value, TimeUnit unit, bool utc, char* buf) {
  int64_t days = 0;
  int64_t in_day = 0;
  FloorDivMod(value, UnitsPerDay(unit), &days, &in_day);
  size_t n = FormatDate(days, buf);
  buf[n++] = 'T';
  n += FormatTimeOfDay(in_day, unit, buf + n);
  if (utc) buf[n++] = 'Z';
  return n;
}

size_t FormatUuid(std::span<const uint8_t, 16> bytes, char* buf) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t n = 0;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buf[n++] = '-';
    buf[n++] = kHex[bytes[i] >> 4];
    buf[n++] = kHex[bytes[i] & 15];
  }
  return n;
}

size_t WriteDecimal(std::span<const uint8_t> bytes, int32_t scale, char* dst) {
  const uint8_t* b = bytes.data();
  size_t len = bytes.size();
  const bool negative = len > 0 && (b[0] & 0x80) != 0;
  // Drop sign-extension bytes: they do not change the value.
  while (len > 1 && ((b[0] == 0x00 && (b[1] & 0x80) == 0) || (b[0] == 0xFF && (b[1] & 0x80) != 0))) {
    ++b;
    --len;
  }
  if (len > kMaxDecimalBytes) return 0;

  // Magnitude as big-endian unsigned bytes (two's complement negated).
  std::array<uint8_t, kMaxDecimalBytes> mag;
  if (len > 0) std::memcpy(mag.data(), b, len);  // b may be null when there are no bytes
  if (negative) {
    for (size_t i = 0; i < len; ++i) mag[i] = static_cast<uint8_t>(~mag[i]);
    for (size_t i = len; i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }

  // Decimal digits of the magnitude.
  std::array<char, kMaxDecimalBytes * 25 / 10 + 16> digits;
  size_t nd = 0;
  if (len <= 8) {
    uint64_t v = 0;
    for (size_t i = 0; i < len; ++i) v = (v << 8) | mag[i];
    nd = static_cast<size_t>(std::to_chars(digits.data(), digits.data() + digits.size(), v).ptr - digits.data());
  } else {
    // Little-endian 32-bit limbs, divided by 10^9 until zero.
    std::array<uint32_t, kMaxDecimalBytes / 4 + 1> limbs;
    size_t nl = 0;
    for (size_t i = len; i > 0;) {
      uint32_t limb = 0;
      for (int k = 0; k < 4 && i > 0; ++k) limb |= uint32_t{mag[--i]} << (8 * k);
      limbs[nl++] = limb;
    }
    while (nl > 0 && limbs[nl - 1] == 0) --nl;
    std::array<uint32_t, kMaxDecimalBytes * 25 / 90 + 4> chunks;  // base 10^9, least significant first
    size_t nc = 0;
    while (nl > 0) {
      uint64_t rem = 0;
      for (size_t i = nl; i-- > 0;) {
        const uint64_t cur = (rem << 32) | limbs[i];
        limbs[i] = static_cast<uint32_t>(cur / 1'000'000'000);
        rem = cur % 1'000'000'000;
      }
      chunks[nc++] = static_cast<uint32_t>(rem);
      while (nl > 0 && limbs[nl - 1] == 0) --nl;
    }
    if (nc == 0) {
      digits[nd++] = '0';
    } else {
      nd = static_cast<size_t>(
          std::to_chars(digits.data(), digits.data() + digits.size(), chunks[nc - 1]).ptr - digits.data());
      for (size_t i = nc - 1; i-- > 0;) {
        PutDigits(chunks[i], 9, digits.data() + nd);
        nd += 9;
      }
    }
  }

  const bool is_zero = nd == 1 && digits[0] == '0';
  char* p = dst;
  if (negative && !is_zero) *p++ = '-';
  const size_t s = static_cast<size_t>(scale);
  if (s == 0) {
    std::memcpy(p, digits.data(), nd);
    p += nd;
  } else if (nd > s) {
    std::memcpy(p, digits.data(), nd - s);
    p += nd - s;
    *p++ = '.';
    std::memcpy(p, digits.data() + nd - s, s);
    p += s;
  } else {
    *p++ = '0';
    *p++ = '.';
    std::memset(p, '0', s - nd);
    p += s - nd;
    std::memcpy(p, digits.data(), nd);
    p += nd;
  }
  return static_cast<size_t>(p - dst);
}

bool AppendDecimal(std::span<const uint8_t> bytes, int32_t scale, std::string* out) {
  const size_t start = out->size();
  out->resize(start + kMaxDecimalChars);
  const size_t n = WriteDecimal(bytes, scale, out->data() + start);
  out->resize(start + n);
  return n > 0;
}

}  // namespace rte::avro
