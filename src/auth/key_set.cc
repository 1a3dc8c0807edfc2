#include "auth/key_set.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <boost/json/value.hpp>

#include "auth/strict_json.h"
#include "base/base64.h"

namespace rte::auth {
namespace json = boost::json;

void PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamsFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};

// Which KeyType an OpenSSL public key is, within our size bounds.
Result<KeyType> Classify(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < KeySet::kMinRsaBits || bits > KeySet::kMaxRsaBits) {
      return MakeError(Errc::kUnsupported,
                       fmt::format("RSA key of {} bits (accepted: {} to {})", bits,
                                   KeySet::kMinRsaBits, KeySet::kMaxRsaBits));
    }
    return KeyType::kRsa;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
      const std::string_view g(group, len);
      if (g == "prime256v1" || g == "P-256") return KeyType::kEcP256;
      if (g == "secp384r1" || g == "P-384") return KeyType::kEcP384;
      return MakeError(Errc::kUnsupported, fmt::format("EC key on curve {} (accepted: P-256, P-384)", g));
    }
    return MakeError(Errc::kUnsupported, "EC key without a named curve");
  }
  if (EVP_PKEY_is_a(key, "ED25519")) return KeyType::kEd25519;
  return MakeError(Errc::kUnsupported,
                   fmt::format("unsupported key type {} (accepted: RSA, EC P-256/P-384, Ed25519)",
                               EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "?"));
}

Status CheckPublicKey(EVP_PKEY* key) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    ERR_clear_error();
    return MakeError(Errc::kInvalidArgument, "public key fails OpenSSL's consistency check");
  }
  return {};
}

Result<KeySet::KeyPtr> MakeAsymmetricKey(PkeyPtr pkey, std::optional<std::string> kid,
                                         std::optional<Algorithm> alg) {
  auto type = Classify(pkey.get());
  if (!type.ok()) return type.error();
  if (Status s = CheckPublicKey(pkey.get()); !s.ok()) return s.error();
  auto key = std::make_shared<Key>();
  key->kid = std::move(kid);
  key->type = *type;
  key->alg = alg;
  key->pkey = std::move(pkey);
  if (alg && !key->Fits(*alg)) {
    return MakeError(Errc::kInvalidArgument, fmt::format("alg {} does not fit a {} key",
                                                         AlgorithmName(*alg), KeyTypeName(*type)));
  }
  return KeySet::KeyPtr(std::move(key));
}

// ---- JWK -> EVP_PKEY -------------------------------------------------------

Result<PkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamsFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return MakeError(Errc::kInvalidArgument, fmt::format("OpenSSL rejects the {} key", type));
  }
  return PkeyPtr(raw);
}

// A base64url member of a JWK; nullopt when missing, not a string or not base64url.
std::optional<std::string> B64Member(const json::object& jwk, std::string_view name) {
  const json::value* v = jwk.if_contains(name);
  if (!v || !v->is_string()) return std::nullopt;
  const json::string& s = v->get_string();
  return Base64UrlDecode(std::string_view(s.data(), s.size()));
}

Result<PkeyPtr> RsaFromJwk(const json::object& jwk) {
  auto n = B64Member(jwk, "n");
  auto e = B64Member(jwk, "e");
  if (!n || !e || n->empty() || e->empty() || e->size() > 8) {
    return MakeError(Errc::kInvalidArgument, "RSA JWK needs base64url n and e");
  }
  std::unique_ptr<BIGNUM, BnFree> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return MakeError(Errc::kInternal, "out of memory");
  const int bits = BN_num_bits(bn_n.get());
  if (bits < KeySet::kMinRsaBits || bits > KeySet::kMaxRsaBits) {
    return MakeError(Errc::kUnsupported, fmt::format("RSA key of {} bits", bits));
  }
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return MakeError(Errc::kInternal, "out of memory");
  }
  return FromData("RSA", bld.get());
}

