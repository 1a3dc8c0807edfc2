#include "wire/protocol.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace rte::wire {
namespace {

TEST(ProtocolTest, ParsesSubscribeWithFilterAndSince) {
  auto [cmd, err] = ParseClientCommand(
      R"({"type":"subscribe","id":"r1","channel":"payment","filter":{"organization_id":42,"property_id":"7"},"since":{"0":1200,"3":88}})");
  ASSERT_TRUE(cmd) << err.message;
  EXPECT_EQ(cmd->type, ClientCommand::Type::kSubscribe);
  EXPECT_EQ(cmd->id, "r1");
  EXPECT_EQ(cmd->channel, "payment");
  EXPECT_EQ(cmd->filter.organization_id, "42");
  EXPECT_EQ(cmd->filter.property_id, "7");
  ASSERT_EQ(cmd->since.size(), 2u);
  EXPECT_EQ(cmd->since[0], std::make_pair(0, int64_t{1200}));
  EXPECT_EQ(cmd->since[1], std::make_pair(3, int64_t{88}));
}

TEST(ProtocolTest, PingAuthUnsubscribe) {
  EXPECT_EQ(ParseClientCommand(R"({"type":"ping"})").first->type, ClientCommand::Type::kPing);
  auto auth = ParseClientCommand(R"({"type":"auth","token":"abc"})").first;
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->token, "abc");
  auto un = ParseClientCommand(R"({"type":"unsubscribe","id":7,"channel":"guest","filter":{"organization_id":"1"}})").first;
  ASSERT_TRUE(un);
  EXPECT_EQ(un->type, ClientCommand::Type::kUnsubscribe);
  EXPECT_EQ(un->id, "7");
  EXPECT_FALSE(un->filter.property_id);
}

TEST(ProtocolTest, RejectsBadCommandsKeepingTheId) {
  const char* bad[] = {
      "not json",
      "[1,2]",
      R"({"id":"x"})",
      R"({"type":"dance","id":"x"})",
      R"({"type":"subscribe","id":"x","filter":{"organization_id":"1"}})",
      R"({"type":"subscribe","id":"x","channel":"payment"})",
      R"({"type":"subscribe","id":"x","channel":"payment","filter":{}})",
      R"({"type":"subscribe","id":"x","channel":"payment","filter":{"organization_id":""}})",
      R"({"type":"subscribe","id":"x","channel":"payment","filter":{"organization_id":{"a":1}}})",
      R"({"type":"subscribe","id":"x","channel":"payment","filter":{"organization_id":"1"},"since":{"p":1}})",
      R"({"type":"subscribe","id":"x","channel":"payment","filter":{"organization_id":"1"},"since":{"0":"a"}})",
      R"({"type":"auth","id":"x"})",
  };
  for (const char* text : bad) {
    auto [cmd, err] = ParseClientCommand(text);
    EXPECT_FALSE(cmd) << text;
    EXPECT_FALSE(err.message.empty()) << text;
    if (std::string_view(text).find(R"("id":"x")") != std::string_view::npos) {
      EXPECT_EQ(err.id, "x") << text;
    }
  }
}

TEST(ProtocolTest, DeepNestingIsRejectedNotCrashing) {
  std::string deep = R"({"type":"ping","x":)" + std::string(10000, '[') + std::string(10000, ']') + "}";
  EXPECT_FALSE(ParseClientCommand(deep).first);
}

TEST(ProtocolTest, RenderedMessagesAreValidJson) {
  namespace json = boost::json;
  auto sub = json::parse(RenderSubscribed("r\"1", "payment", false, 3)).as_object();
  EXPECT_EQ(sub["type"], "subscribed");
  EXPECT_EQ(sub["id"], "r\"1");
  EXPECT_EQ(sub["recovered"], false);
  EXPECT_EQ(sub["replayed"], 3);
  auto err = json::parse(RenderError("", "bad_request", "line\nbreak \x01")).as_object();
  EXPECT_EQ(err["code"], "bad_request");
  EXPECT_EQ(err["message"], "line\nbreak \x01");
  std::string ev;
  RenderEvent(&ev, "payment", "payments", 3, 89, 1764350000000, R"({"organization_id":42})", R"({"a":[1,2]})");
  auto e = json::parse(ev).as_object();
  EXPECT_EQ(e["type"], "event");
  EXPECT_EQ(e["channel"], "payment");
  EXPECT_EQ(e["topic"], "payments");
  EXPECT_EQ(e["partition"], 3);
  EXPECT_EQ(e["offset"], 89);
  EXPECT_EQ(e["timestamp"], 1764350000000);
  EXPECT_EQ(e["key"].as_object()["organization_id"], 42);
  EXPECT_EQ(e["value"].as_object()["a"].as_array().size(), 2u);
}

