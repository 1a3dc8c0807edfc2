#include "auth/key_set.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/principal.h"
#include "auth/test_util.h"

namespace rte::auth {
namespace {
namespace json = boost::json;
using namespace rte::auth::testing;

TEST(KeySetTest, SecretIsOneHmacKey) {
  auto ks = KeySet::FromSecret("s3cret");
  ASSERT_TRUE(ks.ok());
  ASSERT_EQ((*ks)->keys().size(), 1u);
  EXPECT_EQ((*ks)->keys()[0]->type, KeyType::kHmac);
  EXPECT_FALSE((*ks)->keys()[0]->kid);
  EXPECT_TRUE((*ks)->HasKeyFor(Algorithm::kHS512));
  EXPECT_FALSE((*ks)->HasKeyFor(Algorithm::kRS256));
  EXPECT_FALSE(KeySet::FromSecret("").ok());
}

TEST(KeySetTest, PemPublicKeysOfEveryType) {
  for (KeyType t : {KeyType::kRsa, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEd25519}) {
    SCOPED_TRACE(KeyTypeName(t));
    auto ks = KeySet::FromPem(PublicPem(SharedKey(t)));
    ASSERT_TRUE(ks.ok()) << ks.error().message;
    ASSERT_EQ((*ks)->keys().size(), 1u);
    EXPECT_EQ((*ks)->keys()[0]->type, t);
    EXPECT_TRUE((*ks)->keys()[0]->pkey);
  }
}

TEST(KeySetTest, PemCertificateGivesItsPublicKey) {
  auto ks = KeySet::FromPem(CertificatePem(SharedKey(KeyType::kEcP256)));
  ASSERT_TRUE(ks.ok()) << ks.error().message;
  EXPECT_EQ((*ks)->keys()[0]->type, KeyType::kEcP256);
  // Several blocks in one file.
  auto two = KeySet::FromPem(CertificatePem(SharedKey(KeyType::kRsa)) + "\n" +
                             PublicPem(SharedKey(KeyType::kEd25519)));
  ASSERT_TRUE(two.ok()) << two.error().message;
  ASSERT_EQ((*two)->keys().size(), 2u);
  EXPECT_EQ((*two)->keys()[0]->type, KeyType::kRsa);
  EXPECT_EQ((*two)->keys()[1]->type, KeyType::kEd25519);
}

TEST(KeySetTest, PemErrors) {
  EXPECT_FALSE(KeySet::FromPem("").ok());
  EXPECT_FALSE(KeySet::FromPem("not a pem").ok());
  // A private key is refused, with a message naming the block type.
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, SharedKey(KeyType::kEcP256), nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  const std::string private_pem(p, static_cast<size_t>(n));
  BIO_free(bio);
  auto r = KeySet::FromPem(private_pem);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("PRIVATE KEY"), std::string::npos) << r.error().message;
  // A truncated body.
  std::string pem = PublicPem(SharedKey(KeyType::kRsa));
  pem.erase(40, 30);
  EXPECT_FALSE(KeySet::FromPem(pem).ok());
  // RSA below 2048 bits.
  PkeyPtr small(EVP_RSA_gen(1024));
  auto weak = KeySet::FromPem(PublicPem(small.get()));
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().message.find("1024"), std::string::npos) << weak.error().message;
  // Unsupported key types (X25519 is not a signature key, P-521 not accepted).
  PkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  EXPECT_FALSE(KeySet::FromPem(PublicPem(x25519.get())).ok());
  PkeyPtr p521(EVP_EC_gen("P-521"));
  EXPECT_FALSE(KeySet::FromPem(PublicPem(p521.get())).ok());
}

TEST(KeySetTest, JwksOfEveryKeyType) {
  json::object oct{{"kty", "oct"}, {"kid", "h"}, {"k", Base64UrlEncode("secret bytes")}, {"alg", "HS256"}};
  json::object rsa = Jwk(SharedKey(KeyType::kRsa), "r");
  rsa["use"] = "sig";
  size_t skipped = 99;
  auto ks = KeySet::FromJwks(Jwks({rsa, Jwk(SharedKey(KeyType::kEcP256), "e256"),
                                   Jwk(SharedKey(KeyType::kEcP384), "e384"),
                                   Jwk(SharedKey(KeyType::kEd25519), "ed"), oct}),
                             &skipped);
  ASSERT_TRUE(ks.ok()) << ks.error().message;
  EXPECT_EQ(skipped, 0u);
  const auto& keys = (*ks)->keys();
  ASSERT_EQ(keys.size(), 5u);
  EXPECT_EQ(keys[0]->type, KeyType::kRsa);
  EXPECT_EQ(*keys[0]->kid, "r");
  EXPECT_EQ(keys[1]->type, KeyType::kEcP256);
  EXPECT_EQ(keys[2]->type, KeyType::kEcP384);
  EXPECT_EQ(keys[3]->type, KeyType::kEd25519);
  EXPECT_EQ(keys[4]->type, KeyType::kHmac);
  EXPECT_EQ(keys[4]->secret, "secret bytes");
  EXPECT_EQ(keys[4]->alg, Algorithm::kHS256);
}