Result<PkeyPtr> EcFromJwk(const json::object& jwk) {
  const json::value* crv = jwk.if_contains("crv");
  if (!crv || !crv->is_string()) return MakeError(Errc::kInvalidArgument, "EC JWK needs crv");
  const char* group = nullptr;
  size_t coord = 0;
  if (crv->get_string() == "P-256") {
    group = "prime256v1";
    coord = 32;
  } else if (crv->get_string() == "P-384") {
    group = "secp384r1";
    coord = 48;
  } else {
    return MakeError(Errc::kUnsupported, "EC JWK on an unsupported curve");
  }
  auto x = B64Member(jwk, "x");
  auto y = B64Member(jwk, "y");
  if (!x || !y || x->size() != coord || y->size() != coord) {
    return MakeError(Errc::kInvalidArgument, "EC JWK needs base64url x and y of the curve's size");
  }
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return MakeError(Errc::kInternal, "out of memory");
  }
  return FromData("EC", bld.get());
}

Result<PkeyPtr> OkpFromJwk(const json::object& jwk) {
  const json::value* crv = jwk.if_contains("crv");
  if (!crv || !crv->is_string() || crv->get_string() != "Ed25519") {
    return MakeError(Errc::kUnsupported, "OKP JWK on an unsupported curve");
  }
  auto x = B64Member(jwk, "x");
  if (!x || x->size() != 32) return MakeError(Errc::kInvalidArgument, "Ed25519 JWK needs a 32-byte x");
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(),
                                               x->size()) != 1) {
    return MakeError(Errc::kInternal, "out of memory");
  }
  return FromData("ED25519", bld.get());
}

Result<KeySet::KeyPtr> KeyFromJwk(const json::value& v) {
  if (!v.is_object()) return MakeError(Errc::kInvalidArgument, "JWK is not an object");
  const json::object& jwk = v.get_object();
  if (const json::value* use = jwk.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") {
      return MakeError(Errc::kUnsupported, "JWK is not for signatures (use)");
    }
  }
  std::optional<std::string> kid;
  if (const json::value* k = jwk.if_contains("kid")) {
    if (!k->is_string()) return MakeError(Errc::kInvalidArgument, "JWK kid is not a string");
    kid = std::string(k->get_string());
  }
  std::optional<Algorithm> alg;
  if (const json::value* a = jwk.if_contains("alg")) {
    if (!a->is_string()) return MakeError(Errc::kInvalidArgument, "JWK alg is not a string");
    alg = ParseAlgorithm(std::string_view(a->get_string()));
    if (!alg) return MakeError(Errc::kUnsupported, "JWK alg is not supported");
  }
  const json::value* kty = jwk.if_contains("kty");
  if (!kty || !kty->is_string()) return MakeError(Errc::kInvalidArgument, "JWK has no kty");
  const json::string& t = kty->get_string();
  if (t == "oct") {
    auto k = B64Member(jwk, "k");
    if (!k || k->empty()) return MakeError(Errc::kInvalidArgument, "oct JWK needs a base64url k");
    auto key = std::make_shared<Key>();
    key->kid = std::move(kid);
    key->type = KeyType::kHmac;
    key->alg = alg;
    key->secret = std::move(*k);
    if (alg && !key->Fits(*alg)) return MakeError(Errc::kInvalidArgument, "JWK alg does not fit kty");
    return KeySet::KeyPtr(std::move(key));
  }
  Result<PkeyPtr> pkey = t == "RSA"   ? RsaFromJwk(jwk)
                         : t == "EC"  ? EcFromJwk(jwk)
                         : t == "OKP" ? OkpFromJwk(jwk)
                                      : Result<PkeyPtr>(MakeError(Errc::kUnsupported, "JWK kty is not supported"));
  if (!pkey.ok()) return pkey.error();
  return MakeAsymmetricKey(std::move(*pkey), std::move(kid), alg);
}

}  // namespace

Result<std::shared_ptr<const KeySet>> KeySet::FromSecret(std::string_view secret) {
  if (secret.empty()) return MakeError(Errc::kInvalidArgument, "the HMAC secret is empty");
  auto key = std::make_shared<Key>();
  key->type = KeyType::kHmac;
  key->secret = std::string(secret);
  return std::make_shared<const KeySet>(std::vector<KeyPtr>{std::move(key)});
}

