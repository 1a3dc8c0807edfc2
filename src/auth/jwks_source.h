// JwksSource: keeps the key set of JWT_JWKS_URL fresh. Fetches it at Start,
// then every `refresh`; a failed fetch (transport error, non-200 status, a
// document without a usable key) keeps the previous key set and is retried
// with exponential backoff (capped at `refresh`). RequestRefresh fetches at
// once for a token whose kid is unknown, at most once per `min_refresh`.
//
// Owner: the Authenticator. It runs its own thread with its own io_context
// and registry::HttpClient (http:// or https:// with the system CAs; 5 s per
// request, 1 MiB body cap by default).
// Thread: Current, WaitFirst, RequestRefresh and the counters from any thread.
// Start/Stop from the owner's thread; Stop is idempotent, fails the request in
// flight and joins the thread; the destructor calls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "auth/key_set.h"
#include "base/result.h"

namespace rte::auth {

struct JwksSourceOptions {
  std::string url;                                  // JWT_JWKS_URL
  std::chrono::milliseconds refresh{300'000};       // JWT_JWKS_REFRESH
  std::chrono::milliseconds min_refresh{10'000};    // JWT_JWKS_MIN_REFRESH
  std::chrono::milliseconds timeout{5'000};         // per request, connect included
  size_t max_body_bytes = 1u << 20;
  std::chrono::milliseconds retry_initial{1'000};   // backoff after a failed fetch
  std::chrono::milliseconds retry_max{60'000};
};

class JwksSource {
 public:
  // Validates the URL (errors name JWT_JWKS_URL); starts nothing.
  static Result<std::unique_ptr<JwksSource>> Create(JwksSourceOptions options);
  ~JwksSource();
  JwksSource(const JwksSource&) = delete;
  JwksSource& operator=(const JwksSource&) = delete;

  // Starts the thread and the first fetch. Once; no-op after Stop.
  void Start();
  void Stop();

  // Blocks up to `timeout` until a key set has been fetched once; true if so.
  bool WaitFirst(std::chrono::milliseconds timeout) const;

  // The last key set fetched; null until the first successful fetch.
  std::shared_ptr<const KeySet> Current() const;

  // Fetches now unless a fetch started less than min_refresh ago; a fetch in
  // flight is shared. `done` runs on the JWKS thread once that fetch has
  // finished (Current() then holds its keys if it succeeded), or right away
  // (still on the JWKS thread) when rate-limited. Requests still pending when
  // Stop runs are completed by it; after the thread has ended `done` is
  // destroyed without being called.
  void RequestRefresh(std::function<void()> done);

  uint64_t fetches_ok() const;
  uint64_t fetches_failed() const;
  uint64_t refreshes_rate_limited() const;

 private:
  struct Impl;
  explicit JwksSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rte::auth
