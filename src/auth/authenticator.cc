#include "auth/authenticator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

namespace rte::auth {
namespace {

constexpr size_t kMaxPemFileBytes = 1u << 20;

Result<std::string> ReadSmallFile(const std::string& path, std::string_view setting) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return MakeError(Errc::kInvalidArgument,
                     fmt::format("{}={}: cannot open: {}", setting, path, std::strerror(errno)));
  }
  std::string text;
  char buf[16384];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxPemFileBytes) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("{}={}: larger than {} bytes", setting, path, kMaxPemFileBytes));
    }
  }
  if (in.bad()) return MakeError(Errc::kInvalidArgument, fmt::format("{}={}: read error", setting, path));
  return text;
}

AuthResult Failure(std::string reason, std::string message, bool retry = false) {
  AuthResult r;
  r.reason = std::move(reason);
  r.message = std::move(message);
  r.retry_after_refresh = retry;
  return r;
}

AuthResult Success(std::shared_ptr<const Principal> p) {
  AuthResult r;
  r.principal = std::move(p);
  return r;
}

}  // namespace

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const config::AuthSettings& s) {
  std::unique_ptr<Authenticator> auth(new Authenticator(s.mode));
  switch (s.mode) {
    case config::AuthMode::kUnset:
    case config::AuthMode::kNone:
      return auth;
    case config::AuthMode::kAllowlist: {
      if (s.allowlist_file.empty()) {
        return MakeError(Errc::kInvalidArgument, "ALLOWLIST_FILE is required with AUTH_MODE=allowlist");
      }
      auto watcher = AllowlistWatcher::Create(s.allowlist_file);
      if (!watcher.ok()) {
        return MakeError(Errc::kInvalidArgument, "ALLOWLIST_FILE: " + watcher.error().message);
      }
      auth->allowlist_ = std::move(*watcher);
      return auth;
    }
    case config::AuthMode::kJwt:
      break;
  }

  JwtOptions options;
  options.algorithms = s.jwt_algorithms;
  options.issuer = s.jwt_issuer;
  options.audience = s.jwt_audience;
  options.leeway = std::chrono::seconds(s.jwt_leeway_s);
  options.user_claim = s.jwt_user_claim;
  options.orgs_claim = s.jwt_orgs_claim;
  options.properties_claim = s.jwt_properties_claim;
  auto verifier = JwtVerifier::Create(std::move(options));
  if (!verifier.ok()) return verifier.error();
  auth->verifier_.emplace(std::move(*verifier));
  const JwtVerifier& v = *auth->verifier_;

  bool wants_hmac = false;
  bool wants_public = false;
  for (int i = 0; i < kAlgorithmCount; ++i) {
    const auto alg = static_cast<Algorithm>(i);
    if (!v.Allows(alg)) continue;
    (IsSymmetric(alg) ? wants_hmac : wants_public) = true;
  }
  if (wants_hmac && s.jwt_secret.empty()) {
    return MakeError(Errc::kInvalidArgument, "JWT_SECRET is required when JWT_ALGORITHMS has HS256/HS384/HS512");
  }
  if (wants_public && s.jwt_public_key_file.empty() && s.jwt_jwks_url.empty()) {
    return MakeError(Errc::kInvalidArgument,
                     "JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL is required when JWT_ALGORITHMS has an "
                     "RS, ES or EdDSA algorithm");
  }

  std::vector<std::shared_ptr<const KeySet>> sets;
  if (!s.jwt_secret.empty()) {
    if (!wants_hmac) {
      spdlog::warn("JWT_SECRET is set but JWT_ALGORITHMS has no HS algorithm: it is not used");
    } else {
      if (s.jwt_secret.size() < 32) {
        spdlog::warn("JWT_SECRET is shorter than 32 bytes: weak for HMAC (RFC 7518 section 3.2)");
      }
      auto keys = KeySet::FromSecret(s.jwt_secret);
      if (!keys.ok()) return MakeError(Errc::kInvalidArgument, "JWT_SECRET: " + keys.error().message);
      sets.push_back(std::move(*keys));
    }
  }
  if (!s.jwt_public_key_file.empty()) {
    auto text = ReadSmallFile(s.jwt_public_key_file, "JWT_PUBLIC_KEY_FILE");
    if (!text.ok()) return text.error();
    auto keys = KeySet::FromPem(*text);
    if (!keys.ok()) {
      return MakeError(Errc::kInvalidArgument, fmt::format("JWT_PUBLIC_KEY_FILE={}: {}",
                                                           s.jwt_public_key_file, keys.error().message));
    }
    bool usable = false;
    for (int i = 0; i < kAlgorithmCount; ++i) {
      const auto alg = static_cast<Algorithm>(i);
      if (v.Allows(alg) && (*keys)->HasKeyFor(alg)) usable = true;
    }
    if (!usable) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("JWT_PUBLIC_KEY_FILE={}: holds a {} key, which none of "
                                   "JWT_ALGORITHMS can verify",
                                   s.jwt_public_key_file, KeyTypeName((*keys)->keys().front()->type)));
    }
    sets.push_back(std::move(*keys));
  }
  auth->static_keys_ = KeySet::Combine(sets);
  if (!s.jwt_jwks_url.empty()) {
    JwksSourceOptions jo;
    jo.url = s.jwt_jwks_url;
    jo.refresh = std::chrono::seconds(s.jwt_jwks_refresh_s);
    jo.min_refresh = std::chrono::seconds(s.jwt_jwks_min_refresh_s);
    auto jwks = JwksSource::Create(std::move(jo));
    if (!jwks.ok()) return jwks.error();
    auth->jwks_ = std::move(*jwks);
  }
  // Algorithms no configured key can ever verify: allowed, but worth a warning.
  if (!auth->jwks_) {
    for (int i = 0; i < kAlgorithmCount; ++i) {
      const auto alg = static_cast<Algorithm>(i);
      if (v.Allows(alg) && !auth->static_keys_->HasKeyFor(alg)) {
        spdlog::warn("JWT_ALGORITHMS has {} but no configured key can verify it", AlgorithmName(alg));
      }
    }
  }
  return auth;
}

