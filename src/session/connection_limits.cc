#include "session/connection_limits.h"

namespace rte::session {

ConnectionLimits::Slot& ConnectionLimits::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    Release();
    owner_ = o.owner_;
    table_ = o.table_;
    key_ = std::move(o.key_);
    o.owner_ = nullptr;
  }
  return *this;
}

void ConnectionLimits::Slot::Release() {
  if (!owner_) return;
  owner_->Give(table_, key_);
  owner_ = nullptr;
}

bool ConnectionLimits::Take(Table& t, std::string_view key, int limit) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = t.try_emplace(std::string(key), 0);
  if (limit > 0 && it->second >= limit) return false;
  ++it->second;
  return true;
}

void ConnectionLimits::Give(Slot::Table which, const std::string& key) {
  std::lock_guard lock(mu_);
  Table& t = which == Slot::Table::kIp ? by_ip_ : by_user_;
  auto it = t.find(key);
  if (it == t.end()) return;
  if (--it->second <= 0) t.erase(it);
}

ConnectionLimits::Slot ConnectionLimits::AcquireIp(std::string_view address, bool* allowed) {
  *allowed = true;
  if (per_ip_ <= 0) return {};
  if (!Take(by_ip_, address, per_ip_)) {
    *allowed = false;
    return {};
  }
  return Slot(this, Slot::Table::kIp, std::string(address));
}

ConnectionLimits::Slot ConnectionLimits::AcquireUser(std::string_view user, bool* allowed) {
  *allowed = true;
  if (per_user_ <= 0 || user.empty()) return {};
  if (!Take(by_user_, user, per_user_)) {
    *allowed = false;
    return {};
  }
  return Slot(this, Slot::Table::kUser, std::string(user));
}

size_t ConnectionLimits::tracked_addresses() const {
  std::lock_guard lock(mu_);
  return by_ip_.size();
}

}  // namespace rte::session
