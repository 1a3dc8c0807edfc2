#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <atomic>

#include "auth/test_util.h"

namespace rte::auth {
namespace {
using namespace rte::auth::testing;
using config::AuthMode;
using Clock = std::chrono::system_clock;
using std::chrono::milliseconds;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";

std::string Claims() {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count() + 300;
  return R"({"sub":"u1","orgs":["o1"],"exp":)" + std::to_string(exp) + "}";
}

std::string CreateError(const config::AuthSettings& s) {
  auto a = Authenticator::Create(s);
  EXPECT_FALSE(a.ok());
  return a.ok() ? "" : a.error().message;
}

config::AuthSettings Jwt(std::vector<std::string> algs) {
  config::AuthSettings s;
  s.mode = AuthMode::kJwt;
  s.jwt_algorithms = std::move(algs);
  return s;
}

TEST(AuthenticatorTest, NoneAndUnsetLetEveryoneIn) {
  for (AuthMode mode : {AuthMode::kNone, AuthMode::kUnset}) {
    config::AuthSettings s;
    s.mode = mode;
    auto a = Authenticator::Create(s);
    ASSERT_TRUE(a.ok()) << a.error().message;
    Authenticator& auth = **a;
    auth.Start();
    EXPECT_FALSE(auth.requires_credentials());
    EXPECT_TRUE(auth.ready());
    EXPECT_EQ(auth.generation(), 0u);
    EXPECT_EQ(auth.ForUser("anyone").principal, Principal::Anyone());
    EXPECT_EQ(auth.ForUser("").principal, Principal::Anyone());
    EXPECT_EQ(auth.VerifyToken("junk", Clock::now()).principal, Principal::Anyone());
    bool called = false;
    auth.RequestKeyRefresh([&] { called = true; });
    EXPECT_TRUE(called);
    auth.Stop();
  }
}

TEST(AuthenticatorTest, AllowlistMode) {
  TempFile file("o1 alice\no2 *\n");
  config::AuthSettings s;
  s.mode = AuthMode::kAllowlist;
  s.allowlist_file = file.path();
  auto a = Authenticator::Create(s);
  ASSERT_TRUE(a.ok()) << a.error().message;
  Authenticator& auth = **a;
  auth.Start();
  EXPECT_TRUE(auth.requires_credentials());
  EXPECT_EQ(auth.mode(), AuthMode::kAllowlist);
  AuthResult r = auth.ForUser("alice");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.principal->organizations, (std::vector<std::string>{"o1", "o2"}));
  EXPECT_EQ(auth.ForUser("bob").principal->organizations, (std::vector<std::string>{"o2"}));
  EXPECT_EQ(auth.ForUser("").reason, "missing_credentials");
  EXPECT_EQ(auth.VerifyToken("a.b.c", Clock::now()).reason, "wrong_mode");
  const uint64_t g = auth.generation();
  EXPECT_GE(g, 1u);
  file.Write("o3 bob\n");
  ASSERT_TRUE(WaitUntil([&] { return auth.generation() != g; }, std::chrono::seconds(20)));
  EXPECT_EQ(auth.ForUser("bob").principal->organizations, (std::vector<std::string>{"o3"}));
  EXPECT_TRUE(auth.ForUser("alice").principal->organizations.empty());
  auth.Stop();
}

TEST(AuthenticatorTest, SettingErrorsNameTheSetting) {
  config::AuthSettings allow;
  allow.mode = AuthMode::kAllowlist;
  EXPECT_NE(CreateError(allow).find("ALLOWLIST_FILE"), std::string::npos);
  allow.allowlist_file = "/nonexistent/allow.txt";
  EXPECT_NE(CreateError(allow).find("ALLOWLIST_FILE"), std::string::npos);

  EXPECT_NE(CreateError(Jwt({})).find("JWT_ALGORITHMS"), std::string::npos);
  EXPECT_NE(CreateError(Jwt({"HS256", "XX"})).find("JWT_ALGORITHMS"), std::string::npos);
  EXPECT_NE(CreateError(Jwt({"none"})).find("JWT_ALGORITHMS"), std::string::npos);
  EXPECT_NE(CreateError(Jwt({"HS256"})).find("JWT_SECRET"), std::string::npos);
  auto rs = Jwt({"RS256"});
  EXPECT_NE(CreateError(rs).find("JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL"), std::string::npos);
  rs.jwt_public_key_file = "/nonexistent/key.pem";
  EXPECT_NE(CreateError(rs).find("JWT_PUBLIC_KEY_FILE=/nonexistent/key.pem"), std::string::npos);
  TempFile junk("junk");
  rs.jwt_public_key_file = junk.path();
  EXPECT_NE(CreateError(rs).find("JWT_PUBLIC_KEY_FILE"), std::string::npos);
  // An EC key for RS256 only.
  TempFile ec(PublicPem(SharedKey(KeyType::kEcP256)));
  rs.jwt_public_key_file = ec.path();
  const std::string e = CreateError(rs);
  EXPECT_NE(e.find("EC P-256"), std::string::npos) << e;
  auto bad_url = Jwt({"ES256"});
  bad_url.jwt_jwks_url = "gopher://x";
  EXPECT_NE(CreateError(bad_url).find("JWT_JWKS_URL"), std::string::npos);
}

TEST(AuthenticatorTest, JwtWithSecretAndPemFile) {
  TempFile pem(PublicPem(SharedKey(KeyType::kRsa)));
  auto s = Jwt({"HS256", "RS256"});
  s.jwt_secret = kSecret;
  s.jwt_public_key_file = pem.path();
  auto a = Authenticator::Create(s);
  ASSERT_TRUE(a.ok()) << a.error().message;
  Authenticator& auth = **a;
  auth.Start();
  EXPECT_TRUE(auth.ready());
  EXPECT_TRUE(auth.requires_credentials());
  for (const char* alg : {"HS256", "RS256"}) {
    const std::string token = MakeToken(R"({"alg":")" + std::string(alg) + R"("})", Claims(), alg,
                                        SharedKey(KeyType::kRsa), kSecret);
    AuthResult r = auth.VerifyToken(token, Clock::now());
    ASSERT_TRUE(r.ok()) << alg << ": " << r.reason << " " << r.message;
    EXPECT_EQ(r.principal->user_id, "u1");
    EXPECT_TRUE(r.principal->AllowsOrganization("o1"));
  }
  AuthResult bad = auth.VerifyToken(
      MakeToken(R"({"alg":"RS256"})", Claims(), "RS256", SharedKey(KeyType::kRsa, 1)), Clock::now());
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.reason, "bad_signature");
  EXPECT_FALSE(bad.retry_after_refresh);
  EXPECT_EQ(auth.VerifyToken("", Clock::now()).reason, "missing_credentials");
  EXPECT_EQ(auth.ForUser("u1").reason, "wrong_mode");
  bool called = false;
  auth.RequestKeyRefresh([&] { called = true; });  // no JWKS: at once
  EXPECT_TRUE(called);
}