Authenticator::~Authenticator() { Stop(); }

void Authenticator::Start() {
  if (jwks_) jwks_->Start();
  if (allowlist_) allowlist_->Start();
}

void Authenticator::Stop() {
  if (jwks_) jwks_->Stop();
  if (allowlist_) allowlist_->Stop();
}

AuthResult Authenticator::VerifyToken(std::string_view token,
                                      std::chrono::system_clock::time_point now) const {
  switch (mode_) {
    case config::AuthMode::kUnset:
    case config::AuthMode::kNone:
      return Success(Principal::Anyone());
    case config::AuthMode::kAllowlist:
      return Failure("wrong_mode", "AUTH_MODE=allowlist takes a user id, not a token");
    case config::AuthMode::kJwt:
      break;
  }
  if (token.empty()) return Failure("missing_credentials", "no token");
  std::shared_ptr<const KeySet> dynamic = jwks_ ? jwks_->Current() : nullptr;
  const KeySet* sets[] = {static_keys_.get(), dynamic.get()};
  JwtResult r = verifier_->Verify(token, sets, now);
  if (r.ok()) return Success(std::move(r.principal));
  const bool retry = r.error == JwtError::kUnknownKey && jwks_ != nullptr;
  return Failure(JwtErrorName(r.error), std::move(r.message), retry);
}

AuthResult Authenticator::ForUser(std::string_view user_id) const {
  switch (mode_) {
    case config::AuthMode::kUnset:
    case config::AuthMode::kNone:
      return Success(Principal::Anyone());
    case config::AuthMode::kJwt:
      return Failure("wrong_mode", "AUTH_MODE=jwt takes a token, not a user id");
    case config::AuthMode::kAllowlist:
      break;
  }
  if (user_id.empty()) return Failure("missing_credentials", "no user id");
  return Success(allowlist_->Current()->For(user_id));
}

uint64_t Authenticator::generation() const { return allowlist_ ? allowlist_->generation() : 0; }

void Authenticator::RequestKeyRefresh(std::function<void()> done) {
  if (jwks_) {
    jwks_->RequestRefresh(std::move(done));
  } else if (done) {
    done();
  }
}

bool Authenticator::ready() const { return !jwks_ || jwks_->Current() != nullptr; }

bool Authenticator::WaitReady(std::chrono::milliseconds timeout) const {
  return !jwks_ || jwks_->WaitFirst(timeout);
}

}  // namespace rte::auth
