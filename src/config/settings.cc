#include "config/settings.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace rte::config {
namespace {

Error Invalid(std::string message) { return MakeError(Errc::kInvalidArgument, std::move(message)); }

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

template <class T>
Result<T> ParseInt(const Environment& env, const std::string& name, T def, T min, T max) {
  auto v = env.Get(name);
  if (!v || v->empty()) return def;
  std::string s = Trim(*v);
  T out{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Invalid(name + "=\"" + *v + "\" is not an integer");
  }
  if (out < min || out > max) {
    return Invalid(name + "=" + s + " is out of range [" + std::to_string(min) + ", " +
                   std::to_string(max) + "]");
  }
  return out;
}

std::string GetOr(const Environment& env, const std::string& name, std::string def) {
  auto v = env.Get(name);
  return v && !v->empty() ? *v : def;
}

}  // namespace

const char* PayloadFormatName(PayloadFormat f) {
  switch (f) {
    case PayloadFormat::kAuto: return "auto";
    case PayloadFormat::kJson: return "json";
    case PayloadFormat::kString: return "string";
    case PayloadFormat::kBytes: return "bytes";
    case PayloadFormat::kAvro: return "avro";
  }
  return "?";
}

const char* AuthModeName(AuthMode m) {
  switch (m) {
    case AuthMode::kUnset: return "unset";
    case AuthMode::kNone: return "none";
    case AuthMode::kAllowlist: return "allowlist";
    case AuthMode::kJwt: return "jwt";
  }
  return "?";
}

std::optional<PayloadFormat> ParsePayloadFormat(std::string_view s) {
  if (s == "auto") return PayloadFormat::kAuto;
  if (s == "json") return PayloadFormat::kJson;
  if (s == "string") return PayloadFormat::kString;
  if (s == "bytes") return PayloadFormat::kBytes;
  if (s == "avro") return PayloadFormat::kAvro;
  return std::nullopt;
}

Result<FieldPath> ParseFieldPath(std::string_view text) {
  FieldPath fp;
  fp.text = std::string(text);
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    parts.emplace_back(text.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  for (auto& p : parts) {
    if (p.empty()) return Invalid("field path \"" + fp.text + "\" has an empty segment");
  }
  const std::string& head = parts.front();
  if (head == "key") {
    fp.source = FieldPath::Source::kKey;
  } else if (head == "value") {
    fp.source = FieldPath::Source::kValue;
    if (parts.size() < 2) return Invalid("field path \"" + fp.text + "\" needs a field after value.");
  } else if (head == "header" || head == "headers") {
    fp.source = FieldPath::Source::kHeader;
    if (parts.size() != 2) return Invalid("field path \"" + fp.text + "\" must be header.<name>");
  } else {
    return Invalid("field path \"" + fp.text + "\" must start with key, value or header");
  }
  fp.path.assign(parts.begin() + 1, parts.end());
  return fp;
}

Environment Environment::FromProcess() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.vars_[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return env;
}

Status Environment::MergeDotEnv(std::string_view text, std::string_view origin) {
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = Trim(t.substr(7));
    size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Invalid(std::string(origin) + ":" + std::to_string(lineno) + ": expected KEY=value");
    }
    std::string key = Trim(t.substr(0, eq));
    std::string value = Trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else {
      // Unquoted: strip an inline comment.
      size_t hash = value.find(" #");
      if (hash != std::string::npos) value = Trim(value.substr(0, hash));
    }
    if (!vars_.count(key)) vars_[key] = value;
  }
  return {};
}

