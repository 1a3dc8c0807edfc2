// Demo: an embedded Kafka (librdkafka's mock cluster) with the three topics
// and a producer of realistic payment / guest / reservation records for a few
// organizations and properties at a steady rate.
// Thread: Start/Stop from main; the producer runs on its own thread.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "base/result.h"

struct rd_kafka_s;

namespace rte::app {

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
  // Creates the mock cluster and topics; returns its bootstrap servers.
  Result<std::string> StartCluster();
  void StartProducing();
  void Stop();

 private:
  void ProduceLoop();

  DemoOptions options_;
  rd_kafka_s* producer_ = nullptr;  // owns the mock cluster
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace rte::app
