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
  if (found.pending()) return DecodeResult::Pending(id);
  if (found.failed()) {
    if (found.error().code == Errc::kNotFound || found.error().code == Errc::kInvalidArgument) {
      // The registry answered: this id is not usable. Skip the record.
      LogOnce(id, found.error().message);
      return DecodeResult::Fail("schema id " + std::to_string(id) + ": " + found.error().message);
    }
    // Registry unreachable, slow or refusing us: park until it answers.
    LogOnce(id, found.error().message + " (records wait for it)");
    return DecodeResult::Pending(id);
  }
  return DecodeWith(ParseSchema(*found.schema()), id, frame->payload);
}

DecodeResult RegistryDecoder::DecodeWith(const Parsed& schema, int32_t id, std::span<const uint8_t> payload) {
  if (!schema.error.empty()) return DecodeResult::Fail("schema id " + std::to_string(id) + ": " + schema.error);
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
  return DecodeResult::Fail("unsupported schema type");
}

}  // namespace rte::ingest
