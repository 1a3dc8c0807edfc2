#include "auth/jwt.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json/value.hpp>
#include <cmath>
#include <optional>

#include "auth/strict_json.h"
#include "base/base64.h"

namespace rte::auth {
namespace json = boost::json;
using Clock = std::chrono::system_clock;

const char* JwtErrorName(JwtError error) {
  switch (error) {
    case JwtError::kNone: return "ok";
    case JwtError::kTooLarge: return "too_large";
    case JwtError::kMalformed: return "malformed";
    case JwtError::kAlgorithmNotAllowed: return "algorithm_not_allowed";
    case JwtError::kUnknownKey: return "unknown_key";
    case JwtError::kBadSignature: return "bad_signature";
    case JwtError::kExpired: return "expired";
    case JwtError::kNotYetValid: return "not_yet_valid";
    case JwtError::kWrongIssuer: return "wrong_issuer";
    case JwtError::kWrongAudience: return "wrong_audience";
    case JwtError::kBadClaims: return "bad_claims";
  }
  return "unknown";
}

namespace {

// Seconds since the epoch beyond which a NumericDate is refused (year 9999).
constexpr double kMaxNumericDate = 253402300799.0;
constexpr double kMaxClockSeconds = 9.0e9;

JwtResult Fail(JwtError error, std::string message, std::string kid = {}) {
  JwtResult r;
  r.error = error;
  r.message = std::move(message);
  r.kid = std::move(kid);
  return r;
}

// A kid is attacker-controlled: keep it short and printable in messages.
std::string SafeForLog(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

bool IEqualsNone(std::string_view s) {
  if (s.size() != 4) return false;
  for (size_t i = 0; i < 4; ++i) {
    const char c = static_cast<char>(s[i] | 0x20);
    if (c != "none"[i]) return false;
  }
  return true;
}

// The digests, fetched once (implicit fetches per call are slow in OpenSSL 3).
const EVP_MD* Digest(Algorithm alg) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
  static EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  switch (alg) {
    case Algorithm::kHS256:
    case Algorithm::kRS256:
    case Algorithm::kES256: return sha256;
    case Algorithm::kHS384:
    case Algorithm::kRS384:
    case Algorithm::kES384: return sha384;
    case Algorithm::kHS512:
    case Algorithm::kRS512: return sha512;
    case Algorithm::kEdDSA: return nullptr;
  }
  return nullptr;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

bool VerifyHmac(const Key& key, Algorithm alg, std::string_view input, std::string_view sig) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const EVP_MD* md = Digest(alg);
  if (!md || !HMAC(md, key.secret.data(), static_cast<int>(key.secret.size()),
                   reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len)) {
    ERR_clear_error();
    return false;
  }
  return sig.size() == mac_len && CRYPTO_memcmp(mac, sig.data(), mac_len) == 0;
}

bool DigestVerify(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input,
                  const unsigned char* sig, size_t sig_len) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig, sig_len,
                                   reinterpret_cast<const unsigned char*>(input.data()),
                                   input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// JOSE ECDSA signatures are R||S, each exactly the curve's coordinate size;
// OpenSSL wants a DER ECDSA-Sig-Value.
bool VerifyEcdsa(const Key& key, Algorithm alg, std::string_view input, std::string_view sig) {
  const size_t coord = alg == Algorithm::kES256 ? 32 : 48;
  if (sig.size() != 2 * coord) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> es(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, static_cast<int>(coord), nullptr);
  BIGNUM* s = BN_bin2bn(raw + coord, static_cast<int>(coord), nullptr);
  if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return false;
  }
  unsigned char der[160];  // 2 * (48 + 3) + 3 at most
  const int der_len = i2d_ECDSA_SIG(es.get(), nullptr);
  if (der_len <= 0 || static_cast<size_t>(der_len) > sizeof der) {
    ERR_clear_error();
    return false;
  }
  unsigned char* p = der;
  i2d_ECDSA_SIG(es.get(), &p);
  return DigestVerify(key.pkey.get(), Digest(alg), input, der, static_cast<size_t>(der_len));
}

bool VerifySignature(const Key& key, Algorithm alg, std::string_view input, std::string_view sig) {
  switch (key.type) {
    case KeyType::kHmac:
      return VerifyHmac(key, alg, input, sig);
    case KeyType::kRsa:
    case KeyType::kEd25519:
      return key.pkey && DigestVerify(key.pkey.get(), Digest(alg), input,
                                      reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
    case KeyType::kEcP256:
    case KeyType::kEcP384:
      return key.pkey && VerifyEcdsa(key, alg, input, sig);
  }
  return false;
}

// A NumericDate claim: nullopt if absent or null; false in *bad if not a number in range.
std::optional<double> NumericDate(const json::object& claims, std::string_view name, bool* bad) {
  const json::value* v = claims.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  double d = 0;
  if (v->is_int64()) {
    d = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->get_uint64());
  } else if (v->is_double()) {
    d = v->get_double();
  } else {
    *bad = true;
    return std::nullopt;
  }
  if (!std::isfinite(d) || std::fabs(d) > kMaxNumericDate) {
    *bad = true;
    return std::nullopt;
  }
  return d;
}

// A string or an integer as an id; nullopt for anything else (or "").
std::optional<std::string> IdText(const json::value& v) {
  if (v.is_string()) {
    if (v.get_string().empty()) return std::nullopt;
    return std::string(v.get_string());
  }
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) {
      return fmt::format("{}", static_cast<int64_t>(d));
    }
  }
  return std::nullopt;
}

