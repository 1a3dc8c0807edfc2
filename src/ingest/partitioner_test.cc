#include "ingest/partitioner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "config/settings.h"
#include "ingest/recent_records.h"
#include "routing/interest.h"

namespace rte::ingest {
namespace {

// Expected values from Kafka's own implementation: a small Java program run
// against kafka-clients-4.1.1.jar (scripts/kafka/fetch puts it in
// ~/.cache/realtime-events/kafka-4.1.1/libs) printed, for each key's UTF-8
// bytes, org.apache.kafka.common.utils.Utils.murmur2(bytes) and
// Utils.toPositive(h) % 6 and % 12:
//   byte[] b = key.getBytes(StandardCharsets.UTF_8);
//   int h = Utils.murmur2(b); int pos = Utils.toPositive(h);
//   System.out.println(key + "\t" + h + "\t" + (pos % 6) + "\t" + (pos % 12));
// (java -cp "<libs>/*:." Murmur). The integration test
// (tests/integration/test_partition_aware.py) checks the same against the
// partitions a real broker reports for records produced with librdkafka's
// murmur2_random partitioner.
struct Known {
  const char* key;
  int32_t murmur2;
  int32_t mod6;
  int32_t mod12;
};
constexpr Known kKnown[] = {
    {"", 275646681, 3, 9},
    {"a", -1563381124, 4, 4},
    {"ab", 316155434, 2, 2},
    {"abc", 479470107, 3, 3},
    {"abcd", -1323649548, 2, 8},
    {"abcde", 461995741, 1, 1},
    {"1", -1993445489, 3, 3},
    {"21", -973932308, 0, 0},
    {"42", 417700972, 4, 4},
    {"kafka", -798503068, 4, 4},
    {"tenant-a", -502566269, 3, 3},
    {"tenant-b", -2114153926, 4, 10},
    {"org-123456789", -1066981541, 3, 3},
    {"{\"organization_id\":\"7\"}", 437886718, 4, 10},
    {"{\"organization_id\":7}", 1128034240, 4, 4},
    {"\xc3\xa9t\xc3\xa9", -2101193575, 1, 1},  // "été" in UTF-8
};

TEST(PartitionerTest, Murmur2MatchesJava) {
  for (const Known& k : kKnown) {
    EXPECT_EQ(Murmur2(std::string_view(k.key)), k.murmur2) << "key \"" << k.key << "\"";
  }
}

TEST(PartitionerTest, PartitionForKeyMatchesJava) {
  for (const Known& k : kKnown) {
    EXPECT_EQ(PartitionForKey(k.key, 6), k.mod6) << "key \"" << k.key << "\"";
    EXPECT_EQ(PartitionForKey(k.key, 12), k.mod12) << "key \"" << k.key << "\"";
  }
}

TEST(PartitionerTest, PartitionIsInRangeAndUsesTheSignBitMask) {
  // A negative hash must not give a negative partition (toPositive is
  // h & 0x7fffffff, not abs(h): both differ for "a").
  const uint32_t h = static_cast<uint32_t>(Murmur2(std::string_view("a")));
  EXPECT_EQ(PartitionForKey("a", 1000), static_cast<int32_t>((h & 0x7fffffffu) % 1000));
  for (int i = 0; i < 1000; ++i) {
    const int32_t p = PartitionForKey(std::to_string(i), 7);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 7);
  }
  EXPECT_EQ(PartitionForKey("x", 1), 0);
  EXPECT_EQ(PartitionForKey("x", 0), 0);  // no partitions: not a crash
}

TEST(PartitionerTest, Murmur2OfBinaryBytes) {
  const uint8_t bytes[] = {0x00, 0xff, 0x80, 0x7f, 0x01};
  // Every byte is taken unsigned (Java's & 0xff): changing one high byte
  // changes the hash.
  const uint8_t other[] = {0x00, 0xff, 0x81, 0x7f, 0x01};
  EXPECT_NE(Murmur2(std::span<const uint8_t>(bytes)), Murmur2(std::span<const uint8_t>(other)));
  EXPECT_EQ(Murmur2(std::span<const uint8_t>(bytes)),
            Murmur2(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes)));
}

