// HttpApi: what HTTP routes need from the gateway as a whole (health,
// metrics, stats, the test page). Implemented by Gateway.
// Thread: every method may be called from any worker thread concurrently.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "server/admin_view.h"

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
  // The JavaScript client (clients/js), served at /client.js.
  virtual std::string_view ClientJs() const = 0;

  // Admin view (ADMIN_TOKEN; off when it is unset). `authorization` is the
  // request's Authorization header.
  virtual bool AdminEnabled() const = 0;
  virtual bool AdminAuthorized(std::string_view authorization) const = 0;
  virtual std::string_view AdminHtml() const = 0;
  virtual std::string AdminSummaryJson() const = 0;
  // Gathers the clients of every worker (each on its own thread) and calls
  // `done` with the JSON, on the thread of the worker that answered last.
  virtual void AdminClients(const ClientQuery& query, std::function<void(std::string json)> done) = 0;
  // The cluster routes (REDIS_URL): `route` is "nodes", "presence",
  // "connections" or "disconnect"; `params` the decoded query. Calls
  // done(HTTP status, JSON body) on some thread.
  virtual void AdminCluster(std::string_view route, std::map<std::string, std::string> params,
                            std::function<void(int status, std::string json)> done) = 0;
};

}  // namespace rte::server
