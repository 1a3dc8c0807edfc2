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

// Shortest ADMIN_TOKEN accepted.
inline constexpr size_t kMinAdminTokenBytes = 16;

// Most channels a gateway serves (each has its own metric series).
inline constexpr size_t kMaxChannels = 64;

struct ChannelConfig {
  std::string name;    // what clients subscribe to, e.g. "payment"
  std::string topic;   // Kafka topic
  PayloadFormat key_format = PayloadFormat::kAuto;
  PayloadFormat value_format = PayloadFormat::kAuto;
  FieldPath tenant_field;                  // default key.organization_id
  std::optional<FieldPath> property_field; // default value.property_id
  // partition_key (PARTITION_KEY for the default channels): the record key's
  // bytes made from a tenant id, "{tenant}" replaced by it (PARTITION_AWARE).
  std::string partition_key = "{tenant}";
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
  int64_t replay_max_records = 100000;  // REPLAY_MAX_RECORDS: records one resume may read
  int replay_timeout_ms = 10000;        // REPLAY_TIMEOUT_MS: longest one resume may take
  size_t replay_window_bytes = 1 << 20; // REPLAY_WINDOW_BYTES: recent records kept in memory per partition
  size_t replay_window_records = 10000; // REPLAY_WINDOW_RECORDS: and at most this many
  bool partition_aware = false;         // PARTITION_AWARE: assign only the partitions of subscribed tenants
  int partition_linger_ms = 30000;      // PARTITION_LINGER_MS: a partition nobody needs is kept this long
  // Any librdkafka property, passed through last (overrides the above).
  std::vector<std::pair<std::string, std::string>> extra;
};

struct RegistrySettings {
  std::string url;        // empty: no registry
  std::string user_info;  // "key:secret" (secret: never logged)
  // REGISTRY_NOT_FOUND_GRACE_MS: a schema id the registry answers 404 for is
  // asked again for this long before its records are skipped.
  int not_found_grace_ms = 10000;
};

// Who may connect and what they may see (docs/security.md).
enum class AuthMode {
  kUnset,      // AUTH_MODE not given: allowed only on a loopback BIND_ADDRESS (acts as none)
  kNone,       // anyone may subscribe to anything (demo, trusted networks)
  kAllowlist,  // organization_id/user_id pairs from ALLOWLIST_FILE
  kJwt,        // signed tokens; claims give the user, organizations, properties
};
const char* AuthModeName(AuthMode m);

struct AuthSettings {
  AuthMode mode = AuthMode::kUnset;
  std::vector<std::string> jwt_algorithms;  // JWT_ALGORITHMS, e.g. {"RS256","ES256"} (canonical spelling, no duplicates)
  std::string jwt_secret;                   // JWT_SECRET (HS*); secret: never logged
  std::string jwt_public_key_file;          // JWT_PUBLIC_KEY_FILE (PEM)
  std::string jwt_jwks_url;                 // JWT_JWKS_URL
  int jwt_jwks_refresh_s = 300;             // JWT_JWKS_REFRESH: background refresh period
  int jwt_jwks_min_refresh_s = 10;          // JWT_JWKS_MIN_REFRESH: at most one on-demand fetch per period
  std::string jwt_issuer;                   // JWT_ISSUER: required "iss" when set
  std::string jwt_audience;                 // JWT_AUDIENCE: required in "aud" when set
  int jwt_leeway_s = 30;                    // JWT_LEEWAY: clock skew allowed on exp/nbf
  std::string jwt_user_claim = "sub";       // JWT_USER_CLAIM
  std::string jwt_orgs_claim = "orgs";      // JWT_ORGS_CLAIM: a string or a list of strings
  std::string jwt_properties_claim;         // JWT_PROPERTIES_CLAIM: empty = every property
  std::string allowlist_file;               // ALLOWLIST_FILE
  int auth_timeout_s = 10;                  // AUTH_TIMEOUT: a first {"type":"auth"} must come within
};

