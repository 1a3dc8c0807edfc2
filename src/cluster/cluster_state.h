// ClusterState: the state several gateway instances ("nodes") must agree on,
// kept in one Redis (REDIS_URL): which nodes are alive, how many connections
// each user and organization holds cluster-wide (MAX_CONNECTIONS_PER_USER /
// _PER_ORGANIZATION), who is subscribed to what (presence), and a pub/sub
// channel to disconnect a user on every node. docs/scaling.md has the Redis
// data model and what each operation costs.
//
// Redis failures never stop anything. This node's own truth (its admitted
// connections and their presence) lives in memory on the cluster thread;
// Redis holds a copy. While Redis is unreachable degraded() is true, Admit
// decides against this node's own counts (local=true), and every change is
// kept in memory; when Redis is back (or this node's keys expired) the whole
// copy is rewritten ("resync"). A node that dies without Stop disappears from
// Redis within node_ttl: all its keys expire with its heartbeat.
//
// Owner: the Gateway (created from settings; the lead wires it in).
// Thread: it runs its own thread and io_context (the cluster thread), with
// two hiredis connections (commands, pub/sub). Every public method may be
// called from any thread and never blocks (it posts to the cluster thread),
// except Stop, which waits (bounded, about 1 s) for this node's entries to
// be removed from Redis and joins the thread. Callbacks run ON THE CLUSTER
// THREAD: post back to your own thread, do not block in them. Calls made
// before Start wait for it; after Stop, callbacks are destroyed without
// being called.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/redis_url.h"

namespace rte::cluster {

using config::RedisUrl;  // REDIS_URL, parsed and checked with the other settings

struct ClusterOptions {
  RedisUrl redis;
  std::string node_name;  // unique per live node (e.g. the pod name)
  std::string node_url;   // http://host:port, shown by Nodes()
  std::chrono::seconds node_ttl{15};  // a node silent this long is gone; heartbeat every ttl/3
  size_t max_connections_per_user = 0;          // cluster-wide; 0 = no limit
  size_t max_connections_per_organization = 0;  // cluster-wide; 0 = no limit
  std::chrono::milliseconds command_timeout{500};
  // Additions (defaults suit production):
  std::chrono::milliseconds connect_timeout{1000};
  std::string key_prefix = "rte:";  // every key and the pub/sub channel start with it
  size_t max_pending_commands = 10000;  // in flight on the command connection
};

struct ConnectionRef {
  std::string id;       // unique within the node
  std::string user_id;  // may be empty (not limited per user)
  std::vector<std::string> organizations;  // the tenants the connection counts against
};

enum class Admission { kAdmitted, kOverUserLimit, kOverOrganizationLimit };

struct AdmissionResult {
  Admission result = Admission::kAdmitted;
  bool local = false;  // decided without Redis (degraded, or Redis failed/slow)
  std::string detail;  // e.g. "MAX_CONNECTIONS_PER_USER=3 reached for user u1"
};

struct NodeInfo {
  std::string name, url;
  int64_t connections = 0;
  int64_t started_ms = 0, last_seen_ms = 0;  // last_seen_ms: Redis server clock
};

struct PresenceEntry {
  std::string node, connection_id, user_id, channel, organization_id, property_id;
  int64_t since_ms = 0;
};

class ClusterState {
 public:
  // Validates the options (errors name the setting); starts nothing.
  static Result<std::unique_ptr<ClusterState>> Create(ClusterOptions options);
  ~ClusterState();  // Stop()
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  // Starts the cluster thread and connects. Once; no-op after Stop.
  void Start();
  // Removes this node's entries from Redis (bounded, ~1 s), fails what is in
  // flight, joins the thread. Idempotent.
  void Stop();

  // Counts the connection cluster-wide if it is under both limits, atomically
  // (one Lua script). Redis down or slow: decided against this node's own
  // counts (local=true); the connection is written to Redis when it returns.
  // An id already admitted is answered kAdmitted again (counted once).
  void Admit(ConnectionRef connection, std::function<void(AdmissionResult)> done);
  // Uncounts an admitted connection and removes its presence entries.
  void Release(std::string connection_id);

  // Presence of one subscription of an admitted connection (idempotent).
  void AddPresence(std::string connection_id, std::string channel, std::string organization_id,
                   std::string property_id);
  void RemovePresence(std::string connection_id, std::string channel, std::string organization_id,
                      std::string property_id);

  // Called (cluster thread) with the user id when any node asked to
  // disconnect a user everywhere (this node included). Before Start.
  void SetDisconnectHandler(std::function<void(std::string user_id)> handler);

  // Cluster-wide reads; an Error (kUnavailable) while Redis is unreachable.
  void Nodes(std::function<void(Result<std::vector<NodeInfo>>)> done);
  void Presence(std::string channel, std::string organization_id,
                std::function<void(Result<std::vector<PresenceEntry>>)> done);
  // Connections per organization, cluster-wide (organizations with none are absent).
  void ConnectionCounts(std::function<void(Result<std::vector<std::pair<std::string, int64_t>>>)> done);
  // PUBLISH; the result is the number of nodes that received it.
  void DisconnectUser(std::string user_id, std::function<void(Result<int64_t>)> done);

  // Redis not reachable right now (relaxed atomic).
  bool degraded() const;

  struct Counters {
    uint64_t commands = 0, errors = 0, timeouts = 0, reconnects = 0, resyncs = 0, local_admissions = 0;
    int64_t pending = 0;  // commands in flight
  };
  Counters counters() const;

 private:
  struct Impl;
  explicit ClusterState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rte::cluster
