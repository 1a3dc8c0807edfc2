// SchemaRegistryClient: resolves Confluent schema ids to schemas over the
// registry's REST API (GET /schemas/ids/{id}, references through
// GET /subjects/{s}/versions/{v}), with Basic auth as Confluent Cloud uses,
// HTTPS, keep-alive, retries with backoff and jitter, and a cache by id for
// the life of the process (ids are immutable).
//
// Owner: the app (one per registry). It runs its own thread and io_context;
// all network I/O happens there.
// Thread: Lookup, SetOnReady, counters() and the accessors may be called from
// any thread; Lookup never blocks on I/O (it takes a short internal lock that
// is never held across I/O or callbacks) and is meant for the ingest thread.
// FetchBlocking and CheckConnectivity block the caller and must not be called
// from the client thread (the OnReady callback). Destroying the client stops
// its thread; no callback runs after the destructor returns.
// Errors: no exception escapes any method.
#pragma once

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
  // this many times, with exponential backoff and jitter.
  int max_retries = 3;
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{5'000};
  // After a fetch fails for good the id is Failed (quarantined) and fetched
  // again after this backoff, doubling per failure up to the max.
  std::chrono::milliseconds quarantine_backoff_initial{2'000};
  std::chrono::milliseconds quarantine_backoff_max{300'000};
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
  // credentials); the client retries on its own at retry_at.
  LookupResult Lookup(int32_t id);

  // Called on the client thread each time an id becomes Ready, so the caller
  // can retry records it parked. Keep it short and non-blocking. Set it before
  // the first Lookup (or accept missing earlier notifications).
  void SetOnReady(std::function<void(int32_t id)> callback);

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
