// Allowlist: which users may see which organizations (AUTH_MODE=allowlist),
// from a text file of "organization_id user_id" pairs, one per line,
// separated by whitespace or a comma. "#" starts a comment (at the start of a
// line or after a separator); blank lines are ignored; "*" as the user means
// every user of that organization. A wildcard organization is an error.
// Owner: shared and immutable, as std::shared_ptr<const Allowlist>.
// Thread: any (read-only).
//
// AllowlistWatcher: loads the file once at Create, then (after Start) a thread
// polls it every poll interval (device, inode, size, mtime) and re-reads it on
// change; a file that fails to read or parse keeps the previous list and is
// logged (warn) once per change. Write the file by rename for an atomic swap;
// an in-place write is re-read when its stamp settles.
// Owner: the Authenticator. Thread: Current and generation from any thread;
// Start/Stop from the owner's thread. Stop (also run by the destructor) joins
// the poll thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/principal.h"
#include "base/result.h"

namespace rte::auth {

class Allowlist {
 public:
  static constexpr size_t kMaxFileBytes = 64u << 20;

  // `source` (the file name) prefixes error messages: "<source>:<line>: ...".
  static Result<std::shared_ptr<const Allowlist>> Parse(std::string_view text,
                                                        std::string_view source);
  static Result<std::shared_ptr<const Allowlist>> Load(const std::string& path);

  // The organizations `user_id` may see (sorted; empty if none; every
  // property). An empty user id gets no organization.
  std::shared_ptr<const Principal> For(std::string_view user_id) const;

  size_t pair_count() const { return pair_count_; }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> by_user_;  // sorted, unique orgs
  std::vector<std::string> any_user_;  // organizations with "*"
  size_t pair_count_ = 0;
};

class AllowlistWatcher {
 public:
  static Result<std::unique_ptr<AllowlistWatcher>> Create(
      std::string path, std::chrono::milliseconds poll_interval = std::chrono::seconds(1));
  ~AllowlistWatcher();
  AllowlistWatcher(const AllowlistWatcher&) = delete;
  AllowlistWatcher& operator=(const AllowlistWatcher&) = delete;

  void Start();  // starts the poll thread (once)
  void Stop();   // idempotent; joins the poll thread

  std::shared_ptr<const Allowlist> Current() const;
  // 1 after Create; +1 on every successful reload.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  uint64_t reload_failures() const { return reload_failures_.load(std::memory_order_relaxed); }

  struct Stamp {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool exists = false;
    bool operator==(const Stamp&) const = default;
  };

 private:
  AllowlistWatcher(std::string path, std::chrono::milliseconds poll_interval,
                   std::shared_ptr<const Allowlist> list, Stamp stamp);
  void Run();
  void Poll();  // poll thread only

  const std::string path_;
  const std::chrono::milliseconds poll_interval_;

  mutable std::mutex mu_;
  std::shared_ptr<const Allowlist> current_;  // guarded by mu_
  bool stopping_ = false;                     // guarded by mu_
  std::condition_variable cv_;
  std::thread thread_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<uint64_t> reload_failures_{0};

  // Poll thread only.
  Stamp loaded_;        // stamp of the file current_ was read from
  std::optional<Stamp> last_warned_;  // stamp of the last failure logged
};

}  // namespace rte::auth
