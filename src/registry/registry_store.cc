#include "registry/registry_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>

namespace rte::registry {

std::string RegistryStore::IdentityKey(std::string_view text, SchemaType type,
                                       const std::vector<SchemaReference>& references) {
  std::string key = SchemaTypeName(type);
  key.push_back('\0');
  key.append(text);
  for (const SchemaReference& r : references) {
    key.push_back('\0');
    key += r.name;
    key.push_back('\0');
    key += r.subject;
    key.push_back('\0');
    key += std::to_string(r.version);
  }
  return key;
}

Result<int32_t> RegistryStore::Register(std::string_view subject, std::string text,
                                        SchemaType type,
                                        std::vector<SchemaReference> references) {
  if (subject.empty()) return MakeError(Errc::kInvalidArgument, "empty subject");
  if (type != SchemaType::kProtobuf) {
    boost::system::error_code ec;
    (void)boost::json::parse(text, ec);
    if (ec) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("Invalid schema: {} schema is not valid JSON ({})",
                                   SchemaTypeName(type), ec.message()));
    }
  }
  std::lock_guard lock(mu_);
  for (const SchemaReference& r : references) {
    auto it = subjects_.find(r.subject);
    if (it == subjects_.end() || r.version < 1 ||
        static_cast<size_t>(r.version) > it->second.size()) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("Invalid schema: reference '{}' to subject '{}' version {} "
                                   "does not exist",
                                   r.name, r.subject, r.version));
    }
  }
  const std::string key = IdentityKey(text, type, references);
  int32_t id = 0;
  if (auto it = id_by_identity_.find(key); it != id_by_identity_.end()) {
    id = it->second;
  } else {
    auto stored = std::make_shared<StoredSchema>();
    stored->id = static_cast<int32_t>(by_id_.size() + 1);
    stored->type = type;
    stored->text = std::move(text);
    stored->references = std::move(references);
    id = stored->id;
    by_id_.push_back(std::move(stored));
    id_by_identity_.emplace(key, id);
  }
  auto sit = subjects_.find(subject);
  if (sit == subjects_.end()) sit = subjects_.emplace(std::string(subject), std::vector<int32_t>{}).first;
  std::vector<int32_t>& versions = sit->second;
  if (std::find(versions.begin(), versions.end(), id) == versions.end()) versions.push_back(id);
  return id;
}

std::shared_ptr<const StoredSchema> RegistryStore::GetById(int32_t id) const {
  std::lock_guard lock(mu_);
  if (id < 1 || static_cast<size_t>(id) > by_id_.size()) return nullptr;
  return by_id_[static_cast<size_t>(id) - 1];
}

std::vector<std::string> RegistryStore::Subjects() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(subjects_.size());
  for (const auto& [name, versions] : subjects_) out.push_back(name);
  return out;
}

bool RegistryStore::HasSubject(std::string_view subject) const {
  std::lock_guard lock(mu_);
  return subjects_.find(subject) != subjects_.end();
}

std::vector<int32_t> RegistryStore::Versions(std::string_view subject) const {
  std::lock_guard lock(mu_);
  std::vector<int32_t> out;
  auto it = subjects_.find(subject);
  if (it == subjects_.end()) return out;
  for (size_t i = 0; i < it->second.size(); ++i) out.push_back(static_cast<int32_t>(i + 1));
  return out;
}

std::optional<SubjectVersion> RegistryStore::GetVersion(std::string_view subject,
                                                        int32_t version) const {
  std::lock_guard lock(mu_);
  auto it = subjects_.find(subject);
  if (it == subjects_.end() || it->second.empty()) return std::nullopt;
  const std::vector<int32_t>& versions = it->second;
  if (version == -1) version = static_cast<int32_t>(versions.size());
  if (version < 1 || static_cast<size_t>(version) > versions.size()) return std::nullopt;
  const int32_t id = versions[static_cast<size_t>(version) - 1];
  return SubjectVersion{it->first, version, by_id_[static_cast<size_t>(id) - 1]};
}

std::optional<SubjectVersion> RegistryStore::Find(
    std::string_view subject, std::string_view text, SchemaType type,
    const std::vector<SchemaReference>& references) const {
  std::lock_guard lock(mu_);
  auto it = subjects_.find(subject);
  if (it == subjects_.end()) return std::nullopt;
  auto idit = id_by_identity_.find(IdentityKey(text, type, references));
  if (idit == id_by_identity_.end()) return std::nullopt;
  const std::vector<int32_t>& versions = it->second;
  auto vit = std::find(versions.begin(), versions.end(), idit->second);
  if (vit == versions.end()) return std::nullopt;
  return SubjectVersion{it->first, static_cast<int32_t>(vit - versions.begin() + 1),
                        by_id_[static_cast<size_t>(idit->second) - 1]};
}

size_t RegistryStore::schema_count() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

}  // namespace rte::registry