TEST(PartitionKeyTemplateTest, PlainTenant) {
  PartitionKeyTemplate t;
  EXPECT_EQ(t.text(), "{tenant}");
  EXPECT_EQ(t.Render("42"), "42");
  EXPECT_EQ(t.Render(""), "");
  EXPECT_EQ(t.Render("tenant-a"), "tenant-a");
}

TEST(PartitionKeyTemplateTest, JsonTemplates) {
  PartitionKeyTemplate quoted(R"({"organization_id":"{tenant}"})");
  EXPECT_EQ(quoted.Render("7"), R"({"organization_id":"7"})");
  PartitionKeyTemplate number(R"({"organization_id":{tenant}})");
  EXPECT_EQ(number.Render("7"), R"({"organization_id":7})");
  // Known partition of the rendered key (see kKnown).
  EXPECT_EQ(PartitionForKey(quoted.Render("7"), 6), 4);
  EXPECT_EQ(PartitionForKey(number.Render("7"), 12), 4);
}

TEST(PartitionKeyTemplateTest, SeveralPlaceholdersAndReuse) {
  PartitionKeyTemplate t("{tenant}/{tenant}-x");
  EXPECT_EQ(t.Render("a"), "a/a-x");
  std::string out = "left over";
  t.RenderTo("bc", &out);
  EXPECT_EQ(out, "bc/bc-x");
  PartitionKeyTemplate braces("{{tenant}}");  // other braces are literal
  EXPECT_EQ(braces.Render("9"), "{9}");
}

TEST(InterestTableTest, ApplyReportsFirstAndLastWorker) {
  routing::InterestTable t;
  routing::TenantKey k{1, "a"};
  EXPECT_EQ(t.Apply({k, 0, true, 1}), 1);
  EXPECT_EQ(t.Apply({k, 3, true, 2}), 0);
  EXPECT_EQ(t.Apply({k, 0, true, 3}), 0);
  EXPECT_EQ(t.Apply({k, 0, false, 4}), 0);
  EXPECT_EQ(t.Apply({k, 3, false, 5}), -1);
  EXPECT_EQ(t.Apply({k, 3, false, 6}), 0);  // not there
  EXPECT_EQ(t.Workers(1, "a"), 0u);
  int keys = 0;
  t.Apply({k, 2, true, 7});
  t.Apply({{2, "b"}, 2, true, 8});
  t.ForEachKey([&](const routing::TenantKey&) { ++keys; });
  EXPECT_EQ(keys, 2);
}

TEST(RecentRecordsTest, ForgetDropsOnePartitionsWindow) {
  RecentRecords recent(1 << 20, 100);
  RecordView r;
  r.topic = "t";
  for (int p = 0; p < 2; ++p) {
    for (int64_t o = 5; o < 8; ++o) {
      r.partition = p;
      r.offset = o;
      recent.Append(r);
    }
  }
  const size_t before = recent.bytes();
  recent.Forget("t", 0);
  EXPECT_FALSE(recent.From("t", 0, 5).has_value());
  ASSERT_TRUE(recent.From("t", 1, 5).has_value());
  EXPECT_EQ(recent.bytes(), before / 2);
  recent.Forget("t", 9);  // unknown: nothing happens
  recent.Forget("u", 0);
}

// --- Settings

config::Environment Serve(std::initializer_list<std::pair<const char*, const char*>> vars) {
  config::Environment env;
  env.Set("KAFKA_BOOTSTRAP_SERVER", "b:1");
  env.Set("BIND_ADDRESS", "127.0.0.1");
  for (auto [k, v] : vars) env.Set(k, v);
  return env;
}

