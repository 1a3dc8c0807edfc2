// Settings: every knob of the gateway, typed, with defaults. Loaded once at
// start-up from the environment (the prototype's variable names first), an
// optional .env file, and an optional channels file (YAML). Invalid settings
// produce an Error whose message names the variable.
// Thread: built on the main thread before any other starts; read-only after.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace rte::config {

// How a record key or value is encoded.
enum class PayloadFormat {
  kAuto,    // Confluent-framed if magic byte 0 and a registry is configured, else JSON if it parses, else string
  kJson,
  kString,
  kBytes,   // rendered base64
  kAvro,    // Confluent-framed Avro through the schema registry
};
const char* PayloadFormatName(PayloadFormat f);
std::optional<PayloadFormat> ParsePayloadFormat(std::string_view s);

// Where a routing field is read from a record: "key" (the whole key),
// "key.a.b", "value.a.b" or "header.name".
struct FieldPath {
  enum class Source { kKey, kValue, kHeader };
  Source source = Source::kKey;
  std::vector<std::string> path;  // empty with kKey: the key itself
  std::string text;               // as configured, for messages
};
Result<FieldPath> ParseFieldPath(std::string_view text);

struct ChannelConfig {
  std::string name;    // what clients subscribe to, e.g. "payment"
  std::string topic;   // Kafka topic
  PayloadFormat key_format = PayloadFormat::kAuto;
  PayloadFormat value_format = PayloadFormat::kAuto;
  FieldPath tenant_field;                  // default key.organization_id
  std::optional<FieldPath> property_field; // default value.property_id
};

enum class StartPosition { kEnd, kBeginning, kTimestamp };

struct KafkaSettings {
  std::string bootstrap_servers;
  std::string security_protocol;   // empty: librdkafka default (plaintext)
  std::string group_id = "realtime-events";
  std::string sasl_mechanisms;
  std::string sasl_username;
  std::string sasl_password;       // secret: never logged
  int session_timeout_ms = 45000;
  StartPosition start = StartPosition::kEnd;
  int64_t start_timestamp_ms = 0;  // with kTimestamp
  int metadata_refresh_ms = 5000;  // how often new partitions are looked for
  // Any librdkafka property, passed through last (overrides the above).
  std::vector<std::pair<std::string, std::string>> extra;
};

struct RegistrySettings {
  std::string url;        // empty: no registry
  std::string user_info;  // "key:secret" (secret: never logged)
};

struct ServerSettings {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 5000;
  int workers = 0;                       // 0: one per core
  int ping_interval_s = 20;              // {"type":"ping"} and ping frames
  int heart_beat_interval_s = 2;         // a send taking longer: client is dead
  int idle_timeout_s = 0;                // 0: 3 x ping interval
  size_t max_frame_bytes = 64 * 1024;    // largest client message accepted
  size_t send_queue_bytes = 1024 * 1024; // per-connection send queue cap
  size_t max_subscriptions = 64;         // per connection
  std::string web_root;                  // empty: the built-in test page
};

struct Settings {
  KafkaSettings kafka;
  RegistrySettings registry;
  ServerSettings server;
  std::vector<ChannelConfig> channels;
  std::string log_level = "info";
  std::string log_format = "text";

  int EffectiveIdleTimeoutS() const {
    return server.idle_timeout_s > 0 ? server.idle_timeout_s : 3 * server.ping_interval_s;
  }
};

// Source of variables: the process environment merged over a .env file.
class Environment {
 public:
  // Reads the process environment.
  static Environment FromProcess();
  // Parses a .env file's text (KEY=value lines, # comments, optional quotes,
  // optional "export "). Variables already set are not overridden.
  Status MergeDotEnv(std::string_view text, std::string_view origin);
  void Set(std::string key, std::string value) { vars_[std::move(key)] = std::move(value); }
  std::optional<std::string> Get(const std::string& key) const;

 private:
  std::map<std::string, std::string> vars_;
};

// Builds and validates Settings. `require_kafka`: KAFKA_BOOTSTRAP_SERVER must
// be present (serve), or may be absent (demo supplies its own).
Result<Settings> LoadSettings(const Environment& env, bool require_kafka);

// Parses a channels file (YAML) into channel configs; `origin` names it in errors.
Result<std::vector<ChannelConfig>> ParseChannelsYaml(std::string_view text, std::string_view origin);

// A list of every variable we read, with its default and meaning (for --help and docs).
struct VariableDoc {
  const char* name;
  const char* default_value;
  const char* meaning;
};
const std::vector<VariableDoc>& DocumentedVariables();

}  // namespace rte::config
