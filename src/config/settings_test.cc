#include "config/settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>

namespace rte::config {
namespace {

Environment Env(std::initializer_list<std::pair<const char*, const char*>> vars) {
  Environment env;
  for (auto [k, v] : vars) env.Set(k, v);
  return env;
}

// A valid serve environment (loopback, so AUTH_MODE may stay unset) with `vars` on top.
Environment Serve(std::initializer_list<std::pair<const char*, const char*>> vars) {
  Environment env;
  env.Set("KAFKA_BOOTSTRAP_SERVER", "b:1");
  env.Set("BIND_ADDRESS", "127.0.0.1");
  for (auto [k, v] : vars) env.Set(k, v);
  return env;
}

// A file removed when the test ends.
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    char path[] = "/tmp/rte_settings_XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    close(fd);
    path_ = path;
  }
  ~TempFile() { unlink(path_.c_str()); }
  const char* path() const { return path_.c_str(); }

 private:
  std::string path_;
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(SettingsTest, PrototypeVariablesAndDefaults) {
  auto s = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:9092"},
                             {"BIND_ADDRESS", "127.0.0.1"},
                             {"KAFKA_GROUP_ID", "g1"},
                             {"KAFKA_SESSION_TIMEOUT", "10000"},
                             {"PAYMENT_TOPIC", "pay-topic"},
                             {"PING_INTERVAL", "7"}}),
                        true);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->kafka.bootstrap_servers, "b:9092");
  EXPECT_EQ(s->kafka.group_id, "g1");
  EXPECT_EQ(s->kafka.session_timeout_ms, 10000);
  EXPECT_EQ(s->server.port, 5000);
  EXPECT_EQ(s->server.ping_interval_s, 7);
  EXPECT_EQ(s->server.heart_beat_interval_s, 2);
  EXPECT_EQ(s->EffectiveIdleTimeoutS(), 21);
  ASSERT_EQ(s->channels.size(), 3u);
  EXPECT_EQ(s->channels[0].name, "payment");
  EXPECT_EQ(s->channels[0].topic, "pay-topic");
  EXPECT_EQ(s->channels[1].topic, "guests");
  EXPECT_EQ(s->channels[2].topic, "reservations");
  EXPECT_EQ(s->channels[0].tenant_field.source, FieldPath::Source::kKey);
  EXPECT_EQ(s->channels[0].tenant_field.path, std::vector<std::string>{"organization_id"});
  ASSERT_TRUE(s->channels[0].property_field.has_value());
  EXPECT_EQ(s->channels[0].property_field->source, FieldPath::Source::kValue);
}

TEST(SettingsTest, MissingBootstrapNamesTheVariable) {
  auto s = LoadSettings(Env({}), true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("KAFKA_BOOTSTRAP_SERVER"), std::string::npos);
  EXPECT_TRUE(LoadSettings(Env({{"AUTH_MODE", "none"}}), false).ok());
}

TEST(SettingsTest, BadValuesNameTheVariable) {
  struct Case {
    const char* var;
    const char* value;
  } cases[] = {{"PORT", "abc"},          {"PORT", "70000"},         {"PING_INTERVAL", "0"},
               {"HEART_BEAT_INTERVAL", "-1"}, {"KAFKA_SESSION_TIMEOUT", "1s"}, {"KAFKA_SECURITY_PROTOCOL", "TLS"},
               {"KAFKA_START_FROM", "yesterday"}, {"MAX_FRAME_BYTES", "1"}, {"LOG_LEVEL", "loud"},
               {"KAFKA_SCHEMA_REGISTRY_URL", "ftp://x"}, {"KAFKA_SCHEMA_REGISTRY_USER", "nocolon"},
               {"TENANT_FIELD", "body.x"}, {"KAFKA_CONFIG", "novalue"}, {"CHANNELS_FILE", "/nonexistent.yaml"},
               {"WORKERS", "0"}};
  for (const auto& c : cases) {
    auto s = LoadSettings(Serve({{c.var, c.value}}), true);
    ASSERT_FALSE(s.ok()) << c.var << "=" << c.value;
    EXPECT_NE(s.error().message.find(c.var), std::string::npos) << s.error().message;
    EXPECT_FALSE(Contains(s.error().message, "configuration errors")) << s.error().message;
  }
}

