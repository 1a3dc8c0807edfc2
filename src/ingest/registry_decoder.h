// RegistryDecoder: the FramedDecoder for Confluent-framed payloads. Reads the
// schema id from the frame, resolves it through the SchemaRegistryClient
// without blocking, parses each Avro schema once (cached by id: ids are
// immutable) and decodes with the bounds-checked Avro decoder. JSON Schema
// payloads are validated JSON; Protobuf is recognised but not decoded (an
// error naming it). An id the registry does not know is an error for that
// record (counted, logged once per id); an id that cannot be resolved right
// now (registry down or slow) is Pending, so the caller parks the partition
// and retries when the schema arrives.
// Thread: owned by the ingest thread (the client it uses is thread-safe).
#pragma once

#include <memory>
#include <set>
#include <unordered_map>

#include "avro/schema.h"
#include "ingest/payload_decoder.h"
#include "registry/schema_registry_client.h"

namespace rte::ingest {

class RegistryDecoder final : public FramedDecoder {
 public:
  explicit RegistryDecoder(registry::SchemaRegistryClient& client) : client_(client) {}
  DecodeResult Decode(std::span<const uint8_t> bytes) override;

 private:
  struct Parsed {
    registry::SchemaType type = registry::SchemaType::kAvro;
    std::shared_ptr<const avro::Schema> avro;  // kAvro
    std::string error;                         // schema could not be used
  };
  const Parsed& ParseSchema(const registry::RegisteredSchema& schema);
  DecodeResult DecodeWith(const Parsed& schema, int32_t id, std::span<const uint8_t> payload);
  void LogOnce(int32_t id, const std::string& message);

  registry::SchemaRegistryClient& client_;
  std::unordered_map<int32_t, Parsed> parsed_;
  std::set<int32_t> logged_;
};

}  // namespace rte::ingest
