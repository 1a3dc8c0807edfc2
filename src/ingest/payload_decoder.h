// PayloadDecoder: turns a record's key or value bytes into a JSON value
// according to the channel's format (json, string, bytes, auto, avro).
// Confluent-framed payloads (magic byte 0 + schema id) go through the
// FramedDecoder seam, which the schema-registry layer implements.
// Thread: owned by the ingest thread.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <span>

#include "base/base64.h"  // Base64Encode: binary payloads are rendered as base64
#include "base/result.h"
#include "config/settings.h"

namespace rte::ingest {

struct DecodeResult {
  enum class State { kOk, kPending, kError };
  State state = State::kOk;
  boost::json::value value;  // kOk
  int32_t schema_id = -1;    // kPending: the schema being fetched
  Error error;               // kError
  // kOk, when the payload itself is the JSON text of `value` (a JSON
  // payload, validated): it is rendered as is instead of re-serialized.
  // Points into the payload bytes given to Decode.
  std::string_view json_text;
  static DecodeResult Ok(boost::json::value v) { return {State::kOk, std::move(v), -1, {}, {}}; }
  static DecodeResult Fail(std::string message) {
    return {State::kError, {}, -1, MakeError(Errc::kInvalidArgument, std::move(message)), {}};
  }
  static DecodeResult Pending(int32_t id) { return {State::kPending, {}, id, {}, {}}; }
};

// Seam for registry-backed formats. Decode receives the whole payload,
// starting with the magic byte.
class FramedDecoder {
 public:
  virtual ~FramedDecoder() = default;
  virtual DecodeResult Decode(std::span<const uint8_t> bytes) = 0;
};

class PayloadDecoder {
 public:
  // `framed` may be null (no registry configured); it must outlive this.
  explicit PayloadDecoder(FramedDecoder* framed) : framed_(framed) {}

  // `present` is false for a null key/value (rendered as JSON null).
  DecodeResult Decode(config::PayloadFormat format, std::span<const uint8_t> bytes, bool present);

 private:
  FramedDecoder* framed_;
};

}  // namespace rte::ingest
