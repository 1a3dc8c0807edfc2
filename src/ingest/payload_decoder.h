// PayloadDecoder: turns a record's key or value bytes into a JSON value
// according to the channel's format (json, string, bytes, auto, avro).
// Confluent-framed payloads (magic byte 0 + schema id) go through the
// FramedDecoder seam, which the schema-registry layer implements.
// Thread: owned by the ingest thread.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <span>

#include "base/base64.h"  // Base64Encode: binary payloads are rendered as base64
#include "base/result.h"
#include "config/settings.h"

namespace rte::ingest {

// Why a payload could not be decoded (kError): the label values of
// rte_rejected_records_total{reason} (with "no_tenant") say the same.
enum class DecodeFailure : uint8_t {
  kUndecodable,        // bad framing, bad Avro bytes, invalid JSON, bad UTF-8
  kSchemaNotFound,     // the registry does not know the id (past the grace period)
  kSchemaUnsupported,  // the schema cannot be used (Protobuf, invalid Avro schema, ...)
};

// Why a payload has to wait for its schema (kPending).
enum class DecodeWait : uint8_t {
  kFetching,             // first sighting of the id: being fetched
  kRegistryUnavailable,  // registry down, slow, 5xx, 429
  kRegistryAuth,         // registry refuses our credentials (401/403)
  kSchemaNotFoundYet,    // 404 within the not-found grace period
};
const char* DecodeWaitName(DecodeWait w);  // "fetching", "registry_unavailable", ...

struct DecodeResult {
  enum class State { kOk, kPending, kError };
  State state = State::kOk;
  boost::json::value value;  // kOk
  int32_t schema_id = -1;    // kPending: the schema being fetched
  Error error;               // kError; kPending: the registry's last error, if any
  // kOk, when the payload itself is the JSON text of `value` (a JSON
  // payload, validated): it is rendered as is instead of re-serialized.
  // Points into the payload bytes given to Decode.
  std::string_view json_text;
  DecodeFailure failure = DecodeFailure::kUndecodable;  // kError
  DecodeWait wait = DecodeWait::kFetching;              // kPending
  static DecodeResult Ok(boost::json::value v) {
    DecodeResult r;
    r.value = std::move(v);
    return r;
  }
  static DecodeResult Fail(std::string message, DecodeFailure failure = DecodeFailure::kUndecodable) {
    DecodeResult r;
    r.state = State::kError;
    r.error = MakeError(Errc::kInvalidArgument, std::move(message));
    r.failure = failure;
    return r;
  }
  static DecodeResult Pending(int32_t id, DecodeWait wait = DecodeWait::kFetching, Error why = {}) {
    DecodeResult r;
    r.state = State::kPending;
    r.schema_id = id;
    r.wait = wait;
    r.error = std::move(why);
    return r;
  }
};

// Seam for registry-backed formats. Decode receives the whole payload,
// starting with the magic byte.
// Thread: one thread per instance (it may cache); Fork() makes another
// instance for another thread (sharing what is thread-safe underneath).
class FramedDecoder {
 public:
  virtual ~FramedDecoder() = default;
  virtual DecodeResult Decode(std::span<const uint8_t> bytes) = 0;
  virtual std::unique_ptr<FramedDecoder> Fork() const = 0;
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