std::optional<std::string> Environment::Get(const std::string& key) const {
  auto it = vars_.find(key);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<ChannelConfig>> ParseChannelsYaml(std::string_view text, std::string_view origin) {
  std::vector<ChannelConfig> out;
  const std::string where(origin);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Invalid(where + ": not valid YAML: " + e.what());
  }
  YAML::Node channels = root["channels"];
  if (!channels || !channels.IsMap()) {
    return Invalid(where + ": expected a top-level map \"channels:\" of name -> settings");
  }
  try {
    for (auto it = channels.begin(); it != channels.end(); ++it) {
      ChannelConfig ch;
      ch.name = it->first.as<std::string>();
      const std::string at = where + ": channel \"" + ch.name + "\"";
      YAML::Node n = it->second;
      if (!n.IsMap()) return Invalid(at + " must be a map");
      static const std::set<std::string> kKnown = {"topic", "key_format", "value_format",
                                                   "tenant_field", "property_field"};
      for (auto f = n.begin(); f != n.end(); ++f) {
        auto k = f->first.as<std::string>();
        if (!kKnown.count(k)) return Invalid(at + ": unknown setting \"" + k + "\"");
      }
      if (!n["topic"]) return Invalid(at + ": \"topic\" is required");
      ch.topic = n["topic"].as<std::string>();
      for (auto [field, target] : {std::pair{"key_format", &ch.key_format},
                                   std::pair{"value_format", &ch.value_format}}) {
        if (n[field]) {
          auto s = n[field].as<std::string>();
          auto f = ParsePayloadFormat(s);
          if (!f) return Invalid(at + ": " + field + " \"" + s + "\" is not one of auto, json, string, bytes, avro");
          *target = *f;
        }
      }
      auto tenant = ParseFieldPath(n["tenant_field"] ? n["tenant_field"].as<std::string>() : "key.organization_id");
      if (!tenant) return Invalid(at + ": tenant_field: " + tenant.error().message);
      ch.tenant_field = *tenant;
      std::string prop = n["property_field"] ? n["property_field"].as<std::string>() : "value.property_id";
      if (!prop.empty() && prop != "none") {
        auto p = ParseFieldPath(prop);
        if (!p) return Invalid(at + ": property_field: " + p.error().message);
        ch.property_field = *p;
      }
      out.push_back(std::move(ch));
    }
  } catch (const YAML::Exception& e) {
    return Invalid(where + ": " + e.what());
  }
  if (out.empty()) return Invalid(where + ": no channels defined");
  return out;
}

