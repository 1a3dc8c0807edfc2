#include "cluster/redis_connection.h"

#include <fmt/format.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace rte::cluster {
namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr uintptr_t kSubscribeTag = 0;  // privdata of the SUBSCRIBE callback; commands use ids >= 1

// True when fd is readable (or writable) right now, or has an error/hang-up
// that the next hiredis read/write will report.
bool ReadyNow(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0 && p.revents != 0;
}

}  // namespace

RedisReply ConvertReply(const ::redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(ConvertReply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}


// One per hiredis context; ev.data and ac->data point to it. Handlers hold it
// by shared_ptr and check `alive`: once hiredis has called cleanup, the
// context is gone (hiredis frees it and closes the fd right after).
struct RedisConnection::Attachment : std::enable_shared_from_this<Attachment> {
  Attachment(RedisConnection* o, redisAsyncContext* c, asio::io_context& ioc) : owner(o), ac(c), sd(ioc) {}
  ~Attachment() {
    if (sd.is_open()) sd.release();  // never close hiredis' fd
  }
  RedisConnection* owner;
  redisAsyncContext* ac;
  asio::posix::stream_descriptor sd;
  bool alive = true;
  bool want_read = false, want_write = false;
  bool read_armed = false, write_armed = false;
};

RedisConnection::RedisConnection(asio::io_context& ioc, RedisConnectionOptions options, RedisStats* stats)
    : ioc_(ioc),
      options_(std::move(options)),
      stats_(stats),
      resolver_(ioc),
      retry_timer_(ioc),
      connect_timer_(ioc),
      command_timer_(ioc),
      rng_(static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()) ^
           reinterpret_cast<uintptr_t>(this)) {}

RedisConnection::~RedisConnection() {
  Stop();
  life_.reset();  // handlers still queued see it and do nothing
}

void RedisConnection::SetStateHandler(std::function<void(bool)> handler) { on_state_ = std::move(handler); }
void RedisConnection::SetMessageHandler(std::function<void(std::string)> handler) {
  on_message_ = std::move(handler);
}

void RedisConnection::Start() {
  if (state_ != State::kIdle) return;
  Connect();
}

void RedisConnection::Stop() {
  if (state_ == State::kStopped) return;
  state_ = State::kStopped;
  resolver_.cancel();
  retry_timer_.cancel();
  connect_timer_.cancel();
  command_timer_.cancel();
  FailAll(Errc::kUnavailable, "Redis connection stopped");
  if (att_ && att_->alive) {
    auto keep = att_;
    redisAsyncFree(keep->ac);  // fails hiredis' callbacks (already failed above), calls cleanup
  }
  att_.reset();
}

void RedisConnection::Reconnect(const std::string& reason) {
  if (state_ == State::kStopped || state_ == State::kWaiting || state_ == State::kIdle) return;
  Drop(reason);
}

std::chrono::milliseconds RedisConnection::NextDelay() {
  const int n = std::min(failures_, 20);
  const int64_t ceiling =
      std::min<int64_t>(options_.backoff_max.count(), options_.backoff_initial.count() << std::min(n, 16));
  std::uniform_int_distribution<int64_t> dist(std::max<int64_t>(1, ceiling / 2), std::max<int64_t>(1, ceiling));
  ++failures_;
  return std::chrono::milliseconds(dist(rng_));
}

void RedisConnection::Connect() {
  if (state_ == State::kStopped) return;
  state_ = State::kResolving;
  was_ready_ = false;
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([this, g = Guard()](boost::system::error_code ec) {
    if (g.expired() || ec || state_ == State::kStopped) return;
    if (state_ == State::kResolving || state_ == State::kConnecting || state_ == State::kHandshake) {
      stats_->timeouts.Add();
      Drop(fmt::format("connect timed out after {} ms", options_.connect_timeout.count()));
    }
  });
  resolver_.async_resolve(
      options_.url.host, std::to_string(options_.url.port),
      [this, g = Guard()](boost::system::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (g.expired() || state_ != State::kResolving) return;  // stopped or dropped (timeout)
        if (ec || results.empty()) {
          last_error_ = fmt::format("cannot resolve {}: {}", options_.url.host, ec ? ec.message() : "no address");
          ScheduleRetry();
          return;
        }
        ConnectTo(results.begin()->endpoint().address().to_string());
      });
}

