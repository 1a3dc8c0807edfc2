#include "config/settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

namespace rte::config {
namespace {

Environment Env(std::initializer_list<std::pair<const char*, const char*>> vars) {
  Environment env;
  for (auto [k, v] : vars) env.Set(k, v);
  return env;
}

TEST(SettingsTest, PrototypeVariablesAndDefaults) {
  auto s = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:9092"},
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
  EXPECT_TRUE(LoadSettings(Env({}), false).ok());
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
    auto s = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:1"}, {c.var, c.value}}), true);
    ASSERT_FALSE(s.ok()) << c.var << "=" << c.value;
    EXPECT_NE(s.error().message.find(c.var), std::string::npos) << s.error().message;
  }
}

TEST(SettingsTest, SaslNeedsCredentials) {
  auto s = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:1"},
                             {"KAFKA_SECURITY_PROTOCOL", "SASL_SSL"},
                             {"KAFKA_SASL_MECHANISMS", "PLAIN"},
                             {"KAFKA_SASL_USERNAME", "key"}}),
                        true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("KAFKA_SASL_PASSWORD"), std::string::npos);
  EXPECT_EQ(s.error().message.find("secret"), std::string::npos);
}

TEST(SettingsTest, StartPositionsAndPassThrough) {
  auto s = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:1"},
                             {"KAFKA_START_FROM", "timestamp:1764350000000"},
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
  auto without = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:1"}, {"CHANNELS_FILE", path}}), true);
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.error().message.find("KAFKA_SCHEMA_REGISTRY_URL"), std::string::npos);
  auto with = LoadSettings(Env({{"KAFKA_BOOTSTRAP_SERVER", "b:1"}, {"CHANNELS_FILE", path},
                                {"KAFKA_SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081"}}), true);
  ASSERT_TRUE(with.ok()) << with.error().message;
  ASSERT_EQ(with->channels.size(), 1u);
  EXPECT_EQ(with->channels[0].value_format, PayloadFormat::kAvro);
  unlink(path);
}

}  // namespace
}  // namespace rte::config
