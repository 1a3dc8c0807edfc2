#include "auth/jwt.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/test_util.h"

namespace rte::auth {
namespace {
namespace json = boost::json;
using namespace rte::auth::testing;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNowS = 1'700'000'000;
const Clock::time_point kNow{seconds(kNowS)};

JwtOptions Options(const std::function<void(JwtOptions&)>& edit) {
  JwtOptions o;
  edit(o);
  return o;
}

KeyType TypeFor(std::string_view alg) { return KeyTypeFor(*ParseAlgorithm(alg)); }

std::string Header(std::string_view alg, std::string_view kid = {}) {
  json::object h{{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) h["kid"] = kid;
  return json::serialize(h);
}

std::string Claims(json::object extra = {}) {
  json::object c{{"sub", "user-1"}, {"orgs", json::array{"o2", "o1"}}, {"exp", kNowS + 60}};
  for (auto& [k, v] : extra) c[k] = v;
  return json::serialize(c);
}

// A token for `alg` signed with key `index` of its type (or kSecret).
std::string Token(std::string_view alg, const std::string& payload = Claims(),
                  std::string_view kid = {}, int index = 0) {
  EVP_PKEY* key = alg.starts_with("HS") ? nullptr : SharedKey(TypeFor(alg), index);
  return MakeToken(Header(alg, kid), payload, alg, key, kSecret);
}

class JwtTest : public ::testing::Test {
 protected:
  JwtVerifier Verifier(std::vector<std::string> algs, JwtOptions options = {}) {
    options.algorithms = std::move(algs);
    auto v = JwtVerifier::Create(std::move(options));
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return std::move(v).value();
  }

  // Secret plus every key type's PEM (key 0), no kids.
  std::shared_ptr<const KeySet> AllKeys() {
    std::vector<std::shared_ptr<const KeySet>> sets{KeySet::FromSecret(kSecret).value()};
    for (KeyType t : {KeyType::kRsa, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEd25519}) {
      auto pem = KeySet::FromPem(PublicPem(SharedKey(t)));
      EXPECT_TRUE(pem.ok()) << pem.error().message;
      sets.push_back(pem.value());
    }
    return KeySet::Combine(sets);
  }

  JwtResult Verify(const JwtVerifier& v, std::string_view token, const KeySet& keys,
                   Clock::time_point now = kNow) {
    const KeySet* sets[] = {&keys};
    return v.Verify(token, sets, now);
  }
};

TEST_F(JwtTest, AcceptsEveryAlgorithm) {
  auto keys = AllKeys();
  for (const char* alg : {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"}) {
    SCOPED_TRACE(alg);
    JwtVerifier v = Verifier({alg});
    JwtResult r = Verify(v, Token(alg), *keys);
    ASSERT_TRUE(r.ok()) << JwtErrorName(r.error) << ": " << r.message;
    EXPECT_EQ(r.principal->user_id, "user-1");
    EXPECT_EQ(r.principal->organizations, (std::vector<std::string>{"o1", "o2"}));
    EXPECT_TRUE(r.principal->any_property);
    EXPECT_FALSE(r.principal->any_organization);
    ASSERT_TRUE(r.principal->expires_at);
    EXPECT_EQ(*r.principal->expires_at, kNow + seconds(60));
  }
}

TEST_F(JwtTest, RejectsAWrongSignature) {
  auto keys = AllKeys();
  for (const char* alg : {"RS256", "ES256", "ES384", "EdDSA"}) {
    SCOPED_TRACE(alg);
    JwtVerifier v = Verifier({alg});
    JwtResult r = Verify(v, Token(alg, Claims(), {}, /*index=*/1), *keys);
    EXPECT_EQ(r.error, JwtError::kBadSignature);
    EXPECT_EQ(std::string(JwtErrorName(r.error)), "bad_signature");
    EXPECT_FALSE(r.principal);
  }
  JwtVerifier v = Verifier({"HS256"});
  const std::string other = MakeToken(Header("HS256"), Claims(), "HS256", nullptr, "another secret");
  EXPECT_EQ(Verify(v, other, *keys).error, JwtError::kBadSignature);
  // Payload swapped under a valid signature.
  std::string token = Token("HS256");
  const std::string forged = Base64UrlEncode(Claims({{"orgs", "o9"}}));
  const size_t a = token.find('.'), b = token.rfind('.');
  token = token.substr(0, a + 1) + forged + token.substr(b);
  EXPECT_EQ(Verify(v, token, *keys).error, JwtError::kBadSignature);
}

TEST_F(JwtTest, AlgNoneIsAlwaysRejected) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256", "RS256"});
  for (const char* none : {"none", "NONE", "None", "nOnE"}) {
    const std::string token = Join(Header(none), Claims()) + ".";
    JwtResult r = Verify(v, token, *keys);
    EXPECT_EQ(r.error, JwtError::kAlgorithmNotAllowed) << none;
    // Even with a signature part.
    EXPECT_EQ(Verify(v, token + "c2ln", *keys).error, JwtError::kAlgorithmNotAllowed) << none;
  }
  EXPECT_FALSE(JwtVerifier::Create(Options([](JwtOptions& o) { o.algorithms = {"none"}; })).ok());
  EXPECT_FALSE(JwtVerifier::Create(Options([](JwtOptions& o) { o.algorithms = {"None"}; })).ok());
}

TEST_F(JwtTest, AlgMustBeConfigured) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"RS256"});
  EXPECT_EQ(Verify(v, Token("RS384"), *keys).error, JwtError::kAlgorithmNotAllowed);
  EXPECT_EQ(Verify(v, Token("ES256"), *keys).error, JwtError::kAlgorithmNotAllowed);
  EXPECT_EQ(Verify(v, Token("HS256"), *keys).error, JwtError::kAlgorithmNotAllowed);
  // Unknown names, and case matters for everything but none.
  const std::string sig = ".c2ln";
  EXPECT_EQ(Verify(v, Join(Header("PS256"), Claims()) + sig, *keys).error, JwtError::kAlgorithmNotAllowed);
  EXPECT_EQ(Verify(v, Join(Header("rs256"), Claims()) + sig, *keys).error, JwtError::kAlgorithmNotAllowed);
  EXPECT_EQ(Verify(v, Join(R"({"typ":"JWT"})", Claims()) + sig, *keys).error, JwtError::kMalformed);
  EXPECT_EQ(Verify(v, Join(R"({"alg":256})", Claims()) + sig, *keys).error, JwtError::kMalformed);
  EXPECT_FALSE(JwtVerifier::Create(JwtOptions{}).ok());
  EXPECT_FALSE(JwtVerifier::Create(Options([](JwtOptions& o) { o.algorithms = {"RS256", "XS1"}; })).ok());
}

