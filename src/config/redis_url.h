// RedisUrl: where the cluster state lives (REDIS_URL). Accepted form:
//   redis://[[user]:password@]host[:port][/db]
// (port 6379 and db 0 by default; an IPv6 host in brackets). The password may
// be percent-encoded. rediss:// (TLS), Sentinel and Cluster URLs are refused:
// Debian's hiredis 0.14 has none of them.
// Thread: plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace rte::config {

struct RedisUrl {
  std::string host;      // name or address, without brackets for IPv6
  uint16_t port = 6379;
  std::string user;      // Redis 6 ACL user; "" = AUTH with the password only
  std::string password;  // "" = no AUTH
  int db = 0;            // SELECT when not 0

  // redis://[***@]host:port/db: safe to log.
  std::string Redacted() const;
};

// Errors (kInvalidArgument, or kUnsupported for TLS/Sentinel/Cluster) name
// REDIS_URL and the problem, never the password.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

}  // namespace rte::config
