#include "registry/registered_schema.h"

namespace rte::registry {

const char* SchemaTypeName(SchemaType type) {
  switch (type) {
    case SchemaType::kAvro: return "AVRO";
    case SchemaType::kJson: return "JSON";
    case SchemaType::kProtobuf: return "PROTOBUF";
  }
  return "AVRO";
}

std::optional<SchemaType> ParseSchemaType(std::string_view name) {
  if (name.empty() || name == "AVRO") return SchemaType::kAvro;
  if (name == "JSON") return SchemaType::kJson;
  if (name == "PROTOBUF") return SchemaType::kProtobuf;
  return std::nullopt;
}

}  // namespace rte::registry
