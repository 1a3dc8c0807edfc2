#include "auth/jwks_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/test_util.h"

namespace rte::auth {
namespace {
using namespace rte::auth::testing;
using std::chrono::milliseconds;

std::string JwksWith(std::string_view kid, int index = 0) {
  return Jwks({Jwk(SharedKey(KeyType::kEcP256, index), kid)});
}

bool HasKid(const std::shared_ptr<const KeySet>& ks, std::string_view kid) {
  if (!ks) return false;
  for (const auto& k : ks->keys()) {
    if (k->kid && *k->kid == kid) return true;
  }
  return false;
}

std::unique_ptr<JwksSource> MakeSource(const std::string& url, milliseconds min_refresh,
                                       milliseconds refresh = milliseconds(3'600'000)) {
  JwksSourceOptions o;
  o.url = url;
  o.refresh = refresh;
  o.min_refresh = min_refresh;
  o.retry_initial = milliseconds(5);
  o.retry_max = milliseconds(20);
  auto s = JwksSource::Create(o);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? std::move(*s) : nullptr;
}

// Calls RequestRefresh and waits for its callback; returns the thread it ran on.
std::thread::id RefreshAndWait(JwksSource& source) {
  std::atomic<bool> done{false};
  std::thread::id ran_on;
  source.RequestRefresh([&] {
    ran_on = std::this_thread::get_id();
    done = true;
  });
  EXPECT_TRUE(WaitUntil([&] { return done.load(); }));
  return ran_on;
}

TEST(JwksSourceTest, FetchesAtStart) {
  TestHttpServer server;
  server.Set(200, JwksWith("k1"));
  auto source = MakeSource(server.Url("/.well-known/jwks.json"), milliseconds(0));
  EXPECT_EQ(source->Current(), nullptr);
  EXPECT_FALSE(source->WaitFirst(milliseconds(1)));  // not started
  source->Start();
  ASSERT_TRUE(source->WaitFirst(milliseconds(10'000)));
  EXPECT_TRUE(HasKid(source->Current(), "k1"));
  EXPECT_EQ(source->fetches_ok(), 1u);
  EXPECT_EQ(source->fetches_failed(), 0u);
  EXPECT_EQ(server.last_target(), "/.well-known/jwks.json");
  source->Stop();
  source->Stop();
}

TEST(JwksSourceTest, RefreshOnRequestRunsOnTheJwksThread) {
  TestHttpServer server;
  server.Set(200, JwksWith("k1"));
  auto source = MakeSource(server.Url("/jwks"), milliseconds(0));
  source->Start();
  ASSERT_TRUE(source->WaitFirst(milliseconds(10'000)));
  server.Set(200, JwksWith("k2", 1));
  const std::thread::id ran_on = RefreshAndWait(*source);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(HasKid(source->Current(), "k2"));
  EXPECT_FALSE(HasKid(source->Current(), "k1"));
  EXPECT_EQ(source->fetches_ok(), 2u);
  EXPECT_EQ(server.requests(), 2u);
}

TEST(JwksSourceTest, OnDemandRefreshIsRateLimited) {
  TestHttpServer server;
  server.Set(200, JwksWith("k1"));
  auto source = MakeSource(server.Url("/jwks"), milliseconds(3'600'000));
  source->Start();
  ASSERT_TRUE(source->WaitFirst(milliseconds(10'000)));
  server.Set(200, JwksWith("k2", 1));
  const std::thread::id ran_on = RefreshAndWait(*source);
  EXPECT_NE(ran_on, std::this_thread::get_id());  // even when rate-limited
  RefreshAndWait(*source);
  EXPECT_EQ(source->refreshes_rate_limited(), 2u);
  EXPECT_EQ(server.requests(), 1u);
  EXPECT_TRUE(HasKid(source->Current(), "k1"));
}

TEST(JwksSourceTest, FailedFetchesKeepThePreviousKeys) {
  TestHttpServer server;
  server.Set(200, JwksWith("k1"));
  auto source = MakeSource(server.Url("/jwks"), milliseconds(0));
  source->Start();
  ASSERT_TRUE(source->WaitFirst(milliseconds(10'000)));
  server.Set(500, "oops");
  RefreshAndWait(*source);
  EXPECT_GE(source->fetches_failed(), 1u);
  EXPECT_TRUE(HasKid(source->Current(), "k1"));
  const uint64_t failed = source->fetches_failed();
  server.Set(200, "{\"keys\": \"junk\"}");
  ASSERT_TRUE(WaitUntil([&] { return source->fetches_failed() > failed; }));  // retried with backoff
  EXPECT_TRUE(HasKid(source->Current(), "k1"));
  server.Set(200, JwksWith("k3"));
  ASSERT_TRUE(WaitUntil([&] { return HasKid(source->Current(), "k3"); }));  // backoff retry recovers
}

TEST(JwksSourceTest, FirstFetchFailureIsRetried) {
  TestHttpServer server;
  server.Set(503, "");
  auto source = MakeSource(server.Url("/jwks"), milliseconds(0));
  source->Start();
  ASSERT_TRUE(WaitUntil([&] { return source->fetches_failed() >= 2; }));
  EXPECT_EQ(source->Current(), nullptr);
  server.Set(200, JwksWith("k1"));
  ASSERT_TRUE(source->WaitFirst(milliseconds(10'000)));
  EXPECT_TRUE(HasKid(source->Current(), "k1"));
}

TEST(JwksSourceTest, PeriodicRefresh) {
  TestHttpServer server;
  server.Set(200, JwksWith("k1"));
  auto source = MakeSource(server.Url("/jwks"), milliseconds(0), milliseconds(5));
  source->Start();
  ASSERT_TRUE(WaitUntil([&] { return source->fetches_ok() >= 3; }));
  server.Set(200, JwksWith("k2"));
  ASSERT_TRUE(WaitUntil([&] { return HasKid(source->Current(), "k2"); }));
}

TEST(JwksSourceTest, QueryAndRootPathAreKept) {
  TestHttpServer server;
  server.Set(200, JwksWith("k1"));
  auto with_query = MakeSource(server.Url("/keys/?tenant=a&v=2"), milliseconds(0));
  with_query->Start();
  ASSERT_TRUE(with_query->WaitFirst(milliseconds(10'000)));
  EXPECT_EQ(server.last_target(), "/keys/?tenant=a&v=2");
  with_query->Stop();
  auto root = MakeSource(server.Url(""), milliseconds(0));
  root->Start();
  ASSERT_TRUE(root->WaitFirst(milliseconds(10'000)));
  EXPECT_EQ(server.last_target(), "/");
}

TEST(JwksSourceTest, StopCompletesPendingAndIsIdempotent) {
  // Nothing listens on this port (bound, then closed): every fetch fails.
  uint16_t port = 0;
  {
    TestHttpServer closed;
    port = closed.port();
  }
  auto source = MakeSource("http://127.0.0.1:" + std::to_string(port) + "/jwks", milliseconds(0));
  source->Start();
  ASSERT_TRUE(WaitUntil([&] { return source->fetches_failed() >= 1; }));
  EXPECT_FALSE(source->WaitFirst(milliseconds(1)));
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) source->RequestRefresh([&] { ++done; });
  source->Stop();
  source->Stop();
  // Each request was completed by the JWKS thread before Stop returned, or
  // dropped if it arrived after the thread ended: never called later.
  const int after_stop = done.load();
  EXPECT_LE(after_stop, 3);
  source->RequestRefresh([&] { ++done; });
  EXPECT_EQ(done.load(), after_stop);
  EXPECT_FALSE(source->WaitFirst(milliseconds(1)));

  auto never_started = MakeSource("http://127.0.0.1:" + std::to_string(port) + "/jwks", milliseconds(0));
  never_started->Stop();
  never_started->Start();  // no-op after Stop
  EXPECT_EQ(never_started->Current(), nullptr);
}

TEST(JwksSourceTest, BadUrlsNameTheSetting) {
  for (const char* url : {"", "not a url", "ftp://host/jwks", "http:///jwks", "https://host/jwks#frag",
                          "http://host:99999/jwks"}) {
    JwksSourceOptions o;
    o.url = url;
    auto s = JwksSource::Create(o);
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_NE(s.error().message.find("JWT_JWKS_URL"), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("schema registry"), std::string::npos) << s.error().message;
  }
  JwksSourceOptions https;
  https.url = "https://login.example.com/.well-known/jwks.json";
  EXPECT_TRUE(JwksSource::Create(https).ok());
}

}  // namespace
}  // namespace rte::auth
