// Keys of the routing index: (channel, tenant[, property]).
// Thread: value types.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "routing/channel_table.h"

namespace rte::routing {

// (channel, tenant): the unit of interest the ingest thread tracks.
struct TenantKey {
  ChannelId channel = 0;
  std::string tenant;
  bool operator==(const TenantKey&) const = default;
};

// (channel, tenant, property); an empty property means "every property".
struct SubscriptionKey {
  ChannelId channel = 0;
  std::string tenant;
  std::string property;
  bool operator==(const SubscriptionKey&) const = default;
  TenantKey tenant_key() const { return {channel, tenant}; }
};

struct TenantKeyHash {
  size_t operator()(const TenantKey& k) const noexcept {
    return std::hash<std::string>{}(k.tenant) * 31 + k.channel;
  }
};

struct SubscriptionKeyHash {
  size_t operator()(const SubscriptionKey& k) const noexcept {
    size_t h = std::hash<std::string>{}(k.tenant) * 31 + k.channel;
    return h ^ (std::hash<std::string>{}(k.property) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

}  // namespace rte::routing
