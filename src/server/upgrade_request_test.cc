#include "server/http_connection.h"

#include <gtest/gtest.h>

namespace rte::server {
namespace {

TEST(UpgradeTargetTest, PrototypeEndpoint) {
  auto t = ParseUpgradeTarget("/getEvents/payment?organization_id=42&user_id=u%201&property_id=7&token=abc");
  EXPECT_EQ(t.kind, UpgradeTarget::Kind::kPrototype);
  EXPECT_EQ(t.channel, "payment");
  EXPECT_EQ(t.organization_id, "42");
  EXPECT_EQ(t.user_id, "u 1");
  EXPECT_EQ(t.property_id, "7");
  EXPECT_EQ(t.token, "abc");
}

TEST(UpgradeTargetTest, MultiEndpointAndOthers) {
  EXPECT_EQ(ParseUpgradeTarget("/ws").kind, UpgradeTarget::Kind::kMulti);
  EXPECT_EQ(ParseUpgradeTarget("/ws?token=t").token, "t");
  EXPECT_EQ(ParseUpgradeTarget("/getEvents/guest/").channel, "guest");
  EXPECT_EQ(ParseUpgradeTarget("/getEvents/guest").organization_id, "");
  EXPECT_EQ(ParseUpgradeTarget("/other").kind, UpgradeTarget::Kind::kNone);
  EXPECT_EQ(ParseUpgradeTarget("not a target").kind, UpgradeTarget::Kind::kNone);
  EXPECT_EQ(ParseUpgradeTarget("/getEvents/x?organization_id").organization_id, "");  // key without value
}

}  // namespace
}  // namespace rte::server
