#include "ingest/kafka_client.h"

#include <librdkafka/rdkafka.h>

#include "ingest/kafka_consumer.h"

namespace rte::ingest {

Result<rd_kafka_conf_t*> MakeKafkaConf(const config::KafkaSettings& k, const std::vector<KafkaProperty>& own,
                                       const std::string& who) {
  std::vector<KafkaProperty> props = own;
  props.emplace_back("bootstrap.servers", k.bootstrap_servers, "KAFKA_BOOTSTRAP_SERVER");
  if (!k.security_protocol.empty()) props.emplace_back("security.protocol", k.security_protocol, "KAFKA_SECURITY_PROTOCOL");
  if (!k.sasl_mechanisms.empty()) props.emplace_back("sasl.mechanisms", k.sasl_mechanisms, "KAFKA_SASL_MECHANISMS");
  if (!k.sasl_username.empty()) props.emplace_back("sasl.username", k.sasl_username, "KAFKA_SASL_USERNAME");
  if (!k.sasl_password.empty()) props.emplace_back("sasl.password", k.sasl_password, "KAFKA_SASL_PASSWORD");
  for (const auto& [name, value] : k.extra) props.emplace_back(name, value, "KAFKA_CONFIG");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [name, value, origin] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return MakeError(Errc::kInvalidArgument, (origin.empty() ? who : origin) + ": " + name + ": " + err);
    }
  }
  rd_kafka_conf_set_log_cb(conf, KafkaLogToSpdlog);
  return conf;
}

RecordView ViewOfMessage(const rd_kafka_message_t* msg) {
  RecordView r;
  r.topic = rd_kafka_topic_name(msg->rkt);
  r.partition = msg->partition;
  r.offset = msg->offset;
  rd_kafka_timestamp_type_t tstype;
  r.timestamp_ms = rd_kafka_message_timestamp(msg, &tstype);
  r.has_key = msg->key != nullptr;
  r.key = {static_cast<const uint8_t*>(msg->key), msg->key_len};
  r.has_value = msg->payload != nullptr;
  r.value = {static_cast<const uint8_t*>(msg->payload), msg->len};
  rd_kafka_headers_t* hdrs = nullptr;
  // (rd_kafka_message_headers takes a non-const message; it only reads it.)
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(msg), &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
    const char* name;
    const void* val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      r.headers.emplace_back(name, std::span<const uint8_t>(static_cast<const uint8_t*>(val), val ? size : 0));
    }
  }
  return r;
}

}  // namespace rte::ingest