// The classic confusion: an HS256 token whose HMAC key is the RSA public key
// PEM text the server has configured.
TEST_F(JwtTest, NoRsaToHmacConfusion) {
  const std::string pem = PublicPem(SharedKey(KeyType::kRsa));
  const std::string forged = MakeToken(Header("HS256"), Claims(), "HS256", nullptr, pem);
  auto pem_keys = KeySet::FromPem(pem).value();

  JwtVerifier rs_only = Verifier({"RS256"});
  EXPECT_EQ(Verify(rs_only, forged, *pem_keys).error, JwtError::kAlgorithmNotAllowed);

  // Both configured, with a JWT_SECRET: the HMAC key is the secret, never the PEM.
  JwtVerifier both = Verifier({"RS256", "HS256"});
  std::shared_ptr<const KeySet> sets_v[] = {KeySet::FromSecret(kSecret).value(), pem_keys};
  auto combined = KeySet::Combine(sets_v);
  EXPECT_EQ(Verify(both, forged, *combined).error, JwtError::kBadSignature);
  // HS256 allowed but only the PEM configured: no HMAC key at all.
  EXPECT_EQ(Verify(both, forged, *pem_keys).error, JwtError::kUnknownKey);

  // With a kid naming the RSA key: the key's type does not fit HS256.
  auto jwks = KeySet::FromJwks(Jwks({Jwk(SharedKey(KeyType::kRsa), "rsa-1")})).value();
  const std::string forged_kid = MakeToken(Header("HS256", "rsa-1"), Claims(), "HS256", nullptr, pem);
  EXPECT_EQ(Verify(both, forged_kid, *jwks).error, JwtError::kAlgorithmNotAllowed);
  // The real RS256 token still verifies.
  EXPECT_TRUE(Verify(both, Token("RS256"), *combined).ok());
}

