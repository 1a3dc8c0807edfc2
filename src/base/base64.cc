#include "base/base64.h"

#include <array>

namespace rte {
namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kInvalid = 0xFF;

using DecodeTable = std::array<uint8_t, 256>;

constexpr DecodeTable MakeTable(const char* alphabet) {
  DecodeTable t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  return t;
}

constexpr DecodeTable kStandardTable = MakeTable(kStandard);
constexpr DecodeTable kUrlTable = MakeTable(kUrl);

std::string Encode(const uint8_t* in, size_t n, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  if (const size_t rest = n - i) {
    uint32_t v = uint32_t{in[i]} << 16;
    if (rest == 2) v |= uint32_t{in[i + 1]} << 8;
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) {
      out.push_back(alphabet[(v >> 6) & 63]);
    } else if (pad) {
      out.push_back('=');
    }
    if (pad) out.push_back('=');
  }
  return out;
}

// `require_padding`: the length must be a multiple of 4 with '=' filling the
// last group; otherwise padding is optional but must be exact if present.
std::optional<std::string> Decode(std::string_view text, const DecodeTable& table,
                                  bool require_padding) {
  size_t len = text.size();
  size_t pads = 0;
  while (len > 0 && text[len - 1] == '=' && pads < 2) {
    --len;
    ++pads;
  }
  if (pads > 0 || require_padding) {
    if (text.size() % 4 != 0) return std::nullopt;
  }
  const size_t rest = len % 4;
  if (rest == 1) return std::nullopt;
  if (pads > 0 && pads != 4 - rest) return std::nullopt;

  std::string out;
  out.reserve(len / 4 * 3 + 2);
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    const uint8_t a = table[static_cast<uint8_t>(text[i])];
    const uint8_t b = table[static_cast<uint8_t>(text[i + 1])];
    const uint8_t c = table[static_cast<uint8_t>(text[i + 2])];
    const uint8_t d = table[static_cast<uint8_t>(text[i + 3])];
    if ((a | b | c | d) & 0xC0) return std::nullopt;
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>((v >> 8) & 0xFF));
    out.push_back(static_cast<char>(v & 0xFF));
  }
  if (rest >= 2) {
    const uint8_t a = table[static_cast<uint8_t>(text[i])];
    const uint8_t b = table[static_cast<uint8_t>(text[i + 1])];
    const uint8_t c = rest == 3 ? table[static_cast<uint8_t>(text[i + 2])] : 0;
    if ((a | b | c) & 0xC0) return std::nullopt;
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6);
    // Bits beyond the last whole byte must be zero (canonical encoding).
    if (rest == 2 && (v & 0xFFFF) != 0) return std::nullopt;
    if (rest == 3 && (v & 0xFF) != 0) return std::nullopt;
    out.push_back(static_cast<char>(v >> 16));
    if (rest == 3) out.push_back(static_cast<char>((v >> 8) & 0xFF));
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) {
  return Encode(bytes.data(), bytes.size(), kStandard, true);
}

std::string Base64Encode(std::string_view bytes) {
  return Encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kStandard, true);
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kUrl, false);
}

std::optional<std::string> Base64Decode(std::string_view text) {
  return Decode(text, kStandardTable, true);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, kUrlTable, false);
}

}  // namespace rte
