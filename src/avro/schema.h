// Schema: an Avro schema parsed from its JSON text into an immutable tree of
// SchemaNode (records, enums, arrays, maps, unions, fixed, primitives,
// named-type references including recursive ones, logical types).
// Owner: whoever holds the shared_ptr; nodes live as long as the Schema.
// Thread: immutable after Parse; share it read-only across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "avro/schema_node.h"
#include "base/result.h"

namespace rte::avro {

class Schema {
 public:
  // Parses `json`. `referenced_schemas` (Confluent schema references) are
  // parsed first, into the same name table, so `json` can use their named
  // types; list dependencies first (other orders are retried). Aliases,
  // defaults, "doc" and "order" are ignored. Invalid schemas return
  // kInvalidArgument naming the problem; never throws on bad input.
  static Result<std::shared_ptr<const Schema>> Parse(
      std::string_view json, const std::vector<std::string>& referenced_schemas = {});

  const SchemaNode& root() const { return *root_; }

  // The named type (record, enum, fixed) with this full name, or nullptr.
  const SchemaNode* FindNamed(std::string_view full_name) const;

  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

 private:
  friend class SchemaParser;
  Schema() = default;

  std::vector<std::unique_ptr<SchemaNode>> nodes_;
  std::unordered_map<std::string, const SchemaNode*> named_;
  const SchemaNode* root_ = nullptr;
};

}  // namespace rte::avro
