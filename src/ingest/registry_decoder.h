// RegistryDecoder: the FramedDecoder for Confluent-framed payloads. Reads the
// schema id from the frame, resolves it through the SchemaRegistryClient
// without blocking, parses each Avro schema once (cached by id: ids are
// immutable) and decodes with the bounds-checked Avro decoder. JSON Schema
// payloads are validated JSON; Protobuf is recognised but not decoded (an
// error naming it). The registry client's classification decides what a
// record of an unresolved id gets: permanent failures (not found past the
// grace period, unsupported schema) are errors for the record (the caller
// counts and skips it; logged once per id); anything else (first fetch,
// registry down or slow, refusing our credentials, a 404 within the grace
// period) is Pending with the reason, so the caller parks the partition and
// retries when the id is settled.
// Thread: owned by the ingest thread (the client it uses is thread-safe).
#pragma once

#include <memory>
#include <set>
#include <unordered_map>

#include "avro/schema.h"
#include "base/log_throttle.h"
#include "ingest/payload_decoder.h"
#include "registry/schema_registry_client.h"

namespace rte::ingest {

class RegistryDecoder final : public FramedDecoder {
 public:
  explicit RegistryDecoder(registry::SchemaRegistryClient& client) : client_(client) {}
  DecodeResult Decode(std::span<const uint8_t> bytes) override;
  std::unique_ptr<FramedDecoder> Fork() const override { return std::make_unique<RegistryDecoder>(client_); }

 private:
  struct Parsed {
    registry::SchemaType type = registry::SchemaType::kAvro;
    std::shared_ptr<const avro::Schema> avro;  // kAvro
    std::string error;                         // schema could not be used
  };
  const Parsed& ParseSchema(const registry::RegisteredSchema& schema);
  DecodeResult DecodeWith(const Parsed& schema, int32_t id, std::span<const uint8_t> payload);
  // A record whose id the client could not resolve: skipped or waiting.
  DecodeResult Unresolved(int32_t id, const registry::LookupResult& found);
  void LogOnce(int32_t id, const std::string& message);

  registry::SchemaRegistryClient& client_;
  std::unordered_map<int32_t, Parsed> parsed_;
  std::set<int32_t> logged_;
  LogThrottle auth_log_{std::chrono::seconds(10)};
};

}  // namespace rte::ingest
