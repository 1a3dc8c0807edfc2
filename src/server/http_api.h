// HttpApi: what HTTP routes need from the gateway as a whole (health,
// metrics, stats, the test page). Implemented by Gateway.
// Thread: every method may be called from any worker thread concurrently.
#pragma once

#include <string>
#include <string_view>

namespace rte::server {

class HttpApi {
 public:
  virtual ~HttpApi() = default;
  virtual bool Ready() const = 0;
  // The /readyz body: "ready" or "not ready: <why>", then one line per
  // partition waiting for a schema (which, where, why). Sets *ready as Ready().
  virtual std::string Readiness(bool* ready) const = 0;
  virtual std::string MetricsText() const = 0;
  virtual std::string StatsJson() const = 0;
  virtual std::string ChannelsJson() const = 0;
  // The test page; empty if none.
  virtual std::string IndexHtml() const = 0;
};

}  // namespace rte::server