Result<std::shared_ptr<const KeySet>> KeySet::FromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return MakeError(Errc::kInternal, "out of memory");
  std::vector<KeyPtr> keys;
  for (int block = 1;; ++block) {
    char* name_raw = nullptr;
    char* header_raw = nullptr;
    unsigned char* data_raw = nullptr;
    long len = 0;
    const int ok = PEM_read_bio(bio.get(), &name_raw, &header_raw, &data_raw, &len);
    std::unique_ptr<char, OpensslFree> name(name_raw);
    std::unique_ptr<char, OpensslFree> header(header_raw);
    std::unique_ptr<unsigned char, OpensslFree> data(data_raw);
    if (ok != 1) {
      const unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return MakeError(Errc::kInvalidArgument, fmt::format("PEM block {} is malformed", block));
    }
    const std::string_view type(name.get());
    const unsigned char* p = data.get();
    PkeyPtr pkey;
    if (type == "PUBLIC KEY") {
      pkey.reset(d2i_PUBKEY(nullptr, &p, len));
    } else if (type == "CERTIFICATE") {
      std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, len));
      if (cert) pkey.reset(X509_get_pubkey(cert.get()));
    } else {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("PEM block {} is a \"{}\"; expected \"PUBLIC KEY\" or \"CERTIFICATE\"",
                                   block, type.substr(0, 40)));
    }
    if (!pkey) {
      ERR_clear_error();
      return MakeError(Errc::kInvalidArgument, fmt::format("PEM block {} ({}) cannot be decoded", block, type));
    }
    auto key = MakeAsymmetricKey(std::move(pkey), std::nullopt, std::nullopt);
    if (!key.ok()) {
      return MakeError(key.error().code, fmt::format("PEM block {}: {}", block, key.error().message));
    }
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) {
    return MakeError(Errc::kInvalidArgument, "no \"PUBLIC KEY\" or \"CERTIFICATE\" PEM block found");
  }
  return std::make_shared<const KeySet>(std::move(keys));
}

Result<std::shared_ptr<const KeySet>> KeySet::FromJwks(std::string_view text, size_t* skipped_out) {
  auto parsed = ParseStrictJson(text);
  if (!parsed.ok()) return MakeError(Errc::kInvalidArgument, "JWKS: " + parsed.error().message);
  const json::value& doc = *parsed;
  const json::value* list = doc.is_object() ? doc.get_object().if_contains("keys") : nullptr;
  if (!list || !list->is_array()) {
    return MakeError(Errc::kInvalidArgument, "JWKS is not an object with a \"keys\" array");
  }
  std::vector<KeyPtr> keys;
  size_t skipped = 0;
  for (const json::value& jwk : list->get_array()) {
    if (keys.size() + skipped >= kMaxJwksKeys) {
      ++skipped;
      continue;
    }
    auto key = KeyFromJwk(jwk);
    if (!key.ok()) {
      ++skipped;
      spdlog::debug("JWKS: key {} skipped: {}", keys.size() + skipped, key.error().message);
      continue;
    }
    keys.push_back(std::move(*key));
  }
  if (skipped_out) *skipped_out = skipped;
  if (keys.empty()) {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("JWKS has no usable signing key ({} skipped)", skipped));
  }
  return std::make_shared<const KeySet>(std::move(keys));
}

std::shared_ptr<const KeySet> KeySet::Combine(std::span<const std::shared_ptr<const KeySet>> sets) {
  std::vector<KeyPtr> keys;
  for (const auto& s : sets) {
    if (s) keys.insert(keys.end(), s->keys().begin(), s->keys().end());
  }
  return std::make_shared<const KeySet>(std::move(keys));
}

bool KeySet::HasKeyFor(Algorithm alg) const {
  for (const KeyPtr& k : keys_) {
    if (k->Fits(alg)) return true;
  }
  return false;
}

}  // namespace rte::auth