Result<Settings> LoadSettings(const Environment& env, bool require_kafka) {
  Settings s;
  // --- Kafka
  s.kafka.bootstrap_servers = GetOr(env, "KAFKA_BOOTSTRAP_SERVER", "");
  if (require_kafka && s.kafka.bootstrap_servers.empty()) {
    return Invalid("KAFKA_BOOTSTRAP_SERVER is required (host:port[,host:port])");
  }
  s.kafka.security_protocol = GetOr(env, "KAFKA_SECURITY_PROTOCOL", "");
  if (!s.kafka.security_protocol.empty()) {
    std::string p = s.kafka.security_protocol;
    std::transform(p.begin(), p.end(), p.begin(), ::toupper);
    if (p != "PLAINTEXT" && p != "SSL" && p != "SASL_PLAINTEXT" && p != "SASL_SSL") {
      return Invalid("KAFKA_SECURITY_PROTOCOL=\"" + s.kafka.security_protocol +
                     "\" is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
    }
    s.kafka.security_protocol = p;
  }
  s.kafka.group_id = GetOr(env, "KAFKA_GROUP_ID", s.kafka.group_id);
  s.kafka.sasl_mechanisms = GetOr(env, "KAFKA_SASL_MECHANISMS", "");
  s.kafka.sasl_username = GetOr(env, "KAFKA_SASL_USERNAME", "");
  s.kafka.sasl_password = GetOr(env, "KAFKA_SASL_PASSWORD", "");
  if (s.kafka.security_protocol.rfind("SASL", 0) == 0) {
    if (s.kafka.sasl_mechanisms.empty()) return Invalid("KAFKA_SASL_MECHANISMS is required with KAFKA_SECURITY_PROTOCOL=" + s.kafka.security_protocol);
    if (s.kafka.sasl_mechanisms == "PLAIN" || s.kafka.sasl_mechanisms.rfind("SCRAM", 0) == 0) {
      if (s.kafka.sasl_username.empty()) return Invalid("KAFKA_SASL_USERNAME is required with KAFKA_SASL_MECHANISMS=" + s.kafka.sasl_mechanisms);
      if (s.kafka.sasl_password.empty()) return Invalid("KAFKA_SASL_PASSWORD is required with KAFKA_SASL_MECHANISMS=" + s.kafka.sasl_mechanisms);
    }
  }
  auto sto = ParseInt<int>(env, "KAFKA_SESSION_TIMEOUT", 45000, 1000, 3600000);
  if (!sto) return sto.error();
  s.kafka.session_timeout_ms = *sto;
  std::string start = GetOr(env, "KAFKA_START_FROM", "end");
  if (start == "end" || start == "latest") {
    s.kafka.start = StartPosition::kEnd;
  } else if (start == "beginning" || start == "earliest") {
    s.kafka.start = StartPosition::kBeginning;
  } else if (start.rfind("timestamp:", 0) == 0) {
    s.kafka.start = StartPosition::kTimestamp;
    std::string ts = start.substr(10);
    auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), s.kafka.start_timestamp_ms);
    if (ec != std::errc() || p != ts.data() + ts.size() || s.kafka.start_timestamp_ms < 0) {
      return Invalid("KAFKA_START_FROM=\"" + start + "\": timestamp must be milliseconds since the epoch");
    }
  } else {
    return Invalid("KAFKA_START_FROM=\"" + start + "\" is not one of end, beginning, timestamp:<ms>");
  }
  auto mr = ParseInt<int>(env, "KAFKA_METADATA_REFRESH_MS", 5000, 100, 3600000);
  if (!mr) return mr.error();
  s.kafka.metadata_refresh_ms = *mr;
  // KAFKA_CONFIG: "prop=value;prop=value" passed to librdkafka as is.
  if (auto extra = env.Get("KAFKA_CONFIG"); extra && !extra->empty()) {
    std::string_view rest = *extra;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string item = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      if (item.empty()) continue;
      size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Invalid("KAFKA_CONFIG: \"" + item.substr(0, item.find('=')) + "\" must be property=value");
      }
      s.kafka.extra.emplace_back(Trim(item.substr(0, eq)), Trim(item.substr(eq + 1)));
    }
  }

  // --- Registry
  s.registry.url = GetOr(env, "KAFKA_SCHEMA_REGISTRY_URL", "");
  s.registry.user_info = GetOr(env, "KAFKA_SCHEMA_REGISTRY_USER", "");
  if (!s.registry.url.empty() && s.registry.url.rfind("http://", 0) != 0 &&
      s.registry.url.rfind("https://", 0) != 0) {
    return Invalid("KAFKA_SCHEMA_REGISTRY_URL=\"" + s.registry.url + "\" must start with http:// or https://");
  }
  if (!s.registry.user_info.empty() && s.registry.user_info.find(':') == std::string::npos) {
    return Invalid("KAFKA_SCHEMA_REGISTRY_USER must be key:secret");
  }

  // --- Server
  auto port = ParseInt<int>(env, "PORT", 5000, 0, 65535);
  if (!port) return port.error();
  s.server.port = static_cast<uint16_t>(*port);
  s.server.bind_address = GetOr(env, "BIND_ADDRESS", s.server.bind_address);
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto workers = ParseInt<int>(env, "WORKERS", cores, 1, 1024);
  if (!workers) return workers.error();
  s.server.workers = *workers;
  auto ping = ParseInt<int>(env, "PING_INTERVAL", 20, 1, 3600);
  if (!ping) return ping.error();
  s.server.ping_interval_s = *ping;
  auto hb = ParseInt<int>(env, "HEART_BEAT_INTERVAL", 2, 1, 3600);
  if (!hb) return hb.error();
  s.server.heart_beat_interval_s = *hb;
  auto idle = ParseInt<int>(env, "IDLE_TIMEOUT", 0, 0, 86400);
  if (!idle) return idle.error();
  s.server.idle_timeout_s = *idle;
  if (s.server.idle_timeout_s != 0 && s.server.idle_timeout_s <= s.server.ping_interval_s) {
    return Invalid("IDLE_TIMEOUT=" + std::to_string(s.server.idle_timeout_s) +
                   " must be longer than PING_INTERVAL=" + std::to_string(s.server.ping_interval_s));
  }
  auto mf = ParseInt<size_t>(env, "MAX_FRAME_BYTES", 64 * 1024, 128, 16 * 1024 * 1024);
  if (!mf) return mf.error();
  s.server.max_frame_bytes = *mf;
  auto sq = ParseInt<size_t>(env, "SEND_QUEUE_BYTES", 1024 * 1024, 4096, size_t{1} << 32);
  if (!sq) return sq.error();
  s.server.send_queue_bytes = *sq;
  auto ms = ParseInt<size_t>(env, "MAX_SUBSCRIPTIONS", 64, 1, 100000);
  if (!ms) return ms.error();
  s.server.max_subscriptions = *ms;
  s.server.web_root = GetOr(env, "WEB_ROOT", "");

  // --- Logging
  s.log_level = GetOr(env, "LOG_LEVEL", "info");
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (!kLevels.count(s.log_level)) return Invalid("LOG_LEVEL=\"" + s.log_level + "\" is not one of trace, debug, info, warn, error");
  s.log_format = GetOr(env, "LOG_FORMAT", "text");
  if (s.log_format != "text" && s.log_format != "json") return Invalid("LOG_FORMAT=\"" + s.log_format + "\" is not text or json");

  // --- Channels: the prototype's three, then a channels file if given.
  std::string tenant_default = GetOr(env, "TENANT_FIELD", "key.organization_id");
  auto tenant = ParseFieldPath(tenant_default);
  if (!tenant) return Invalid("TENANT_FIELD: " + tenant.error().message);
  std::optional<FieldPath> property;
  std::string prop_default = GetOr(env, "PROPERTY_FIELD", "value.property_id");
  if (prop_default != "none") {
    auto p = ParseFieldPath(prop_default);
    if (!p) return Invalid("PROPERTY_FIELD: " + p.error().message);
    property = *p;
  }
  if (auto file = env.Get("CHANNELS_FILE"); file && !file->empty()) {
    std::ifstream in(*file);
    if (!in) return Invalid("CHANNELS_FILE=\"" + *file + "\" cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    auto chans = ParseChannelsYaml(ss.str(), *file);
    if (!chans) return Invalid("CHANNELS_FILE: " + chans.error().message);
    s.channels = std::move(*chans);
  } else {
    for (auto [name, var, def] : {std::tuple{"payment", "PAYMENT_TOPIC", "payments"},
                                  std::tuple{"guest", "GUEST_TOPIC", "guests"},
                                  std::tuple{"reservation", "RESERVATION_TOPIC", "reservations"}}) {
      ChannelConfig ch;
      ch.name = name;
      ch.topic = GetOr(env, var, def);
      ch.tenant_field = *tenant;
      ch.property_field = property;
      s.channels.push_back(std::move(ch));
    }
  }
  std::set<std::string> names;
  for (const auto& ch : s.channels) {
    if (!names.insert(ch.name).second) return Invalid("channel \"" + ch.name + "\" is defined twice");
    if (ch.topic.empty()) return Invalid("channel \"" + ch.name + "\" has an empty topic");
    if ((ch.key_format == PayloadFormat::kAvro || ch.value_format == PayloadFormat::kAvro) &&
        s.registry.url.empty()) {
      return Invalid("channel \"" + ch.name + "\" uses avro: KAFKA_SCHEMA_REGISTRY_URL is required");
    }
  }
  return s;
}

