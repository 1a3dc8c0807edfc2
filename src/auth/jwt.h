// JwtVerifier: verifies a JWS compact token (JWT) and turns its claims into a
// Principal. OpenSSL 3 EVP directly: HS256/384/512 (HMAC, constant-time
// compare), RS256/384/512 (PKCS#1 v1.5), ES256/ES384 (JOSE R||S), EdDSA
// (Ed25519).
//
// Security rules:
// - The accepted algorithms come only from the configuration; the token's
//   "alg" must be one of them ("none", in any case, never is), and a key is
//   used only for the algorithms of its type (an HS token is never checked
//   against an RSA/EC key's bytes).
// - Tokens over kMaxTokenBytes are refused before any work; header and
//   payload must be JSON objects without duplicate keys; "crit" is refused.
// - The signature is checked before the payload is parsed.
// - Messages never include the token, a secret or claim values beyond a short
//   sanitized kid.
//
// Key selection: a token with a "kid" is checked with the keys carrying that
// kid; if no key has it, with the keys that have no kid at all (JWT_SECRET,
// JWT_PUBLIC_KEY_FILE); none, or none that verifies -> kUnknownKey (so the
// caller may refresh the JWKS). A token without a kid is checked with up to
// kMaxCandidateKeys keys whose type fits its alg.
//
// Claims: "exp" is required (unless require_exp is false), "nbf" honoured,
// both with the leeway; "iat" is ignored. Numbers may be integers or
// fractional. "iss" must equal the issuer and "aud" (a string or an array)
// contain the audience when those are set. The user claim (default "sub") is
// a non-empty string or an integer (rendered in decimal). The organizations
// claim is a string or an array of strings/integers; missing or null -> no
// organizations. The properties claim, when configured, has the same shapes
// and restricts the principal to those properties; when it is configured but
// missing (or null) in a token, that token has no property restriction
// (any_property), as when no properties claim is configured at all. Claim
// names are top-level member names used as is (no path syntax).
//
// Owner: the Authenticator (one, built at start-up).
// Thread: any; Verify is const and touches no shared mutable state.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/algorithm.h"
#include "auth/key_set.h"
#include "auth/principal.h"
#include "base/result.h"

namespace rte::auth {

enum class JwtError {
  kNone = 0,
  kTooLarge,             // "too_large"
  kMalformed,            // "malformed": not three base64url parts, bad JSON, crit, ...
  kAlgorithmNotAllowed,  // "algorithm_not_allowed": none, unknown, not configured, key type mismatch
  kUnknownKey,           // "unknown_key": no key for this kid / alg
  kBadSignature,         // "bad_signature"
  kExpired,              // "expired"
  kNotYetValid,          // "not_yet_valid"
  kWrongIssuer,          // "wrong_issuer"
  kWrongAudience,        // "wrong_audience"
  kBadClaims,            // "bad_claims": exp missing or not a number, user claim missing, ...
};

// Stable snake_case name (metrics labels, logs). "ok" for kNone.
const char* JwtErrorName(JwtError error);

struct JwtOptions {
  std::vector<std::string> algorithms;  // JWT_ALGORITHMS
  std::string issuer;                   // "" = not checked
  std::string audience;                 // "" = not checked
  std::chrono::seconds leeway{30};
  std::string user_claim = "sub";
  std::string orgs_claim = "orgs";
  std::string properties_claim;  // "" = no property restriction
  bool require_exp = true;
};

struct JwtResult {
  std::shared_ptr<const Principal> principal;  // null on failure
  JwtError error = JwtError::kNone;
  std::string message;  // human, safe to log
  std::string kid;      // the header's kid ("" if none), e.g. to refresh keys on kUnknownKey

  bool ok() const { return error == JwtError::kNone; }
};

class JwtVerifier {
 public:
  static constexpr size_t kMaxTokenBytes = 16 * 1024;
  static constexpr size_t kMaxCandidateKeys = 4;

  // Fails (naming JWT_ALGORITHMS) when the list is empty or names an unknown
  // algorithm or "none".
  static Result<JwtVerifier> Create(JwtOptions options);

  // `key_sets` are searched in order; null entries are skipped.
  JwtResult Verify(std::string_view token, std::span<const KeySet* const> key_sets,
                   std::chrono::system_clock::time_point now) const;

  bool Allows(Algorithm alg) const { return (allowed_ >> static_cast<int>(alg)) & 1u; }
  const JwtOptions& options() const { return options_; }

 private:
  explicit JwtVerifier(JwtOptions options, unsigned allowed)
      : options_(std::move(options)), allowed_(allowed) {}

  JwtOptions options_;
  unsigned allowed_ = 0;  // bit per Algorithm
};

}  // namespace rte::auth
