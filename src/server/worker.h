// Worker: one event loop on its own thread. Owns the sessions it accepted,
// their subscription index, and its statistics; accepts connections on its
// copy (dup) of the process's one listening socket; fans each event posted by
// the ingest thread out to its matching sessions through its index.
// Thread: Start/Stop/Join from the main thread; PostEvents and
// OnInterestApplied from any thread (they post to the loop); everything else
// runs on the worker's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log_throttle.h"
#include "cluster/cluster_state.h"
#include "metrics/stats.h"
#include "routing/event.h"
#include "routing/interest.h"
#include "routing/subscription_index.h"
#include "session/connection_limits.h"
#include "session/session_host.h"
#include "session/ws_session.h"
#include "server/admin_view.h"
#include "server/write_coalescer.h"

namespace rte::server {

class HttpApi;

// The HTTP phase's limits (docs/security.md).
struct HttpOptions {
  std::chrono::seconds handshake_timeout{10};  // whole request must arrive within
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 16 * 1024;
  std::vector<std::string> allowed_origins;    // empty: any
};

// Opens the process's listening socket: bound WITHOUT SO_REUSEPORT, so a
// second process on the same port fails with "address already in use"
// instead of silently sharing it. Workers accept on dup()s of it.
Result<int> OpenListener(const std::string& address, uint16_t port);

class Worker final : public session::SessionHost {
 public:
  // `authenticator` and `limits` are shared by every worker and outlive them.
  Worker(int index, const routing::ChannelTable& channels, const session::SessionOptions& options,
         HttpOptions http_options, routing::InterestUpdates& interest, HttpApi& api,
         auth::Authenticator& authenticator, session::ConnectionLimits& limits, ingest::ReplayService* replay);
  ~Worker() override;

  // Accepts on a dup() of `listen_fd` (from OpenListener); with `tls`, every
  // connection starts with a TLS handshake.
  Status Listen(int listen_fd, boost::asio::ssl::context* tls);
  // The gauge that says a Kafka outage is on (read every tick). Before Start.
  void WatchKafkaOutage(const metrics::Gauge* flag) { kafka_outage_flag_ = flag; }
  // Shared state with the other instances (REDIS_URL; may stay null). Before Start.
  void SetCluster(cluster::ClusterState* cluster) { cluster_ = cluster; }
  // Closes every session of `user_id` (an administrator's disconnect). Thread: any.
  void DisconnectUser(std::string user_id);
  void Start();
  // Stops accepting, closes every session with 1001 and stops the loop after
  // a short grace. Thread: any.
  void Stop();
  void Join();
  // Graceful shutdown, step 1: the listening socket closes (no new
  // connections here; the load balancer moves them elsewhere). Thread: any.
  void StopAccepting();
  // Step 2: every session closes with 1001 and a reconnect hint after what it
  // has queued; the loop stops once all have closed or at `deadline`
  // (sessions still open then are cut). Join() waits for it. Thread: any.
  void Drain(session::Clock::time_point deadline);

  // Thread: any (ingest thread). Posts a batch for fan-out.
  void PostEvents(std::vector<routing::EventPtr> events);
  // Thread: any (ingest thread).
  void OnInterestApplied(uint64_t seq);
  // Events posted but not yet fanned out. Thread: any.
  size_t backlog_events() const { return backlog_events_.load(std::memory_order_relaxed); }

  int index() const { return index_; }
  boost::asio::io_context& io() { return ioc_; }
  const metrics::WorkerStats& worker_stats() const { return stats_; }

  // Takes a freshly upgraded connection (worker thread).
  void AddSession(std::shared_ptr<session::WsSession> session);
  // Every open session, for the admin view (worker thread).
  std::vector<ClientInfo> Clients() const;

  // For HttpConnection (worker thread).
  const HttpOptions& http_options() const { return http_options_; }
  const session::SessionOptions& session_options() const { return options_; }
  LogThrottle& bad_request_log() { return bad_request_log_; }
  LogThrottle& auth_log() override { return auth_log_; }

