#include "avro/json_text.h"

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstring>

namespace rte::avro {
namespace {

// Escape character for bytes below 0x20 (as Boost.JSON: 'u' means \u00xx).
constexpr char kControlEscape[33] = "uuuuuuuubtnufruuuuuuuuuuuuuuuuuu";
constexpr char kHex[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// True if any byte of `w` needs attention: >= 0x80, < 0x20, '"' or '\\'.
inline bool WordNeedsWork(uint64_t w) {
  auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  return ((w & kHighs) | below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

// Length of the valid UTF-8 sequence starting with a byte >= 0x80 at `p`,
// or 0 if it is invalid or truncated.
inline size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    return avail >= 2 && cont(p[1]) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (avail < 3 || !cont(p[2])) return 0;
    const unsigned char b = p[1];
    if (c == 0xE0) return b >= 0xA0 && b <= 0xBF ? 3 : 0;   // no overlong
    if (c == 0xED) return b >= 0x80 && b <= 0x9F ? 3 : 0;   // no surrogates
    return cont(b) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (avail < 4 || !cont(p[2]) || !cont(p[3])) return 0;
    const unsigned char b = p[1];
    if (c == 0xF0) return b >= 0x90 && b <= 0xBF ? 4 : 0;   // no overlong
    if (c == 0xF4) return b >= 0x80 && b <= 0x8F ? 4 : 0;   // <= U+10FFFF
    return cont(b) ? 4 : 0;
  }
  return 0;  // continuation byte, overlong lead (C0, C1) or F5..FF
}

inline uint64_t Load64(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

}  // namespace

char* WriteJsonString(std::string_view s, char* dst) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* run = p;  // start of bytes not yet copied
  *dst++ = '"';
  while (p < end) {
    while (end - p >= 8 && !WordNeedsWork(Load64(p))) p += 8;
    if (p >= end) break;
    const unsigned char c = *p;
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(p, end);
      if (n == 0) return nullptr;
      p += n;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    std::memcpy(dst, run, static_cast<size_t>(p - run));
    dst += p - run;
    *dst++ = '\\';
    if (c < 0x20) {
      const char e = kControlEscape[c];
      if (e == 'u') {
        *dst++ = 'u';
        *dst++ = '0';
        *dst++ = '0';
        *dst++ = kHex[c >> 4];
        *dst++ = kHex[c & 15];
      } else {
        *dst++ = e;
      }
    } else {
      *dst++ = static_cast<char>(c);
    }
    ++p;
    run = p;
  }
  std::memcpy(dst, run, static_cast<size_t>(end - run));
  dst += end - run;
  *dst++ = '"';
  return dst;
}

bool AppendJsonString(std::string_view s, std::string* out) {
  const size_t start = out->size();
  out->resize(start + 6 * s.size() + 2);
  char* end = WriteJsonString(s, out->data() + start);
  if (end == nullptr) {
    out->resize(start);
    return false;
  }
  out->resize(static_cast<size_t>(end - out->data()));
  return true;
}

std::optional<size_t> JsonStringLength(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  size_t len = 2 + s.size();
  while (p < end) {
    while (end - p >= 8 && !WordNeedsWork(Load64(p))) p += 8;
    if (p >= end) break;
    const unsigned char c = *p;
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(p, end);
      if (n == 0) return std::nullopt;
      p += n;
      continue;
    }
    if (c < 0x20) {
      len += kControlEscape[c] == 'u' ? 5 : 1;
    } else if (c == '"' || c == '\\') {
      len += 1;
    }
    ++p;
  }
  return len;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    while (end - p >= 8 && (Load64(p) & kHighs) == 0) p += 8;
    if (p >= end) break;
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const size_t n = Utf8SequenceLength(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

void AppendBase64(std::span<const uint8_t> bytes, std::string* out) {
  const size_t start = out->size();
  out->resize(start + Base64Length(bytes.size()));
  WriteBase64(bytes, out->data() + start);
}

void WriteBase64(std::span<const uint8_t> bytes, char* d) {
  const size_t n = bytes.size();
  const uint8_t* s = bytes.data();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8) | s[i + 2];
    *d++ = kBase64[(v >> 18) & 63];
    *d++ = kBase64[(v >> 12) & 63];
    *d++ = kBase64[(v >> 6) & 63];
    *d++ = kBase64[v & 63];
  }
  if (i + 1 == n) {
    const uint32_t v = uint32_t{s[i]} << 16;
    *d++ = kBase64[(v >> 18) & 63];
    *d++ = kBase64[(v >> 12) & 63];
    *d++ = '=';
    *d++ = '=';
  } else if (i + 2 == n) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8);
    *d++ = kBase64[(v >> 18) & 63];
    *d++ = kBase64[(v >> 12) & 63];
    *d++ = kBase64[(v >> 6) & 63];
    *d++ = '=';
  }
}

size_t FormatDouble(double d, char* buf) {
  // Through Boost's own serializer (public API) so the text is exactly what
  // boost::json::serialize produces for the same value.
  const boost::json::value jv(d);
  boost::json::serializer sr;
  sr.reset(&jv);
  const std::string_view sv = sr.read(buf, kMaxNumberChars);
  return sv.size();
}

size_t FormatInt64(int64_t v, char* buf) {
  const auto r = std::to_chars(buf, buf + kMaxNumberChars, v);
  return static_cast<size_t>(r.ptr - buf);
}

size_t Int64Length(int64_t v) {
  uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  size_t n = v < 0 ? 2 : 1;
  while (mag >= 10) {
    mag /= 10;
    ++n;
  }
  return n;
}

double FloatToDouble(float f) {
  char buf[kMaxNumberChars];
  const auto r = std::to_chars(buf, buf + sizeof(buf), f);
  double d = static_cast<double>(f);
  std::from_chars(buf, r.ptr, d);
  return d;
}

}  // namespace rte::avro
