#include "auth/algorithm.h"

namespace rte::auth {
namespace {

struct AlgorithmInfo {
  Algorithm alg;
  const char* name;
  KeyType key_type;
};

constexpr AlgorithmInfo kAlgorithms[kAlgorithmCount] = {
    {Algorithm::kHS256, "HS256", KeyType::kHmac},   {Algorithm::kHS384, "HS384", KeyType::kHmac},
    {Algorithm::kHS512, "HS512", KeyType::kHmac},   {Algorithm::kRS256, "RS256", KeyType::kRsa},
    {Algorithm::kRS384, "RS384", KeyType::kRsa},    {Algorithm::kRS512, "RS512", KeyType::kRsa},
    {Algorithm::kES256, "ES256", KeyType::kEcP256}, {Algorithm::kES384, "ES384", KeyType::kEcP384},
    {Algorithm::kEdDSA, "EdDSA", KeyType::kEd25519},
};

const AlgorithmInfo& Info(Algorithm alg) { return kAlgorithms[static_cast<int>(alg)]; }

}  // namespace

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  for (const AlgorithmInfo& a : kAlgorithms) {
    if (name == a.name) return a.alg;
  }
  return std::nullopt;
}

const char* AlgorithmName(Algorithm alg) { return Info(alg).name; }
KeyType KeyTypeFor(Algorithm alg) { return Info(alg).key_type; }
bool IsSymmetric(Algorithm alg) { return KeyTypeFor(alg) == KeyType::kHmac; }

const char* KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kHmac: return "HMAC secret";
    case KeyType::kRsa: return "RSA";
    case KeyType::kEcP256: return "EC P-256";
    case KeyType::kEcP384: return "EC P-384";
    case KeyType::kEd25519: return "Ed25519";
  }
  return "unknown";
}

}  // namespace rte::auth