TEST(SettingsTest, ClusterSettingsNameTheVariableAndHideThePassword) {
  auto s = LoadSettings(Serve({{"REDIS_URL", "rediss://:hunter2hunter2@h:6379"}, {"NODE_TTL_SECONDS", "1"},
                               {"NODE_NAME", "has space"}}),
                        true);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("REDIS_URL"), std::string::npos);
  EXPECT_NE(s.error().message.find("NODE_TTL_SECONDS"), std::string::npos);
  EXPECT_NE(s.error().message.find("NODE_NAME"), std::string::npos);
  EXPECT_EQ(s.error().message.find("hunter2"), std::string::npos);
  auto ok = LoadSettings(Serve({{"REDIS_URL", "redis://127.0.0.1:6379"}, {"MAX_CONNECTIONS_PER_ORGANIZATION", "5"}}),
                         true);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->cluster.redis_url, "redis://127.0.0.1:6379");
  EXPECT_EQ(ok->cluster.node_ttl_s, 15);
  EXPECT_EQ(ok->cluster.max_connections_per_organization, 5);
}

TEST(SettingsTest, SaslNeedsCredentials) {
  auto s = LoadSettings(Serve({{"KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
                             {"KAFKA_SASL_MECHANISMS", "PLAIN"},
                             {"KAFKA_SASL_USERNAME", "key"}}),
                        true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("KAFKA_SASL_PASSWORD"), std::string::npos);
  EXPECT_EQ(s.error().message.find("secret"), std::string::npos);
}

TEST(SettingsTest, StartPositionsAndPassThrough) {
  auto s = LoadSettings(Serve({{"KAFKA_START_FROM", "timestamp:1764350000000"},
                             {"KAFKA_CONFIG", "fetch.wait.max.ms=5; client.rack = r1"}}),
                        true);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->kafka.start, StartPosition::kTimestamp);
  EXPECT_EQ(s->kafka.start_timestamp_ms, 1764350000000);
  ASSERT_EQ(s->kafka.extra.size(), 2u);
  EXPECT_EQ(s->kafka.extra[1].first, "client.rack");
  EXPECT_EQ(s->kafka.extra[1].second, "r1");
}

TEST(SettingsTest, DotEnvDoesNotOverrideEnvironment) {
  Environment env;
  env.Set("PORT", "6000");
  ASSERT_TRUE(env.MergeDotEnv("# comment\nexport PORT=7000\nKAFKA_BOOTSTRAP_SERVER=\"h:1\"\nGUEST_TOPIC=g # note\n", ".env").ok());
  EXPECT_EQ(*env.Get("PORT"), "6000");
  EXPECT_EQ(*env.Get("KAFKA_BOOTSTRAP_SERVER"), "h:1");
  EXPECT_EQ(*env.Get("GUEST_TOPIC"), "g");
  auto bad = env.MergeDotEnv("JUSTAWORD\n", "my.env");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("my.env:1"), std::string::npos);
}

TEST(SettingsTest, ChannelsYaml) {
  auto chans = ParseChannelsYaml(R"(
channels:
  orders:
    topic: shop.orders
    key_format: string
    value_format: json
    tenant_field: value.shop.id
    property_field: header.store
  audit:
    topic: audit
    property_field: none
)", "c.yaml");
  ASSERT_TRUE(chans.ok()) << chans.error().message;
  ASSERT_EQ(chans->size(), 2u);
  const auto& o = (*chans)[0];
  EXPECT_EQ(o.name, "orders");
  EXPECT_EQ(o.key_format, PayloadFormat::kString);
  EXPECT_EQ(o.tenant_field.source, FieldPath::Source::kValue);
  EXPECT_EQ(o.tenant_field.path, (std::vector<std::string>{"shop", "id"}));
  EXPECT_EQ(o.property_field->source, FieldPath::Source::kHeader);
  EXPECT_FALSE((*chans)[1].property_field.has_value());
}

TEST(SettingsTest, ChannelsYamlErrorsNameTheProblem) {
  EXPECT_NE(ParseChannelsYaml("channels:\n  a:\n    key_format: json\n", "f").error().message.find("topic"), std::string::npos);
  EXPECT_NE(ParseChannelsYaml("channels:\n  a:\n    topic: t\n    value_format: xml\n", "f").error().message.find("xml"),
            std::string::npos);
  EXPECT_NE(ParseChannelsYaml("channels:\n  a:\n    topic: t\n    colour: red\n", "f").error().message.find("colour"),
            std::string::npos);
  EXPECT_FALSE(ParseChannelsYaml("[unclosed", "f").ok());
  EXPECT_FALSE(ParseChannelsYaml("other: 1", "f").ok());
}

TEST(SettingsTest, AvroChannelNeedsRegistry) {
  char path[] = "/tmp/rte_channels_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string yaml = "channels:\n  a:\n    topic: t\n    value_format: avro\n";
  ASSERT_EQ(write(fd, yaml.data(), yaml.size()), static_cast<ssize_t>(yaml.size()));
  close(fd);
  auto without = LoadSettings(Serve({{"CHANNELS_FILE", path}}), true);
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.error().message.find("KAFKA_SCHEMA_REGISTRY_URL"), std::string::npos);
  auto with = LoadSettings(Serve({{"CHANNELS_FILE", path}, {"KAFKA_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081"}}), true);
  ASSERT_TRUE(with.ok()) << with.error().message;
  ASSERT_EQ(with->channels.size(), 1u);
  EXPECT_EQ(with->channels[0].value_format, PayloadFormat::kAvro);
  unlink(path);
}