TEST_F(JwtTest, EcdsaSignatureMustBeRawAndExactLength) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"ES256", "ES384"});
  const std::string input = Join(Header("ES256"), Claims());
  EVP_PKEY* key = SharedKey(KeyType::kEcP256);
  const std::string raw = SignWithKey("ES256", key, input);
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_TRUE(Verify(v, input + "." + Base64UrlEncode(raw), *keys).ok());
  // DER (what OpenSSL produces) is not JOSE.
  const std::string der = SignWithKey("RS256", key, input);  // plain DigestSign: DER ECDSA
  EXPECT_EQ(Verify(v, input + "." + Base64UrlEncode(der), *keys).error, JwtError::kBadSignature);
  EXPECT_EQ(Verify(v, input + "." + Base64UrlEncode(raw.substr(0, 63)), *keys).error, JwtError::kBadSignature);
  EXPECT_EQ(Verify(v, input + "." + Base64UrlEncode(raw + '\0'), *keys).error, JwtError::kBadSignature);
  EXPECT_EQ(Verify(v, input + "." + Base64UrlEncode(std::string(1, '\0') + raw), *keys).error,
            JwtError::kBadSignature);
  EXPECT_EQ(Verify(v, input + ".", *keys).error, JwtError::kBadSignature);
  // An ES384 token with a 64-byte signature.
  const std::string input384 = Join(Header("ES384"), Claims());
  EXPECT_EQ(Verify(v, input384 + "." + Base64UrlEncode(raw), *keys).error, JwtError::kBadSignature);
}

TEST_F(JwtTest, ExpiryAndNotBeforeWithLeeway) {
  auto keys = AllKeys();
  JwtVerifier strict = Verifier({"HS256"}, Options([](JwtOptions& o) { o.leeway = seconds(0); }));
  JwtVerifier lenient = Verifier({"HS256"}, Options([](JwtOptions& o) { o.leeway = seconds(30); }));

  const std::string expired = Token("HS256", Claims({{"exp", kNowS - 10}}));
  EXPECT_EQ(Verify(strict, expired, *keys).error, JwtError::kExpired);
  EXPECT_EQ(std::string(JwtErrorName(JwtError::kExpired)), "expired");
  EXPECT_TRUE(Verify(lenient, expired, *keys).ok());
  EXPECT_EQ(Verify(lenient, Token("HS256", Claims({{"exp", kNowS - 30}})), *keys).error, JwtError::kExpired);
  // exp is the first instant the token is no longer valid.
  EXPECT_EQ(Verify(strict, Token("HS256", Claims({{"exp", kNowS}})), *keys).error, JwtError::kExpired);
  EXPECT_TRUE(Verify(strict, Token("HS256", Claims({{"exp", kNowS + 0.5}})), *keys).ok());
  EXPECT_EQ(Verify(strict, Token("HS256", Claims({{"exp", kNowS - 0.5}})), *keys).error, JwtError::kExpired);

  const std::string early = Token("HS256", Claims({{"nbf", kNowS + 10}}));
  EXPECT_EQ(Verify(strict, early, *keys).error, JwtError::kNotYetValid);
  EXPECT_EQ(std::string(JwtErrorName(JwtError::kNotYetValid)), "not_yet_valid");
  EXPECT_TRUE(Verify(lenient, early, *keys).ok());
  EXPECT_TRUE(Verify(strict, Token("HS256", Claims({{"nbf", kNowS}})), *keys).ok());
  // iat is ignored, even in the future.
  EXPECT_TRUE(Verify(strict, Token("HS256", Claims({{"iat", kNowS + 1000}})), *keys).ok());
}

