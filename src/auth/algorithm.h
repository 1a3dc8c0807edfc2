// JWS algorithms (RFC 7518) this module verifies, and the key type each needs.
// An algorithm is bound to exactly one key type, so a token's "alg" can never
// make a key of another kind verify it (no RS/HS confusion).
// Thread: pure functions and value types.
#pragma once

#include <optional>
#include <string_view>

namespace rte::auth {

enum class KeyType {
  kHmac,     // shared secret (JWT_SECRET, JWK kty "oct")
  kRsa,      // RSA public key (PKCS#1 v1.5 signatures)
  kEcP256,   // ECDSA on P-256
  kEcP384,   // ECDSA on P-384
  kEd25519,  // EdDSA on Ed25519
};

enum class Algorithm { kHS256, kHS384, kHS512, kRS256, kRS384, kRS512, kES256, kES384, kEdDSA };

inline constexpr int kAlgorithmCount = 9;

// Exact (case-sensitive) JOSE names; "none" and anything unknown: nullopt.
std::optional<Algorithm> ParseAlgorithm(std::string_view name);
const char* AlgorithmName(Algorithm alg);
KeyType KeyTypeFor(Algorithm alg);
const char* KeyTypeName(KeyType type);  // "HMAC secret", "RSA", "EC P-256", ...
bool IsSymmetric(Algorithm alg);

}  // namespace rte::auth