// --- Security settings: AUTH_* / JWT_* / limits.

TEST(SettingsTest, AuthAndLimitDefaults) {
  auto s = LoadSettings(Serve({}), true);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const AuthSettings& a = s->auth;
  EXPECT_EQ(a.mode, AuthMode::kUnset);
  EXPECT_TRUE(a.jwt_algorithms.empty());
  EXPECT_EQ(a.jwt_secret, "");
  EXPECT_EQ(a.jwt_public_key_file, "");
  EXPECT_EQ(a.jwt_jwks_url, "");
  EXPECT_EQ(a.jwt_jwks_refresh_s, 300);
  EXPECT_EQ(a.jwt_jwks_min_refresh_s, 10);
  EXPECT_EQ(a.jwt_issuer, "");
  EXPECT_EQ(a.jwt_audience, "");
  EXPECT_EQ(a.jwt_leeway_s, 30);
  EXPECT_EQ(a.jwt_user_claim, "sub");
  EXPECT_EQ(a.jwt_orgs_claim, "orgs");
  EXPECT_EQ(a.jwt_properties_claim, "");
  EXPECT_EQ(a.allowlist_file, "");
  EXPECT_EQ(a.auth_timeout_s, 10);
  const LimitSettings& l = s->limits;
  EXPECT_TRUE(l.allowed_origins.empty());
  EXPECT_EQ(l.tls_cert_file, "");
  EXPECT_EQ(l.tls_key_file, "");
  EXPECT_EQ(l.handshake_timeout_s, 10);
  EXPECT_EQ(l.max_header_bytes, 8192u);
  EXPECT_EQ(l.max_body_bytes, 16384u);
  EXPECT_EQ(l.max_connections_per_ip, 1000);
  EXPECT_EQ(l.max_connections_per_user, 100);
  EXPECT_DOUBLE_EQ(l.command_rate, 20);
  EXPECT_EQ(l.command_burst, 40);
  EXPECT_EQ(l.max_id_length, 128u);
}

TEST(SettingsTest, AuthAndLimitVariablesParsed) {
  TempFile key("-----BEGIN PUBLIC KEY-----\n");
  TempFile allow("42,alice\n");
  TempFile cert("cert"), pkey("key");
  auto s = LoadSettings(Serve({{"AUTH_MODE", "JWT"},
                               {"JWT_ALGORITHMS", " rs256 , ES256,EdDSA,,RS256,hs512"},
                               {"JWT_SECRET", std::string(64, 'k').c_str()},
                               {"JWT_PUBLIC_KEY_FILE", key.path()},
                               {"JWT_JWKS_URL", "https://idp.example.com/.well-known/jwks.json"},
                               {"JWT_JWKS_REFRESH", "600"},
                               {"JWT_JWKS_MIN_REFRESH", "5"},
                               {"JWT_ISSUER", "https://idp.example.com/"},
                               {"JWT_AUDIENCE", "realtime"},
                               {"JWT_LEEWAY", "0"},
                               {"JWT_USER_CLAIM", "email"},
                               {"JWT_ORGS_CLAIM", "tenants"},
                               {"JWT_PROPERTIES_CLAIM", "props"},
                               {"ALLOWLIST_FILE", allow.path()},
                               {"AUTH_TIMEOUT", "300"},
                               {"ALLOWED_ORIGINS", "https://App.Example.com, http://localhost:5000,https://a.example:443"},
                               {"TLS_CERT_FILE", cert.path()},
                               {"TLS_KEY_FILE", pkey.path()},
                               {"HANDSHAKE_TIMEOUT", "1"},
                               {"MAX_HEADER_BYTES", "1024"},
                               {"MAX_BODY_BYTES", "0"},
                               {"MAX_CONNECTIONS_PER_IP", "0"},
                               {"MAX_CONNECTIONS_PER_USER", "10000000"},
                               {"COMMAND_RATE", "2.5"},
                               {"COMMAND_BURST", "100000"},
                               {"MAX_ID_LENGTH", "1024"}}),
                        true);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const AuthSettings& a = s->auth;
  EXPECT_EQ(a.mode, AuthMode::kJwt);
  EXPECT_EQ(a.jwt_algorithms, (std::vector<std::string>{"RS256", "ES256", "EdDSA", "HS512"}));
  EXPECT_EQ(a.jwt_secret, std::string(64, 'k'));
  EXPECT_EQ(a.jwt_public_key_file, key.path());
  EXPECT_EQ(a.jwt_jwks_url, "https://idp.example.com/.well-known/jwks.json");
  EXPECT_EQ(a.jwt_jwks_refresh_s, 600);
  EXPECT_EQ(a.jwt_jwks_min_refresh_s, 5);
  EXPECT_EQ(a.jwt_issuer, "https://idp.example.com/");
  EXPECT_EQ(a.jwt_audience, "realtime");
  EXPECT_EQ(a.jwt_leeway_s, 0);
  EXPECT_EQ(a.jwt_user_claim, "email");
  EXPECT_EQ(a.jwt_orgs_claim, "tenants");
  EXPECT_EQ(a.jwt_properties_claim, "props");
  EXPECT_EQ(a.allowlist_file, allow.path());
  EXPECT_EQ(a.auth_timeout_s, 300);
  const LimitSettings& l = s->limits;
  EXPECT_EQ(l.allowed_origins,
            (std::vector<std::string>{"https://app.example.com", "http://localhost:5000", "https://a.example"}));
  EXPECT_EQ(l.tls_cert_file, cert.path());
  EXPECT_EQ(l.tls_key_file, pkey.path());
  EXPECT_EQ(l.handshake_timeout_s, 1);
  EXPECT_EQ(l.max_header_bytes, 1024u);
  EXPECT_EQ(l.max_body_bytes, 0u);
  EXPECT_EQ(l.max_connections_per_ip, 0);
  EXPECT_EQ(l.max_connections_per_user, 10000000);
  EXPECT_DOUBLE_EQ(l.command_rate, 2.5);
  EXPECT_EQ(l.command_burst, 100000);
  EXPECT_EQ(l.max_id_length, 1024u);

  for (auto [mode, want] : {std::pair{"none", AuthMode::kNone}, std::pair{"allowlist", AuthMode::kAllowlist},
                            std::pair{"", AuthMode::kUnset}}) {
    auto m = LoadSettings(Serve({{"AUTH_MODE", mode}, {"ALLOWLIST_FILE", allow.path()}}), true);
    ASSERT_TRUE(m.ok()) << mode << ": " << m.error().message;
    EXPECT_EQ(m->auth.mode, want) << mode;
  }
}

