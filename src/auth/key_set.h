// KeySet: the verification keys of one source (JWT_SECRET, the PEM file of
// JWT_PUBLIC_KEY_FILE, one fetch of JWT_JWKS_URL), each parsed once into an
// OpenSSL key so verification never re-parses text.
// Owner: shared and immutable, as std::shared_ptr<const KeySet>; a JWKS
// refresh builds a new set and swaps the pointer.
// Thread: any. The EVP_PKEYs are only read after construction (OpenSSL 3
// allows concurrent verification with one key).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "auth/algorithm.h"
#include "base/result.h"

namespace rte::auth {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct Key {
  std::optional<std::string> kid;   // JWK "kid"; PEM keys and JWT_SECRET have none
  KeyType type = KeyType::kHmac;
  std::optional<Algorithm> alg;     // JWK "alg": the only algorithm this key verifies
  PkeyPtr pkey;                     // every type but kHmac
  std::string secret;               // kHmac only; never logged

  bool Fits(Algorithm a) const { return KeyTypeFor(a) == type && (!alg || *alg == a); }
};

class KeySet {
 public:
  using KeyPtr = std::shared_ptr<const Key>;

  // RSA moduli outside this range are refused (weak, or a verification cost
  // an attacker-controlled JWKS could inflate).
  static constexpr int kMinRsaBits = 2048;
  static constexpr int kMaxRsaBits = 8192;
  static constexpr size_t kMaxJwksKeys = 64;  // keys looked at in one JWKS

  // One HMAC key (no kid). Fails on an empty secret.
  static Result<std::shared_ptr<const KeySet>> FromSecret(std::string_view secret);

  // Every "PUBLIC KEY" (SubjectPublicKeyInfo) and "CERTIFICATE" (its public
  // key) block of a PEM text; no kid. Fails on any other block (a private
  // key, say), on an unsupported key type and when there is no block.
  static Result<std::shared_ptr<const KeySet>> FromPem(std::string_view pem);

  // An RFC 7517 JWK Set: kty RSA (n, e), EC (crv P-256/P-384, x, y), OKP
  // (crv Ed25519, x), oct (k). Keys with "use" other than "sig", an unknown
  // kty/crv/alg or bad fields are skipped (counted in *skipped); fails when the
  // text is not a JSON object with a "keys" array or no key is usable.
  static Result<std::shared_ptr<const KeySet>> FromJwks(std::string_view json,
                                                        size_t* skipped = nullptr);

  // The keys of every set in order (keys are shared, not copied).
  static std::shared_ptr<const KeySet> Combine(
      std::span<const std::shared_ptr<const KeySet>> sets);

  const std::vector<KeyPtr>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  bool HasKeyFor(Algorithm alg) const;

  explicit KeySet(std::vector<KeyPtr> keys) : keys_(std::move(keys)) {}

 private:
  std::vector<KeyPtr> keys_;
};

}  // namespace rte::auth
