// RegisteredSchema: one schema as the registry knows it (id, type, text) plus
// the texts of the schemas it references, resolved in dependency order.
// Owner: shared, immutable once built (handed out as shared_ptr<const>).
// Thread: plain value types; safe to read from any thread once published.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rte::registry {

// The schema formats the Confluent registry serves. AVRO is the default when a
// response carries no "schemaType".
enum class SchemaType { kAvro, kJson, kProtobuf };

// "AVRO", "JSON" or "PROTOBUF".
const char* SchemaTypeName(SchemaType type);

// Parses a "schemaType" value; an empty string means AVRO. Unknown -> nullopt.
std::optional<SchemaType> ParseSchemaType(std::string_view name);

// A reference as the registry lists it: the name the referencing schema uses
// (Avro full name, Protobuf import path, JSON $ref) and where it is registered.
struct SchemaReference {
  std::string name;
  std::string subject;
  int32_t version = 0;

  friend bool operator==(const SchemaReference&, const SchemaReference&) = default;
};

// A referenced schema with its text, as resolved by the client.
struct ResolvedReference {
  std::string name;
  std::string subject;
  int32_t version = 0;
  SchemaType type = SchemaType::kAvro;
  std::string schema_text;
};

struct RegisteredSchema {
  int32_t id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string schema_text;
  // The direct references of this schema, as listed by the registry.
  std::vector<SchemaReference> references;
  // Every schema this one depends on, directly or not, each once, in dependency
  // order: a schema appears after everything it references.
  std::vector<ResolvedReference> resolved_references;
};

}  // namespace rte::registry
