// Text forms of Avro logical types (see docs/avro.md for the rules).
// Dates are proleptic Gregorian; years 0000..9999 are written with 4 digits,
// others with a sign and at least 6 digits (ECMAScript's expanded years,
// e.g. "+275760-09-13", "-000001-12-31"). Thread: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace rte::avro {

// Large enough for any date, time or timestamp this file writes.
inline constexpr size_t kMaxTemporalChars = 48;

enum class TimeUnit : uint8_t { kMillis, kMicros, kNanos };

// "YYYY-MM-DD" for `days` since 1970-01-01 (any int64 whose year fits).
// Precondition: |days| <= 2^40 (covers every int32 date and every int64
// timestamp divided into days).
size_t FormatDate(int64_t days, char* buf);

// "HH:MM:SS.fff" (3, 6 or 9 fraction digits by unit) for a time of day.
// Precondition: 0 <= value < one day in `unit`.
size_t FormatTimeOfDay(int64_t value, TimeUnit unit, char* buf);

// True if `value` is a time of day in `unit` (0 <= value < 24 h).
bool IsTimeOfDay(int64_t value, TimeUnit unit);

// "YYYY-MM-DDTHH:MM:SS.fff" + "Z" if `utc`, for `value` units since the
// epoch. Any int64 value.
size_t FormatTimestamp(int64_t value, TimeUnit unit, bool utc, char* buf);

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase hex. Writes 36 chars.
size_t FormatUuid(std::span<const uint8_t, 16> bytes, char* buf);

// Most significant bytes (after dropping sign-extension bytes) accepted for
// a decimal's unscaled value: ~1233 decimal digits.
inline constexpr size_t kMaxDecimalBytes = 512;
// Largest decimal precision (hence scale) a schema may declare.
inline constexpr int32_t kMaxDecimalPrecision = 1000;

// Appends the decimal whose unscaled value is the big-endian two's
// complement `bytes` (empty = 0) and whose scale is `scale` (0 <= scale <=
// kMaxDecimalPrecision), exactly, e.g. "-12.34", "0.05", "7". Returns false
// (appending nothing) if the value has more than kMaxDecimalBytes
// significant bytes.
bool AppendDecimal(std::span<const uint8_t> bytes, int32_t scale, std::string* out);

// Room WriteDecimal may need: sign, digits, "0.", scale zeros.
inline constexpr size_t kMaxDecimalChars = 1 + kMaxDecimalBytes * 25 / 10 + 2 + kMaxDecimalPrecision + 8;

// As AppendDecimal, writing to `dst` (room for kMaxDecimalChars). Returns the
// length written, or 0 if the value is too large.
size_t WriteDecimal(std::span<const uint8_t> bytes, int32_t scale, char* dst);

}  // namespace rte::avro
