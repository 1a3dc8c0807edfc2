// The Gateway's part in a cluster of instances (REDIS_URL): joining it, its
// admin routes (/api/admin/nodes, presence, connections, disconnect) and
// metrics. docs/scaling.md has the model.
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "config/redis_url.h"
#include "server/gateway.h"

namespace rte::server {
namespace json = boost::json;

namespace {

std::string ErrorJson(std::string_view code, std::string_view message) {
  return json::serialize(json::object{{"error", code}, {"message", message}});
}

}  // namespace

Status Gateway::StartCluster(uint16_t port) {
  const auto& c = settings_.cluster;
  if (c.redis_url.empty()) return {};
  auto url = config::ParseRedisUrl(c.redis_url);  // checked with the settings already
  if (!url) return url.error();
  cluster::ClusterOptions o;
  o.redis = *url;
  o.node_name = node_name_;
  const std::string& bind = settings_.server.bind_address;
  o.node_url = fmt::format("{}://{}:{}", tls_ ? "https" : "http", bind == "0.0.0.0" || bind == "::" ? host_name_ : bind,
                           port);
  o.node_ttl = std::chrono::seconds(c.node_ttl_s);
  o.max_connections_per_user = static_cast<size_t>(settings_.limits.max_connections_per_user);
  o.max_connections_per_organization = static_cast<size_t>(c.max_connections_per_organization);
  auto created = cluster::ClusterState::Create(std::move(o));
  if (!created) return created.error();
  cluster_ = std::move(*created);
  cluster_->SetDisconnectHandler([this](std::string user_id) {
    // On the cluster thread: every worker closes that user's connections.
    for (auto& w : workers_) w->DisconnectUser(user_id);
  });
  cluster_->Start();
  spdlog::info("cluster: node {} joining through Redis at {}:{} (node TTL {} s)", node_name_, url->host, url->port,
               c.node_ttl_s);
  return {};
}

void Gateway::AdminCluster(std::string_view route, std::map<std::string, std::string> params,
                           std::function<void(int status, std::string json)> done) {
  if (!cluster_) {
    done(503, ErrorJson("cluster_off", "this instance runs alone: set REDIS_URL to share presence and limits"));
    return;
  }
  auto unavailable = [](const Error& e) { return ErrorJson("redis_unavailable", e.message); };
  if (route == "nodes") {
    cluster_->Nodes([done, unavailable](Result<std::vector<cluster::NodeInfo>> r) {
      if (!r) return done(503, unavailable(r.error()));
      json::array nodes;
      for (const auto& n : *r) {
        nodes.push_back(json::object{{"name", n.name},
                                     {"url", n.url},
                                     {"connections", n.connections},
                                     {"started_ms", n.started_ms},
                                     {"last_seen_ms", n.last_seen_ms}});
      }
      done(200, json::serialize(json::object{{"nodes", std::move(nodes)}}));
    });
  } else if (route == "presence") {
    const std::string channel = params["channel"];
    const std::string organization = params["organization_id"];
    if (channel.empty() || organization.empty()) {
      return done(400, ErrorJson("bad_request", "channel and organization_id are required"));
    }
    if (!channels_.Find(channel)) return done(404, ErrorJson("unknown_channel", "no such channel"));
    cluster_->Presence(channel, organization, [done, unavailable](Result<std::vector<cluster::PresenceEntry>> r) {
      if (!r) return done(503, unavailable(r.error()));
      json::array entries;
      for (const auto& e : *r) {
        entries.push_back(json::object{{"node", e.node},
                                       {"connection_id", e.connection_id},
                                       {"user_id", e.user_id},
                                       {"channel", e.channel},
                                       {"organization_id", e.organization_id},
                                       {"property_id", e.property_id},
                                       {"since_ms", e.since_ms}});
      }
      done(200, json::serialize(json::object{{"presence", std::move(entries)}}));
    });
  } else if (route == "connections") {
    cluster_->ConnectionCounts([done, unavailable](Result<std::vector<std::pair<std::string, int64_t>>> r) {
      if (!r) return done(503, unavailable(r.error()));
      json::object counts;
      int64_t total = 0;
      for (const auto& [org, n] : *r) {
        counts[org] = n;
        total += n;
      }
      done(200, json::serialize(json::object{{"organizations", std::move(counts)}, {"total", total}}));
    });
  } else if (route == "disconnect") {
    const std::string user = params["user_id"];
    if (user.empty()) return done(400, ErrorJson("bad_request", "user_id is required"));
    spdlog::info("admin: disconnecting a user on every node");
    cluster_->DisconnectUser(user, [done, unavailable](Result<int64_t> r) {
      if (!r) return done(503, unavailable(r.error()));
      done(200, json::serialize(json::object{{"nodes_notified", *r}}));
    });
  } else {
    done(404, ErrorJson("not_found", "no such admin route"));
  }
}

void Gateway::ClusterMetrics(metrics::PrometheusText& p) const {
  if (!cluster_) return;
  const auto c = cluster_->counters();
  p.Gauge("rte_cluster_degraded", "1 while Redis is unreachable (delivery goes on; limits are enforced per instance)",
          cluster_->degraded() ? 1 : 0);
  p.Counter("rte_redis_commands_total", "commands sent to Redis", c.commands);
  p.Counter("rte_redis_errors_total", "Redis commands that failed", c.errors);
  p.Counter("rte_redis_timeouts_total", "Redis commands that timed out", c.timeouts);
  p.Counter("rte_redis_reconnects_total", "connections to Redis re-established", c.reconnects);
  p.Counter("rte_cluster_resyncs_total", "times this node rewrote its presence and counts to Redis", c.resyncs);
  p.Counter("rte_cluster_local_admissions_total", "connections admitted or refused without Redis (degraded)",
            c.local_admissions);
  p.Gauge("rte_redis_pending_commands", "Redis commands in flight", static_cast<double>(c.pending));
}

}  // namespace rte::server
