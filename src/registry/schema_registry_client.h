// SchemaRegistryClient: resolves Confluent schema ids to schemas over the
// registry's REST API (GET /schemas/ids/{id}, references through
// GET /subjects/{s}/versions/{v}), with Basic auth as Confluent Cloud uses,
// HTTPS, keep-alive, retries with backoff and jitter, and a cache by id for
// the life of the process (ids are immutable). Failures are classified
// (RegistryErrorKind, lookup_result.h): transient and auth failures are
// retried with backoff (250 ms doubling to 30 s, jittered, by default); a 404
// is retried the same way during a grace period and is permanent after it;
// an unsupported answer is permanent at once. A permanent id is still
// fetched again at the backoff's cap, so a schema that appears later is used
// for later records.
//
// Owner: the app (one per registry). It runs its own thread and io_context;
// all network I/O happens there.
// Thread: Lookup, SetOnSettled, AuthFailure, counters() and the accessors may be called from
// any thread; Lookup never blocks on I/O (it takes a short internal lock that
// is never held across I/O or callbacks) and is meant for the ingest thread.
// FetchBlocking and CheckConnectivity block the caller and must not be called
// from the client thread (the OnSettled callback). Destroying the client stops
// its thread; no callback runs after the destructor returns.
// Errors: no exception escapes any method.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/result.h"
#include "registry/lookup_result.h"
#include "registry/registered_schema.h"
#include "registry/registry_url.h"

namespace rte::registry {

struct SchemaRegistryClientSettings {
  std::string url;        // http://host:port or https://host[/prefix]
  std::string user_info;  // "key:secret" for Basic auth; empty = none
  std::string ca_file;    // extra CA bundle (PEM) besides the system CAs; optional
  std::chrono::milliseconds request_timeout{10'000};  // per HTTP request
  // Transient errors (connect, timeout, 5xx, 429) are retried within one fetch
  // this many times, with exponential backoff and jitter, before the id is
  // reported Failed.
  int max_retries = 1;
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{5'000};
  // A Failed id is fetched again after this backoff (jittered: uniform in
  // [d/2, d]), doubling per failure up to the max, for as long as it fails.
  std::chrono::milliseconds quarantine_backoff_initial{250};
  std::chrono::milliseconds quarantine_backoff_max{30'000};
  // A 404 for an id is retried for this long (from its first 404) before
  // the id is permanently not found; 0: permanent at the first 404.
  std::chrono::milliseconds not_found_grace{10'000};
  int max_reference_depth = 16;   // nesting of references
  size_t max_references = 256;    // referenced schemas per id, all depths
  size_t max_response_bytes = 4u << 20;
  size_t max_unresolved_ids = 4096;  // ids Pending or Failed at once; beyond: Failed at once
  size_t max_connections = 2;
};

class SchemaRegistryClient {
 public:
  struct Counters {
    uint64_t requests = 0;        // HTTP requests sent
    uint64_t failures = 0;        // HTTP requests that failed or got an error status
    uint64_t cache_hits = 0;      // lookups answered Ready
    uint64_t cache_misses = 0;    // lookups answered Pending or Failed
    uint64_t quarantined_ids = 0; // ids currently Failed
    uint64_t cached_ids = 0;      // ids currently Ready
    uint64_t connections_opened = 0;
    // Failed fetch attempts by RegistryErrorKind (index = the enum's value).
    std::array<uint64_t, kRegistryErrorKinds> errors{};
    uint64_t permanent_ids = 0;   // ids whose records are skipped (not found, unsupported)
  };

  // Validates the settings (URL, user_info "key:secret", TLS set-up) and
  // starts the client thread. Makes no request.
  static Result<std::unique_ptr<SchemaRegistryClient>> Create(
      SchemaRegistryClientSettings settings);
  ~SchemaRegistryClient();
  SchemaRegistryClient(const SchemaRegistryClient&) = delete;
  SchemaRegistryClient& operator=(const SchemaRegistryClient&) = delete;

  // Non-blocking. Ready: cached. Pending: a fetch is in flight or scheduled
  // (the first miss for an id starts it; concurrent misses share it). Failed:
  // the last fetch failed (404, bad response, registry down or rejecting
  // credentials), with its kind and whether it is permanent; the client
  // retries on its own at retry_at.
  LookupResult Lookup(int32_t id);

  // Called on the client thread each time an id is settled: it became Ready,
  // or its failure became permanent (records of it are to be skipped), so the
  // caller can retry records it parked. Keep it short and non-blocking. Set it
  // before the first Lookup (or accept missing earlier notifications).
  void SetOnSettled(std::function<void(int32_t id)> callback);

  // The registry's last refusal of our credentials (401/403), while the
  // latest answer to a schema fetch was one; empty once a fetch is answered
  // otherwise (found, or not found).
  std::string AuthFailure() const;

  // Blocks until the id is Ready, a fetch attempt for it ends in failure, or
  // the timeout passes (kUnavailable). Starts a fetch at once even if the id is
  // waiting out a backoff. For start-up checks and tests.
  Result<std::shared_ptr<const RegisteredSchema>> FetchBlocking(int32_t id,
                                                                std::chrono::milliseconds timeout);

  // One GET /subjects. OK if the registry answers 200; otherwise a clear
  // error: kUnauthenticated "... rejected credentials (401)", kPermissionDenied
  // (403), kUnavailable (cannot connect, timeout, 5xx).
  Status CheckConnectivity();

  Counters counters() const;
  const RegistryUrl& url() const { return url_; }

 private:
  struct Impl;
  explicit SchemaRegistryClient(std::unique_ptr<Impl> impl, RegistryUrl url);

  std::unique_ptr<Impl> impl_;
  RegistryUrl url_;
};

}  // namespace rte::registry