TEST(AuthenticatorTest, JwtWithJwksRefreshesForAnUnknownKid) {
  TestHttpServer server;
  server.Set(200, Jwks({Jwk(SharedKey(KeyType::kEd25519, 0), "old")}));
  auto s = Jwt({"EdDSA"});
  s.jwt_jwks_url = server.Url("/jwks");
  s.jwt_jwks_min_refresh_s = 0;
  auto a = Authenticator::Create(s);
  ASSERT_TRUE(a.ok()) << a.error().message;
  Authenticator& auth = **a;
  EXPECT_FALSE(auth.ready());
  auth.Start();
  ASSERT_TRUE(auth.WaitReady(milliseconds(10'000)));
  EXPECT_TRUE(auth.ready());

  // A token from a key rotated in after the fetch.
  const std::string token =
      MakeToken(R"({"alg":"EdDSA","kid":"new"})", Claims(), "EdDSA", SharedKey(KeyType::kEd25519, 1));
  AuthResult first = auth.VerifyToken(token, Clock::now());
  EXPECT_EQ(first.reason, "unknown_key");
  EXPECT_TRUE(first.retry_after_refresh);

  server.Set(200, Jwks({Jwk(SharedKey(KeyType::kEd25519, 0), "old"), Jwk(SharedKey(KeyType::kEd25519, 1), "new")}));
  std::atomic<bool> refreshed{false};
  auth.RequestKeyRefresh([&] { refreshed = true; });
  ASSERT_TRUE(WaitUntil([&] { return refreshed.load(); }));
  AuthResult second = auth.VerifyToken(token, Clock::now());
  ASSERT_TRUE(second.ok()) << second.reason << " " << second.message;
  EXPECT_EQ(second.principal->user_id, "u1");
  auth.Stop();
  auth.Stop();
}

}  // namespace
}  // namespace rte::auth
