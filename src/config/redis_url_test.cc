#include "config/redis_url.h"

#include <gtest/gtest.h>

namespace rte::config {
namespace {

TEST(RedisUrlTest, HostPortAndDefaults) {
  auto u = ParseRedisUrl("redis://redis.internal");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host, "redis.internal");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_EQ(u->password, "");
  u = ParseRedisUrl("redis://10.0.0.5:6380/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 0);
}

TEST(RedisUrlTest, PasswordUserAndDb) {
  auto u = ParseRedisUrl("redis://:s%40cret@127.0.0.1:7000/3");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->password, "s@cret");
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->db, 3);
  EXPECT_EQ(u->Redacted(), "redis://***@127.0.0.1:7000/3");
  u = ParseRedisUrl("redis://gateway:pw@host/1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user, "gateway");
  EXPECT_EQ(u->password, "pw");
  u = ParseRedisUrl("redis://onlypassword@host");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->password, "onlypassword");
  EXPECT_EQ(u->user, "");
}

TEST(RedisUrlTest, Ipv6) {
  auto u = ParseRedisUrl("redis://[::1]:6390/2");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6390);
  EXPECT_EQ(u->Redacted(), "redis://[::1]:6390/2");
}

TEST(RedisUrlTest, UnsupportedTopologiesSayWhy) {
  for (const char* text : {"rediss://host:6380", "redis-sentinel://host:26379/mymaster",
                           "redis://host:26379?sentinel_master=mymaster", "redis://a:1,b:2",
                           "redis+cluster://host:7000"}) {
    auto u = ParseRedisUrl(text);
    ASSERT_FALSE(u.ok()) << text;
    EXPECT_EQ(u.error().code, Errc::kUnsupported) << text;
    EXPECT_NE(u.error().message.find("hiredis 0.14 has no TLS, Sentinel or Cluster support"), std::string::npos)
        << u.error().message;
  }
}

TEST(RedisUrlTest, Invalid) {
  for (const char* text : {"", "host:6379", "http://host", "redis://", "redis://:6379", "redis://host:0",
                           "redis://host:99999", "redis://host:abc", "redis://host/x", "redis://host:",
                           "redis://[::1", "redis://user:@host", "redis://:%zz@host"}) {
    auto u = ParseRedisUrl(text);
    EXPECT_FALSE(u.ok()) << text;
    if (!u.ok()) {
      EXPECT_EQ(u.error().code, Errc::kInvalidArgument) << text;
      EXPECT_EQ(u.error().message.rfind("REDIS_URL", 0), 0u) << u.error().message;
    }
  }
}

TEST(RedisUrlTest, ErrorsNeverShowThePassword) {
  auto u = ParseRedisUrl("redis://:topsecret@host:notaport");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().message.find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace rte::config
