// TcpProxy: a loopback TCP forwarder for tests, standing between one node
// and Redis so a test can cut that node off (SetDown: every connection is
// closed and new ones are closed at once) while Redis and the other nodes
// carry on. Linked by tests only (rte_cluster_testing).
// Thread: its own thread and io_context; SetDown and port from any thread.
#pragma once

#include <cstdint>
#include <memory>

namespace rte::cluster::testing {

class TcpProxy {
 public:
  explicit TcpProxy(uint16_t target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const;
  void SetDown(bool down);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rte::cluster::testing