TEST(SettingsTest, RangesOfNewVariables) {
  struct Case {
    const char* var;
    const char* min;
    const char* max;
    const char* below;  // nullptr: the minimum is 0 and "-1" is checked as not an integer / out of range
    const char* above;
  } cases[] = {
      {"JWT_JWKS_REFRESH", "10", "86400", "9", "86401"},
      {"JWT_JWKS_MIN_REFRESH", "1", "3600", "0", "3601"},
      {"JWT_LEEWAY", "0", "600", "-1", "601"},
      {"AUTH_TIMEOUT", "1", "300", "0", "301"},
      {"HANDSHAKE_TIMEOUT", "1", "300", "0", "301"},
      {"MAX_HEADER_BYTES", "1024", "1048576", "1023", "1048577"},
      {"MAX_BODY_BYTES", "0", "16777216", "-1", "16777217"},
      {"MAX_CONNECTIONS_PER_IP", "0", "10000000", "-1", "10000001"},
      {"MAX_CONNECTIONS_PER_USER", "0", "10000000", "-1", "10000001"},
      {"COMMAND_RATE", "0.1", "100000", "0.09", "100000.5"},
      {"COMMAND_BURST", "1", "100000", "0", "100001"},
      {"MAX_ID_LENGTH", "1", "1024", "0", "1025"},
  };
  for (const auto& c : cases) {
    for (const char* ok : {c.min, c.max}) {
      auto s = LoadSettings(Serve({{c.var, ok}}), true);
      EXPECT_TRUE(s.ok()) << c.var << "=" << ok << ": " << s.error().message;
    }
    for (const char* bad : {c.below, c.above, "12abc", "x"}) {
      auto s = LoadSettings(Serve({{c.var, bad}}), true);
      ASSERT_FALSE(s.ok()) << c.var << "=" << bad;
      const std::string& m = s.error().message;
      EXPECT_EQ(m.rfind(std::string(c.var) + "=", 0), 0u) << m;  // one problem, naming the variable first
      EXPECT_TRUE(Contains(m, "out of range") || Contains(m, "is not an integer") ||
                  Contains(m, "is not a decimal number"))
          << m;
    }
  }
  auto out = LoadSettings(Serve({{"AUTH_TIMEOUT", "301"}}), true);
  EXPECT_EQ(out.error().message, "AUTH_TIMEOUT=301 is out of range [1, 300]");
  auto rate = LoadSettings(Serve({{"COMMAND_RATE", "0"}}), true);
  EXPECT_EQ(rate.error().message, "COMMAND_RATE=0 is out of range [0.1, 100000]");
  for (const char* bad : {"1e3", "nan", "inf", ".5", "5.", "1.2.3", "+3", "-2"}) {
    auto s = LoadSettings(Serve({{"COMMAND_RATE", bad}}), true);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().message, "COMMAND_RATE=\"" + std::string(bad) + "\" is not a decimal number");
  }
}