void RedisConnection::ConnectTo(const std::string& address) {
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), options_.url.port);
  if (ac == nullptr) {
    last_error_ = "out of memory";
    ScheduleRetry();
    return;
  }
  if (ac->err) {
    last_error_ = ac->errstr;
    redisAsyncFree(ac);
    ScheduleRetry();
    return;
  }
  auto att = std::make_shared<Attachment>(this, ac, ioc_);
  boost::system::error_code ec;
  att->sd.assign(ac->c.fd, ec);
  if (ec) {
    last_error_ = "cannot watch the socket: " + ec.message();
    redisAsyncFree(ac);  // no hooks installed yet
    ScheduleRetry();
    return;
  }
  att_ = att;
  ac->data = att.get();
  ac->ev.data = att.get();
  ac->ev.addRead = &HookAddRead;
  ac->ev.delRead = &HookDelRead;
  ac->ev.addWrite = &HookAddWrite;
  ac->ev.delWrite = &HookDelWrite;
  ac->ev.cleanup = &HookCleanup;
  state_ = State::kConnecting;
  redisAsyncSetConnectCallback(ac, &OnConnectC);  // asks for writability: the connect's completion
}

// --- hiredis event hooks (called from inside hiredis, on our thread) ---

void RedisConnection::HookAddRead(void* p) {
  auto* a = static_cast<Attachment*>(p);
  a->want_read = true;
  a->owner->ArmRead(a->shared_from_this());
}
void RedisConnection::HookDelRead(void* p) { static_cast<Attachment*>(p)->want_read = false; }
void RedisConnection::HookAddWrite(void* p) {
  auto* a = static_cast<Attachment*>(p);
  a->want_write = true;
  a->owner->ArmWrite(a->shared_from_this());
}
void RedisConnection::HookDelWrite(void* p) { static_cast<Attachment*>(p)->want_write = false; }
void RedisConnection::HookCleanup(void* p) {
  auto* a = static_cast<Attachment*>(p);
  if (!a->alive) return;
  a->alive = false;
  if (a->ac->err && a->owner->state_ != State::kStopped) a->owner->last_error_ = a->ac->errstr;
  if (a->sd.is_open()) a->sd.release();  // cancels our waits; hiredis closes the fd
  a->owner->OnContextGone(a);
}

// Asio's reactor reports edges (epoll ET, async_wait never looks first), so
// each wait is preceded by a zero-timeout poll: if the socket is ready now we
// act at once (posted: never inside hiredis), else we wait for the edge.
void RedisConnection::ArmRead(const std::shared_ptr<Attachment>& att) {
  if (!att->alive || !att->want_read || att->read_armed) return;
  att->read_armed = true;
  auto on_ready = [this, att](boost::system::error_code ec) {
    att->read_armed = false;
    if (!att->alive || ec == asio::error::operation_aborted) return;
    if (ec) {
      Drop("socket wait failed: " + ec.message());
      return;
    }
    if (att->want_read) redisAsyncHandleRead(att->ac);  // may free the context (cleanup)
    ArmRead(att);
  };
  if (ReadyNow(att->ac->c.fd, POLLIN)) {
    asio::post(ioc_, [on_ready] { on_ready({}); });
  } else {
    att->sd.async_wait(asio::posix::stream_descriptor::wait_read, std::move(on_ready));
  }
}

void RedisConnection::ArmWrite(const std::shared_ptr<Attachment>& att) {
  if (!att->alive || !att->want_write || att->write_armed) return;
  att->write_armed = true;
  auto on_ready = [this, att](boost::system::error_code ec) {
    att->write_armed = false;
    if (!att->alive || ec == asio::error::operation_aborted) return;
    if (ec) {
      Drop("socket wait failed: " + ec.message());
      return;
    }
    if (att->want_write) redisAsyncHandleWrite(att->ac);  // may free the context
    ArmWrite(att);
  };
  if (ReadyNow(att->ac->c.fd, POLLOUT)) {
    asio::post(ioc_, [on_ready] { on_ready({}); });
  } else {
    att->sd.async_wait(asio::posix::stream_descriptor::wait_write, std::move(on_ready));
  }
}

// --- connection life ---

void RedisConnection::OnConnectC(const redisAsyncContext* ac, int status) {
  auto* a = static_cast<Attachment*>(ac->data);
  if (status != REDIS_OK) {
    a->owner->last_error_ = ac->errstr;  // hiredis frees the context next (cleanup)
    return;
  }
  auto att = a->shared_from_this();
  asio::post(a->owner->ioc_, [att] {
    if (att->alive && att->owner->att_ == att) att->owner->OnConnected(att);
  });
}

void RedisConnection::OnConnected(const std::shared_ptr<Attachment>& att) {
  if (state_ != State::kConnecting) return;
  state_ = State::kHandshake;
  HandshakeStep(0);
}