// A string, or an array of strings/integers. false: any other shape.
bool IdList(const json::value& v, std::vector<std::string>* out) {
  if (v.is_string()) {
    auto id = IdText(v);
    if (!id) return false;
    out->push_back(std::move(*id));
    return true;
  }
  if (!v.is_array()) return false;
  for (const json::value& item : v.get_array()) {
    if (!item.is_string() && !item.is_int64() && !item.is_uint64()) return false;
    auto id = IdText(item);
    if (!id) return false;
    out->push_back(std::move(*id));
  }
  return true;
}

double ToEpochSeconds(Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

struct Parts {
  std::string_view header, payload, signature;
  std::string_view signing_input;  // header.payload
};

std::optional<Parts> Split(std::string_view token) {
  const size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  const size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return std::nullopt;
  Parts p;
  p.header = token.substr(0, a);
  p.payload = token.substr(a + 1, b - a - 1);
  p.signature = token.substr(b + 1);
  p.signing_input = token.substr(0, b);
  // JWS compact serialization has no padding.
  if (p.header.empty() || p.payload.empty() || token.find('=') != std::string_view::npos) {
    return std::nullopt;
  }
  return p;
}

}  // namespace

Result<JwtVerifier> JwtVerifier::Create(JwtOptions options) {
  unsigned allowed = 0;
  if (options.algorithms.empty()) {
    return MakeError(Errc::kInvalidArgument, "JWT_ALGORITHMS must name at least one algorithm");
  }
  for (const std::string& name : options.algorithms) {
    if (IEqualsNone(name)) {
      return MakeError(Errc::kInvalidArgument, "JWT_ALGORITHMS must not contain \"none\"");
    }
    auto alg = ParseAlgorithm(name);
    if (!alg) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("JWT_ALGORITHMS: unknown algorithm '{}' (supported: HS256, HS384, "
                                   "HS512, RS256, RS384, RS512, ES256, ES384, EdDSA)",
                                   SafeForLog(name)));
    }
    allowed |= 1u << static_cast<int>(*alg);
  }
  if (options.user_claim.empty()) {
    return MakeError(Errc::kInvalidArgument, "JWT_USER_CLAIM must not be empty");
  }
  if (options.leeway.count() < 0) {
    return MakeError(Errc::kInvalidArgument, "JWT_LEEWAY must not be negative");
  }
  return JwtVerifier(std::move(options), allowed);
}

