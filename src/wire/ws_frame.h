// WebSocket framing (RFC 6455) for the server side: encoding of server frames
// (unmasked, one frame per message) and an incremental parser of client
// frames (which must be masked). Pure code, no I/O.
// Thread: FrameParser is owned by one session; the free functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rte::wire {

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes we send (RFC 6455 §7.4.1).
enum CloseCode : uint16_t {
  kCloseNormal = 1000,
  kCloseGoingAway = 1001,
  kCloseProtocolError = 1002,
  kCloseUnsupportedData = 1003,
  kCloseInvalidPayload = 1007,
  kClosePolicyViolation = 1008,
  kCloseMessageTooBig = 1009,
  kCloseInternalError = 1011,
  kCloseTryAgainLater = 1013,  // the client fell behind its send-queue bound
};

// Bytes of header for a server frame carrying `payload_len` bytes.
size_t FrameHeaderSize(size_t payload_len);
// Appends a complete server frame (FIN set, no mask).
void AppendFrame(std::string* out, Opcode op, std::string_view payload);
std::string EncodeFrame(Opcode op, std::string_view payload);
// A close frame with a code and a reason (truncated to fit 125 bytes).
std::string EncodeCloseFrame(uint16_t code, std::string_view reason);

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string ComputeAcceptKey(std::string_view client_key);

bool IsValidUtf8(std::string_view s);

// One complete client message (data frames reassembled) or control frame.
struct ClientMessage {
  Opcode opcode;             // kText, kBinary, kClose, kPing or kPong
  std::string_view payload;  // valid until the next Feed()
};

// Result of feeding bytes: 0 = fine; else the close code to send.
struct ParseVerdict {
  uint16_t close_code = 0;
  const char* reason = "";
  bool ok() const { return close_code == 0; }
};

// Incremental parser of client frames with a cap on message size.
// Thread: owned by one session.
class FrameParser {
 public:
  explicit FrameParser(size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Feeds received bytes; calls on_message(const ClientMessage&) for each
  // complete message, in order. on_message returns false to stop early (the
  // session is closing); unconsumed bytes are then dropped.
  template <class F>
  ParseVerdict Feed(std::string_view data, F&& on_message);

  size_t buffered_bytes() const { return buffer_.size() + message_.size(); }

 private:
  // Parses one frame from buffer_ at pos_. Returns 1 with a message, 2 when a
  // non-final fragment was consumed, 0 when more bytes are needed, -1 on a
  // protocol error (verdict set).
  int Next(ClientMessage* out, ParseVerdict* verdict);
  void Compact();

  size_t max_message_;
  std::string buffer_;    // received, not yet parsed
  size_t pos_ = 0;        // parse position in buffer_
  std::string message_;   // fragments of the data message being reassembled
  Opcode message_op_ = Opcode::kText;
  bool in_fragmented_ = false;
  std::string control_;   // unmasked payload of the last control frame
  std::string single_;    // unmasked payload of the last unfragmented frame
};

template <class F>
ParseVerdict FrameParser::Feed(std::string_view data, F&& on_message) {
  buffer_.append(data.data(), data.size());
  ParseVerdict verdict;
  ClientMessage msg;
  while (true) {
    int r = Next(&msg, &verdict);
    if (r < 0) {
      buffer_.clear();
      pos_ = 0;
      return verdict;
    }
    if (r == 0) break;
    if (r == 2) continue;
    if (!on_message(static_cast<const ClientMessage&>(msg))) {
      buffer_.clear();
      pos_ = 0;
      return verdict;
    }
  }
  Compact();
  return verdict;
}

}  // namespace rte::wire
