// LookupResult: the answer of SchemaRegistryClient::Lookup, which never
// blocks: the schema (Ready), "being fetched" (Pending), or the last error for
// an id that could not be resolved and when it will be tried again (Failed).
// Thread: plain value type; the schema it holds is immutable and shareable.
#pragma once

#include <chrono>
#include <memory>

#include "base/result.h"
#include "registry/registered_schema.h"

namespace rte::registry {

class LookupResult {
 public:
  enum class State { kReady, kPending, kFailed };

  static LookupResult Ready(std::shared_ptr<const RegisteredSchema> schema) {
    LookupResult r(State::kReady);
    r.schema_ = std::move(schema);
    return r;
  }
  static LookupResult Pending() { return LookupResult(State::kPending); }
  static LookupResult Failed(Error error, std::chrono::steady_clock::time_point retry_at) {
    LookupResult r(State::kFailed);
    r.error_ = std::move(error);
    r.retry_at_ = retry_at;
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

 private:
  explicit LookupResult(State s) : state_(s) {}

  State state_;
  std::shared_ptr<const RegisteredSchema> schema_;
  Error error_;
  std::chrono::steady_clock::time_point retry_at_{};
};

}  // namespace rte::registry
