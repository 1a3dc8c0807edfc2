// WsSession: one WebSocket connection after the upgrade. Parses client
// frames itself (no per-session read buffer: reads go into the worker's
// shared buffer when the socket is readable), handles the JSON protocol, and
// writes every outgoing frame (events, replies, pings, close) from ONE
// byte-bounded queue with at most one gather write in flight, so writers
// never interleave. A client that exceeds the queue bound is closed with
// 1013; one that sends nothing (pongs count) within the idle timeout, or
// whose write stalls beyond the write timeout, is closed and dropped.
// Authorization: every subscription is checked against the connection's
// Principal (the token's or the allowlist's entitlement); a connection
// without one must send {"type":"auth"} within AUTH_TIMEOUT; an expired
// token closes the connection (1008) unless a fresh one arrived; client
// commands are rate-limited by a token bucket (COMMAND_RATE/COMMAND_BURST).
// Owner: the Worker that accepted it (holds a shared_ptr until closed).
// Thread: every method on that worker's thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "base/thread_checker.h"
#include "session/connection_limits.h"
#include "routing/event.h"
#include "routing/subscription_key.h"
#include "session/session_host.h"
#include "session/transport.h"
#include "wire/protocol.h"
#include "wire/ws_frame.h"

namespace rte::session {

// What the HTTP phase established about the client.
struct SessionAuth {
  std::shared_ptr<const auth::Principal> principal;  // null: credentials must follow in an auth message
  ConnectionLimits::Slot user_slot;
  ConnectionLimits::Slot ip_slot;
};

// The prototype endpoint's query: /getEvents/{channel}?organization_id=&user_id=[&property_id=].
struct PrototypeRequest {
  std::string channel;
  std::string organization_id;
  std::string property_id;
  std::string user_id;
  // Resume (optional), as given in the query: since=PARTITION:OFFSET[,...]
  // (last offsets seen) or since_time=MS; OpenPrototype validates them.
  std::string since;
  std::string since_time;
};

// One outgoing frame (header + payload), shareable by many sessions.
SharedFrame MakeFrame(wire::Opcode op, std::string_view payload);

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  enum class Kind { kPrototype, kMulti };

  WsSession(Transport transport, SessionHost& host, Kind kind, Clock::time_point now, SessionAuth auth);
  ~WsSession();

  // Queues the handshake response, handles bytes read with the upgrade
  // request, and starts reading.
  void Start(std::string handshake_response, std::string_view already_read);

  // Prototype endpoint: subscribes at once (no ack message), or once an auth
  // message brought credentials; closes with 1008 for an unknown channel, a
  // bad or forbidden id, or a user_id that contradicts the token.
  void OpenPrototype(PrototypeRequest request);

  // Queues an event frame (data path) without writing: the worker calls
  // Flush once per fan-out pass, so the frames a pass queued on this session
  // leave in one gather write. Returns true when the session needs that Flush
  // (the first frame since the last one). `event` (alive as long as `frame`)
  // says where the frame came from, should it have to be dropped;
  // `property_key`: it matched the session's (channel, tenant, property)
  // subscription, not its (channel, tenant) one.
  bool Deliver(const SharedFrame& frame, const routing::Event* event, bool property_key);
  // The replay of a resuming subscription is done: queues the `subscribed`
  // acknowledgement (/ws), the replayed events, then the live events held
  // meanwhile that the replay did not already cover, and lets `key` flow.
  void FinishReplay(const routing::SubscriptionKey& key, ingest::ReplayResult result);
  // Starts a write of what is queued, if none is in flight.
  void Flush();
  // Queues a JSON text message.
  void SendText(std::string_view json);
  void SendFrame(SharedFrame frame);

  // The cluster's answer to RequestAdmission: admitted (held commands and
  // the prototype's subscription go on), or over a limit (an error
  // limit_exceeded on /ws, then close 1008 naming the limit).
  void OnAdmission(AdmissionVerdict verdict, std::string_view detail);
  // Closes a connection an administrator disconnected (all nodes).
  void Disconnect();

