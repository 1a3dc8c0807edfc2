// Principal: who a connection is and which tenants it may see, as decided
// once at connection time by the Authenticator (AUTH_MODE none, allowlist or
// jwt). Organizations and properties are sorted, without duplicates, so the
// checks are binary searches.
// Owner: shared, immutable, as std::shared_ptr<const Principal>.
// Thread: any (read-only after construction).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rte::auth {

struct Principal {
  std::string user_id;
  bool any_organization = false;           // AUTH_MODE none: every organization
  std::vector<std::string> organizations;  // sorted, unique
  bool any_property = true;                // no property restriction
  std::vector<std::string> properties;     // sorted, unique; used only when !any_property
  std::optional<std::chrono::system_clock::time_point> expires_at;  // JWT exp

  // Sorts and de-duplicates organizations and properties (builders call it).
  void Normalize();

  bool AllowsOrganization(std::string_view organization) const;

  // `property` "" means every property of the organization, which only a
  // principal without a property restriction may see.
  bool Allows(std::string_view organization, std::string_view property) const;

  // Every organization and property, no user (AUTH_MODE none). One shared
  // instance.
  static std::shared_ptr<const Principal> Anyone();
};

}  // namespace rte::auth