TEST_F(JwtTest, ExpIsRequiredAndNumeric) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256"});
  const std::string no_exp = Token("HS256", R"({"sub":"u","orgs":"o"})");
  EXPECT_EQ(Verify(v, no_exp, *keys).error, JwtError::kBadClaims);
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"exp", "1700000060"}})), *keys).error, JwtError::kBadClaims);
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"exp", 1e300}})), *keys).error, JwtError::kBadClaims);
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"nbf", true}})), *keys).error, JwtError::kBadClaims);
  JwtVerifier optional_exp = Verifier({"HS256"}, Options([](JwtOptions& o) { o.require_exp = false; }));
  JwtResult r = Verify(optional_exp, no_exp, *keys);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_FALSE(r.principal->expires_at);
}

TEST_F(JwtTest, IssuerAndAudience) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256"}, Options([](JwtOptions& o) {
    o.issuer = "https://issuer.example";
    o.audience = "realtime";
  }));
  const json::object good{{"iss", "https://issuer.example"}, {"aud", "realtime"}};
  EXPECT_TRUE(Verify(v, Token("HS256", Claims(good)), *keys).ok());
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"iss", "https://evil.example"}, {"aud", "realtime"}})), *keys).error,
            JwtError::kWrongIssuer);
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"aud", "realtime"}})), *keys).error, JwtError::kWrongIssuer);
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"iss", "https://issuer.example"}, {"aud", "other"}})), *keys).error,
            JwtError::kWrongAudience);
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"iss", "https://issuer.example"}})), *keys).error,
            JwtError::kWrongAudience);
  EXPECT_TRUE(Verify(v, Token("HS256", Claims({{"iss", "https://issuer.example"},
                                                {"aud", json::array{"a", "realtime", "b"}}})),
                     *keys)
                  .ok());
  EXPECT_EQ(Verify(v, Token("HS256", Claims({{"iss", "https://issuer.example"}, {"aud", json::array{"a", "b"}}})),
                   *keys)
                .error,
            JwtError::kWrongAudience);
  EXPECT_EQ(std::string(JwtErrorName(JwtError::kWrongAudience)), "wrong_audience");
  // Not configured: not checked.
  JwtVerifier open = Verifier({"HS256"});
  EXPECT_TRUE(Verify(open, Token("HS256", Claims({{"iss", "x"}, {"aud", 5}})), *keys).ok());
}

TEST_F(JwtTest, KidSelectsTheKey) {
  EVP_PKEY* k0 = SharedKey(KeyType::kRsa, 0);
  EVP_PKEY* k1 = SharedKey(KeyType::kRsa, 1);
  auto jwks = KeySet::FromJwks(Jwks({Jwk(k0, "k0"), Jwk(k1, "k1")})).value();
  JwtVerifier v = Verifier({"RS256"});
  EXPECT_TRUE(Verify(v, Token("RS256", Claims(), "k1", 1), *jwks).ok());
  EXPECT_TRUE(Verify(v, Token("RS256", Claims(), "k0", 0), *jwks).ok());
  EXPECT_EQ(Verify(v, Token("RS256", Claims(), "k0", 1), *jwks).error, JwtError::kBadSignature);
  JwtResult unknown = Verify(v, Token("RS256", Claims(), "k9", 1), *jwks);
  EXPECT_EQ(unknown.error, JwtError::kUnknownKey);
  EXPECT_EQ(std::string(JwtErrorName(unknown.error)), "unknown_key");
  EXPECT_EQ(unknown.kid, "k9");
  // No kid: every key that fits is tried.
  EXPECT_TRUE(Verify(v, Token("RS256", Claims(), {}, 1), *jwks).ok());
  // A kid no key has falls back to the keys without a kid (a PEM file).
  auto pem = KeySet::FromPem(PublicPem(k1)).value();
  EXPECT_TRUE(Verify(v, Token("RS256", Claims(), "issuer-kid", 1), *pem).ok());
  // ... and when none of those verifies, the kid is reported unknown (a JWKS
  // refresh may still bring it), not as a bad signature.
  JwtResult fallback = Verify(v, Token("RS256", Claims(), "issuer-kid", 0), *pem);
  EXPECT_EQ(fallback.error, JwtError::kUnknownKey);
  EXPECT_EQ(fallback.kid, "issuer-kid");
  // Several sets are searched in order; a null set is skipped.
  const KeySet* sets[] = {nullptr, pem.get(), jwks.get()};
  EXPECT_TRUE(v.Verify(Token("RS256", Claims(), "k0", 0), sets, kNow).ok());
  // No key at all for the alg.
  JwtVerifier es = Verifier({"ES256"});
  EXPECT_EQ(Verify(es, Token("ES256"), *jwks).error, JwtError::kUnknownKey);
}

