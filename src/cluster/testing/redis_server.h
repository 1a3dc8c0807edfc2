// RedisServer: a real redis-server for tests, started on a free loopback
// port in a temporary directory (no persistence), killed and its directory
// removed when destroyed. Kill/Restart (same port) and Pause/Resume
// (SIGSTOP/SIGCONT) simulate outages; Command talks to it synchronously.
// Linked by tests only (rte_cluster_testing).
// Thread: one owner thread (the test's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cluster/redis_connection.h"
#include "config/redis_url.h"

namespace rte::cluster::testing {

class RedisServer {
 public:
  // Null (and *error set) when redis-server cannot be started.
  static std::unique_ptr<RedisServer> Start(std::string* error);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }
  RedisUrl url() const;

  void Kill();      // SIGKILL, reaped
  bool Restart();   // same port; true once it answers PING
  void Pause();     // SIGSTOP
  void Resume();    // SIGCONT

  // One command on a fresh synchronous connection (1 s timeout).
  Result<RedisReply> Command(const std::vector<std::string>& argv);
  // INFO commandstats: calls per command name ("evalsha", "hset", ...).
  std::map<std::string, int64_t> CommandCalls();

 private:
  RedisServer() = default;
  bool Launch(std::string* error);
  bool WaitReady(int timeout_ms);

  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool paused_ = false;
};

}  // namespace rte::cluster::testing
