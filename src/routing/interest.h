// Interest: which workers have at least one subscriber for a (channel, tenant).
// Workers report transitions (first subscriber / last unsubscriber) through
// InterestUpdates; the ingest thread drains them into its own InterestTable
// once per poll batch and consults it per record, without locks, to skip
// records nobody wants before decoding their value.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "routing/subscription_key.h"

namespace rte::routing {

inline constexpr int kMaxWorkers = 64;  // worker sets are 64-bit masks

struct InterestUpdate {
  TenantKey key;
  int worker = 0;
  bool interested = false;
  uint64_t seq = 0;  // set by Push; increasing per InterestUpdates
};

// Thread: Push from any worker thread, Drain from the ingest thread. The mutex
// is taken once per push (a subscription change) and once per ingest batch;
// never per record.
class InterestUpdates {
 public:
  // Called on the ingest thread once updates up to `seq` from `worker` are in
  // effect: from then on every record of those tenants reaches that worker.
  // Set before the ingest thread starts.
  using AppliedFn = std::function<void(int worker, uint64_t seq)>;
  void SetAppliedCallback(AppliedFn fn) { applied_ = std::move(fn); }

  // Called (under the lock) after each Push, to wake the ingest thread so
  // the update takes effect at once. Set and cleared by the ingest side.
  void SetWakeCallback(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    wake_ = std::move(fn);
  }

  // Returns the update's sequence number.
  uint64_t Push(InterestUpdate u) {
    std::lock_guard lock(mu_);
    u.seq = ++seq_;
    pending_.push_back(std::move(u));
    if (wake_) wake_();
    return seq_;
  }
  // Swaps the pending updates into *out (which is cleared first).
  void Drain(std::vector<InterestUpdate>* out) {
    out->clear();
    std::lock_guard lock(mu_);
    out->swap(pending_);
  }
  // Ingest thread: reports that the drained updates are applied.
  void NotifyApplied(const std::vector<InterestUpdate>& applied) {
    if (!applied_ || applied.empty()) return;
    uint64_t last[kMaxWorkers] = {};
    for (const auto& u : applied) last[u.worker] = u.seq;
    for (int w = 0; w < kMaxWorkers; ++w) {
      if (last[w]) applied_(w, last[w]);
    }
  }

 private:
  std::mutex mu_;
  std::vector<InterestUpdate> pending_;  // guarded by mu_
  uint64_t seq_ = 0;                     // guarded by mu_
  std::function<void()> wake_;           // guarded by mu_
  AppliedFn applied_;
};

// Thread: owned by the ingest thread.
class InterestTable {
 public:
  // Returns +1 when the key got its first worker, -1 when it lost its last,
  // 0 otherwise.
  int Apply(const InterestUpdate& u) {
    const uint64_t bit = uint64_t{1} << u.worker;
    if (u.interested) {
      uint64_t& mask = masks_[u.key];
      const bool first = mask == 0;
      mask |= bit;
      return first ? 1 : 0;
    } else if (auto it = masks_.find(u.key); it != masks_.end()) {
      it->second &= ~bit;
      if (it->second == 0) {
        masks_.erase(it);
        return -1;
      }
    }
    return 0;
  }
  // Calls fn(const TenantKey&) for every key with a subscriber.
  template <class Fn>
  void ForEachKey(Fn&& fn) const {
    for (const auto& [key, mask] : masks_) fn(key);
  }
  // Workers with subscribers for (channel, tenant); 0 if none.
  uint64_t Workers(ChannelId channel, std::string_view tenant) const {
    probe_.channel = channel;
    probe_.tenant.assign(tenant);
    auto it = masks_.find(probe_);
    return it == masks_.end() ? 0 : it->second;
  }
  size_t size() const { return masks_.size(); }

 private:
  std::unordered_map<TenantKey, uint64_t, TenantKeyHash> masks_;
  mutable TenantKey probe_;
};

}  // namespace rte::routing
