// ConnectionLimits: counts open connections per client address and per
// authenticated user across every worker, and refuses one over
// MAX_CONNECTIONS_PER_IP / MAX_CONNECTIONS_PER_USER. A granted place is a
// Slot that gives it back when destroyed (RAII), so no path can leak one.
// Owner: the Gateway (outlives every worker and connection).
// Thread: any; one mutex, taken once when a connection opens or closes (never
// per record or per message).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rte::session {

class ConnectionLimits {
 public:
  // 0 = no limit.
  ConnectionLimits(int per_ip, int per_user) : per_ip_(per_ip), per_user_(per_user) {}
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : owner_(o.owner_), table_(o.table_), key_(std::move(o.key_)) { o.owner_ = nullptr; }
    Slot& operator=(Slot&& o) noexcept;
    ~Slot() { Release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    void Release();

   private:
    friend class ConnectionLimits;
    enum class Table { kIp, kUser };
    Slot(ConnectionLimits* owner, Table table, std::string key) : owner_(owner), table_(table), key_(std::move(key)) {}
    ConnectionLimits* owner_ = nullptr;
    Table table_ = Table::kIp;
    std::string key_;
  };

  // `*allowed` is false when `address` already holds the limit. With no
  // limit configured the returned Slot is empty and `*allowed` true.
  Slot AcquireIp(std::string_view address, bool* allowed);
  // As AcquireIp for a user id. An empty user id (AUTH_MODE=none) is not
  // limited.
  Slot AcquireUser(std::string_view user, bool* allowed);

  size_t tracked_addresses() const;

 private:
  using Table = std::unordered_map<std::string, int>;
  bool Take(Table& t, std::string_view key, int limit);
  void Give(Slot::Table which, const std::string& key);

  const int per_ip_;
  const int per_user_;
  mutable std::mutex mu_;
  Table by_ip_;    // guarded by mu_
  Table by_user_;  // guarded by mu_
};

}  // namespace rte::session