TEST_F(JwtTest, JwkAlgBindsTheKey) {
  json::object jwk = Jwk(SharedKey(KeyType::kRsa), "k");
  jwk["alg"] = "RS512";
  auto jwks = KeySet::FromJwks(Jwks({jwk})).value();
  JwtVerifier v = Verifier({"RS256", "RS512"});
  EXPECT_TRUE(Verify(v, Token("RS512", Claims(), "k"), *jwks).ok());
  EXPECT_EQ(Verify(v, Token("RS256", Claims(), "k"), *jwks).error, JwtError::kAlgorithmNotAllowed);
}

TEST_F(JwtTest, MalformedTokens) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256"});
  const std::string good = Token("HS256");
  ASSERT_TRUE(Verify(v, good, *keys).ok());
  const size_t a = good.find('.'), b = good.rfind('.');
  const std::string h = good.substr(0, a), p = good.substr(a + 1, b - a - 1), s = good.substr(b + 1);
  for (const std::string& bad : {std::string(""), std::string("."), std::string(".."), h, h + "." + p,
                                 h + "." + p + "." + s + ".", "." + p + "." + s, h + ".." + s,
                                 h + "+" + "." + p + "." + s,
                                 h + "." + p + "." + s + "=", h + "=." + p + "." + s,
                                 h + "." + p + "." + s + "*", "\x01." + p + "." + s}) {
    EXPECT_EQ(Verify(v, bad, *keys).error, JwtError::kMalformed) << bad;
  }
  // The payload is decoded only after the signature verified (over its text).
  EXPECT_EQ(Verify(v, h + "." + p + "/" + "." + s, *keys).error, JwtError::kBadSignature);
  EXPECT_EQ(Verify(v, MakeToken(Header("HS256"), "", "HS256", nullptr, kSecret), *keys).error,
            JwtError::kMalformed);  // empty payload part
  const std::string bad_b64 = h + ".e30/." + Base64UrlEncode(SignWithSecret("HS256", kSecret, h + ".e30/"));
  EXPECT_EQ(Verify(v, bad_b64, *keys).error, JwtError::kMalformed);
  // Headers: not an object, duplicate keys, crit, kid not a string, not JSON.
  for (const char* header : {R"(["HS256"])", R"({"alg":"HS256","alg":"HS256"})",
                             R"({"alg":"HS256","crit":["exp"]})", R"({"alg":"HS256","kid":7})", "{alg:HS256}"}) {
    const std::string token = MakeToken(header, Claims(), "HS256", nullptr, kSecret);
    EXPECT_EQ(Verify(v, token, *keys).error, JwtError::kMalformed) << header;
  }
  // Payloads: validly signed, but not an object or with a duplicate claim.
  for (const char* payload : {R"(["sub"])", R"("x")", "12", R"({"sub":"a","exp":1700000060,"sub":"b"})",
                              R"({"sub":"a","exp":1700000060,"orgs":{"x":1,"x":2}})", "{"}) {
    EXPECT_EQ(Verify(v, Token("HS256", payload), *keys).error, JwtError::kMalformed) << payload;
  }
}

TEST_F(JwtTest, OversizedTokensAreRejectedFirst) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256"});
  const std::string big(JwtVerifier::kMaxTokenBytes + 1, 'a');
  JwtResult r = Verify(v, big, *keys);
  EXPECT_EQ(r.error, JwtError::kTooLarge);
  EXPECT_EQ(std::string(JwtErrorName(r.error)), "too_large");
  // A valid token just over the bound.
  json::array many;
  for (int i = 0; i < 2000; ++i) many.push_back(json::string("org-" + std::to_string(i)));
  const std::string huge = Token("HS256", Claims({{"orgs", many}}));
  ASSERT_GT(huge.size(), JwtVerifier::kMaxTokenBytes);
  EXPECT_EQ(Verify(v, huge, *keys).error, JwtError::kTooLarge);
  // Messages never carry the token.
  EXPECT_EQ(r.message.find("aaaa"), std::string::npos);
}

