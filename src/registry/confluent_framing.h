// Confluent wire framing: magic byte 0, a 4-byte big-endian schema id, then
// (for PROTOBUF) the message-index path, then the serialized payload.
// Pure functions, no allocation: the parsed Framed views into the caller's
// bytes. Untrusted input: every read is bounds-checked and every error is a
// Result, never a crash.
// Thread: stateless; call from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "registry/registered_schema.h"

namespace rte::registry {

inline constexpr uint8_t kConfluentMagicId = 0x00;    // magic + int32 schema id
inline constexpr uint8_t kConfluentMagicGuid = 0x01;  // magic + 16-byte schema GUID
inline constexpr size_t kConfluentHeaderSize = 5;
inline constexpr size_t kConfluentGuidHeaderSize = 17;
// Longest Protobuf message-index path accepted (nesting depth of the message).
inline constexpr size_t kMaxMessageIndexes = 32;

// One parsed frame. `payload` views into the bytes given to the parser and is
// valid only as long as they are.
struct Framed {
  int32_t schema_id = 0;
  std::span<const uint8_t> payload;

  // PROTOBUF only: which message of the schema file the payload is (a path of
  // indexes into nested message declarations; [0] is the first top-level one).
  // Empty for AVRO and JSON.
  std::span<const int32_t> message_indexes() const {
    return {message_index_storage.data(), message_index_count};
  }

  std::array<int32_t, kMaxMessageIndexes> message_index_storage{};
  size_t message_index_count = 0;
};

// Parses a Confluent-framed record. `type` is the schema type the caller
// expects: PROTOBUF frames carry a message-index list after the id, AVRO and
// JSON Schema frames do not (JSON Schema payloads are plain JSON text).
// Errors:
//  - kInvalidArgument "not Confluent-framed (magic 0x7b)" for an unknown first
//    byte, or a bad id / index list;
//  - kOutOfRange for a truncated header or index list, or a too long one;
//  - kUnsupported for magic 0x01 (schema GUID framing; we resolve ids only).
Result<Framed> ParseConfluentFrame(std::span<const uint8_t> record,
                                   SchemaType type = SchemaType::kAvro);

inline Result<Framed> ParseConfluentFrame(std::string_view record,
                                          SchemaType type = SchemaType::kAvro) {
  return ParseConfluentFrame(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data()), record.size()),
      type);
}

// Builds a framed record (for producers in tests and the demo). For PROTOBUF,
// pass the message indexes ([0] is written as the single byte 0x00); leave
// them empty for other types.
std::string FrameConfluent(int32_t schema_id, std::string_view payload,
                           std::span<const int32_t> message_indexes = {},
                           bool protobuf = false);

}  // namespace rte::registry
