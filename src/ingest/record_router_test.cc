#include "ingest/record_router.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace rte::ingest {
namespace {
namespace json = boost::json;

class CollectingSink : public routing::EventSink {
 public:
  void Deliver(uint64_t workers, routing::EventPtr event) override { got.emplace_back(workers, std::move(event)); }
  void Flush() override { ++flushes; }
  std::vector<std::pair<uint64_t, routing::EventPtr>> got;
  int flushes = 0;
};

// The JSON inside a server text frame.
std::string Payload(const std::string& frame) {
  size_t len = static_cast<uint8_t>(frame[1]);
  return frame.substr(len == 126 ? 4 : len == 127 ? 10 : 2);
}

std::span<const uint8_t> Bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

config::ChannelConfig Channel(std::string name, std::string topic) {
  config::ChannelConfig c;
  c.name = std::move(name);
  c.topic = std::move(topic);
  c.tenant_field = *config::ParseFieldPath("key.organization_id");
  c.property_field = *config::ParseFieldPath("value.property_id");
  return c;
}

class RecordRouterTest : public ::testing::Test {
 protected:
  RecordRouterTest()
      : channels_({Channel("payment", "payments"), Channel("guest", "guests")}),
        decoder_(nullptr),
        router_(channels_, decoder_, interest_, sink_, stats_) {}

  RecordView Record(std::string_view key, std::string_view value, std::string_view topic = "payments") {
    key_ = std::string(key);
    value_ = std::string(value);
    RecordView r;
    r.topic = topic;
    r.partition = 2;
    r.offset = 77;
    r.timestamp_ms = 1764350000000;
    r.key = Bytes(key_);
    r.has_key = true;
    r.value = Bytes(value_);
    r.has_value = true;
    return r;
  }

