// libFuzzer target for untrusted auth input. Each input is fed, as is, to:
// 1. JwtVerifier::Verify, configured with HS256/RS256/ES256/EdDSA, an HS256
//    secret, and an RSA and an EC P-256 key from the fixed PEMs below;
// 2. the same verifier after the harness re-signs the input's
//    "header.payload" with the HS256 secret, so mutated claims get past the
//    signature check and reach claim parsing;
// 3. KeySet::FromJwks and 4. Allowlist::Parse.
// Beyond "no crash": a successful verification yields a principal with a
// user id, and every failure has a known reason name.
// Seeds: src/auth/fuzz_corpus/ (tokens signed with the secret and with the
// private halves of the PEMs below, which are not kept; a JWKS; allowlists).
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/allowlist.h"
#include "auth/jwt.h"
#include "auth/key_set.h"
#include "base/base64.h"

namespace {

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef0123";

constexpr char kRsaPem[] = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwYjMlyyoKUT4gBn5upFi
R07BQcAmcZBrBEeiMAjbg/tegu+baojQp8Mc0Z57lCOQAr8Q33DTlyR7gLjpRN55
l4Rtqv1YFXJC9JYTle5LSiajAyNv7C5E4W7uCndwSknBaMBAY8J3BzbuG/ItC7MD
o3WGk05KmuCTRF0xVaASNi505nrRXoziU8gFVWomc042wR0gHIDNzKCLqNacuahF
spbR5qIoSkflzNY/CqZ/F5Et18g+dkWbTghOVpNTquejLMI62Welopg6RWPXDHhj
PoT70We8vcMZr/BFsG8WHQ+NKLabC5NZEzuZ8ZMPu2Rkl9I1iRuW92V/mTGz2ojD
2wIDAQAB
-----END PUBLIC KEY-----
)";

constexpr char kEcPem[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZvtAxNd3Oz3wus6EDHi5NOdJw2da
jC0QWn7KpzVcgyLxAJj9J3MukvLvTwnsqyhI0Wj9jL1KLMQoxm1C0NCivg==
-----END PUBLIC KEY-----
)";

// The seeds' exp is 1700003600.
const std::chrono::system_clock::time_point kNow{std::chrono::seconds(1'700'000'000)};

struct Fixture {
  std::shared_ptr<const rte::auth::KeySet> keys;
  std::optional<rte::auth::JwtVerifier> verifier;

  Fixture() {
    using rte::auth::KeySet;
    auto secret = KeySet::FromSecret(kSecret);
    auto rsa = KeySet::FromPem(kRsaPem);
    auto ec = KeySet::FromPem(kEcPem);
    if (!secret.ok() || !rsa.ok() || !ec.ok()) {
      std::fprintf(stderr, "jwt_fuzz: fixed keys do not load\n");
      std::abort();
    }
    std::shared_ptr<const KeySet> sets[] = {*secret, *rsa, *ec};
    keys = KeySet::Combine(sets);
    rte::auth::JwtOptions options;
    options.algorithms = {"HS256", "RS256", "ES256", "EdDSA"};
    options.issuer = "https://issuer.example";
    options.audience = "realtime";
    options.properties_claim = "props";
    auto v = rte::auth::JwtVerifier::Create(options);
    if (!v.ok()) std::abort();
    verifier.emplace(std::move(*v));
  }
};

void Check(const rte::auth::JwtResult& r) {
  if (r.ok()) {
    if (!r.principal || r.principal->user_id.empty()) std::abort();
  } else if (r.principal || std::strcmp(rte::auth::JwtErrorName(r.error), "unknown") == 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fixture;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const rte::auth::KeySet* sets[] = {fixture.keys.get()};

  Check(fixture.verifier->Verify(text, sets, kNow));

  if (const size_t dot = text.rfind('.'); dot != std::string_view::npos && size <= 16 * 1024) {
    const std::string_view input = text.substr(0, dot);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), kSecret, static_cast<int>(sizeof kSecret - 1),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    const std::string resigned =
        std::string(input) + "." +
        rte::Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
    Check(fixture.verifier->Verify(resigned, sets, kNow));
  }

  size_t skipped = 0;
  auto jwks = rte::auth::KeySet::FromJwks(text, &skipped);
  if (jwks.ok() && (*jwks)->empty()) std::abort();

  auto list = rte::auth::Allowlist::Parse(text, "fuzz");
  if (list.ok()) (void)(*list)->For("user");
  return 0;
}
