// A benchmark scenario: what to connect, what to produce, for how long.
// Read from YAML (bench/scenarios/*.yaml); bench/README.md lists every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rte::bench {

struct Step {
  double deliveries_per_s = 0;  // offered deliveries/s (converted to records/s)
  double records_per_s = 0;     // records/s produced; 0 with max_rate = as fast as possible
  bool max_rate = false;
  int duration_s = 10;
  int connections = 0;          // S3: total connections to hold during this step (0: keep)
  double churn = 0;             // connections closed and reopened per second
};

// One subscription of one connection, resolved to names.
struct SubSpec {
  uint32_t stream = 0;  // index into the scenario's streams
  uint16_t channel = 0;
  uint32_t org = 0;
  int32_t prop = -1;    // -1: every property
};

struct Scenario {
  std::string name;
  int connections = 100;
  std::string endpoint = "getEvents";   // getEvents | ws
  std::vector<std::string> channels{"payment"};
  std::vector<std::string> topics;      // one per channel (default: channel + "s")
  int organizations = 10;
  int properties_per_org = 0;           // 0: records carry property p0, clients subscribe org-wide
  int subscriptions_per_connection = 1; // /ws only
  std::vector<Step> steps;
  int record_bytes = 200;
  std::string value_format = "json";    // json | avro (Confluent-framed, schema in a registry)
  std::string registry_url;             // avro: the schema registry (usually given by bench/run)
  double stalled_fraction = 0;
  double connect_rate = 5000;           // connection attempts/s; 0 = as fast as possible
  int max_inflight_connects = 1000;
  std::string source = "kafka";         // kafka | server | none
  std::string bootstrap;
  std::string gateway_url = "http://127.0.0.1:5000";
  std::string token;
  int partitions = 4;
  int drain_s = 5;
  double settle_s = 1.0;
  int connect_timeout_s = 60;
  int hold_s = 0;                       // S3: idle seconds after connecting, per step
  int threads = 1;                      // client io_context threads
  int source_ips = 0;                   // 0: auto (one per 25k connections)
  int64_t send_queue_bytes = 0;         // for the runner (gateway SEND_QUEUE_BYTES); 0 = default
  bool stats = true;                    // poll the gateway's /api/stats
  std::string user_prefix = "u";
  std::string org_prefix = "o";
  std::string prop_prefix = "p";
  // Assertions (exit code 1 when broken): the CI smoke uses them.
  bool assert_no_loss = false;          // zero losses, duplicates, foreign records, closures, connect failures
  // Stalled clients (stalled_fraction): "close" = every one closed with 1013;
  // "drop" = none closed and the gateway dropped events for them (gaps sent).
  std::string assert_stalled;
  int64_t max_gateway_rss_mb = 0;       // > 0: the gateway's peak RSS must stay under it
  double max_seconds = 900;

  int Streams() const;                  // channels × organizations × max(1, properties)
  std::string OrgName(uint32_t org) const { return org_prefix + std::to_string(org); }
  std::string PropName(int32_t prop) const { return prop_prefix + std::to_string(prop < 0 ? 0 : prop); }
  // The subscriptions of connection `id` (deterministic: a replacement after churn gets the same).
  std::vector<SubSpec> SubsOf(uint32_t id) const;
  SubSpec Stream(uint32_t s) const;
  bool StalledConn(uint32_t id) const;
  int MaxConnections() const;           // over steps
};

// Throws std::runtime_error with a readable message.
Scenario LoadScenario(const std::string& path);

}  // namespace rte::bench
