// Event: one Kafka record rendered once into its outgoing WebSocket frame,
// immutable and reference-counted, shared by every session that receives it.
// Thread: immutable after construction; safe to share across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "routing/channel_table.h"

namespace rte::routing {

struct Event {
  ChannelId channel = 0;
  std::string tenant;
  std::string property;  // empty if the record has none
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string frame;     // complete WebSocket text frame (header + JSON)
};

using EventPtr = std::shared_ptr<const Event>;

// Where the ingest thread hands events over.
// Thread: called on the ingest thread only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues `event` for the workers in `workers` (bit i = worker i).
  virtual void Deliver(uint64_t workers, EventPtr event) = 0;
  // Hands everything queued since the last Flush to the workers.
  virtual void Flush() = 0;
  // True while the workers are too far behind to take more: the ingest
  // thread then stops consuming (librdkafka's bounded local queue fills and
  // fetching pauses) until they catch up. Backpressure, not memory.
  virtual bool Overloaded() { return false; }
};

}  // namespace rte::routing
