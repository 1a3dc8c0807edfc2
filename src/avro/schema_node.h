// SchemaNode: one node of a parsed Avro schema tree (see schema.h).
// Owner: the Schema that created it; a node pointer stays valid while that
// Schema lives. Thread: immutable after Schema::Parse returns; safe to read
// from any number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rte::avro {

enum class AvroType : uint8_t {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

// Logical types we render specially. A logical type that does not fit its
// underlying type (e.g. "date" on a string) is ignored, as the Avro spec says.
enum class LogicalType : uint8_t {
  kNone,
  kDecimal,               // bytes or fixed; precision, scale
  kUuid,                  // string or fixed(16)
  kDate,                  // int: days since 1970-01-01
  kTimeMillis,            // int: ms since midnight
  kTimeMicros,            // long: us since midnight
  kTimestampMillis,       // long: ms since epoch, UTC
  kTimestampMicros,       // long: us since epoch, UTC
  kTimestampNanos,        // long: ns since epoch, UTC (Avro 1.12)
  kLocalTimestampMillis,  // long: ms, no time zone
  kLocalTimestampMicros,  // long: us, no time zone
  kLocalTimestampNanos,   // long: ns, no time zone (Avro 1.12)
  kDuration,              // fixed(12): months, days, ms as little-endian uint32
};

const char* AvroTypeName(AvroType type);

struct SchemaNode;

// A record field. `key_json` is the field name already rendered as a JSON
// object key after a comma, quotes and colon included (",\"amount\":").
struct SchemaField {
  std::string name;
  std::string key_json;
  const SchemaNode* type = nullptr;
};

struct SchemaNode {
  AvroType type = AvroType::kNull;
  LogicalType logical = LogicalType::kNone;
  int32_t precision = 0;  // decimal
  int32_t scale = 0;      // decimal
  int64_t fixed_size = 0; // fixed
  std::string full_name;  // record, enum, fixed

  std::vector<SchemaField> fields;          // record, in declaration order
  std::vector<std::string> symbols;         // enum
  std::vector<std::string> symbols_json;    // enum symbols rendered as JSON strings
  const SchemaNode* items = nullptr;        // array items, map values
  std::vector<const SchemaNode*> branches;  // union

  // A lower bound of the encoded size of one value of this type, in bytes.
  // Used to reject element counts that cannot fit in the bytes remaining.
  int64_t min_size = 0;
};

}  // namespace rte::avro