  routing::ChannelTable channels_;
  PayloadDecoder decoder_;
  routing::InterestTable interest_;
  CollectingSink sink_;
  metrics::IngestStats stats_;
  RecordRouter router_;
  std::string key_, value_;
};

TEST_F(RecordRouterTest, SkipsTenantsNobodyWantsWithoutDecodingTheValue) {
  // The value is not JSON: had it been decoded, this would be a value error.
  EXPECT_EQ(router_.Route(Record(R"({"organization_id":42})", "{not json")), RecordRouter::Outcome::kSkipped);
  EXPECT_EQ(stats_.records_skipped.Get(), 1u);
  EXPECT_EQ(stats_.value_errors.Get(), 0u);
  EXPECT_TRUE(sink_.got.empty());
}

TEST_F(RecordRouterTest, RoutesToInterestedWorkersWithOneRenderedFrame) {
  interest_.Apply({{0, "42"}, 1, true, 0});
  interest_.Apply({{0, "42"}, 5, true, 0});
  ASSERT_EQ(router_.Route(Record(R"({"organization_id":42})", R"({"property_id":7,"amount":"12.50"})")),
            RecordRouter::Outcome::kRouted);
  ASSERT_EQ(sink_.got.size(), 1u);
  auto& [workers, ev] = sink_.got[0];
  EXPECT_EQ(workers, (uint64_t{1} << 1) | (uint64_t{1} << 5));
  EXPECT_EQ(ev->tenant, "42");
  EXPECT_EQ(ev->property, "7");
  EXPECT_EQ(ev->partition, 2);
  EXPECT_EQ(ev->offset, 77);
  // The frame is a complete WebSocket text frame around the event JSON.
  ASSERT_GT(ev->frame.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(ev->frame[0]), 0x81);
  size_t len = static_cast<uint8_t>(ev->frame[1]);
  size_t header = 2;
  if (len == 126) {
    len = (static_cast<uint8_t>(ev->frame[2]) << 8) | static_cast<uint8_t>(ev->frame[3]);
    header = 4;
  }
  ASSERT_EQ(ev->frame.size(), header + len);
  auto msg = json::parse(ev->frame.substr(header)).as_object();
  EXPECT_EQ(msg["type"], "event");
  EXPECT_EQ(msg["channel"], "payment");
  EXPECT_EQ(msg["topic"], "payments");
  EXPECT_EQ(msg["partition"], 2);
  EXPECT_EQ(msg["offset"], 77);
  EXPECT_EQ(msg["timestamp"], 1764350000000);
  EXPECT_EQ(msg["key"].as_object()["organization_id"], 42);
  EXPECT_EQ(msg["value"].as_object()["amount"], "12.50");
}

TEST_F(RecordRouterTest, StringKeyIsTheTenant) {
  interest_.Apply({{1, "org-9"}, 0, true, 0});
  EXPECT_EQ(router_.Route(Record("org-9", R"({"x":1})", "guests")), RecordRouter::Outcome::kRouted);
  ASSERT_EQ(sink_.got.size(), 1u);
  EXPECT_EQ(sink_.got[0].second->channel, 1);
  auto msg = json::parse(Payload(sink_.got[0].second->frame)).as_object();
  EXPECT_EQ(msg["key"], "org-9");
  EXPECT_EQ(sink_.got[0].second->property, "");
}

TEST_F(RecordRouterTest, BadRecordsAreCountedNotDelivered) {
  interest_.Apply({{0, "42"}, 0, true, 0});
  EXPECT_EQ(router_.Route(Record(R"({"other":1})", "{}")), RecordRouter::Outcome::kKeyError);
  EXPECT_EQ(stats_.key_errors.Get(), 1u);
  // auto format: a value that is not JSON but valid UTF-8 becomes a string.
  EXPECT_EQ(router_.Route(Record(R"({"organization_id":42})", "plain text")), RecordRouter::Outcome::kRouted);
  auto msg = json::parse(Payload(sink_.got.back().second->frame)).as_object();
  EXPECT_EQ(msg["value"], "plain text");
  EXPECT_EQ(router_.Route(Record(R"({"organization_id":42})", "{}", "unknown-topic")), RecordRouter::Outcome::kNoChannel);
}

TEST(PayloadDecoderTest, Formats) {
  PayloadDecoder d(nullptr);
  using F = config::PayloadFormat;
  EXPECT_EQ(d.Decode(F::kJson, Bytes(R"({"a":1})"), true).value.as_object().at("a"), 1);
  EXPECT_EQ(d.Decode(F::kJson, Bytes("{bad"), true).state, DecodeResult::State::kError);
  EXPECT_EQ(d.Decode(F::kString, Bytes("héllo"), true).value, "héllo");
  EXPECT_EQ(d.Decode(F::kString, Bytes("\xff"), true).state, DecodeResult::State::kError);
  EXPECT_EQ(d.Decode(F::kBytes, Bytes(std::string("\x00\xff\x10", 3)), true).value, "AP8Q");
  EXPECT_TRUE(d.Decode(F::kJson, {}, false).value.is_null());
  // auto without a registry: framed bytes are not valid UTF-8, so base64.
  EXPECT_EQ(d.Decode(F::kAuto, Bytes(std::string("\x00\x00\x00\x00\x01\x02", 6)), true).value, "AAAAAAEC");
  EXPECT_EQ(d.Decode(F::kAuto, Bytes("42"), true).value, 42);
  EXPECT_EQ(d.Decode(F::kAvro, Bytes("x"), true).state, DecodeResult::State::kError);
}

TEST(PayloadDecoderTest, Base64) {
  EXPECT_EQ(Base64Encode(Bytes("")), "");
  EXPECT_EQ(Base64Encode(Bytes("f")), "Zg==");
  EXPECT_EQ(Base64Encode(Bytes("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(Bytes("foo")), "Zm9v");
  EXPECT_EQ(Base64Encode(Bytes("foobar")), "Zm9vYmFy");
}

TEST(ExtractIdTest, IdsAsStrings) {
  auto v = json::parse(R"({"a":{"b":42,"s":"x","d":7.0,"f":1.5,"n":null}})");
  EXPECT_EQ(ExtractId(v, {"a", "b"}, false), "42");
  EXPECT_EQ(ExtractId(v, {"a", "s"}, false), "x");
  EXPECT_EQ(ExtractId(v, {"a", "d"}, false), "7");
  EXPECT_EQ(ExtractId(v, {"a", "f"}, false), std::nullopt);
  EXPECT_EQ(ExtractId(v, {"a", "n"}, false), std::nullopt);
  EXPECT_EQ(ExtractId(v, {"a", "zz"}, false), std::nullopt);
  EXPECT_EQ(ExtractId(json::value(5), {"organization_id"}, true), "5");
}

}  // namespace
}  // namespace rte::ingest
