// RegistryStore: the data of our schema registry server: schemas by global id
// and subjects with their versions, with Confluent's rules: registering the
// same (type, text, references) again gives the same id; ids are global and
// increase from 1; versions per subject increase from 1; nothing is deleted.
// Owner: RegistryServer (or a test). Thread: all methods are thread-safe
// (one internal mutex); returned schemas are immutable shared pointers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "registry/registered_schema.h"

namespace rte::registry {

struct StoredSchema {
  int32_t id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string text;
  std::vector<SchemaReference> references;
};

struct SubjectVersion {
  std::string subject;
  int32_t version = 0;
  std::shared_ptr<const StoredSchema> schema;
};

class RegistryStore {
 public:
  // Registers `text` under `subject` and returns its id. kInvalidArgument if
  // an AVRO or JSON schema is not JSON, or a reference names a subject version
  // that does not exist.
  Result<int32_t> Register(std::string_view subject, std::string text, SchemaType type,
                           std::vector<SchemaReference> references = {});

  std::shared_ptr<const StoredSchema> GetById(int32_t id) const;  // null if unknown
  std::vector<std::string> Subjects() const;                      // sorted
  bool HasSubject(std::string_view subject) const;
  std::vector<int32_t> Versions(std::string_view subject) const;  // empty if unknown
  // version -1 = latest. nullopt if the subject or version does not exist.
  std::optional<SubjectVersion> GetVersion(std::string_view subject, int32_t version) const;
  // The version of `subject` holding exactly this schema, if any.
  std::optional<SubjectVersion> Find(std::string_view subject, std::string_view text,
                                     SchemaType type,
                                     const std::vector<SchemaReference>& references) const;
  size_t schema_count() const;

 private:
  static std::string IdentityKey(std::string_view text, SchemaType type,
                                 const std::vector<SchemaReference>& references);

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const StoredSchema>> by_id_;  // id - 1
  std::unordered_map<std::string, int32_t> id_by_identity_;
  std::map<std::string, std::vector<int32_t>, std::less<>> subjects_;  // versions -> ids
};

}  // namespace rte::registry