TEST(SettingsTest, AuthModeValues) {
  auto s = LoadSettings(Serve({{"AUTH_MODE", "oauth"}}), true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "AUTH_MODE=\"oauth\" is not one of none, allowlist, jwt");
}

TEST(SettingsTest, JwtAlgorithmNoneIsRejectedExplicitly) {
  for (const char* list : {"none", "RS256,none", "NONE"}) {
    auto s = LoadSettings(Serve({{"JWT_ALGORITHMS", list}}), true);
    ASSERT_FALSE(s.ok()) << list;
    EXPECT_EQ(s.error().message,
              "JWT_ALGORITHMS: \"none\" is not allowed: unsigned tokens would let anyone pose as any user");
  }
  auto s = LoadSettings(Serve({{"JWT_ALGORITHMS", "RS256,PS256"}}), true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "JWT_ALGORITHMS: \"PS256\" is not one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, EdDSA");
}

TEST(SettingsTest, JwtNeedsAlgorithms) {
  auto s = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_JWKS_URL", "https://idp/jwks"}}), true);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.error().message, "AUTH_MODE=jwt needs JWT_ALGORITHMS")) << s.error().message;
  // An invalid list is reported once, not also as missing.
  auto bad = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", "none"}}), true);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(Contains(bad.error().message, "configuration errors")) << bad.error().message;
}

TEST(SettingsTest, JwtHmacNeedsALongEnoughSecret) {
  auto missing = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", "HS256"}}), true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "JWT_ALGORITHMS=HS256 needs JWT_SECRET (at least 32 bytes)");
  struct Case {
    const char* algs;
    size_t need;
    const char* strictest;
  } cases[] = {{"HS256", 32, "HS256"}, {"HS384", 48, "HS384"}, {"HS512", 64, "HS512"},
               {"HS256,HS512,RS256", 64, "HS512"}, {"HS384,HS256", 48, "HS384"}};
  for (const auto& c : cases) {
    const std::string secret_ok(c.need, 'Q');
    const std::string secret_short = "Zq7" + std::string(c.need - 4, 'Z');  // need - 1 bytes
    auto ok = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", c.algs},
                                  {"JWT_SECRET", secret_ok.c_str()}, {"JWT_JWKS_URL", "http://idp/jwks"}}),
                           true);
    EXPECT_TRUE(ok.ok()) << c.algs << ": " << ok.error().message;
    auto s = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", c.algs},
                                 {"JWT_SECRET", secret_short.c_str()}, {"JWT_JWKS_URL", "http://idp/jwks"}}),
                          true);
    ASSERT_FALSE(s.ok()) << c.algs;
    EXPECT_EQ(s.error().message, "JWT_SECRET is shorter than " + std::to_string(c.need) +
                                     " bytes, the minimum for " + c.strictest + " (RFC 7518 section 3.2)");
    EXPECT_FALSE(Contains(s.error().message, "Zq7")) << "the secret leaked: " << s.error().message;
  }
  // Without AUTH_MODE=jwt nothing is required of JWT_SECRET.
  EXPECT_TRUE(LoadSettings(Serve({{"JWT_ALGORITHMS", "HS256"}}), true).ok());
}

TEST(SettingsTest, JwtAsymmetricNeedsAKey) {
  auto s = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", "RS256,ES256"}}), true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "JWT_ALGORITHMS=RS256,ES256 needs JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL");
  EXPECT_TRUE(LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", "EdDSA"},
                                  {"JWT_JWKS_URL", "https://idp.example.com/jwks"}}), true).ok());
  TempFile key("pem");
  EXPECT_TRUE(LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", "ES384"},
                                  {"JWT_PUBLIC_KEY_FILE", key.path()}}), true).ok());
  for (const char* path : {"/nonexistent/key.pem", "/tmp"}) {
    auto unreadable = LoadSettings(Serve({{"AUTH_MODE", "jwt"}, {"JWT_ALGORITHMS", "RS512"},
                                          {"JWT_PUBLIC_KEY_FILE", path}}), true);
    ASSERT_FALSE(unreadable.ok()) << path;
    EXPECT_EQ(unreadable.error().message.rfind("JWT_PUBLIC_KEY_FILE=\"" + std::string(path) + "\" cannot be read: ", 0),
              0u) << unreadable.error().message;
  }
  for (const char* url : {"ftp://idp/jwks", "idp/jwks", "https://", "https:///jwks"}) {
    auto bad = LoadSettings(Serve({{"JWT_JWKS_URL", url}}), true);
    ASSERT_FALSE(bad.ok()) << url;
    EXPECT_EQ(bad.error().message.rfind("JWT_JWKS_URL=\"" + std::string(url) + "\"", 0), 0u) << bad.error().message;
  }
}

