#include "ingest/registry_decoder.h"

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "avro/decoder.h"
#include "registry/confluent_framing.h"

namespace rte::ingest {

void RegistryDecoder::LogOnce(int32_t id, const std::string& message) {
  if (logged_.size() < 10000 && logged_.insert(id).second) spdlog::warn("schema {}: {}", id, message);
}

const RegistryDecoder::Parsed& RegistryDecoder::ParseSchema(const registry::RegisteredSchema& schema) {
  auto it = parsed_.find(schema.id);
  if (it != parsed_.end()) return it->second;
  Parsed p;
  p.type = schema.type;
  if (schema.type == registry::SchemaType::kAvro) {
    std::vector<std::string> refs;
    refs.reserve(schema.resolved_references.size());
    for (const auto& r : schema.resolved_references) refs.push_back(r.schema_text);
    auto parsed = avro::Schema::Parse(schema.schema_text, refs);
    if (parsed) {
      p.avro = std::move(*parsed);
    } else {
      p.error = "invalid Avro schema: " + parsed.error().message;
    }
  } else if (schema.type == registry::SchemaType::kProtobuf) {
    p.error = "Protobuf payloads are recognised but not decoded by this gateway";
  }
  if (!p.error.empty()) LogOnce(schema.id, p.error);
  return parsed_.emplace(schema.id, std::move(p)).first->second;
}

DecodeResult RegistryDecoder::Decode(std::span<const uint8_t> bytes) {
  auto frame = registry::ParseConfluentFrame(bytes, registry::SchemaType::kAvro);
  if (!frame) return DecodeResult::Fail(frame.error().message);
  const int32_t id = frame->schema_id;
  // Hot path: a schema parsed before needs no lookup (ids are immutable).
  if (auto cached = parsed_.find(id); cached != parsed_.end()) return DecodeWith(cached->second, id, frame->payload);
  registry::LookupResult found = client_.Lookup(id);
  if (found.pending()) return DecodeResult::Pending(id, DecodeWait::kFetching);
  if (found.failed()) return Unresolved(id, found);
  return DecodeWith(ParseSchema(*found.schema()), id, frame->payload);
}

DecodeResult RegistryDecoder::Unresolved(int32_t id, const registry::LookupResult& found) {
  using registry::RegistryErrorKind;
  const std::string& why = found.error().message;
  if (found.permanent()) {
    LogOnce(id, why + " (its records are skipped)");
    return DecodeResult::Fail("schema id " + std::to_string(id) + ": " + why,
                              found.kind() == RegistryErrorKind::kNotFound ? DecodeFailure::kSchemaNotFound
                                                                           : DecodeFailure::kSchemaUnsupported);
  }
  switch (found.kind()) {
    case RegistryErrorKind::kAuth:
      if (auth_log_.Allow()) {
        spdlog::error("schema registry refuses the gateway's credentials: {}; records needing schema {} wait "
                      "(not ready) ({} more like this not logged)",
                      why, id, auth_log_.suppressed());
      }
      return DecodeResult::Pending(id, DecodeWait::kRegistryAuth, found.error());
    case RegistryErrorKind::kNotFound:
      return DecodeResult::Pending(id, DecodeWait::kSchemaNotFoundYet, found.error());
    case RegistryErrorKind::kTransient:
    case RegistryErrorKind::kUnsupported:  // always permanent; kept waiting if not
      break;
  }
  return DecodeResult::Pending(id, DecodeWait::kRegistryUnavailable, found.error());
}

DecodeResult RegistryDecoder::DecodeWith(const Parsed& schema, int32_t id, std::span<const uint8_t> payload) {
  if (!schema.error.empty()) {
    return DecodeResult::Fail("schema id " + std::to_string(id) + ": " + schema.error, DecodeFailure::kSchemaUnsupported);
  }
  switch (schema.type) {
    case registry::SchemaType::kAvro: {
      auto value = avro::DecodeToValue(*schema.avro, payload);
      if (!value) return DecodeResult::Fail("Avro (schema " + std::to_string(id) + "): " + value.error().message);
      return DecodeResult::Ok(std::move(*value));
    }
    case registry::SchemaType::kJson: {
      boost::json::error_code ec;
      boost::json::parse_options opts;
      opts.max_depth = 64;
      auto v = boost::json::parse(
          std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()), ec, {}, opts);
      if (ec) return DecodeResult::Fail("JSON Schema payload is not valid JSON: " + ec.message());
      return DecodeResult::Ok(std::move(v));
    }
    case registry::SchemaType::kProtobuf:
      break;
  }
  return DecodeResult::Fail("unsupported schema type", DecodeFailure::kSchemaUnsupported);
}

}  // namespace rte::ingest
