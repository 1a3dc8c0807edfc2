// The gateway's statistics, grouped by the thread that writes them.
// Thread: each struct is written by one thread (see its comment) and read by
// any (the /metrics and /api/stats handlers).
#pragma once

#include "metrics/counter.h"

namespace rte::metrics {

// Written by the ingest thread.
struct IngestStats {
  Counter records_received;   // every record polled from Kafka
  Counter records_skipped;    // no subscriber for its tenant: value not decoded
  Counter records_routed;     // rendered and handed to at least one worker
  Counter key_errors;         // key not valid for the channel's format / no tenant
  Counter value_errors;       // value not valid for the channel's format
  Counter records_parked;     // waiting for a schema (registry unavailable)
  Counter consumer_errors;    // librdkafka errors reported
  Counter partitions_assigned;
  Counter metadata_refreshes;
  Gauge assigned_partitions;
  Gauge interest_keys;        // (channel, tenant) pairs with a subscriber somewhere
  Gauge ready;                // 1 when the consumer has its partitions assigned
};

// Written by one worker thread.
struct WorkerStats {
  Counter connections_opened;
  Counter connections_closed;
  Gauge connections;
  Gauge subscriptions;
  Counter events_in;            // events posted to this worker
  Counter deliveries;           // event frames queued on sessions
  Counter bytes_queued;
  Counter writes;               // gather writes issued
  Counter commands;             // client commands handled
  Counter bad_commands;         // answered with an error message
  Counter bad_frames;           // protocol errors, oversized or binary frames (connection closed)
  Counter slow_consumer_closes; // closed for exceeding the send queue bound
  Counter idle_closes;          // closed for no traffic within the idle timeout
  Counter write_timeouts;       // closed because a write took longer than HEART_BEAT_INTERVAL
  Counter http_requests;
  Counter rejected_upgrades;    // bad path, unknown channel, missing organization_id
};

}  // namespace rte::metrics