std::string WriteTemp(std::string_view content) {
  char path[] = "/tmp/rte_partitioner_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

TEST(PartitionAwareSettingsTest, DefaultsOff) {
  auto s = config::LoadSettings(Serve({}), true);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->kafka.partition_aware);
  EXPECT_EQ(s->kafka.partition_linger_ms, 30000);
  for (const auto& ch : s->channels) EXPECT_EQ(ch.partition_key, "{tenant}");
}

TEST(PartitionAwareSettingsTest, EnvironmentVariables) {
  auto s = config::LoadSettings(Serve({{"PARTITION_AWARE", "true"},
                                       {"PARTITION_LINGER_MS", "500"},
                                       {"PARTITION_KEY", R"({"organization_id":{tenant}})"}}),
                                true);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->kafka.partition_aware);
  EXPECT_EQ(s->kafka.partition_linger_ms, 500);
  ASSERT_EQ(s->channels.size(), 3u);
  for (const auto& ch : s->channels) EXPECT_EQ(ch.partition_key, R"({"organization_id":{tenant}})");

  auto bad = config::LoadSettings(Serve({{"PARTITION_AWARE", "maybe"}}), true);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("PARTITION_AWARE=\"maybe\""), std::string::npos) << bad.error().message;

  auto no_placeholder = config::LoadSettings(Serve({{"PARTITION_KEY", "org"}}), true);
  ASSERT_FALSE(no_placeholder.ok());
  EXPECT_NE(no_placeholder.error().message.find("PARTITION_KEY"), std::string::npos);
  EXPECT_NE(no_placeholder.error().message.find("{tenant}"), std::string::npos);

  auto linger = config::LoadSettings(Serve({{"PARTITION_LINGER_MS", "-1"}}), true);
  ASSERT_FALSE(linger.ok());
  EXPECT_NE(linger.error().message.find("PARTITION_LINGER_MS"), std::string::npos);
}

TEST(PartitionAwareSettingsTest, ChannelsFilePartitionKey) {
  const std::string path = WriteTemp(R"(channels:
  payment:
    topic: payments
    partition_key: '{"organization_id":"{tenant}"}'
  audit:
    topic: audit
    key_format: string
    tenant_field: key
)");
  auto s = config::LoadSettings(Serve({{"CHANNELS_FILE", path.c_str()}, {"PARTITION_AWARE", "1"}}), true);
  unlink(path.c_str());
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->channels.size(), 2u);
  EXPECT_EQ(s->channels[0].partition_key, R"({"organization_id":"{tenant}"})");
  EXPECT_EQ(s->channels[1].partition_key, "{tenant}");

  auto parsed = config::ParseChannelsYaml("channels:\n  a:\n    topic: t\n    partition_key: org\n", "f.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("must contain {tenant}"), std::string::npos) << parsed.error().message;
}

TEST(PartitionAwareSettingsTest, AvroKeysAreRefusedNamingTheChannel) {
  const std::string path = WriteTemp(R"(channels:
  bookings:
    topic: bookings
    key_format: avro
    value_format: avro
)");
  auto on = config::LoadSettings(Serve({{"CHANNELS_FILE", path.c_str()},
                                        {"KAFKA_SCHEMA_REGISTRY_URL", "http://registry:8081"},
                                        {"PARTITION_AWARE", "true"}}),
                                 true);
  auto off = config::LoadSettings(Serve({{"CHANNELS_FILE", path.c_str()},
                                         {"KAFKA_SCHEMA_REGISTRY_URL", "http://registry:8081"}}),
                                  true);
  unlink(path.c_str());
  ASSERT_FALSE(on.ok());
  EXPECT_NE(on.error().message.find("PARTITION_AWARE"), std::string::npos) << on.error().message;
  EXPECT_NE(on.error().message.find("\"bookings\""), std::string::npos) << on.error().message;
  EXPECT_NE(on.error().message.find("avro"), std::string::npos) << on.error().message;
  EXPECT_TRUE(off.ok()) << off.error().message;
}

}  // namespace
}  // namespace rte::ingest
