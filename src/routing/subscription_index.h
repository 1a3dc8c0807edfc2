// SubscriptionIndex: which subscribers want which (channel, tenant, property).
// One per worker, holding that worker's sessions only; a record is matched by
// two hash lookups (tenant-wide subscribers, then that property's), never by a
// scan of connections. Reports the first subscriber / last unsubscriber of a
// (channel, tenant) so the worker can tell the ingest thread its interest.
// Thread: owned by one worker; call only on its thread.
#pragma once

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "routing/subscription_key.h"

namespace rte::routing {

template <class Subscriber>
class SubscriptionIndex {
 public:
  struct Change {
    bool added = false;           // false: already subscribed (or not, for Remove)
    bool tenant_transition = false;  // the (channel, tenant) gained its first / lost its last subscriber
  };

  Change Add(const SubscriptionKey& key, Subscriber* s) {
    auto& list = by_key_[key];
    if (std::find(list.begin(), list.end(), s) != list.end()) return {};
    list.push_back(s);
    ++size_;
    return {true, ++tenant_counts_[key.tenant_key()] == 1};
  }

  Change Remove(const SubscriptionKey& key, Subscriber* s) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return {};
    auto& list = it->second;
    auto pos = std::find(list.begin(), list.end(), s);
    if (pos == list.end()) return {};
    *pos = list.back();  // order within a key does not matter
    list.pop_back();
    if (list.empty()) by_key_.erase(it);
    --size_;
    auto tc = tenant_counts_.find(key.tenant_key());
    bool last = --tc->second == 0;
    if (last) tenant_counts_.erase(tc);
    return {true, last};
  }

  // Calls f(Subscriber*, false) for every subscriber of (channel, tenant) without a
  // property filter, and f(Subscriber*, true) for those of (channel, tenant,
  // property) when property is set.
  template <class F>
  void ForEachMatch(ChannelId channel, std::string_view tenant, std::string_view property, F&& f) const {
    probe_.channel = channel;
    probe_.tenant.assign(tenant);
    probe_.property.clear();
    if (auto it = by_key_.find(probe_); it != by_key_.end()) {
      for (Subscriber* s : it->second) f(s, false);
    }
    if (!property.empty()) {
      probe_.property.assign(property);
      if (auto it = by_key_.find(probe_); it != by_key_.end()) {
        for (Subscriber* s : it->second) f(s, true);
      }
    }
  }

  bool HasTenant(const TenantKey& k) const { return tenant_counts_.count(k) != 0; }
  size_t size() const { return size_; }  // subscriptions

 private:
  std::unordered_map<SubscriptionKey, std::vector<Subscriber*>, SubscriptionKeyHash> by_key_;
  std::unordered_map<TenantKey, int, TenantKeyHash> tenant_counts_;
  mutable SubscriptionKey probe_;  // reused lookup key: no allocation per record
  size_t size_ = 0;
};

}  // namespace rte::routing
