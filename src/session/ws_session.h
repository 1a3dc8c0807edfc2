// WsSession: one WebSocket connection after the upgrade. Parses client
// frames itself (no per-session read buffer: reads go into the worker's
// shared buffer when the socket is readable), handles the JSON protocol, and
// writes every outgoing frame (events, replies, pings, close) from ONE
// byte-bounded queue with at most one gather write in flight, so writers
// never interleave. A client that exceeds the queue bound is closed with
// 1013; one that sends nothing (pongs count) within the idle timeout, or
// whose write stalls beyond the write timeout, is closed and dropped.
// Owner: the Worker that accepted it (holds a shared_ptr until closed).
// Thread: every method on that worker's thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/thread_checker.h"
#include "routing/subscription_key.h"
#include "session/session_host.h"
#include "wire/protocol.h"
#include "wire/ws_frame.h"

namespace rte::session {

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  enum class Kind { kPrototype, kMulti };

  WsSession(boost::asio::ip::tcp::socket socket, SessionHost& host, Kind kind, Clock::time_point now);
  ~WsSession();

  // Queues the handshake response, handles bytes read with the upgrade
  // request, and starts reading.
  void Start(std::string handshake_response, std::string_view already_read);

  // Prototype endpoint: subscribes at once (no ack message).
  void SubscribeOnOpen(const routing::SubscriptionKey& key, std::string user_id);

  // Queues an event frame (data path).
  void Deliver(const SharedFrame& frame);
  // Queues a JSON text message.
  void SendText(std::string_view json);
  void SendFrame(SharedFrame frame);

  // Heartbeats and timeouts; the worker calls this periodically.
  void Tick(Clock::time_point now);

  // Graceful close: drops frames not yet written, sends a close frame, then
  // closes the socket once the client answers or the grace period ends.
  void Close(uint16_t code, std::string_view reason);

  bool closed() const { return terminated_; }
  const std::vector<routing::SubscriptionKey>& subscriptions() const { return subscriptions_; }
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  void DoWaitReadable();
  void OnReadable(const boost::system::error_code& ec);
  // Returns false when the session stops reading (closing / closed).
  bool OnMessage(const wire::ClientMessage& msg);
  void HandleCommand(std::string_view text);
  void Enqueue(SharedFrame frame, bool bypass_cap);
  void DoWrite();
  void OnWrite(const boost::system::error_code& ec, size_t frames);
  void Terminate();

  boost::asio::ip::tcp::socket socket_;
  SessionHost& host_;
  const Kind kind_;
  wire::FrameParser parser_;
  ThreadChecker thread_;

  // Send queue: frames_[head_..] are waiting; the first `in_flight_` of them
  // are being written.
  std::vector<SharedFrame> frames_;
  size_t head_ = 0;
  size_t in_flight_ = 0;
  size_t queued_bytes_ = 0;
  std::vector<boost::asio::const_buffer> write_bufs_;

  std::vector<routing::SubscriptionKey> subscriptions_;
  std::string user_id_;

  Clock::time_point last_received_;
  Clock::time_point next_ping_;
  Clock::time_point write_started_;
  Clock::time_point close_deadline_;
  bool reading_ = false;
  bool closing_ = false;      // close frame queued; no more data frames
  bool close_sent_ = false;   // close frame written
  bool terminated_ = false;   // socket closed, removed from the worker
};

}  // namespace rte::session
