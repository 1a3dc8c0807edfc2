// librdkafka helpers shared by the gateway's Kafka clients.
// MakeKafkaConf: one librdkafka configuration builder for every client the
// gateway creates (the consumer, the replay consumer, the dead-letter
// producer): the client's own properties, then the connection settings
// (bootstrap, security protocol, SASL) and last the KAFKA_CONFIG extras, so
// an operator can override anything. A bad property fails here, named with
// the setting it came from. Logs go to spdlog.
// ViewOfMessage: a fetched record as the RecordRouter reads it.
// Thread: any (no shared state).
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "base/result.h"
#include "config/settings.h"
#include "ingest/record_router.h"

struct rd_kafka_conf_s;
struct rd_kafka_message_s;

namespace rte::ingest {

// (librdkafka property, value, the setting it came from or "" for ours)
using KafkaProperty = std::tuple<std::string, std::string, std::string>;

// `who` names the client in errors ("kafka client", "DLQ_TOPIC producer").
// The caller owns the result (rd_kafka_new takes it, else rd_kafka_conf_destroy).
Result<rd_kafka_conf_s*> MakeKafkaConf(const config::KafkaSettings& kafka, const std::vector<KafkaProperty>& own,
                                       const std::string& who);

// A view of `msg` (key, value, timestamp, headers): valid while msg lives.
RecordView ViewOfMessage(const rd_kafka_message_s* msg);

}  // namespace rte::ingest
