#include "session/connection_limits.h"

#include <gtest/gtest.h>

#include <vector>

namespace rte::session {
namespace {

TEST(ConnectionLimitsTest, RefusesOverTheLimitAndFreesOnRelease) {
  ConnectionLimits limits(2, 0);
  bool ok = false;
  auto a = limits.AcquireIp("10.0.0.1", &ok);
  EXPECT_TRUE(ok);
  auto b = limits.AcquireIp("10.0.0.1", &ok);
  EXPECT_TRUE(ok);
  auto c = limits.AcquireIp("10.0.0.1", &ok);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(c);
  auto other = limits.AcquireIp("10.0.0.2", &ok);
  EXPECT_TRUE(ok);
  a.Release();
  auto d = limits.AcquireIp("10.0.0.1", &ok);
  EXPECT_TRUE(ok);
  EXPECT_TRUE(d);
}

TEST(ConnectionLimitsTest, SlotsReleaseWhenDestroyedOrMoved) {
  ConnectionLimits limits(1, 1);
  bool ok = false;
  {
    auto s = limits.AcquireUser("u1", &ok);
    EXPECT_TRUE(ok);
    ConnectionLimits::Slot moved = std::move(s);
    EXPECT_FALSE(s);
    EXPECT_TRUE(moved);
    limits.AcquireUser("u1", &ok);
    EXPECT_FALSE(ok);
  }
  auto again = limits.AcquireUser("u1", &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(limits.tracked_addresses(), 0u);
}

TEST(ConnectionLimitsTest, ZeroMeansNoLimitAndEmptyUserIsNotCounted) {
  ConnectionLimits limits(0, 1);
  bool ok = false;
  std::vector<ConnectionLimits::Slot> held;
  for (int i = 0; i < 100; ++i) {
    held.push_back(limits.AcquireIp("10.0.0.1", &ok));
    EXPECT_TRUE(ok);
  }
  auto u1 = limits.AcquireUser("", &ok);
  EXPECT_TRUE(ok);
  auto u2 = limits.AcquireUser("", &ok);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace rte::session