// 0: AUTH (with a password), 1: SELECT (db != 0, not for pub/sub: channels
// are global), 2: SUBSCRIBE (subscriber; ready once confirmed) or PING, 3: ready. One step per round trip:
// a refused AUTH stops the rest.
void RedisConnection::HandshakeStep(int step) {
  if (state_ != State::kHandshake) return;
  auto next = [this, step, keep = att_](Result<RedisReply> r) {
    if (state_ != State::kHandshake || att_ != keep || !keep->alive) return;  // dropped meanwhile
    if (!r.ok()) {
      const std::string what = step == 0 ? "AUTH" : step == 1 ? "SELECT" : "PING";
      Drop(fmt::format("{} failed: {}", what, r.error().message));
      return;
    }
    HandshakeStep(step + 1);
  };
  if (step == 0) {
    if (options_.url.password.empty()) return HandshakeStep(1);
    std::vector<std::string> argv{"AUTH"};
    if (!options_.url.user.empty()) argv.push_back(options_.url.user);
    argv.push_back(options_.url.password);
    Send(std::move(argv), std::move(next));
    return;
  }
  if (step == 1) {
    if (options_.url.db == 0 || !options_.subscribe_channel.empty()) return HandshakeStep(2);
    Send({"SELECT", std::to_string(options_.url.db)}, std::move(next));
    return;
  }
  if (options_.subscribe_channel.empty()) {
    // A PING proves Redis answers (a stopped process still completes TCP
    // connects from its listen backlog).
    if (step == 2) {
      Send({"PING"}, std::move(next));
    } else {
      BecomeReady();
    }
    return;
  }
  const char* argv[2] = {"SUBSCRIBE", options_.subscribe_channel.c_str()};
  const size_t lens[2] = {9, options_.subscribe_channel.size()};
  if (redisAsyncCommandArgv(att_->ac, &OnReplyC, reinterpret_cast<void*>(kSubscribeTag), 2, argv, lens) !=
      REDIS_OK) {
    Drop("SUBSCRIBE could not be sent");
    return;
  }
  stats_->commands.Add();
  // Ready when Redis confirms (OnSubscribeReply); the connect timer covers it.
}

void RedisConnection::BecomeReady() {
  connect_timer_.cancel();
  state_ = State::kReady;
  was_ready_ = true;
  if (failures_ > 0) {
    spdlog::info("{}: connected to {} again", options_.name, options_.url.Redacted());
  } else {
    spdlog::debug("{}: connected to {}", options_.name, options_.url.Redacted());
  }
  failures_ = 0;
  if (on_state_) asio::post(ioc_, [f = on_state_] { f(true); });
}

void RedisConnection::Drop(const std::string& reason) {
  if (state_ == State::kStopped) return;
  last_error_ = reason;
  FailAll(Errc::kUnavailable, "Redis connection lost: " + reason);
  if (att_ && att_->alive) {
    auto keep = att_;
    redisAsyncFree(keep->ac);  // never called from inside a hiredis callback: cleanup -> OnContextGone
  } else if (state_ == State::kResolving) {
    resolver_.cancel();
    ScheduleRetry();
  }
}

void RedisConnection::OnContextGone(Attachment* att) {
  if (att_.get() != att) return;
  // Called from inside hiredis (cleanup): finish on our own stack.
  asio::post(ioc_, [this, g = Guard(), keep = att_] {
    if (g.expired() || att_ != keep) return;
    att_.reset();
    if (state_ == State::kStopped) return;
    ScheduleRetry();
  });
}

void RedisConnection::ScheduleRetry() {
  if (state_ == State::kStopped) return;
  connect_timer_.cancel();
  FailAll(Errc::kUnavailable, "Redis connection lost: " + last_error_);
  const bool lost = was_ready_;
  was_ready_ = false;
  state_ = State::kWaiting;
  const auto delay = NextDelay();
  if (lost) {
    stats_->reconnects.Add();
    spdlog::warn("{}: lost {} ({}); reconnecting", options_.name, options_.url.Redacted(), last_error_);
    if (on_state_) asio::post(ioc_, [f = on_state_] { f(false); });
  } else if (failures_ == 1 || failures_ % 20 == 0) {
    spdlog::warn("{}: cannot connect to {} ({}); retrying in {} ms", options_.name, options_.url.Redacted(),
                 last_error_, delay.count());
  }
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this, g = Guard()](boost::system::error_code ec) {
    if (g.expired() || ec || state_ != State::kWaiting) return;
    Connect();
  });
}

// --- commands ---