  // SessionHost
  const routing::ChannelTable& channels() const override { return channels_; }
  const session::SessionOptions& options() const override { return options_; }
  metrics::WorkerStats& stats() override { return stats_; }
  std::span<char> read_buffer() override { return read_buffer_; }
  auth::Authenticator& authenticator() override { return authenticator_; }
  session::ConnectionLimits& limits() override { return limits_; }
  void Subscribe(const std::shared_ptr<session::WsSession>& s, const routing::SubscriptionKey& key,
                 session::SharedFrame ack) override;
  void Unsubscribe(session::WsSession* s, const routing::SubscriptionKey& key) override;
  void Replay(const std::shared_ptr<session::WsSession>& s, const routing::SubscriptionKey& key,
              ingest::ReplayRequest from) override;
  void OnSessionClosed(session::WsSession* s) override;
  bool RequestAdmission(const std::shared_ptr<session::WsSession>& s, session::AdmissionRequest request) override;
  void ReleaseAdmission(session::WsSession* s) override;

 private:
  void DoAccept();
  void OnAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void DoTick();
  void DrainBacklog();
  // Drain: stops the loop once no session is left or `deadline` passed.
  void CheckDrained(session::Clock::time_point deadline);
  void ScheduleDrain();  // runs DrainBacklog now, or when the hold after a long flush ends
  // Drops the sessions that closed while the index or the session map was
  // being walked.
  void EraseDead();

  const int index_;
  const routing::ChannelTable& channels_;
  const session::SessionOptions options_;
  const HttpOptions http_options_;
  routing::InterestUpdates& interest_;
  HttpApi& api_;
  auth::Authenticator& authenticator_;
  session::ConnectionLimits& limits_;
  metrics::WorkerStats stats_;
  LogThrottle bad_request_log_;
  LogThrottle auth_log_;
  LogThrottle accept_log_;

  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  boost::asio::ssl::context* tls_ = nullptr;
  boost::asio::steady_timer tick_timer_{ioc_};
  boost::asio::steady_timer accept_backoff_{ioc_};  // out of descriptors: wait, don't spin
  std::thread thread_;
  bool stopping_ = false;
  bool accepting_ = true;   // until StopAccepting
  bool kafka_outage_ = false;  // as last told to the clients (checked every tick)
  const metrics::Gauge* kafka_outage_flag_ = nullptr;
  cluster::ClusterState* cluster_ = nullptr;  // thread-safe; outlives the worker
  // The session's id in the cluster (unique within this process).
  std::string ClusterId(const session::WsSession* s) const;  // the ingest side's rte_kafka_outage (relaxed read)
  session::SharedFrame KafkaStatusFrame() const;
  boost::asio::steady_timer drain_timer_{ioc_};

  std::deque<routing::EventPtr> backlog_;  // events posted, not yet fanned out
  bool draining_ = false;  // a pass is running or scheduled
  std::vector<int64_t> pass_timestamps_;  // Kafka timestamps (ms) of the events in this pass
  // Write coalescing under load (WriteCoalescer): the next pass may wait
  // until hold_until_, so its writes carry the frames that arrive meanwhile.
  WriteCoalescer coalescer_;
  boost::asio::steady_timer hold_timer_{ioc_};
  session::Clock::time_point hold_until_{};
  bool fanning_out_ = false;
  std::vector<session::WsSession*> touched_;  // sessions a fan-out pass queued frames on
  // Events posted and not fanned out yet: raised by the ingest thread as it
  // posts, lowered here as a pass finishes. The ingest thread stops
  // consuming while a worker is far behind (backpressure).
  std::atomic<size_t> backlog_events_{0};

  routing::SubscriptionIndex<session::WsSession> index_by_key_;
  std::unordered_map<session::WsSession*, std::shared_ptr<session::WsSession>> sessions_;
  std::vector<session::WsSession*> dead_;  // closed during a tick; erased after it
  uint64_t next_serial_ = 0;
  bool ticking_ = false;

  // Subscribe acks waiting for the ingest thread to apply this worker's
  // interest updates up to a sequence number.
  uint64_t last_pushed_seq_ = 0;
  uint64_t applied_seq_ = 0;
  std::multimap<uint64_t, std::pair<std::shared_ptr<session::WsSession>, session::SharedFrame>> pending_acks_;
  // Replays waiting for their subscription to take effect (by interest seq).
  struct PendingReplay {
    std::weak_ptr<session::WsSession> session;
    routing::SubscriptionKey key;
    ingest::ReplayRequest from;
  };
  std::multimap<uint64_t, PendingReplay> pending_replays_;
  ingest::ReplayService* replay_;  // null: resumes are answered not recovered
  void SubmitReplay(PendingReplay job);

  std::array<char, 64 * 1024> read_buffer_{};
};

}  // namespace rte::server
