#include "registry/registry_url.h"

#include <gtest/gtest.h>

#include "registry/backoff.h"
#include "registry/http_client.h"

namespace rte::registry {
namespace {

TEST(RegistryUrlTest, ParsesHttpWithPort) {
  auto u = ParseRegistryUrl("http://127.0.0.1:8081");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8081);
  EXPECT_EQ(u->base_path, "");
  EXPECT_EQ(u->Redacted(), "http://127.0.0.1:8081");
}

TEST(RegistryUrlTest, HttpsDefaultsTo443AndKeepsPrefix) {
  auto u = ParseRegistryUrl("https://psrc-abc.europe-west3.gcp.confluent.cloud/registry/");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->host, "psrc-abc.europe-west3.gcp.confluent.cloud");
  EXPECT_EQ(u->base_path, "/registry");
}

TEST(RegistryUrlTest, UserInfoIsTakenButNeverShown) {
  auto u = ParseRegistryUrl("https://KEY:s%3Acret@registry.example:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->user_info, "KEY:s:cret");
  EXPECT_EQ(u->Redacted().find("cret"), std::string::npos);
  EXPECT_EQ(u->Redacted(), "https://registry.example:8443");
}

TEST(RegistryUrlTest, Ipv6Host) {
  auto u = ParseRegistryUrl("http://[::1]:9000");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->Redacted(), "http://[::1]:9000");
}

TEST(RegistryUrlTest, RejectsBadUrls) {
  for (const char* bad : {"", "localhost:8081", "ftp://host", "http://", "http://host:0",
                          "http://host:99999", "http://host/?x=1"}) {
    auto u = ParseRegistryUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(u.error().code, Errc::kInvalidArgument);
    }
  }
}

TEST(BasicAuthTest, EncodesUserInfo) {
  // RFC 7617 example.
  EXPECT_EQ(BasicAuthValue("Aladdin:open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(BasicAuthValue("a:b"), "Basic YTpi");
}

TEST(BackoffTest, GrowsExponentiallyWithinJitterBoundsAndCaps) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 42);
  EXPECT_EQ(b.Ceiling(0).count(), 100);
  EXPECT_EQ(b.Ceiling(1).count(), 200);
  EXPECT_EQ(b.Ceiling(3).count(), 800);
  EXPECT_EQ(b.Ceiling(4).count(), 1000);
  EXPECT_EQ(b.Ceiling(60).count(), 1000);
  bool varied = false;
  int64_t first = -1;
  for (int i = 0; i < 200; ++i) {
    const int attempt = i % 6;
    const int64_t d = b.Delay(attempt).count();
    EXPECT_GE(d, b.Ceiling(attempt).count() / 2);
    EXPECT_LE(d, b.Ceiling(attempt).count());
    if (attempt == 2) {
      if (first >= 0 && d != first) varied = true;
      first = d;
    }
  }
  EXPECT_TRUE(varied) << "jitter should vary the delay";
}

}  // namespace
}  // namespace rte::registry
