#include "ingest/record_router.h"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <cmath>

#include "wire/protocol.h"
#include "wire/ws_frame.h"

namespace rte::ingest {
namespace json = boost::json;
using config::FieldPath;

std::optional<std::string> ExtractId(const json::value& root, const std::vector<std::string>& path,
                                     bool scalar_is_id) {
  const json::value* v = &root;
  if (!(scalar_is_id && !root.is_object())) {
    for (const auto& seg : path) {
      if (!v->is_object()) return std::nullopt;
      v = v->get_object().if_contains(seg);
      if (!v) return std::nullopt;
    }
  }
  switch (v->kind()) {
    case json::kind::string: return std::string(v->get_string());
    case json::kind::int64: return std::to_string(v->get_int64());
    case json::kind::uint64: return std::to_string(v->get_uint64());
    case json::kind::double_: {
      double d = v->get_double();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e15) {
        return std::to_string(static_cast<int64_t>(d));
      }
      return std::nullopt;
    }
    case json::kind::bool_: return std::string(v->get_bool() ? "true" : "false");
    default: return std::nullopt;
  }
}

RecordRouter::RecordRouter(const routing::ChannelTable& channels, PayloadDecoder& decoder,
                           const routing::InterestTable& interest, routing::EventSink& sink,
                           metrics::IngestStats& stats)
    : channels_(channels), decoder_(decoder), interest_(interest), sink_(sink), stats_(stats) {}

RecordRouter::Outcome RecordRouter::Route(const RecordView& record) {
  const auto& ids = channels_.ForTopic(record.topic);
  if (ids.empty()) return Outcome::kNoChannel;
  Outcome result = Outcome::kSkipped;
  for (routing::ChannelId id : ids) {
    Outcome o = RouteChannel(id, record);
    if (o == Outcome::kPending) return o;  // retried whole later
    if (o == Outcome::kRouted || result == Outcome::kSkipped) result = o;
  }
  return result;
}

std::optional<std::string> RecordRouter::ReadField(const FieldPath& field, const RecordView& record,
                                                   const json::value& key, const json::value* value) {
  switch (field.source) {
    case FieldPath::Source::kKey:
      return ExtractId(key, field.path, /*scalar_is_id=*/true);
    case FieldPath::Source::kValue:
      return value ? ExtractId(*value, field.path, false) : std::nullopt;
    case FieldPath::Source::kHeader:
      for (const auto& [name, bytes] : record.headers) {
        if (name == field.path[0]) {
          std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
          if (!wire::IsValidUtf8(text)) return std::nullopt;
          return std::string(text);
        }
      }
      return std::nullopt;
  }
  return std::nullopt;
}

metrics::RejectReason RecordRouter::ReasonFor(const DecodeResult& failed, metrics::RejectReason otherwise) {
  switch (failed.failure) {
    case DecodeFailure::kSchemaNotFound: return metrics::RejectReason::kSchemaNotFound;
    case DecodeFailure::kSchemaUnsupported: return metrics::RejectReason::kSchemaUnsupported;
    case DecodeFailure::kUndecodable: break;
  }
  return otherwise;
}

RecordRouter::Outcome RecordRouter::Reject(routing::ChannelId id, metrics::RejectReason reason, const char* what,
                                           const RecordView& r, const std::string& why) {
  stats_.Channel(id).rejected.Add();
  // `what` is the part at fault: "key" or "tenant" count as key errors.
  const bool key = std::string_view(what) != "value";
  (key ? stats_.key_errors : stats_.value_errors).Add();
  stats_.Rejected(reason);
  last_error_ = std::string(what) + ": " + why;
  const uint64_t count = ++rejected_total_;
  // Log the first few, then every power of two: visible, never a log flood.
  if (count <= 10 || (count & (count - 1)) == 0) {
    spdlog::warn("record {}/{}@{} rejected: {}: {} ({} rejected so far)", r.topic, r.partition, r.offset, what,
                 why, count);
  }
  return key ? Outcome::kKeyError : Outcome::kValueError;
}

RecordRouter::Outcome RecordRouter::RouteChannel(routing::ChannelId id, const RecordView& record) {
  const config::ChannelConfig& ch = channels_.Get(id);
  metrics::ChannelIngestCounters& counters = stats_.Channel(id);
  // 1. Key first: it usually carries the tenant.
  DecodeResult key = decoder_.Decode(ch.key_format, record.key, record.has_key);
  if (key.state == DecodeResult::State::kPending) {
    pending_ = std::move(key);
    return Outcome::kPending;
  }
  if (key.state == DecodeResult::State::kError) {
    return Reject(id, ReasonFor(key, metrics::RejectReason::kBadKey), "key", record, key.error.message);
  }
  // 2. Tenant. A tenant in the value needs the value decoded first.
  DecodeResult value;
  bool value_decoded = false;
  auto decode_value = [&]() -> bool {
    if (value_decoded) return value.state == DecodeResult::State::kOk;
    value = decoder_.Decode(ch.value_format, record.value, record.has_value);
    value_decoded = true;
    return value.state == DecodeResult::State::kOk;
  };
  // Why the value could not be used: pending schema or a bad value.
  auto value_failure = [&]() {
    if (value.state == DecodeResult::State::kPending) {
      pending_ = std::move(value);
      return Outcome::kPending;
    }
    return Reject(id, ReasonFor(value, metrics::RejectReason::kBadValue), "value", record, value.error.message);
  };
  if (ch.tenant_field.source == FieldPath::Source::kValue && !decode_value()) return value_failure();
  std::optional<std::string> tenant =
      ReadField(ch.tenant_field, record, key.value, value_decoded ? &value.value : nullptr);
  if (!tenant) {
    return Reject(id, metrics::RejectReason::kNoTenant, "tenant", record, "no tenant at " + ch.tenant_field.text);
  }
  // 3. Skip early: nobody anywhere subscribed to this tenant.
  const uint64_t workers = interest_.Workers(id, *tenant);
  if (workers == 0) {
    stats_.records_skipped.Add();
    counters.skipped.Add();
    return Outcome::kSkipped;
  }
  // 4. Decode the value once.
  if (!decode_value()) return value_failure();
  std::string property;
  if (ch.property_field) {
    if (auto p = ReadField(*ch.property_field, record, key.value, &value.value)) property = std::move(*p);
  }
  // 5. Render once into an immutable frame shared by every recipient.
  json_scratch_.clear();
  // JSON payloads are rendered as their own (validated) text; other values
  // are serialized from the decoded tree.
  const std::string key_text = key.json_text.empty() ? json::serialize(key.value) : std::string();
  const std::string value_text = value.json_text.empty() ? json::serialize(value.value) : std::string();
  wire::RenderEvent(&json_scratch_, ch.name, record.topic, record.partition, record.offset, record.timestamp_ms,
                    key.json_text.empty() ? std::string_view(key_text) : key.json_text,
                    value.json_text.empty() ? std::string_view(value_text) : value.json_text);
  auto event = std::make_shared<routing::Event>();
  event->channel = id;
  event->tenant = std::move(*tenant);
  event->property = std::move(property);
  event->partition = record.partition;
  event->offset = record.offset;
  event->timestamp_ms = record.timestamp_ms;
  wire::AppendFrame(&event->frame, wire::Opcode::kText, json_scratch_);
  stats_.records_routed.Add();
  counters.routed.Add();
  sink_.Deliver(workers, std::move(event));
  return Outcome::kRouted;
}

}  // namespace rte::ingest
