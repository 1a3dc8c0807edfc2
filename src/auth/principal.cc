#include "auth/principal.h"

#include <algorithm>

namespace rte::auth {
namespace {

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

bool Contains(const std::vector<std::string>& sorted, std::string_view s) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), s,
                             [](const std::string& a, std::string_view b) { return a < b; });
  return it != sorted.end() && *it == s;
}

}  // namespace

void Principal::Normalize() {
  SortUnique(organizations);
  SortUnique(properties);
}

bool Principal::AllowsOrganization(std::string_view organization) const {
  return any_organization || Contains(organizations, organization);
}

bool Principal::Allows(std::string_view organization, std::string_view property) const {
  if (!AllowsOrganization(organization)) return false;
  if (any_property) return true;
  if (property.empty()) return false;
  return Contains(properties, property);
}

std::shared_ptr<const Principal> Principal::Anyone() {
  static const std::shared_ptr<const Principal> anyone = [] {
    auto p = std::make_shared<Principal>();
    p->any_organization = true;
    p->any_property = true;
    return std::shared_ptr<const Principal>(std::move(p));
  }();
  return anyone;
}

}  // namespace rte::auth
