// Produces the benchmark records to Kafka with librdkafka at a set rate.
//
// Record r goes to stream r % streams (organizations round-robin). Key:
// {"organization_id":"O"}; value: {"organization_id":"O","property_id":"P",
// "seq":S,"sent_us":T,"pad":"xxx..."} padded to record_bytes, S counting per
// stream from 0, T the produce time (CLOCK_REALTIME, us). With
// value_format: avro the value is Confluent-framed Avro with the same fields
// (avro_value.h), written with the schema id of its topic.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scenario.h"

namespace rte::bench {

class Producer {
 public:
  // value_schema_ids: with value_format avro, the registry's id of the value
  // schema for each of scn.topics (empty for JSON).
  Producer(const Scenario& scn, const std::string& bootstrap, std::vector<int32_t> value_schema_ids = {});  // throws
  ~Producer();
  // Produces in the background for `seconds` at `records_per_s` (<= 0: as fast as possible).
  void Run(double records_per_s, double seconds);
  void Wait();    // until the current run ends
  void Stop();    // ends the current run early
  bool Flush(int timeout_ms);  // waits for delivery reports; false when some are outstanding

  // Records handed to librdkafka per stream (seq of the next one).
  const std::vector<std::atomic<uint64_t>>& produced() const { return produced_; }
  uint64_t total() const { return total_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t queue_full() const { return queue_full_.load(std::memory_order_relaxed); }
  std::string last_error();

 private:
  void Loop(double rate, double seconds);
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);

  const Scenario& scn_;
  rd_kafka_t* rk_ = nullptr;
  std::vector<rd_kafka_topic_t*> topics_;
  std::vector<std::atomic<uint64_t>> produced_;
  std::vector<std::string> keys_, prefixes_;
  std::vector<int32_t> schema_ids_;       // per topic; empty: JSON values
  std::vector<std::string> orgs_, props_;  // per stream (Avro values)
  uint64_t next_stream_ = 0;
  std::atomic<uint64_t> total_{0}, errors_{0}, delivered_{0}, queue_full_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::string last_error_;
  std::atomic<bool> has_error_{false};
};

// Creates `topic` with `partitions` partitions (replication 1) unless it
// exists, and waits until its partitions have leaders. Returns "" or an error.
std::string CreateTopic(const std::string& bootstrap, const std::string& topic, int partitions, int timeout_ms);

}  // namespace rte::bench
