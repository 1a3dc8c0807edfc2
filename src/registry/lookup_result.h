// LookupResult: the answer of SchemaRegistryClient::Lookup, which never
// blocks: the schema (Ready), "being fetched" (Pending), or the last error for
// an id that could not be resolved, its kind, whether it is permanent, and
// when it will be tried again (Failed).
// RegistryErrorKind: how a registry error is handled:
//   kTransient   timeouts, connection errors, 5xx, 408, 429, too many ids
//                unresolved: records wait, the id is fetched again with backoff;
//   kNotFound    404: records wait during the not-found grace period (a schema
//                registered a moment ago may not have replicated yet), then
//                the id is permanent: its records are skipped;
//   kUnsupported the registry answered with something this gateway cannot
//                use (unknown schemaType, other 4xx, malformed answer, too
//                many references): permanent at once;
//   kAuth        401/403: records wait, the id is fetched again with backoff,
//                and the gateway reports itself not ready.
// Thread: plain value types; the schema it holds is immutable and shareable.
#pragma once

#include <chrono>
#include <memory>

#include "base/result.h"
#include "registry/registered_schema.h"

namespace rte::registry {

enum class RegistryErrorKind { kTransient, kNotFound, kUnsupported, kAuth };
inline constexpr int kRegistryErrorKinds = 4;

// "transient", "not_found", "unsupported", "auth" (metric label values).
inline const char* RegistryErrorKindName(RegistryErrorKind kind) {
  switch (kind) {
    case RegistryErrorKind::kTransient: return "transient";
    case RegistryErrorKind::kNotFound: return "not_found";
    case RegistryErrorKind::kUnsupported: return "unsupported";
    case RegistryErrorKind::kAuth: return "auth";
  }
  return "transient";
}

// The kind of an error SchemaRegistryClient produced (by its Errc).
inline RegistryErrorKind ClassifyRegistryError(const Error& e) {
  switch (e.code) {
    case Errc::kUnauthenticated:
    case Errc::kPermissionDenied:
      return RegistryErrorKind::kAuth;
    case Errc::kNotFound:
      return RegistryErrorKind::kNotFound;
    case Errc::kUnsupported:
    case Errc::kInvalidArgument:
    case Errc::kOutOfRange:
      return RegistryErrorKind::kUnsupported;
    default:
      return RegistryErrorKind::kTransient;
  }
}

class LookupResult {
 public:
  enum class State { kReady, kPending, kFailed };

  static LookupResult Ready(std::shared_ptr<const RegisteredSchema> schema) {
    LookupResult r(State::kReady);
    r.schema_ = std::move(schema);
    return r;
  }
  static LookupResult Pending() { return LookupResult(State::kPending); }
  static LookupResult Failed(Error error, std::chrono::steady_clock::time_point retry_at,
                             bool permanent = false) {
    LookupResult r(State::kFailed);
    r.kind_ = ClassifyRegistryError(error);
    r.error_ = std::move(error);
    r.retry_at_ = retry_at;
    r.permanent_ = permanent;
    return r;
  }

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  bool pending() const { return state_ == State::kPending; }
  bool failed() const { return state_ == State::kFailed; }

  // Ready only.
  const std::shared_ptr<const RegisteredSchema>& schema() const { return schema_; }
  // Failed only: why, and when the client will fetch it again on its own (may
  // already be past while that retry is in flight).
  const Error& error() const { return error_; }
  std::chrono::steady_clock::time_point retry_at() const { return retry_at_; }
  // Failed only: the error's kind, and whether records of this id are to be
  // skipped (kUnsupported, or kNotFound past the grace period) rather than
  // waited for.
  RegistryErrorKind kind() const { return kind_; }
  bool permanent() const { return permanent_; }

 private:
  explicit LookupResult(State s) : state_(s) {}

  State state_;
  std::shared_ptr<const RegisteredSchema> schema_;
  Error error_;
  std::chrono::steady_clock::time_point retry_at_{};
  RegistryErrorKind kind_ = RegistryErrorKind::kTransient;
  bool permanent_ = false;
};

}  // namespace rte::registry
