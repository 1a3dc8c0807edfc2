// RedisConnection: one hiredis 0.14 asynchronous connection, driven by an
// Asio io_context (our own adapter: the context's socket is assigned to an
// asio::posix::stream_descriptor and hiredis' addRead/addWrite hooks become
// async_wait calls; nothing ever blocks). It resolves the host (Asio's
// resolver), connects with a timeout, runs AUTH and SELECT, and from then on
// is "ready". When Redis goes away (connect refused, EOF, a command past its
// timeout) every command in flight fails, the connection is dropped and made
// again after a backoff (250 ms doubling to 5 s, jittered).
//
// Commands: Command() pipelines; replies come in order. Each command has a
// deadline (command_timeout): when the oldest is late, all in flight fail
// with a timeout and the connection is dropped and re-established. Commands
// issued while not ready fail at once (kUnavailable), so callers fall back;
// beyond max_pending in flight they fail with kResourceExhausted.
//
// Subscriber mode (options.subscribe_channel set): after AUTH the connection
// SUBSCRIBEs to that channel, is "ready" once Redis confirms, and hands every
// message to the message handler; Command() is not available.
//
// Owner: ClusterState (one for commands, one for pub/sub).
// Thread: everything, construction and destruction included, on the thread
// running `ioc` (one thread). Handlers (reply, state, message) are posted to
// that io_context, never run inside a hiredis callback or inside the call that
// caused them. The destructor frees the hiredis context and posts the
// handlers of commands still in flight with an error; internal handlers
// still queued then do nothing, so the io_context may keep running.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/redis_url.h"
#include "metrics/counter.h"

struct redisAsyncContext;  // hiredis/async.h

struct redisReply;

namespace rte::cluster {

using config::RedisUrl;  // REDIS_URL, parsed and checked with the other settings

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray
};

// A copy of a hiredis reply (errors and unknown types become kNil: the caller
// reads errors from the reply itself).
RedisReply ConvertReply(const ::redisReply* r);

struct RedisConnectionOptions {
  RedisUrl url;
  std::string name = "redis";  // for logs
  std::chrono::milliseconds connect_timeout{1000};  // resolve + connect + AUTH/SELECT(/SUBSCRIBE)
  std::chrono::milliseconds command_timeout{500};
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{5000};
  size_t max_pending = 10000;  // commands in flight
  std::string subscribe_channel;  // non-empty: subscriber mode
};

// Shared by a ClusterState's connections. One writer: the cluster thread.
struct RedisStats {
  metrics::Counter commands;    // sent to Redis (handshake included)
  metrics::Counter errors;      // failed: error reply, connection lost, refused while down
  metrics::Counter timeouts;    // commands (and connects) that ran past their timeout
  metrics::Counter reconnects;  // connections lost after being ready
  metrics::Gauge pending;       // commands in flight
};

class RedisConnection {
 public:
  using ReplyHandler = std::function<void(Result<RedisReply>)>;

  RedisConnection(boost::asio::io_context& ioc, RedisConnectionOptions options, RedisStats* stats);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // `up` true once ready, false when a ready connection is lost. Before Start.
  void SetStateHandler(std::function<void(bool up)> handler);
  // Subscriber mode: each message's payload. Before Start.
  void SetMessageHandler(std::function<void(std::string message)> handler);

  void Start();
  // Fails what is in flight, frees the context; no reconnect. Idempotent.
  void Stop();
  // Drops the connection (if any) and connects again after the backoff.
  void Reconnect(const std::string& reason);

  bool ready() const { return state_ == State::kReady; }
  const std::string& last_error() const { return last_error_; }

  // A Redis error reply arrives as an Error (kInternal, "ERR ..." text);
  // a lost connection or timeout as kUnavailable.
  void Command(std::vector<std::string> argv, ReplyHandler done);

 private:
  struct Attachment;
  struct Outstanding {
    uint64_t id;
    std::chrono::steady_clock::time_point deadline;
    ReplyHandler done;
  };
  enum class State { kIdle, kResolving, kConnecting, kHandshake, kReady, kWaiting, kStopped };

  static void OnReplyC(::redisAsyncContext* ac, void* reply, void* privdata);
  static void OnConnectC(const ::redisAsyncContext* ac, int status);
  static void HookAddRead(void* p);
  static void HookDelRead(void* p);
  static void HookAddWrite(void* p);
  static void HookDelWrite(void* p);
  static void HookCleanup(void* p);

  void Connect();
  void ConnectTo(const std::string& address);
  void OnConnected(const std::shared_ptr<Attachment>& att);
  void HandshakeStep(int step);
  void BecomeReady();
  void Drop(const std::string& reason);
  void OnContextGone(Attachment* att);
  void ScheduleRetry();
  void ArmRead(const std::shared_ptr<Attachment>& att);
  void ArmWrite(const std::shared_ptr<Attachment>& att);
  void Send(std::vector<std::string> argv, ReplyHandler done);
  void OnReply(uint64_t id, const void* reply);
  void OnSubscribeReply(const void* reply);
  void ArmCommandTimer();
  void OnCommandTimer();
  void FailAll(Errc code, const std::string& message);
  void Post(ReplyHandler done, Result<RedisReply> result);
  std::chrono::milliseconds NextDelay();
  std::weak_ptr<char> Guard() const { return life_; }

  boost::asio::io_context& ioc_;
  const RedisConnectionOptions options_;
  RedisStats* stats_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer command_timer_;
  bool command_timer_armed_ = false;
  std::shared_ptr<Attachment> att_;
  State state_ = State::kIdle;
  std::deque<Outstanding> outstanding_;
  uint64_t next_id_ = 1;
  int failures_ = 0;
  bool was_ready_ = false;  // the current/last context reached kReady
  std::string last_error_;
  std::mt19937_64 rng_;
  std::function<void(bool)> on_state_;
  std::function<void(std::string)> on_message_;
  std::shared_ptr<char> life_ = std::make_shared<char>();  // expired once destroyed
};

}  // namespace rte::cluster