TEST(SettingsTest, AllowlistNeedsAReadableFile) {
  auto missing = LoadSettings(Serve({{"AUTH_MODE", "allowlist"}}), true);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "AUTH_MODE=allowlist needs ALLOWLIST_FILE");
  auto unreadable = LoadSettings(Serve({{"AUTH_MODE", "allowlist"}, {"ALLOWLIST_FILE", "/nonexistent.csv"}}), true);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().message,
            "ALLOWLIST_FILE=\"/nonexistent.csv\" cannot be read: No such file or directory");
  TempFile file("42,alice\n");
  EXPECT_TRUE(LoadSettings(Serve({{"AUTH_MODE", "allowlist"}, {"ALLOWLIST_FILE", file.path()}}), true).ok());
}

TEST(SettingsTest, AuthModeRequiredOffLoopback) {
  for (const char* addr : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    auto s = LoadSettings(Serve({{"BIND_ADDRESS", addr}}), true);
    EXPECT_TRUE(s.ok()) << addr << ": " << s.error().message;
    EXPECT_TRUE(IsLoopbackAddress(addr)) << addr;
  }
  for (const char* addr : {"0.0.0.0", "192.0.2.1", "::", "2001:db8::1", "128.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackAddress(addr)) << addr;
    auto s = LoadSettings(Serve({{"BIND_ADDRESS", addr}}), true);
    ASSERT_FALSE(s.ok()) << addr;
    EXPECT_EQ(s.error().message, "AUTH_MODE is required when BIND_ADDRESS=" + std::string(addr) +
                                     " is not a loopback address: set AUTH_MODE=jwt (or allowlist), or "
                                     "AUTH_MODE=none to serve every tenant's records to anyone");
    auto none = LoadSettings(Serve({{"BIND_ADDRESS", addr}, {"AUTH_MODE", "none"}}), true);
    EXPECT_TRUE(none.ok()) << addr << ": " << none.error().message;
    EXPECT_EQ(none->auth.mode, AuthMode::kNone);
  }
  // The default BIND_ADDRESS (0.0.0.0) is not loopback.
  auto def = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:1"}}), true);
  ASSERT_FALSE(def.ok());
  EXPECT_TRUE(Contains(def.error().message, "AUTH_MODE is required when BIND_ADDRESS=0.0.0.0")) << def.error().message;
  // Not an address at all: said so, and no AUTH_MODE noise on top.
  auto host = LoadSettings(Serve({{"BIND_ADDRESS", "localhost"}}), true);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().message, "BIND_ADDRESS=\"localhost\" is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)");
  EXPECT_TRUE(LoadSettings(Serve({{"BIND_ADDRESS", "fe80::1%lo"}, {"AUTH_MODE", "none"}}), true).ok());
}

TEST(SettingsTest, AllowedOrigins) {
  auto any = LoadSettings(Serve({{"ALLOWED_ORIGINS", " * "}}), true);
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_TRUE(any->limits.allowed_origins.empty());
  auto norm = LoadSettings(Serve({{"ALLOWED_ORIGINS", "HTTPS://A.example.COM:8443,http://[::1]:80,http://x:80,"
                                                      "https://a.example.com:8443,chrome-extension://abc"}}),
                           true);
  ASSERT_TRUE(norm.ok()) << norm.error().message;
  EXPECT_EQ(norm->limits.allowed_origins,
            (std::vector<std::string>{"https://a.example.com:8443", "http://[::1]", "http://x", "chrome-extension://abc"}));
  struct Case {
    const char* value;
    const char* says;
  } cases[] = {
      {"https://app.example.com/", "has a path"},     {"https://app.example.com/x", "has a path"},
      {"app.example.com", "is not an origin"},          {"https://", "has no host"},
      {"https://a.com:0", "invalid port"},              {"https://a.com:99999", "invalid port"},
      {"https://a.com:", "empty port"},                 {"https://u:p@a.com", "user info"},
      {"https://*.example.com", "invalid host"},        {"*,https://a.com", "must be the only entry"},
      {"null", "is not an origin"},                     {"https://a.com?x", "has a path"},
      {"https://[::1", "unclosed"},                     {"https://::1", "IPv6 hosts go in []"},
  };
  for (const auto& c : cases) {
    auto s = LoadSettings(Serve({{"ALLOWED_ORIGINS", c.value}}), true);
    ASSERT_FALSE(s.ok()) << c.value;
    EXPECT_EQ(s.error().message.rfind("ALLOWED_ORIGINS: ", 0), 0u) << s.error().message;
    EXPECT_TRUE(Contains(s.error().message, c.says)) << c.value << ": " << s.error().message;
  }
  auto two = LoadSettings(Serve({{"ALLOWED_ORIGINS", "https://ok.example,ftp//x,https://y/z"}}), true);
  ASSERT_FALSE(two.ok());
  EXPECT_TRUE(Contains(two.error().message, "2 configuration errors:")) << two.error().message;
}