  // Heartbeats and timeouts; the worker calls this periodically.
  void Tick(Clock::time_point now);

  // Graceful close: drops frames not yet written, sends a close frame, then
  // closes the socket once the client answers or the grace period ends.
  void Close(uint16_t code, std::string_view reason);
  // Drain (shutdown): the close frame goes after everything already queued,
  // so the client gets every event it was sent; the socket closes once the
  // client answers, or at `deadline`. No more events are queued after this.
  void CloseAfterQueued(uint16_t code, std::string_view reason, Clock::time_point deadline);

  bool closed() const { return terminated_; }
  metrics::Endpoint endpoint() const {
    return kind_ == Kind::kPrototype ? metrics::Endpoint::kGetEvents : metrics::Endpoint::kWs;
  }
  // For the admin view (/api/admin/clients).
  const std::string& remote() const { return remote_; }
  void set_remote(std::string remote) { remote_ = std::move(remote); }
  uint64_t serial() const { return serial_; }  // the worker's number for it
  void set_serial(uint64_t serial) { serial_ = serial; }
  const auth::Principal* principal() const { return principal_.get(); }
  // The principal's user, else (no user in AUTH_MODE none) the user_id the
  // prototype endpoint's query named.
  const std::string& user_id() const {
    return principal_ && !principal_->user_id.empty() ? principal_->user_id : query_user_id_;
  }
  std::chrono::system_clock::time_point connected_at() const { return connected_at_; }
  uint64_t events_sent() const { return events_sent_; }
  uint64_t events_dropped() const { return events_dropped_; }
  const std::vector<routing::SubscriptionKey>& subscriptions() const { return subscriptions_; }
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  void DoWaitReadable();
  enum class ReadOutcome { kDrained, kBudgetSpent, kEnded };
  // Reads and handles what the transport has, up to a per-wake-up budget.
  ReadOutcome ReadAvailable();
  void OnReadable(const boost::system::error_code& ec);
  // Returns false when the session stops reading (closing / closed).
  bool OnMessage(const wire::ClientMessage& msg);
  void HandleCommand(std::string_view text);
  // Token bucket; false (and the command is dropped) when over the rate.
  bool TakeCommandToken(std::string_view id);
  void HandleAuth(const wire::ClientCommand& cmd, bool after_key_refresh);
  // Takes a new principal (first credentials or a refresh).
  void SetPrincipal(std::shared_ptr<const auth::Principal> principal);
  // Drops subscriptions the principal no longer allows.
  void Reauthorize();
  void SubscribePrototype();
  // True once the connection is admitted under the cluster-wide limits;
  // otherwise asks (once) and returns false: the caller retries after
  // OnAdmission. `organization`: what a connection entitled to every
  // organization counts against (the one it subscribes to first).
  bool Admitted(std::string_view organization);
  // /ws: asks for admission as soon as the principal says who connects.
  void AdmitKnownPrincipal();
  enum class AdmissionState { kNotAsked, kPending, kAdmitted };
  AdmissionState admission_ = AdmissionState::kNotAsked;
  bool counted_in_cluster_ = false;         // admitted by the cluster: released when it closes
  std::vector<std::string> held_commands_;  // /ws commands that came while admission was pending
  // Counts and (throttled) logs a refused credential or subscription.
  void AuthFailure(std::string_view reason, std::string_view message);
  // Queues `frame`; writes at once unless `defer` (Deliver: the worker
  // flushes). False when the frame was refused (the session is closing).
  // `event`: the event the frame carries (null: a reply or control frame).
  bool Enqueue(SharedFrame frame, bool bypass_cap, bool defer = false, const routing::Event* event = nullptr);
  // SLOW_CLIENT_POLICY=drop: drops the oldest unsent event frames until
  // `need` bytes are free, noting what was dropped for the gap message.
  // False when not enough could be dropped.
  bool DropOldest(size_t need);
  // Puts the gap message(s) for what was dropped at the front of the unsent
  // frames (where the hole is).
  void QueueGapMessages();
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec, size_t frames);
  void Terminate();

  Transport transport_;
  boost::asio::ip::tcp::socket& socket_;  // transport_'s TCP socket (TLS or not)
  std::string tls_out_;                   // TLS: the frames of the write in flight, copied into one record run
  SessionHost& host_;
  const Kind kind_;
  wire::FrameParser parser_;
  ThreadChecker thread_;

  // Send queue: frames_[head_..] are waiting; the first `in_flight_` of them
  // are being written.
  struct Queued {
    SharedFrame frame;
    const routing::Event* event = nullptr;  // kept alive by `frame`; null for replies and control frames
  };
  std::vector<Queued> frames_;
  // Dropped and not yet reported: per channel, per partition, the first and
  // last offset dropped and how many.
  struct DroppedRange {
    int64_t from = 0;
    int64_t to = 0;
    int64_t count = 0;
  };
  std::map<routing::ChannelId, std::map<int32_t, DroppedRange>> dropped_;

  // Subscriptions being resumed: their live events are held here until the
  // replay is done and its events have gone into the send queue.
  struct Replaying {
    routing::SubscriptionKey key;
    std::string ack_id;  // /ws: the subscribe's id; the prototype gets no ack
    bool ack = false;
    std::deque<Queued> held;
    size_t held_bytes = 0;
    bool replayed = false;                            // FinishReplay came
    std::deque<routing::EventPtr> replay;             // replayed events not queued yet
    std::vector<std::pair<int32_t, int64_t>> next;    // per partition: first offset not replayed
  };
  std::vector<Replaying> replaying_;
  // Moves replayed, then held, events into the send queue while it has room
  // (half its cap), so a large resume flows at the client's pace instead of
  // overflowing the queue; a subscription whose backlog is empty flows live.
  void PumpReplays();
  // Bound of the live events held for one resuming subscription:
  // 4 x SEND_QUEUE_BYTES, at least 1 MiB (over it: 1013).
  size_t MaxHeldBytes() const;
  // Starts the resume of a subscription just added (HandleCommand / SubscribePrototype).
  void StartReplay(const routing::SubscriptionKey& key, ingest::ReplayRequest from, bool ack, std::string ack_id);
  size_t head_ = 0;
  size_t in_flight_ = 0;
  size_t queued_bytes_ = 0;
  // queued_bytes_ and the worker's rte_send_queue_bytes gauge together.
  void AddQueued(int64_t delta);
  std::vector<boost::asio::const_buffer> write_bufs_;
  std::string remote_;  // client address:port
  uint64_t serial_ = 0;
  std::string query_user_id_;  // /getEvents ?user_id= (as given, up to MAX_ID_LENGTH)
  const std::chrono::system_clock::time_point connected_at_ = std::chrono::system_clock::now();
  uint64_t events_sent_ = 0;     // event frames the socket accepted
  uint64_t events_dropped_ = 0;  // SLOW_CLIENT_POLICY=drop

  std::vector<routing::SubscriptionKey> subscriptions_;

  // Authorization.
  std::shared_ptr<const auth::Principal> principal_;
  ConnectionLimits::Slot user_slot_;
  ConnectionLimits::Slot ip_slot_;
  uint64_t auth_generation_ = 0;        // the authenticator's, when principal_ was decided
  Clock::time_point auth_deadline_;     // without a principal: close then
  std::optional<PrototypeRequest> prototype_;  // waiting for credentials
  double command_tokens_ = 0;
  Clock::time_point command_refill_;
  uint64_t rate_violations_ = 0;

  Clock::time_point last_received_;
  Clock::time_point next_ping_;
  Clock::time_point write_started_;
  Clock::time_point close_deadline_;
  bool reading_ = false;
  bool flush_pending_ = false;  // frames queued by Deliver since the last Flush
  bool closing_ = false;      // close frame queued; no more data frames
  bool close_sent_ = false;   // close frame written
  bool close_received_ = false;  // the client's close frame arrived
  bool terminated_ = false;   // socket closed, removed from the worker
};

}  // namespace rte::session
