// SessionHost: what a session needs from the worker that owns it
// (subscriptions, shared read buffer, limits, stats). Implemented by
// server::Worker; defined here so session does not depend on server.
// Thread: every method is called on the owning worker's thread only.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/log_throttle.h"
#include "metrics/stats.h"
#include "routing/channel_table.h"
#include "ingest/replay_service.h"
#include "routing/subscription_key.h"

namespace rte::auth {
class Authenticator;
}

namespace rte::session {

class ConnectionLimits;

class WsSession;
using SharedFrame = std::shared_ptr<const std::string>;
using Clock = std::chrono::steady_clock;

struct SessionOptions {
  std::chrono::seconds ping_interval{20};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds write_timeout{2};   // HEART_BEAT_INTERVAL
  std::chrono::seconds close_grace{2};     // after our close frame
  size_t max_message_bytes = 64 * 1024;
  size_t send_queue_bytes = 1024 * 1024;
  bool slow_client_drop = false;           // SLOW_CLIENT_POLICY=drop (else close)
  size_t max_subscriptions = 64;
  std::chrono::seconds auth_timeout{10};   // AUTH_TIMEOUT: a connection without credentials
  std::chrono::seconds token_leeway{30};   // JWT_LEEWAY, also past a connection's token expiry
  double command_rate = 20;                // COMMAND_RATE per second
  double command_burst = 40;               // COMMAND_BURST
  size_t max_id_length = 128;              // MAX_ID_LENGTH
};

// Cluster-wide connection limits (REDIS_URL): a connection is counted once,
// when its user (and the organizations it counts against) are known.
struct AdmissionRequest {
  std::string user_id;                     // may be empty
  std::vector<std::string> organizations;  // may be empty
};
enum class AdmissionVerdict { kAdmitted, kOverUserLimit, kOverOrganizationLimit };

class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual const routing::ChannelTable& channels() const = 0;
  virtual const SessionOptions& options() const = 0;
  virtual metrics::WorkerStats& stats() = 0;
  // Scratch buffer for socket reads, shared by all sessions of the worker.
  virtual std::span<char> read_buffer() = 0;
  // Shared by every worker; thread-safe.
  virtual auth::Authenticator& authenticator() = 0;
  virtual ConnectionLimits& limits() = 0;
  // Throttles the worker's log lines about refused credentials.
  virtual LogThrottle& auth_log() = 0;
  // Adds `session` to the index under `key` (no-op if it is there), then
  // sends `ack` (if any) once the subscription is in effect: every record
  // from then on will be delivered.
  virtual void Subscribe(const std::shared_ptr<WsSession>& session, const routing::SubscriptionKey& key,
                         SharedFrame ack) = 0;
  virtual void Unsubscribe(WsSession* session, const routing::SubscriptionKey& key) = 0;
  // Resume: once the subscription `key` is in effect (Subscribe was called),
  // replays what the client missed since `from` (its since / since_time
  // fields); calls session->FinishReplay(key, result) on this thread when
  // done. Live events of `key` must be held by the session meanwhile.
  virtual void Replay(const std::shared_ptr<WsSession>& session, const routing::SubscriptionKey& key,
                      ingest::ReplayRequest from) = 0;
  // The session is gone: drop it from every index and from the worker.
  virtual void OnSessionClosed(WsSession* session) = 0;
  // Asks whether the connection may stay under the cluster-wide limits.
  // False: admitted now (no cluster configured). True: the answer follows as
  // session->OnAdmission(...) on this thread (not if the session closed).
  virtual bool RequestAdmission(const std::shared_ptr<WsSession>& session, AdmissionRequest request) = 0;
  // An admitted connection closed: uncount it (cluster-wide).
  virtual void ReleaseAdmission(WsSession* session) = 0;
};

}  // namespace rte::session