TEST_F(JwtTest, OrganizationClaimShapes) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256"});
  auto orgs = [&](json::value claim) -> std::optional<std::vector<std::string>> {
    json::object c{{"sub", "u"}, {"exp", kNowS + 60}};
    if (!claim.is_null()) c["orgs"] = claim;
    JwtResult r = Verify(v, Token("HS256", json::serialize(c)), *keys);
    if (!r.ok()) {
      EXPECT_EQ(r.error, JwtError::kBadClaims);
      return std::nullopt;
    }
    return r.principal->organizations;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(orgs("o1"), V{"o1"});
  EXPECT_EQ(orgs(json::array{"b", "a", "b"}), (V{"a", "b"}));
  EXPECT_EQ(orgs(json::array{42, 7, -1}), (V{"-1", "42", "7"}));
  EXPECT_EQ(orgs(json::array{"x", 3}), (V{"3", "x"}));
  EXPECT_EQ(orgs(nullptr), V{});  // missing
  EXPECT_EQ(orgs(json::array{}), V{});
  EXPECT_EQ(orgs(json::object{{"a", 1}}), std::nullopt);
  EXPECT_EQ(orgs(json::array{json::array{"a"}}), std::nullopt);
  EXPECT_EQ(orgs(json::array{1.5}), std::nullopt);
  EXPECT_EQ(orgs(json::array{""}), std::nullopt);
  EXPECT_EQ(orgs(true), std::nullopt);
}

TEST_F(JwtTest, UserAndPropertyClaims) {
  auto keys = AllKeys();
  JwtVerifier v = Verifier({"HS256"}, Options([](JwtOptions& o) {
    o.user_claim = "uid";
    o.orgs_claim = "tenants";
    o.properties_claim = "props";
  }));
  JwtResult r = Verify(v, Token("HS256", json::serialize(json::object{
                                             {"uid", 12345}, {"tenants", "o1"}, {"props", json::array{"p2", "p1"}},
                                             {"exp", kNowS + 60}})),
                       *keys);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.principal->user_id, "12345");
  EXPECT_FALSE(r.principal->any_property);
  EXPECT_EQ(r.principal->properties, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_TRUE(r.principal->Allows("o1", "p1"));
  EXPECT_FALSE(r.principal->Allows("o1", "p3"));
  EXPECT_FALSE(r.principal->Allows("o1", ""));
  // Properties claim configured but absent: no property restriction.
  r = Verify(v, Token("HS256", json::serialize(json::object{{"uid", "u"}, {"tenants", "o1"}, {"exp", kNowS + 60}})),
             *keys);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(r.principal->any_property);
  EXPECT_TRUE(r.principal->Allows("o1", ""));
  // The user claim is required, a non-empty string or an integer.
  for (const char* payload : {R"({"sub":"u","exp":1700000060})", R"({"uid":"","exp":1700000060})",
                              R"({"uid":["u"],"exp":1700000060})", R"({"uid":1.25,"exp":1700000060})"}) {
    EXPECT_EQ(Verify(v, Token("HS256", payload), *keys).error, JwtError::kBadClaims) << payload;
  }
  EXPECT_EQ(Verify(v, Token("HS256", R"({"uid":"u","exp":1700000060,"props":{}})"), *keys).error,
            JwtError::kBadClaims);
}

TEST(JwtErrorTest, NamesAreStable) {
  EXPECT_STREQ(JwtErrorName(JwtError::kNone), "ok");
  EXPECT_STREQ(JwtErrorName(JwtError::kMalformed), "malformed");
  EXPECT_STREQ(JwtErrorName(JwtError::kAlgorithmNotAllowed), "algorithm_not_allowed");
  EXPECT_STREQ(JwtErrorName(JwtError::kBadSignature), "bad_signature");
  EXPECT_STREQ(JwtErrorName(JwtError::kWrongIssuer), "wrong_issuer");
  EXPECT_STREQ(JwtErrorName(JwtError::kBadClaims), "bad_claims");
}

}  // namespace
}  // namespace rte::auth
