// Base64 (RFC 4648): one encoder and one decoder for the whole code base.
// Encode: standard alphabet, padded (section 4), or URL-safe without padding
// (section 5, as JWS uses). Decode: strict. Every character must belong to the
// alphabet; the standard decoder needs exact padding, the URL-safe decoder
// accepts it missing or exact; non-zero bits left over in the last character
// are rejected (one encoding per byte string). No whitespace is skipped.
// Thread: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rte {

std::string Base64Encode(std::span<const uint8_t> bytes);
std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);  // no padding

// nullopt on any invalid character, bad length or bad padding.
std::optional<std::string> Base64Decode(std::string_view text);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace rte