TEST(SettingsTest, TlsFilesBothOrNeitherAndReadable) {
  TempFile cert("c"), key("k");
  auto cert_only = LoadSettings(Serve({{"TLS_CERT_FILE", cert.path()}}), true);
  ASSERT_FALSE(cert_only.ok());
  EXPECT_EQ(cert_only.error().message, "TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both (wss://) or neither");
  auto key_only = LoadSettings(Serve({{"TLS_KEY_FILE", key.path()}}), true);
  ASSERT_FALSE(key_only.ok());
  EXPECT_EQ(key_only.error().message, "TLS_KEY_FILE is set but TLS_CERT_FILE is not: set both (wss://) or neither");
  auto unreadable = LoadSettings(Serve({{"TLS_CERT_FILE", "/nonexistent.crt"}, {"TLS_KEY_FILE", "/"}}), true);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().message,
            "2 configuration errors:\n"
            "  TLS_CERT_FILE=\"/nonexistent.crt\" cannot be read: No such file or directory\n"
            "  TLS_KEY_FILE=\"/\" cannot be read: it is a directory");
  EXPECT_TRUE(LoadSettings(Serve({{"TLS_CERT_FILE", cert.path()}, {"TLS_KEY_FILE", key.path()}}), true).ok());
}

TEST(SettingsTest, EveryProblemIsReportedAtOnce) {
  auto s = LoadSettings(Env({{"PORT", "abc"},
                             {"PING_INTERVAL", "0"},
                             {"LOG_LEVEL", "loud"},
                             {"AUTH_MODE", "jwt"},
                             {"JWT_ALGORITHMS", "HS256"},
                             {"JWT_SECRET", "tooshort-s3cr3t"},
                             {"MAX_HEADER_BYTES", "10"},
                             {"ALLOWED_ORIGINS", "https://a.example/"}}),
                        true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "7 configuration errors:\n"
            "  KAFKA_BOOTSTRAP_SERVER is required (host:port[,host:port])\n"
            "  PORT=\"abc\" is not an integer\n"
            "  PING_INTERVAL=0 is out of range [1, 3600]\n"
            "  LOG_LEVEL=\"loud\" is not one of trace, debug, info, warn, error\n"
            "  JWT_SECRET is shorter than 32 bytes, the minimum for HS256 (RFC 7518 section 3.2)\n"
            "  ALLOWED_ORIGINS: \"https://a.example/\" has a path: an origin is scheme://host[:port], with no "
            "path (not even a trailing /)\n"
            "  MAX_HEADER_BYTES=10 is out of range [1024, 1048576]");
  EXPECT_FALSE(Contains(s.error().message, "s3cr3t"));
}

TEST(SettingsTest, ValuesFromDotEnvNameTheFile) {
  Environment env;
  env.Set("KAFKA_BOOTSTRAP_SERVER", "b:1");
  env.Set("HEART_BEAT_INTERVAL", "0");  // from the process environment: no origin
  ASSERT_TRUE(env.MergeDotEnv("PING_INTERVAL=0\nBIND_ADDRESS=0.0.0.0\nHEART_BEAT_INTERVAL=5\n"
                              "JWT_LEEWAY=bad\nLOG_FORMAT=xml\nJWT_SECRET=short-s3cr3t\nAUTH_MODE=jwt\n"
                              "JWT_ALGORITHMS=HS512\n",
                              "conf/prod.env")
                  .ok());
  EXPECT_EQ(env.Origin("PING_INTERVAL"), "conf/prod.env");
  EXPECT_EQ(env.Origin("HEART_BEAT_INTERVAL"), std::nullopt);
  EXPECT_EQ(env.Origin("KAFKA_BOOTSTRAP_SERVER"), std::nullopt);
  auto s = LoadSettings(env, true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "5 configuration errors:\n"
            "  PING_INTERVAL=0 (from conf/prod.env) is out of range [1, 3600]\n"
            "  HEART_BEAT_INTERVAL=0 is out of range [1, 3600]\n"
            "  LOG_FORMAT=\"xml\" (from conf/prod.env) is not text or json\n"
            "  JWT_LEEWAY=\"bad\" (from conf/prod.env) is not an integer\n"
            "  JWT_SECRET (from conf/prod.env) is shorter than 64 bytes, the minimum for HS512 (RFC 7518 "
            "section 3.2)");
  EXPECT_FALSE(Contains(s.error().message, "s3cr3t"));

  auto unset = Environment();
  ASSERT_TRUE(unset.MergeDotEnv("BIND_ADDRESS=192.0.2.1\n", ".env").ok());
  auto u = LoadSettings(unset, false);
  ASSERT_FALSE(u.ok());
  EXPECT_TRUE(Contains(u.error().message, "AUTH_MODE is required when BIND_ADDRESS=192.0.2.1 (from .env) is not"))
      << u.error().message;
  // Set() replaces a value and its origin.
  unset.Set("BIND_ADDRESS", "127.0.0.1");
  EXPECT_EQ(unset.Origin("BIND_ADDRESS"), std::nullopt);
  EXPECT_TRUE(LoadSettings(unset, false).ok());
}