const std::vector<VariableDoc>& DocumentedVariables() {
  static const std::vector<VariableDoc> kDocs = {
      {"PORT", "5000", "HTTP/WebSocket listen port"},
      {"BIND_ADDRESS", "0.0.0.0", "listen address"},
      {"WORKERS", "cores", "worker threads, each with its own event loop"},
      {"KAFKA_BOOTSTRAP_SERVER", "(required)", "Kafka bootstrap servers, host:port[,host:port]"},
      {"KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"},
      {"KAFKA_GROUP_ID", "realtime-events", "group id librdkafka requires; no group membership is used"},
      {"KAFKA_SASL_MECHANISMS", "", "e.g. PLAIN (Confluent Cloud), SCRAM-SHA-512"},
      {"KAFKA_SASL_USERNAME", "", "SASL user (Confluent Cloud API key)"},
      {"KAFKA_SASL_PASSWORD", "", "SASL password (Confluent Cloud API secret); never logged"},
      {"KAFKA_SESSION_TIMEOUT", "45000", "session.timeout.ms"},
      {"KAFKA_START_FROM", "end", "where a fresh gateway starts: end, beginning, timestamp:<ms>"},
      {"KAFKA_METADATA_REFRESH_MS", "5000", "how often new partitions are looked for"},
      {"KAFKA_CONFIG", "", "any librdkafka properties: prop=value;prop=value"},
      {"KAFKA_SCHEMA_REGISTRY_URL", "", "Confluent Schema Registry URL"},
      {"KAFKA_SCHEMA_REGISTRY_USER", "", "registry key:secret, sent as HTTP Basic"},
      {"PAYMENT_TOPIC", "payments", "topic of channel payment"},
      {"GUEST_TOPIC", "guests", "topic of channel guest"},
      {"RESERVATION_TOPIC", "reservations", "topic of channel reservation"},
      {"CHANNELS_FILE", "", "YAML file defining channels (replaces the three above)"},
      {"TENANT_FIELD", "key.organization_id", "where the tenant id is read, for the default channels"},
      {"PROPERTY_FIELD", "value.property_id", "where the property id is read (none: no property)"},
      {"PING_INTERVAL", "20", "seconds between {\"type\":\"ping\"} messages and ping frames"},
      {"HEART_BEAT_INTERVAL", "2", "seconds a send may take before the client is considered dead"},
      {"IDLE_TIMEOUT", "3 x PING_INTERVAL", "seconds without any client traffic (pongs count) before closing"},
      {"MAX_FRAME_BYTES", "65536", "largest client message accepted"},
      {"SEND_QUEUE_BYTES", "1048576", "per-connection send queue cap; a client beyond it is closed (1013)"},
      {"MAX_SUBSCRIPTIONS", "64", "subscriptions per connection"},
      {"WEB_ROOT", "", "serve the test page from this folder instead of the built-in copy"},
      {"LOG_LEVEL", "info", "trace, debug, info, warn, error"},
      {"LOG_FORMAT", "text", "text or json"},
  };
  return kDocs;
}

}  // namespace rte::config
