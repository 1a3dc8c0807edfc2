// RecordRouter: the per-record pipeline after Kafka: decode the key, compute
// the routing key (channel, tenant[, property]), skip the record early when no
// worker has a subscriber for its tenant, else decode the value, render the
// outgoing event frame once and hand it to the interested workers.
// Thread: owned by the ingest thread. No Kafka types: unit-testable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/payload_decoder.h"
#include "metrics/stats.h"
#include "routing/channel_table.h"
#include "routing/event.h"
#include "routing/interest.h"

namespace rte::ingest {

struct RecordView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::span<const uint8_t> key;
  bool has_key = false;
  std::span<const uint8_t> value;
  bool has_value = false;
  // Record headers (name, value); only read when a channel routes by header.
  std::vector<std::pair<std::string_view, std::span<const uint8_t>>> headers;
};

// Reads a routing id at `path` in `root`: strings as is, integers in decimal.
// For the key source, a scalar key is itself the id.
std::optional<std::string> ExtractId(const boost::json::value& root, const std::vector<std::string>& path,
                                     bool scalar_is_id);

class RecordRouter {
 public:
  enum class Outcome { kRouted, kSkipped, kKeyError, kValueError, kPending, kNoChannel };

  RecordRouter(const routing::ChannelTable& channels, PayloadDecoder& decoder,
               const routing::InterestTable& interest, routing::EventSink& sink, metrics::IngestStats& stats);

  // Routes one record to every channel of its topic. kPending: a schema is not
  // available yet; nothing was delivered for this record and the caller should
  // retry it later (pending() says which schema and why). kKeyError /
  // kValueError: the record was counted, logged (throttled) and skipped;
  // last_error() says why.
  Outcome Route(const RecordView& record);
  // After kPending: the schema waited for (schema_id), why (wait), and the
  // registry's last error (error).
  const DecodeResult& pending() const { return pending_; }
  int32_t pending_schema_id() const { return pending_.schema_id; }
  // After kKeyError / kValueError: "key: <why>", "value: <why>" or "tenant: <why>".
  const std::string& last_error() const { return last_error_; }

 private:
  Outcome RouteChannel(routing::ChannelId channel, const RecordView& record);
  std::optional<std::string> ReadField(const config::FieldPath& field, const RecordView& record,
                                       const boost::json::value& key, const boost::json::value* value);
  // Counts (overall and for channel `id`) and logs (throttled) a rejected record.
  Outcome Reject(routing::ChannelId id, metrics::RejectReason reason, const char* what, const RecordView& r,
                 const std::string& why);
  static metrics::RejectReason ReasonFor(const DecodeResult& failed, metrics::RejectReason otherwise);

  const routing::ChannelTable& channels_;
  PayloadDecoder& decoder_;
  const routing::InterestTable& interest_;
  routing::EventSink& sink_;
  metrics::IngestStats& stats_;
  DecodeResult pending_;
  std::string last_error_;
  uint64_t rejected_total_ = 0;
  std::string json_scratch_;  // reused per record
};

}  // namespace rte::ingest
