// The gateway's statistics, grouped by the thread that writes them.
// Thread: each struct is written by one thread (see its comment) and read by
// any (the /metrics and /api/stats handlers).
#pragma once

#include <array>
#include <string_view>

#include "metrics/counter.h"
#include "metrics/histogram.h"

namespace rte::metrics {

// Why a credential or a connection was refused: the label values of
// rte_auth_failures_total{reason} and rte_rejected_connections_total{reason}.
// A fixed list keeps label cardinality bounded.
inline constexpr std::array<std::string_view, 16> kAuthFailureReasons = {
    "missing_credentials", "wrong_mode", "malformed", "too_large", "algorithm_not_allowed", "bad_signature", "unknown_key", "expired",
    "not_yet_valid", "wrong_issuer", "wrong_audience", "bad_claims", "forbidden", "wrong_user", "timeout",
    "other"};
// Index of `reason` in kAuthFailureReasons ("other" when not listed).
inline size_t AuthFailureIndex(std::string_view reason) {
  for (size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
    if (kAuthFailureReasons[i] == reason) return i;
  }
  return kAuthFailureReasons.size() - 1;
}

enum class Rejection { kOrigin, kIpLimit, kUserLimit, kUnauthorized, kOrganizationLimit, kCount };
inline constexpr std::array<std::string_view, 5> kRejectionNames = {"origin", "ip_limit", "user_limit",
                                                                     "unauthorized", "organization_limit"};

// Why a record was rejected (not delivered): the label values of
// rte_rejected_records_total{reason}. key_errors + value_errors = their sum.
enum class RejectReason { kBadKey, kBadValue, kNoTenant, kSchemaNotFound, kSchemaUnsupported, kCount };
inline constexpr std::array<std::string_view, 5> kRejectReasonNames = {"bad_key", "bad_value", "no_tenant",
                                                                        "schema_not_found", "schema_unsupported"};

// Channels get their own series (rte_channel_*{channel}); the settings
// refuse more than this many channels, so label cardinality stays bounded.
inline constexpr size_t kMaxChannels = 64;

// One channel's records, as the ingest thread saw them, by outcome (a record
// waiting for its schema is counted once it is settled).
struct ChannelIngestCounters {
  Counter skipped;   // no subscriber for their tenant
  Counter routed;    // rendered and handed to workers
  Counter rejected;  // undecodable key/value or no tenant

  uint64_t total() const { return skipped.Get() + routed.Get() + rejected.Get(); }
};

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
  Counter partitions_unassigned;  // PARTITION_AWARE: partitions given up (no subscriber's tenant there)
  Counter metadata_refreshes;
  Counter backpressure_waits;  // polls skipped because a worker's fan-out backlog was over its bound
  Gauge assigned_partitions;
  Gauge interest_keys;        // (channel, tenant) pairs with a subscriber somewhere
  Gauge ready;                // 1 when the consumer has its partitions assigned
  Gauge kafka_outage;         // 1 while Kafka, once reached, has not answered for a while (connections stay open)
  Gauge parked_partitions;    // partitions paused waiting for a schema
  LatencyHistogram ingest_freshness;  // Kafka record timestamp -> polled here (broker and fetch delay)
  Counter dead_letters_produced;  // rejected records delivered to DLQ_TOPIC
  Counter dead_letters_dropped;   // not queued: the producer's bounded queue was full
  Counter dead_letters_failed;    // queued, but the broker did not take them
  std::array<Counter, static_cast<size_t>(RejectReason::kCount)> rejected;
  std::array<ChannelIngestCounters, kMaxChannels> channels;

  void Rejected(RejectReason r) { rejected[static_cast<size_t>(r)].Add(); }
  ChannelIngestCounters& Channel(size_t id) { return channels[id < kMaxChannels ? id : kMaxChannels - 1]; }
};

// How a client connected: the label values of rte_connections{endpoint}.
enum class Endpoint { kWs, kGetEvents, kCount };
inline constexpr std::array<std::string_view, 2> kEndpointNames = {"ws", "getEvents"};

// Written by one worker thread.
struct WorkerStats {
  Counter connections_opened;
  Counter connections_closed;
  Gauge connections;
  std::array<Gauge, static_cast<size_t>(Endpoint::kCount)> connections_by_endpoint;
  Gauge subscriptions;
  std::array<Gauge, kMaxChannels> channel_subscriptions;  // by channel id
  std::array<Counter, kMaxChannels> channel_deliveries;   // event frames queued, by channel id
  Gauge queued_bytes;           // bytes in the sessions' send queues, not yet written
  Counter events_in;            // events posted to this worker
  Gauge backlog;                // events waiting for fan-out
  Counter deliveries;           // event frames queued on sessions
  Counter bytes_queued;         // frames queued on sessions (events, replies, control)
  Counter bytes_written;        // bytes the sockets accepted
  Counter writes;               // gather writes issued
  Counter write_holds;          // fan-out passes that waited so writes carry more frames (WriteCoalescer)
  Counter commands;             // client commands handled
  Counter bad_commands;         // answered with an error message
  Counter bad_frames;           // protocol errors, oversized or binary frames (connection closed)
  Counter slow_consumer_closes; // closed for exceeding the send queue bound
  Counter slow_consumer_drops;  // events dropped from a slow client's queue (SLOW_CLIENT_POLICY=drop)
  Counter gaps_sent;            // {"type":"gap"} messages sent after such drops
  Counter idle_closes;          // closed for no traffic within the idle timeout
  Counter write_timeouts;       // closed because a write took longer than HEART_BEAT_INTERVAL
  Counter http_requests;
  Counter rejected_upgrades;    // bad path, unknown channel, missing organization_id
  Counter http_bad_requests;    // unparsable / oversized HTTP requests (answered once, then closed)
  Counter handshake_timeouts;   // HTTP request (or TLS handshake) not complete within HANDSHAKE_TIMEOUT
  Counter tls_handshake_errors; // TLS handshakes that failed (plain HTTP to a TLS port, bad client hello)
  Counter accept_errors;        // accept() failures, e.g. out of file descriptors (accepting backs off)
  Counter rate_limited_commands;  // client commands over COMMAND_RATE/COMMAND_BURST
  Counter admin_refusals;       // /api/admin/... requests without the right ADMIN_TOKEN
  LatencyHistogram delivery_freshness;  // Kafka record timestamp -> the end of the writes that sent it (per event)
  std::array<Counter, kAuthFailureReasons.size()> auth_failures;
  std::array<Counter, static_cast<size_t>(Rejection::kCount)> rejected_connections;

  void AuthFailure(std::string_view reason) { auth_failures[AuthFailureIndex(reason)].Add(); }
  void Rejected(Rejection r) { rejected_connections[static_cast<size_t>(r)].Add(); }
  static size_t ChannelIndex(size_t id) { return id < kMaxChannels ? id : kMaxChannels - 1; }
  void Delivered(size_t channel) {
    deliveries.Add();
    channel_deliveries[ChannelIndex(channel)].Add();
  }
};

}  // namespace rte::metrics