TEST(SettingsTest, MessagesStayOnOneLine) {
  auto s = LoadSettings(Serve({{"LOG_LEVEL", "a\nb\x01"}}), true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "LOG_LEVEL=\"a\\nb\\x01\" is not one of trace, debug, info, warn, error");
}

TEST(SettingsTest, RegistryNotFoundGrace) {
  auto d = LoadSettings(Serve({}), true);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->registry.not_found_grace_ms, 10000);
  auto zero = LoadSettings(Serve({{"REGISTRY_NOT_FOUND_GRACE_MS", "0"}}), true);
  ASSERT_TRUE(zero.ok()) << zero.error().message;
  EXPECT_EQ(zero->registry.not_found_grace_ms, 0);
  for (const char* bad : {"-1", "3600001", "10s"}) {
    auto s = LoadSettings(Serve({{"REGISTRY_NOT_FOUND_GRACE_MS", bad}}), true);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_TRUE(Contains(s.error().message, "REGISTRY_NOT_FOUND_GRACE_MS")) << s.error().message;
  }
}

TEST(SettingsTest, DeadLetterTopic) {
  auto off = LoadSettings(Serve({}), true);
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->dlq_topic, "");
  auto on = LoadSettings(Serve({{"DLQ_TOPIC", "gateway.dead-letters_1"}}), true);
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_EQ(on->dlq_topic, "gateway.dead-letters_1");
  auto bad = LoadSettings(Serve({{"DLQ_TOPIC", "dead letters"}}), true);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.error().message, "DLQ_TOPIC=\"dead letters\" is not a Kafka topic name"))
      << bad.error().message;
  auto loop = LoadSettings(Serve({{"DLQ_TOPIC", "payments"}}), true);
  ASSERT_FALSE(loop.ok());
  EXPECT_TRUE(Contains(loop.error().message, "is the topic of channel \"payment\"")) << loop.error().message;
}

TEST(SettingsTest, EveryNewVariableIsDocumented) {
  std::set<std::string> documented;
  for (const auto& v : DocumentedVariables()) {
    EXPECT_TRUE(documented.insert(v.name).second) << v.name << " documented twice";
    EXPECT_LE(std::strlen(v.name), 33u) << v.name;  // serve --help's columns
    EXPECT_LE(std::strlen(v.default_value), 20u) << v.name;
    EXPECT_LT(std::strlen(v.meaning), 200u) << v.name;
  }
  for (const char* name :
       {"AUTH_MODE", "JWT_ALGORITHMS", "JWT_SECRET", "JWT_PUBLIC_KEY_FILE", "JWT_JWKS_URL", "JWT_JWKS_REFRESH",
        "JWT_JWKS_MIN_REFRESH", "JWT_ISSUER", "JWT_AUDIENCE", "JWT_LEEWAY", "JWT_USER_CLAIM", "JWT_ORGS_CLAIM",
        "JWT_PROPERTIES_CLAIM", "ALLOWLIST_FILE", "AUTH_TIMEOUT", "ALLOWED_ORIGINS", "TLS_CERT_FILE", "TLS_KEY_FILE",
        "HANDSHAKE_TIMEOUT", "MAX_HEADER_BYTES", "MAX_BODY_BYTES", "MAX_CONNECTIONS_PER_IP",
        "MAX_CONNECTIONS_PER_USER", "COMMAND_RATE", "COMMAND_BURST", "MAX_ID_LENGTH",
        "REGISTRY_NOT_FOUND_GRACE_MS", "DLQ_TOPIC"}) {
    EXPECT_TRUE(documented.count(name)) << name;
  }
}

}  // namespace
}  // namespace rte::config
