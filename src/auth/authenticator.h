// Authenticator: the one object the server asks who a connection is.
//   AUTH_MODE none (or unset): everyone may see everything (Principal::Anyone).
//   AUTH_MODE allowlist: the user id from the query string is looked up in
//     ALLOWLIST_FILE (reloaded when it changes; generation() tells).
//   AUTH_MODE jwt: a signed token (JwtVerifier) with keys from JWT_SECRET,
//     JWT_PUBLIC_KEY_FILE and/or JWT_JWKS_URL (JwksSource), loaded once.
// Create validates the settings (errors name the setting) and reads the files;
// Start starts the JWKS and allowlist threads.
//
// Owner: the Gateway (one per process). Thread: after Start, every const
// method may be called from any thread (the network workers) without
// blocking on I/O; Start/Stop from the owner's thread. Stop is idempotent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/allowlist.h"
#include "auth/jwks_source.h"
#include "auth/jwt.h"
#include "auth/key_set.h"
#include "auth/principal.h"
#include "base/result.h"
#include "config/settings.h"

namespace rte::auth {

struct AuthResult {
  std::shared_ptr<const Principal> principal;  // null on failure
  std::string reason;   // stable snake_case on failure (JwtErrorName or below); "" on success
  std::string message;  // human, safe to log (no token, no secret)
  // Unknown kid with a JWKS source: the caller may RequestKeyRefresh and then
  // verify the same token once more.
  bool retry_after_refresh = false;

  bool ok() const { return principal != nullptr; }
};

// Reasons besides the JwtError names: "missing_credentials" (no token / user
// id), "wrong_mode" (a token in allowlist mode, a user id in jwt mode).

class Authenticator {
 public:
  static Result<std::unique_ptr<Authenticator>> Create(const config::AuthSettings& settings);
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  void Start();
  void Stop();

  config::AuthMode mode() const { return mode_; }  // kUnset is reported as is; it acts as kNone
  bool requires_credentials() const {
    return mode_ == config::AuthMode::kAllowlist || mode_ == config::AuthMode::kJwt;
  }

  // jwt: verifies `token` at `now`. none/unset: Anyone (the token is ignored).
  AuthResult VerifyToken(std::string_view token, std::chrono::system_clock::time_point now) const;

  // allowlist: the organizations of `user_id` (a principal with no
  // organizations when the user is not listed). none/unset: Anyone.
  AuthResult ForUser(std::string_view user_id) const;

  // allowlist: changes on every reload (principals from ForUser should then be
  // re-evaluated); 0 in the other modes.
  uint64_t generation() const;

  // jwt with JWKS: JwksSource::RequestRefresh (done runs on the JWKS thread).
  // Otherwise done runs at once on the calling thread.
  void RequestKeyRefresh(std::function<void()> done);

  // False only in jwt mode with a JWKS URL whose keys were never fetched.
  bool ready() const;
  // Blocks up to `timeout` for ready().
  bool WaitReady(std::chrono::milliseconds timeout) const;

  const JwksSource* jwks() const { return jwks_.get(); }             // null without JWT_JWKS_URL
  const AllowlistWatcher* allowlist() const { return allowlist_.get(); }  // null unless allowlist

 private:
  explicit Authenticator(config::AuthMode mode) : mode_(mode) {}

  const config::AuthMode mode_;
  std::optional<JwtVerifier> verifier_;         // jwt
  std::shared_ptr<const KeySet> static_keys_;   // jwt: JWT_SECRET + JWT_PUBLIC_KEY_FILE (may be empty)
  std::unique_ptr<JwksSource> jwks_;            // jwt with JWT_JWKS_URL
  std::unique_ptr<AllowlistWatcher> allowlist_; // allowlist
};

}  // namespace rte::auth