TEST(ProtocolTest, IdentifierRules) {
  EXPECT_TRUE(wire::IsValidIdentifier("42", 128));
  EXPECT_TRUE(wire::IsValidIdentifier("org-1.a_b:c@d", 128));
  EXPECT_FALSE(wire::IsValidIdentifier("", 128));
  EXPECT_FALSE(wire::IsValidIdentifier(std::string(129, 'a'), 128));
  EXPECT_TRUE(wire::IsValidIdentifier(std::string(128, 'a'), 128));
  EXPECT_FALSE(wire::IsValidIdentifier("a b", 128));
  EXPECT_FALSE(wire::IsValidIdentifier("a\"b", 128));
  EXPECT_FALSE(wire::IsValidIdentifier("a\nb", 128));
  EXPECT_FALSE(wire::IsValidIdentifier("caf\xc3\xa9", 128));
  EXPECT_FALSE(wire::IsValidIdentifier(std::string_view("a\0b", 3), 128));
}

TEST(ProtocolTest, AuthenticatedMessage) {
  auto v = boost::json::parse(wire::RenderAuthenticated("r1", "u\"1", 1700000000000));
  EXPECT_EQ(v.at("type").as_string(), "authenticated");
  EXPECT_EQ(v.at("id").as_string(), "r1");
  EXPECT_EQ(v.at("user").as_string(), "u\"1");
  EXPECT_EQ(v.at("expires").as_int64(), 1700000000000);
  auto w = boost::json::parse(wire::RenderAuthenticated("", "", -1));
  EXPECT_FALSE(w.as_object().contains("id"));
  EXPECT_TRUE(w.at("expires").is_null());
}

TEST(ProtocolTest, GapMessageNamesTheDroppedOffsetsAndTheSinceToResumeFrom) {
  auto v = boost::json::parse(wire::RenderGap("payment", {{0, 11, 50, 7}, {2, 100, 100, 1}})).as_object();
  EXPECT_EQ(v["type"], "gap");
  EXPECT_EQ(v["channel"], "payment");
  EXPECT_EQ(v["dropped"], 8);
  EXPECT_EQ(v["partitions"].as_object()["0"].as_object()["from"], 11);
  EXPECT_EQ(v["partitions"].as_object()["0"].as_object()["to"], 50);
  EXPECT_EQ(v["partitions"].as_object()["2"].as_object()["to"], 100);
  EXPECT_EQ(v["since"].as_object()["0"], 10);
  EXPECT_EQ(v["since"].as_object()["2"], 99);
}

TEST(ProtocolTest, SinceTimeAndThePrototypeResumeParameters) {
  auto [cmd, err] = wire::ParseClientCommand(
      R"({"type":"subscribe","channel":"payment","filter":{"organization_id":"42"},"since_time":1764350000000})");
  ASSERT_TRUE(cmd) << err.message;
  EXPECT_EQ(cmd->since_time_ms, 1764350000000);
  EXPECT_FALSE(wire::ParseClientCommand(
                   R"({"type":"subscribe","channel":"p","filter":{"organization_id":"1"},"since":{"0":1},"since_time":5})")
                   .first);
  EXPECT_FALSE(wire::ParseClientCommand(R"({"type":"subscribe","channel":"p","filter":{"organization_id":"1"},"since_time":-3})")
                   .first);
  auto list = wire::ParseSinceList("0:12,3:-1,10:999");
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (std::vector<std::pair<int32_t, int64_t>>{{0, 12}, {3, -1}, {10, 999}}));
  for (const char* bad : {"", "0", "0:", ":5", "a:1", "0:1,", "0:1;2:3", "-1:4", "0:-2", "0:1x"}) {
    EXPECT_FALSE(wire::ParseSinceList(bad)) << bad;
  }
  EXPECT_EQ(wire::ParseSinceTime("1764350000000"), 1764350000000);
  EXPECT_FALSE(wire::ParseSinceTime("12ms"));
  EXPECT_FALSE(wire::ParseSinceTime("-1"));
}

}  // namespace
}  // namespace rte::wire
