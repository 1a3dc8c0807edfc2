// Demo: an embedded Kafka (librdkafka's mock cluster) with the three topics,
// an embedded schema registry (our Confluent-compatible RegistryServer) with
// the prototype's key schema and realistic value schemas, and a producer of
// Confluent-framed Avro payment / guest / reservation records for a few
// organizations and properties at a steady rate.
// Thread: Start/Stop from main; the producer runs on its own thread.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "base/result.h"
#include "registry/registry_server.h"

struct rd_kafka_s;

namespace rte::app {

// The ids the demo's records carry: organizations 1..organizations, and for
// organization o the properties o*100+1 .. o*100+properties (101..103 for
// organization 1 with the default 3).
struct DemoOptions {
  int organizations = 5;
  int properties = 3;
  double records_per_second = 30;  // per topic
  std::string payment_topic = "payments";
  std::string guest_topic = "guests";
  std::string reservation_topic = "reservations";
};

class Demo {
 public:
  explicit Demo(DemoOptions options) : options_(std::move(options)) {}
  ~Demo();
  struct Endpoints {
    std::string bootstrap_servers;
    std::string registry_url;
    std::string kafka_config;  // KAFKA_CONFIG for the gateway's clients on the mock cluster
  };
  // Creates the mock cluster, the topics and the registry with its schemas.
  Result<Endpoints> StartCluster();
  void StartProducing();
  void Stop();

 private:
  void ProduceLoop();

  DemoOptions options_;
  Status RegisterSchemas();

  rd_kafka_s* producer_ = nullptr;  // owns the mock cluster
  registry::RegistryServer registry_{registry::RegistryServerOptions{}};
  int32_t key_long_id_ = 0, key_int_id_ = 0, payment_id_ = 0, guest_id_ = 0, reservation_id_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// A demo property id: organization * 100 + n, n in 1..DemoOptions::properties.
std::string DemoPropertyId(int organization, int n);

// Where the gateway listens, for the guide.
struct DemoGuideInfo {
  bool tls = false;
  std::string host;  // as in the "listening on" line
  unsigned port = 0;
  std::string admin_token;  // ADMIN_TOKEN of this run (shown: the demo is on loopback)
  bool admin_token_generated = false;
};

// The block printed under "realtime-events listening on ...": the test page,
// the organizations and properties the records carry, and URLs to try.
std::string DemoGuide(const DemoOptions& options, const DemoGuideInfo& where);

}  // namespace rte::app
