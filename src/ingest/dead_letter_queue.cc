#include "ingest/dead_letter_queue.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "ingest/kafka_client.h"

namespace rte::ingest {

DeadLetterQueue::DeadLetterQueue(const config::Settings& settings, metrics::IngestStats& stats)
    : settings_(settings), stats_(stats) {}

DeadLetterQueue::~DeadLetterQueue() { Stop(); }

Status DeadLetterQueue::Start() {
  if (settings_.dlq_topic.empty() || rk_) return {};
  auto made = MakeKafkaConf(settings_.kafka,
                            {{"client.id", "realtime-events-dlq", ""},
                             {"queue.buffering.max.messages", std::to_string(kMaxQueued), ""},
                             {"linger.ms", "20", ""},
                             {"enable.idempotence", "false", ""}},
                            "DLQ_TOPIC producer");
  if (!made) return made.error();
  rd_kafka_conf_t* conf = *made;
  char err[512];
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
    OnDelivery(rk, m, opaque);
  });
  rd_kafka_conf_set_opaque(conf, this);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    return MakeError(Errc::kInvalidArgument, std::string("DLQ_TOPIC producer: ") + err);
  }
  spdlog::info("dead-letter topic: {} (rejected records are produced there)", settings_.dlq_topic);
  return {};
}

void DeadLetterQueue::Stop() {
  if (!rk_) return;
  if (rd_kafka_flush(rk_, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("dead-letter topic: {} records not delivered at shutdown", rd_kafka_outq_len(rk_));
  }
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

void DeadLetterQueue::Send(const RecordView& record, const std::string& error) {
  if (!rk_) return;
  const std::string topic(record.topic);
  const std::string partition = std::to_string(record.partition);
  const std::string offset = std::to_string(record.offset);
  rd_kafka_headers_t* headers = rd_kafka_headers_new(4);
  rd_kafka_header_add(headers, "rte.error", -1, error.data(), static_cast<ssize_t>(error.size()));
  rd_kafka_header_add(headers, "rte.topic", -1, topic.data(), static_cast<ssize_t>(topic.size()));
  rd_kafka_header_add(headers, "rte.partition", -1, partition.data(), static_cast<ssize_t>(partition.size()));
  rd_kafka_header_add(headers, "rte.offset", -1, offset.data(), static_cast<ssize_t>(offset.size()));
  // Copies key and value; fails at once (never blocks) when the queue is full.
  rd_kafka_resp_err_t e = rd_kafka_producev(
      rk_, RD_KAFKA_V_TOPIC(settings_.dlq_topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(record.has_key ? record.key.data() : nullptr, record.has_key ? record.key.size() : 0),
      RD_KAFKA_V_VALUE(const_cast<uint8_t*>(record.has_value ? record.value.data() : nullptr),
                       record.has_value ? record.value.size() : 0),
      RD_KAFKA_V_TIMESTAMP(record.timestamp_ms), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);  // not taken over on failure
    stats_.dead_letters_dropped.Add();
    if (drop_log_.Allow()) {
      spdlog::warn("dead-letter topic {}: record {}/{}@{} dropped: {} ({} more not logged)", settings_.dlq_topic,
                   record.topic, record.partition, record.offset, rd_kafka_err2str(e), drop_log_.suppressed());
    }
  }
}

void DeadLetterQueue::Poll() {
  if (rk_) rd_kafka_poll(rk_, 0);
}

void DeadLetterQueue::OnDelivery(rd_kafka_s*, const void* msg, void* opaque) {
  auto* self = static_cast<DeadLetterQueue*>(opaque);
  const auto* m = static_cast<const rd_kafka_message_t*>(msg);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->stats_.dead_letters_produced.Add();
    return;
  }
  self->stats_.dead_letters_failed.Add();
  if (self->failure_log_.Allow()) {
    spdlog::warn("dead-letter topic {}: delivery failed: {} ({} more not logged)", self->settings_.dlq_topic,
                 rd_kafka_err2str(m->err), self->failure_log_.suppressed());
  }
}

}  // namespace rte::ingest