JwtResult JwtVerifier::Verify(std::string_view token, std::span<const KeySet* const> key_sets,
                              Clock::time_point now) const {
  if (token.size() > kMaxTokenBytes) {
    return Fail(JwtError::kTooLarge,
                fmt::format("token of {} bytes (limit {})", token.size(), kMaxTokenBytes));
  }
  auto parts = Split(token);
  if (!parts) return Fail(JwtError::kMalformed, "token is not three base64url parts");

  // ---- header ----
  auto header_text = Base64UrlDecode(parts->header);
  if (!header_text) return Fail(JwtError::kMalformed, "header is not base64url");
  auto header = ParseStrictJson(*header_text, 8);
  if (!header.ok()) return Fail(JwtError::kMalformed, "header: " + header.error().message);
  if (!header->is_object()) return Fail(JwtError::kMalformed, "header is not a JSON object");
  const json::object& h = header->get_object();
  std::string kid;
  bool has_kid = false;
  if (const json::value* k = h.if_contains("kid")) {
    if (!k->is_string()) return Fail(JwtError::kMalformed, "header kid is not a string");
    kid = std::string(k->get_string());
    has_kid = true;
  }
  if (h.contains("crit")) {
    return Fail(JwtError::kMalformed, "header has crit extensions, which are not supported", kid);
  }
  const json::value* alg_value = h.if_contains("alg");
  if (!alg_value || !alg_value->is_string()) {
    return Fail(JwtError::kMalformed, "header has no alg string", kid);
  }
  const std::string_view alg_name(alg_value->get_string());
  if (IEqualsNone(alg_name)) return Fail(JwtError::kAlgorithmNotAllowed, "alg none is never accepted", kid);
  const std::optional<Algorithm> alg = ParseAlgorithm(alg_name);
  if (!alg || !Allows(*alg)) {
    return Fail(JwtError::kAlgorithmNotAllowed,
                fmt::format("alg '{}' is not in JWT_ALGORITHMS", SafeForLog(alg_name)), kid);
  }

  // ---- signature ----
  auto signature = Base64UrlDecode(parts->signature);
  if (!signature) return Fail(JwtError::kMalformed, "signature is not base64url", kid);

  const Key* candidates[kMaxCandidateKeys];
  size_t n = 0;
  bool kid_known = false;
  if (has_kid) {
    for (const KeySet* set : key_sets) {
      if (!set) continue;
      for (const KeySet::KeyPtr& key : set->keys()) {
        if (!key->kid || *key->kid != kid) continue;
        kid_known = true;
        if (key->Fits(*alg) && n < kMaxCandidateKeys) candidates[n++] = key.get();
      }
    }
    if (kid_known && n == 0) {
      return Fail(JwtError::kAlgorithmNotAllowed,
                  fmt::format("key '{}' cannot verify alg {}", SafeForLog(kid), AlgorithmName(*alg)), kid);
    }
  }
  if (!kid_known) {
    // No kid, or a kid no key has: keys that fit (with a kid only when the
    // token has none).
    for (const KeySet* set : key_sets) {
      if (!set) continue;
      for (const KeySet::KeyPtr& key : set->keys()) {
        if (n == kMaxCandidateKeys) break;
        if (has_kid && key->kid) continue;
        if (key->Fits(*alg)) candidates[n++] = key.get();
      }
    }
  }
  if (n == 0) {
    return Fail(JwtError::kUnknownKey,
                has_kid ? fmt::format("no key with kid '{}'", SafeForLog(kid))
                        : fmt::format("no key for alg {}", AlgorithmName(*alg)),
                kid);
  }
  bool verified = false;
  for (size_t i = 0; i < n && !verified; ++i) {
    verified = VerifySignature(*candidates[i], *alg, parts->signing_input, *signature);
  }
  if (!verified) {
    // A kid no key has, tried against the kid-less keys: report the kid as
    // unknown, so that a JWKS refresh can still find it.
    if (has_kid && !kid_known) {
      return Fail(JwtError::kUnknownKey, fmt::format("no key with kid '{}'", SafeForLog(kid)), kid);
    }
    return Fail(JwtError::kBadSignature, "signature does not verify", kid);
  }

  // ---- claims ----
  auto payload_text = Base64UrlDecode(parts->payload);
  if (!payload_text) return Fail(JwtError::kMalformed, "payload is not base64url", kid);
  auto payload = ParseStrictJson(*payload_text, 16);
  if (!payload.ok()) return Fail(JwtError::kMalformed, "payload: " + payload.error().message, kid);
  if (!payload->is_object()) return Fail(JwtError::kMalformed, "payload is not a JSON object", kid);
  const json::object& claims = payload->get_object();

  const double now_s = ToEpochSeconds(now);
  const double leeway = static_cast<double>(options_.leeway.count());
  bool bad = false;
  const std::optional<double> exp = NumericDate(claims, "exp", &bad);
  if (bad) return Fail(JwtError::kBadClaims, "exp is not a NumericDate", kid);
  if (!exp && options_.require_exp) return Fail(JwtError::kBadClaims, "token has no exp", kid);
  if (exp && now_s >= *exp + leeway) return Fail(JwtError::kExpired, "token has expired", kid);
  const std::optional<double> nbf = NumericDate(claims, "nbf", &bad);
  if (bad) return Fail(JwtError::kBadClaims, "nbf is not a NumericDate", kid);
  if (nbf && now_s + leeway < *nbf) return Fail(JwtError::kNotYetValid, "token is not valid yet (nbf)", kid);

  if (!options_.issuer.empty()) {
    const json::value* iss = claims.if_contains("iss");
    if (!iss || !iss->is_string() || iss->get_string() != options_.issuer) {
      return Fail(JwtError::kWrongIssuer, "iss is not JWT_ISSUER", kid);
    }
  }
  if (!options_.audience.empty()) {
    const json::value* aud = claims.if_contains("aud");
    bool match = false;
    if (aud && aud->is_string()) {
      match = aud->get_string() == options_.audience;
    } else if (aud && aud->is_array()) {
      for (const json::value& a : aud->get_array()) {
        if (a.is_string() && a.get_string() == options_.audience) match = true;
      }
    }
    if (!match) return Fail(JwtError::kWrongAudience, "aud does not contain JWT_AUDIENCE", kid);
  }

  auto principal = std::make_shared<Principal>();
  const json::value* user = claims.if_contains(options_.user_claim);
  std::optional<std::string> user_id = user ? IdText(*user) : std::nullopt;
  if (!user_id) {
    return Fail(JwtError::kBadClaims,
                fmt::format("user claim '{}' is missing or not a string", SafeForLog(options_.user_claim)), kid);
  }
  principal->user_id = std::move(*user_id);
  if (!options_.orgs_claim.empty()) {
    const json::value* orgs = claims.if_contains(options_.orgs_claim);
    if (orgs && !orgs->is_null() && !IdList(*orgs, &principal->organizations)) {
      return Fail(JwtError::kBadClaims,
                  fmt::format("claim '{}' is not a string or a list of ids", SafeForLog(options_.orgs_claim)),
                  kid);
    }
  }
  principal->any_property = true;
  if (!options_.properties_claim.empty()) {
    const json::value* props = claims.if_contains(options_.properties_claim);
    if (props && !props->is_null()) {
      if (!IdList(*props, &principal->properties)) {
        return Fail(JwtError::kBadClaims,
                    fmt::format("claim '{}' is not a string or a list of ids",
                                SafeForLog(options_.properties_claim)),
                    kid);
      }
      principal->any_property = false;
    }
  }
  if (exp) {
    // system_clock counts nanoseconds in 64 bits: clamp to its range (~year 2262).
    const double clamped = std::clamp(*exp, -kMaxClockSeconds, kMaxClockSeconds);
    principal->expires_at = Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(clamped)));
  }
  principal->Normalize();
  JwtResult r;
  r.principal = std::move(principal);
  r.kid = std::move(kid);
  return r;
}

}  // namespace rte::auth