// Abuse limits (docs/security.md says what each protects).
struct LimitSettings {
  std::vector<std::string> allowed_origins;  // ALLOWED_ORIGINS; empty = any Origin. Each is
                                             // "scheme://host[:port]", lowercase, default port dropped
  std::string tls_cert_file;                 // TLS_CERT_FILE (PEM chain); with TLS_KEY_FILE: wss://
  std::string tls_key_file;                  // TLS_KEY_FILE (PEM)
  int handshake_timeout_s = 10;              // HANDSHAKE_TIMEOUT: whole request (and TLS) must arrive within
  size_t max_header_bytes = 8 * 1024;        // MAX_HEADER_BYTES: request line + headers
  size_t max_body_bytes = 16 * 1024;         // MAX_BODY_BYTES: HTTP request bodies
  int max_connections_per_ip = 1000;         // MAX_CONNECTIONS_PER_IP (0 = no limit)
  int max_connections_per_user = 100;        // MAX_CONNECTIONS_PER_USER (0 = no limit)
  double command_rate = 20;                  // COMMAND_RATE: client commands per second, sustained
  int command_burst = 40;                    // COMMAND_BURST
  size_t max_id_length = 128;                // MAX_ID_LENGTH: organization/property/user ids
};

struct ServerSettings {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 5000;
  int workers = 0;                       // 0: one per core
  int ping_interval_s = 20;              // {"type":"ping"} and ping frames
  int heart_beat_interval_s = 2;         // a send taking longer: client is dead
  int drain_timeout_s = 10;              // DRAIN_TIMEOUT: on SIGTERM, longest wait for clients to get their queued frames
  int idle_timeout_s = 0;                // 0: 3 x ping interval
  size_t max_frame_bytes = 64 * 1024;    // largest client message accepted
  size_t send_queue_bytes = 1024 * 1024; // per-connection send queue cap
  bool slow_client_drop = false;         // SLOW_CLIENT_POLICY: false = close (1013), true = drop oldest + gap message
  size_t max_subscriptions = 64;         // per connection
  std::string web_root;                  // empty: the built-in test page
  std::string admin_token;               // ADMIN_TOKEN: bearer token of /admin and /api/admin/... (empty: admin off); secret
};

// Several instances as one service (docs/scaling.md): shared state in Redis.
struct ClusterSettings {
  std::string redis_url;              // REDIS_URL: redis://[:password@]host:port[/db]; empty = one instance alone; secret (password)
  std::string node_name;              // NODE_NAME; empty = host name + ":" + port
  int node_ttl_s = 15;                // NODE_TTL_SECONDS: a node silent this long is gone, with its presence
  int max_connections_per_organization = 0;  // MAX_CONNECTIONS_PER_ORGANIZATION (0 = no limit); cluster-wide with REDIS_URL
};

struct Settings {
  ClusterSettings cluster;
  KafkaSettings kafka;
  RegistrySettings registry;
  ServerSettings server;
  AuthSettings auth;
  LimitSettings limits;
  std::vector<ChannelConfig> channels;
  std::string dlq_topic;  // DLQ_TOPIC: where rejected records are produced; empty = off
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
  // optional "export "). Variables already set are not overridden; those it
  // adds remember `origin` (the file's name) for error messages.
  Status MergeDotEnv(std::string_view text, std::string_view origin);
  // Sets (or replaces) a variable; it has no file origin.
  void Set(std::string key, std::string value);
  std::optional<std::string> Get(const std::string& key) const;
  // The file a variable came from (MergeDotEnv's origin), or nullopt when it
  // came from the process environment or Set().
  std::optional<std::string> Origin(const std::string& key) const;

 private:
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> origins_;
};

// Builds and validates Settings. `require_kafka`: KAFKA_BOOTSTRAP_SERVER must
// be present (serve), or may be absent (demo supplies its own).
// Every problem is reported at once: with one, the Error's message is that
// problem ("PING_INTERVAL=0 is out of range [1, 3600]"); with several, it is
// "N configuration errors:" followed by one "\n  <problem>" line each. A
// problem names its variable, and the file when the value came from .env
// ("PING_INTERVAL=0 (from .env) is out of range [1, 3600]"). Secret values
// (JWT_SECRET, KAFKA_SASL_PASSWORD, KAFKA_SCHEMA_REGISTRY_USER, ADMIN_TOKEN) never appear.
Result<Settings> LoadSettings(const Environment& env, bool require_kafka);

// True for an IPv4 address in 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. Without
// AUTH_MODE, LoadSettings accepts only such a BIND_ADDRESS.
bool IsLoopbackAddress(std::string_view address);

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
