// DeadLetterQueue: produces records the gateway rejected (undecodable key or
// value, no tenant, a schema not found or unsupported) to DLQ_TOPIC, raw (the
// original key and value bytes), with why and where in headers:
//   rte.error      "value: not valid JSON: ..." (as logged)
//   rte.topic, rte.partition, rte.offset   the record's position (decimal text)
// Produce never blocks: the record goes into librdkafka's bounded queue
// (kMaxQueued messages); when it is full the record is dropped and counted.
// Delivery reports are served by Poll() (non-blocking) and counted too.
// Thread: Start/Stop on the main thread (Stop after the ingest thread
// ended); Send and Poll on the ingest thread. It writes the dlq_* counters of
// IngestStats (ingest-thread stats).
#pragma once

#include <string>

#include "base/log_throttle.h"
#include "base/result.h"
#include "config/settings.h"
#include "ingest/record_router.h"
#include "metrics/stats.h"

struct rd_kafka_s;

namespace rte::ingest {

class DeadLetterQueue {
 public:
  static constexpr int kMaxQueued = 10000;

  DeadLetterQueue(const config::Settings& settings, metrics::IngestStats& stats);
  ~DeadLetterQueue();
  DeadLetterQueue(const DeadLetterQueue&) = delete;
  DeadLetterQueue& operator=(const DeadLetterQueue&) = delete;

  // Creates the producer when DLQ_TOPIC is set (a bad property fails here).
  Status Start();
  // Waits up to 2 s for queued records, then destroys the producer.
  void Stop();
  bool enabled() const { return rk_ != nullptr; }

  // Queues the record for the dead-letter topic, or counts it dropped.
  void Send(const RecordView& record, const std::string& error);
  // Serves delivery reports (counts produced/failed). Non-blocking.
  void Poll();

 private:
  static void OnDelivery(rd_kafka_s* rk, const void* msg, void* opaque);

  const config::Settings& settings_;
  metrics::IngestStats& stats_;
  rd_kafka_s* rk_ = nullptr;
  LogThrottle drop_log_{std::chrono::seconds(10)};
  LogThrottle failure_log_{std::chrono::seconds(10)};
};

}  // namespace rte::ingest
