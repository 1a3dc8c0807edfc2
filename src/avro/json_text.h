// Helpers that write JSON text exactly as boost::json::serialize does, so the
// decoder's direct text output and a serialized boost::json::value agree byte
// for byte. Thread: pure functions, no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rte::avro {

// Enough for any double or int64 rendered by FormatDouble / FormatInt64.
inline constexpr size_t kMaxNumberChars = 32;

// Appends `s` as a quoted JSON string (escapes as Boost.JSON does: \" \\ \b
// \f \n \r \t, other control characters as \u00xx, everything else verbatim).
// Returns false, leaving `out` partly written, if `s` is not valid UTF-8
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool AppendJsonString(std::string_view s, std::string* out);

// As AppendJsonString, writing to `dst`, which must have room for
// JsonStringLength(s) chars (6 * s.size() + 2 always suffices). Returns the
// end of what was written, or nullptr if `s` is not valid UTF-8.
char* WriteJsonString(std::string_view s, char* dst);

// The length AppendJsonString would append (quotes included), or nullopt if
// `s` is not valid UTF-8.
std::optional<size_t> JsonStringLength(std::string_view s);

// True if `s` is valid UTF-8 (same rules as above).
bool IsValidUtf8(std::string_view s);

// Standard base64 (RFC 4648 alphabet, '=' padding), no quotes.
inline size_t Base64Length(size_t n) { return (n + 2) / 3 * 4; }
// Writes Base64Length(bytes.size()) chars to `dst`.
void WriteBase64(std::span<const uint8_t> bytes, char* dst);
void AppendBase64(std::span<const uint8_t> bytes, std::string* out);

// Writes `d` (finite) as Boost.JSON serializes a double; returns the length.
// `buf` must hold kMaxNumberChars.
size_t FormatDouble(double d, char* buf);

// Writes `v` in decimal; returns the length. `buf` must hold kMaxNumberChars.
size_t FormatInt64(int64_t v, char* buf);
// The length FormatInt64 would return.
size_t Int64Length(int64_t v);

// The double whose shortest decimal form is the shortest form of `f`, so a
// float 0.1f renders as 0.1 rather than 0.10000000149011612. `f` finite.
double FloatToDouble(float f);

}  // namespace rte::avro
