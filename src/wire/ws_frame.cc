#include "wire/ws_frame.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

namespace rte::wire {

size_t FrameHeaderSize(size_t n) { return n < 126 ? 2 : (n <= 0xFFFF ? 4 : 10); }

void AppendFrame(std::string* out, Opcode op, std::string_view payload) {
  const size_t n = payload.size();
  out->reserve(out->size() + FrameHeaderSize(n) + n);
  out->push_back(static_cast<char>(0x80 | static_cast<uint8_t>(op)));
  if (n < 126) {
    out->push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out->push_back(static_cast<char>(126));
    out->push_back(static_cast<char>((n >> 8) & 0xFF));
    out->push_back(static_cast<char>(n & 0xFF));
  } else {
    out->push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((uint64_t{n} >> shift) & 0xFF));
  }
  out->append(payload.data(), n);
}

std::string EncodeFrame(Opcode op, std::string_view payload) {
  std::string out;
  AppendFrame(&out, op, payload);
  return out;
}

std::string EncodeCloseFrame(uint16_t code, std::string_view reason) {
  if (reason.size() > 123) reason = reason.substr(0, 123);
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return EncodeFrame(Opcode::kClose, payload);
}

std::string ComputeAcceptKey(std::string_view client_key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(client_key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int len = EVP_EncodeBlock(b64, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(len));
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    int extra;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

int FrameParser::Next(ClientMessage* out, ParseVerdict* verdict) {
  const size_t avail = buffer_.size() - pos_;
  if (avail < 2) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + pos_);
  const bool fin = p[0] & 0x80;
  const uint8_t rsv = p[0] & 0x70;
  const auto op = static_cast<Opcode>(p[0] & 0x0F);
  const bool masked = p[1] & 0x80;
  uint64_t len = p[1] & 0x7F;
  size_t header = 2;
  if (rsv) { *verdict = {kCloseProtocolError, "reserved bits set"}; return -1; }
  if (!masked) { *verdict = {kCloseProtocolError, "client frames must be masked"}; return -1; }
  const bool control = static_cast<uint8_t>(op) & 0x8;
  switch (op) {
    case Opcode::kContinuation: case Opcode::kText: case Opcode::kBinary:
    case Opcode::kClose: case Opcode::kPing: case Opcode::kPong: break;
    default: *verdict = {kCloseProtocolError, "unknown opcode"}; return -1;
  }
  if (control && (!fin || len > 125)) { *verdict = {kCloseProtocolError, "bad control frame"}; return -1; }
  if (len == 126) {
    if (avail < 4) return 0;
    len = (uint64_t{p[2]} << 8) | p[3];
    header = 4;
  } else if (len == 127) {
    if (avail < 10) return 0;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    header = 10;
    if (len >> 63) { *verdict = {kCloseProtocolError, "bad length"}; return -1; }
  }
  // Check the size cap before buffering the payload.
  const uint64_t total = control ? len : uint64_t{message_.size()} + len;
  if (total > max_message_) { *verdict = {kCloseMessageTooBig, "message too big"}; return -1; }
  if (avail < header + 4 + len) return 0;
  const uint8_t* mask = p + header;
  const uint8_t* data = mask + 4;
  std::string* dst;
  if (control) {
    dst = &control_;
  } else if (op == Opcode::kContinuation) {
    if (!in_fragmented_) { *verdict = {kCloseProtocolError, "unexpected continuation"}; return -1; }
    dst = &message_;
  } else {
    if (in_fragmented_) { *verdict = {kCloseProtocolError, "expected continuation"}; return -1; }
    if (fin) {
      dst = &single_;
    } else {
      in_fragmented_ = true;
      message_op_ = op;
      message_.clear();
      dst = &message_;
    }
  }
  if (dst != &message_) dst->clear();
  const size_t base = dst->size();
  dst->resize(base + len);
  char* w = dst->data() + base;
  for (uint64_t i = 0; i < len; ++i) w[i] = static_cast<char>(data[i] ^ mask[i & 3]);
  pos_ += header + 4 + len;

  if (control) {
    *out = {op, control_};
    return 1;
  }
  if (dst == &single_) {
    *out = {op, single_};
  } else if (fin) {
    in_fragmented_ = false;
    *out = {message_op_, message_};
  } else {
    return 2;  // a fragment was consumed; keep reassembling
  }
  if (out->opcode == Opcode::kText && !IsValidUtf8(out->payload)) {
    *verdict = {kCloseInvalidPayload, "text is not valid UTF-8"};
    return -1;
  }
  return 1;
}

void FrameParser::Compact() {
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
    if (buffer_.capacity() > 4096) buffer_.shrink_to_fit();
    if (single_.capacity() > 4096) { single_.clear(); single_.shrink_to_fit(); }
    if (!in_fragmented_ && message_.capacity() > 4096) { message_.clear(); message_.shrink_to_fit(); }
  } else if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

}  // namespace rte::wire