TEST(KeySetTest, JwksSkipsKeysItCannotUse) {
  json::object ec = Jwk(SharedKey(KeyType::kEcP256), "bad-point");
  // Flip a bit of y: the point is no longer on the curve.
  std::string y = *Base64UrlDecode(std::string_view(ec["y"].as_string()));
  y[5] ^= 1;
  ec["y"] = Base64UrlEncode(y);
  json::object short_x = Jwk(SharedKey(KeyType::kEcP256), "short");
  short_x["x"] = Base64UrlEncode("abc");
  json::object enc = Jwk(SharedKey(KeyType::kRsa), "enc");
  enc["use"] = "enc";
  json::object bad_b64 = Jwk(SharedKey(KeyType::kRsa), "b64");
  bad_b64["n"] = "+bad/";
  json::object wrong_alg = Jwk(SharedKey(KeyType::kRsa), "alg");
  wrong_alg["alg"] = "ES256";
  json::object rsa_oaep = Jwk(SharedKey(KeyType::kRsa), "oaep");
  rsa_oaep["alg"] = "RSA-OAEP";
  const json::object good = Jwk(SharedKey(KeyType::kEd25519), "good");
  size_t skipped = 0;
  auto ks = KeySet::FromJwks(
      Jwks({ec, short_x, enc, bad_b64, wrong_alg, rsa_oaep, json::object{{"kty", "PQC"}},
            json::object{{"kty", "OKP"}, {"crv", "X25519"}, {"x", Base64UrlEncode(std::string(32, 'a'))}},
            json::object{{"kty", "EC"}, {"crv", "P-521"}}, json::object{{"kty", "oct"}},
            json::object{{"kid", 5}, {"kty", "oct"}, {"k", "AA"}}, good}),
      &skipped);
  ASSERT_TRUE(ks.ok()) << ks.error().message;
  EXPECT_EQ(skipped, 11u);
  ASSERT_EQ((*ks)->keys().size(), 1u);
  EXPECT_EQ(*(*ks)->keys()[0]->kid, "good");
  // A non-object entry is skipped too.
  auto mixed = KeySet::FromJwks(R"({"keys":[1,"x",null,)" + json::serialize(good) + "]}");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ((*mixed)->keys().size(), 1u);
}

TEST(KeySetTest, JwksJunkIsAnError) {
  for (const char* junk : {"", "not json", "[]", "{}", R"({"keys":{}})", R"({"keys":[]})",
                           R"({"keys":[{"kty":"PQC"}]})", R"({"keys":[],"keys":[]})", "{\"keys\":[" }) {
    auto r = KeySet::FromJwks(junk);
    EXPECT_FALSE(r.ok()) << junk;
  }
}

TEST(KeySetTest, CombineSharesKeys) {
  auto a = KeySet::FromSecret("a").value();
  auto b = KeySet::FromPem(PublicPem(SharedKey(KeyType::kRsa))).value();
  std::shared_ptr<const KeySet> sets[] = {a, nullptr, b};
  auto c = KeySet::Combine(sets);
  ASSERT_EQ(c->keys().size(), 2u);
  EXPECT_EQ(c->keys()[0].get(), a->keys()[0].get());
  EXPECT_EQ(c->keys()[1].get(), b->keys()[0].get());
}

TEST(PrincipalTest, AllowsByOrganizationAndProperty) {
  Principal p;
  p.user_id = "u";
  p.organizations = {"b", "a", "b"};
  p.Normalize();
  EXPECT_EQ(p.organizations, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(p.AllowsOrganization("a"));
  EXPECT_FALSE(p.AllowsOrganization("c"));
  EXPECT_FALSE(p.AllowsOrganization(""));
  EXPECT_TRUE(p.Allows("a", ""));
  EXPECT_TRUE(p.Allows("a", "any"));
  EXPECT_FALSE(p.Allows("c", ""));

  p.any_property = false;
  p.properties = {"p2", "p1"};
  p.Normalize();
  EXPECT_TRUE(p.Allows("a", "p1"));
  EXPECT_FALSE(p.Allows("a", "p3"));
  EXPECT_FALSE(p.Allows("a", ""));  // every property: needs any_property
  EXPECT_FALSE(p.Allows("c", "p1"));

  auto anyone = Principal::Anyone();
  EXPECT_EQ(anyone, Principal::Anyone());
  EXPECT_TRUE(anyone->Allows("whatever", ""));
  EXPECT_TRUE(anyone->Allows("x", "y"));
  EXPECT_FALSE(anyone->expires_at);
}

}  // namespace
}  // namespace rte::auth