void RedisConnection::Post(ReplyHandler done, Result<RedisReply> result) {
  if (!done) return;
  asio::post(ioc_, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

void RedisConnection::Command(std::vector<std::string> argv, ReplyHandler done) {
  if (state_ != State::kReady || !options_.subscribe_channel.empty()) {
    stats_->errors.Add();
    Post(std::move(done), MakeError(Errc::kUnavailable,
                                    "Redis not connected" + (last_error_.empty() ? "" : " (" + last_error_ + ")")));
    return;
  }
  if (outstanding_.size() >= options_.max_pending) {
    stats_->errors.Add();
    Post(std::move(done), MakeError(Errc::kResourceExhausted,
                                    fmt::format("{} Redis commands in flight", outstanding_.size())));
    return;
  }
  Send(std::move(argv), std::move(done));
}

void RedisConnection::Send(std::vector<std::string> argv, ReplyHandler done) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  const uint64_t id = next_id_++;
  if (!att_ || !att_->alive ||
      redisAsyncCommandArgv(att_->ac, &OnReplyC, reinterpret_cast<void*>(static_cast<uintptr_t>(id)),
                            static_cast<int>(argv.size()), ptrs.data(), lens.data()) != REDIS_OK) {
    stats_->errors.Add();
    Post(std::move(done), MakeError(Errc::kUnavailable, "Redis command could not be queued"));
    return;
  }
  stats_->commands.Add();
  outstanding_.push_back({id, SteadyClock::now() + options_.command_timeout, std::move(done)});
  stats_->pending.Add(1);
  ArmCommandTimer();
}

void RedisConnection::OnReplyC(redisAsyncContext* ac, void* reply, void* privdata) {
  auto* a = static_cast<Attachment*>(ac->data);
  const auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(privdata));
  if (id == kSubscribeTag) {
    a->owner->OnSubscribeReply(reply);
  } else {
    a->owner->OnReply(id, reply);
  }
}

void RedisConnection::OnReply(uint64_t id, const void* raw) {
  // Replies come in order; a command already failed (timeout, drop) is gone
  // from the front and its late NULL reply is ignored.
  if (outstanding_.empty() || outstanding_.front().id != id) return;
  Outstanding o = std::move(outstanding_.front());
  outstanding_.pop_front();
  stats_->pending.Add(-1);
  const auto* r = static_cast<const redisReply*>(raw);
  if (r == nullptr) {
    stats_->errors.Add();
    Post(std::move(o.done), MakeError(Errc::kUnavailable, "Redis connection lost"));
  } else if (r->type == REDIS_REPLY_ERROR) {
    stats_->errors.Add();
    Post(std::move(o.done), MakeError(Errc::kInternal, std::string(r->str, r->len)));
  } else {
    Post(std::move(o.done), ConvertReply(r));
  }
}

void RedisConnection::OnSubscribeReply(const void* raw) {
  const auto* r = static_cast<const redisReply*>(raw);
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;  // freed, or unexpected
  const redisReply* kind = r->element[0];
  if (kind->type != REDIS_REPLY_STRING) return;
  const std::string_view k(kind->str, kind->len);
  if (k == "subscribe") {
    if (state_ == State::kHandshake) asio::post(ioc_, [this, g = Guard(), keep = att_] {
        if (!g.expired() && att_ == keep && state_ == State::kHandshake) BecomeReady();
      });
  } else if (k == "message" && r->element[2]->type == REDIS_REPLY_STRING && on_message_) {
    asio::post(ioc_, [f = on_message_, m = std::string(r->element[2]->str, r->element[2]->len)]() mutable {
      f(std::move(m));
    });
  }
}

void RedisConnection::ArmCommandTimer() {
  if (command_timer_armed_ || outstanding_.empty()) return;
  command_timer_armed_ = true;
  command_timer_.expires_at(outstanding_.front().deadline);
  command_timer_.async_wait([this, g = Guard()](boost::system::error_code ec) {
    if (g.expired()) return;
    command_timer_armed_ = false;
    if (ec || state_ == State::kStopped) return;
    OnCommandTimer();
  });
}

void RedisConnection::OnCommandTimer() {
  if (outstanding_.empty()) return;
  if (SteadyClock::now() < outstanding_.front().deadline) {
    ArmCommandTimer();
    return;
  }
  stats_->timeouts.Add();
  const std::string reason =
      fmt::format("command timed out after {} ms", options_.command_timeout.count());
  FailAll(Errc::kUnavailable, "Redis " + reason);
  Drop(reason);
}

void RedisConnection::FailAll(Errc code, const std::string& message) {
  while (!outstanding_.empty()) {
    Outstanding o = std::move(outstanding_.front());
    outstanding_.pop_front();
    stats_->pending.Add(-1);
    stats_->errors.Add();
    Post(std::move(o.done), MakeError(code, message));
  }
}

}  // namespace rte::cluster
