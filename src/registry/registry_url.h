// RegistryUrl: a schema registry base URL split into what the HTTP client
// needs. Accepts http:// and https:// with an optional port, an optional base
// path (a registry behind a path prefix) and optional user info
// (https://key:secret@host), which is taken as Basic-auth credentials.
// Thread: plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace rte::registry {

struct RegistryUrl {
  bool tls = false;
  std::string host;       // name or address, without brackets for IPv6
  uint16_t port = 0;      // 80 / 443 when the URL gives none
  std::string base_path;  // "" or "/prefix" (no trailing slash)
  std::string user_info;  // "key:secret" if the URL carried it, decoded

  // scheme://host[:port]/base_path, without the user info: safe to log.
  std::string Redacted() const;
};

// Errors (kInvalidArgument) name the problem, never the user info.
Result<RegistryUrl> ParseRegistryUrl(std::string_view url);

}  // namespace rte::registry
