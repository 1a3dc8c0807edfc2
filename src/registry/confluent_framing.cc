#include "registry/confluent_framing.h"

#include <fmt/format.h>

namespace rte::registry {
namespace {

// Reads one zigzag-encoded varint holding an int32 (at most 5 bytes).
// Returns false if the input ends first or the value does not fit.
bool ReadZigZagVarint32(std::span<const uint8_t> in, size_t& pos, int32_t& out) {
  uint32_t raw = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (pos >= in.size()) return false;
    const uint8_t b = in[pos++];
    if (shift == 28 && (b & 0xF0) != 0) return false;  // more than 32 bits
    raw |= static_cast<uint32_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      out = static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return true;
    }
  }
  return false;
}

void AppendZigZagVarint32(std::string& out, int32_t value) {
  uint32_t v = (static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(value >> 31);
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::string HexGuid(std::span<const uint8_t> b) {
  // 8-4-4-4-12 like a UUID.
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s += fmt::format("{:02x}", b[i]);
  }
  return s;
}

}  // namespace

Result<Framed> ParseConfluentFrame(std::span<const uint8_t> record, SchemaType type) {
  if (record.empty()) {
    return MakeError(Errc::kOutOfRange, "not Confluent-framed: empty record");
  }
  const uint8_t magic = record[0];
  if (magic == kConfluentMagicGuid) {
    if (record.size() < kConfluentGuidHeaderSize) {
      return MakeError(Errc::kOutOfRange,
                       fmt::format("truncated Confluent GUID header: {} bytes, need {}",
                                   record.size(), kConfluentGuidHeaderSize));
    }
    return MakeError(Errc::kUnsupported,
                     fmt::format("Confluent schema GUID framing (magic 0x01, guid {}) is not "
                                 "supported: only schema ids are resolved",
                                 HexGuid(record.subspan(1, 16))));
  }
  if (magic != kConfluentMagicId) {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("not Confluent-framed (magic 0x{:02x})", magic));
  }
  if (record.size() < kConfluentHeaderSize) {
    return MakeError(Errc::kOutOfRange,
                     fmt::format("truncated Confluent header: {} bytes, need {}", record.size(),
                                 kConfluentHeaderSize));
  }
  const uint32_t raw_id = (static_cast<uint32_t>(record[1]) << 24) |
                          (static_cast<uint32_t>(record[2]) << 16) |
                          (static_cast<uint32_t>(record[3]) << 8) |
                          static_cast<uint32_t>(record[4]);
  Framed framed;
  framed.schema_id = static_cast<int32_t>(raw_id);
  if (framed.schema_id < 0) {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("invalid schema id {} in Confluent header", framed.schema_id));
  }
  size_t pos = kConfluentHeaderSize;
  if (type == SchemaType::kProtobuf) {
    int32_t count = 0;
    if (!ReadZigZagVarint32(record, pos, count)) {
      return MakeError(Errc::kOutOfRange, "truncated or invalid Protobuf message-index count");
    }
    if (count < 0) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("negative Protobuf message-index count {}", count));
    }
    if (count == 0) {
      // The common case: a single 0x00 stands for [0], the first message.
      framed.message_index_storage[0] = 0;
      framed.message_index_count = 1;
    } else {
      if (static_cast<size_t>(count) > kMaxMessageIndexes) {
        return MakeError(Errc::kOutOfRange,
                         fmt::format("Protobuf message-index count {} exceeds the limit {}", count,
                                     kMaxMessageIndexes));
      }
      for (int32_t i = 0; i < count; ++i) {
        int32_t index = 0;
        if (!ReadZigZagVarint32(record, pos, index)) {
          return MakeError(Errc::kOutOfRange,
                           fmt::format("truncated or invalid Protobuf message index {} of {}",
                                       i + 1, count));
        }
        if (index < 0) {
          return MakeError(Errc::kInvalidArgument,
                           fmt::format("negative Protobuf message index {}", index));
        }
        framed.message_index_storage[static_cast<size_t>(i)] = index;
      }
      framed.message_index_count = static_cast<size_t>(count);
    }
  }
  framed.payload = record.subspan(pos);
  return framed;
}

std::string FrameConfluent(int32_t schema_id, std::string_view payload,
                           std::span<const int32_t> message_indexes, bool protobuf) {
  std::string out;
  out.reserve(kConfluentHeaderSize + 1 + message_indexes.size() * 5 + payload.size());
  const auto id = static_cast<uint32_t>(schema_id);
  out.push_back(static_cast<char>(kConfluentMagicId));
  out.push_back(static_cast<char>((id >> 24) & 0xFF));
  out.push_back(static_cast<char>((id >> 16) & 0xFF));
  out.push_back(static_cast<char>((id >> 8) & 0xFF));
  out.push_back(static_cast<char>(id & 0xFF));
  if (protobuf || !message_indexes.empty()) {
    if (message_indexes.empty() ||
        (message_indexes.size() == 1 && message_indexes[0] == 0)) {
      out.push_back(0);
    } else {
      AppendZigZagVarint32(out, static_cast<int32_t>(message_indexes.size()));
      for (int32_t index : message_indexes) AppendZigZagVarint32(out, index);
    }
  }
  out.append(payload);
  return out;
}

}  // namespace rte::registry
