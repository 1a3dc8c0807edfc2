#include "session/ws_session.h"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <span>

namespace rte::session {
namespace asio = boost::asio;
using wire::ClientCommand;
using wire::Opcode;

namespace {

constexpr size_t kMaxFramesPerWrite = 256;
constexpr size_t kMaxBytesPerWrite = 512 * 1024;

SharedFrame MakeFrame(Opcode op, std::string_view payload) {
  return std::make_shared<const std::string>(wire::EncodeFrame(op, payload));
}

const SharedFrame& PingTextFrame() {
  static const SharedFrame kFrame = MakeFrame(Opcode::kText, wire::PingMessage());
  return kFrame;
}
const SharedFrame& PingControlFrame() {
  static const SharedFrame kFrame = MakeFrame(Opcode::kPing, "");
  return kFrame;
}

}  // namespace

WsSession::WsSession(asio::ip::tcp::socket socket, SessionHost& host, Kind kind, Clock::time_point now)
    : socket_(std::move(socket)),
      host_(host),
      kind_(kind),
      parser_(host.options().max_message_bytes),
      last_received_(now),
      next_ping_(now + host.options().ping_interval) {
  thread_.Bind();
  host_.stats().connections_opened.Add();
  host_.stats().connections.Add(1);
}

WsSession::~WsSession() = default;

void WsSession::Start(std::string handshake_response, std::string_view already_read) {
  RTE_DCHECK_THREAD(thread_);
  boost::system::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);
  Enqueue(std::make_shared<const std::string>(std::move(handshake_response)), true);
  if (!already_read.empty()) {
    auto verdict = parser_.Feed(already_read, [this](const wire::ClientMessage& m) { return OnMessage(m); });
    if (!verdict.ok()) {
      host_.stats().bad_frames.Add();
      Close(verdict.close_code, verdict.reason);
      return;
    }
  }
  DoWaitReadable();
}

void WsSession::SubscribeOnOpen(const routing::SubscriptionKey& key, std::string user_id) {
  user_id_ = std::move(user_id);
  subscriptions_.push_back(key);
  host_.Subscribe(shared_from_this(), key, nullptr);
}

void WsSession::DoWaitReadable() {
  if (reading_ || terminated_) return;
  reading_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) { self->OnReadable(ec); });
}

void WsSession::OnReadable(const boost::system::error_code& ec) {
  RTE_DCHECK_THREAD(thread_);
  reading_ = false;
  if (terminated_) return;
  if (ec) {
    Terminate();
    return;
  }
  std::span<char> buf = host_.read_buffer();
  // Drain what is there (bounded per wake-up so one client can't starve others).
  for (int round = 0; round < 4; ++round) {
    boost::system::error_code rec;
    size_t n = socket_.read_some(asio::buffer(buf.data(), buf.size()), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) break;
    if (rec) {  // EOF or reset
      Terminate();
      return;
    }
    last_received_ = Clock::now();
    if (close_sent_ || closing_) continue;  // discard while closing
    auto verdict = parser_.Feed(std::string_view(buf.data(), n),
                                [this](const wire::ClientMessage& m) { return OnMessage(m); });
    if (!verdict.ok()) {
      host_.stats().bad_frames.Add();
      spdlog::debug("session: closing with {}: {}", verdict.close_code, verdict.reason);
      Close(verdict.close_code, verdict.reason);
    }
    if (terminated_) return;
    if (n < buf.size()) break;
  }
  DoWaitReadable();
}

bool WsSession::OnMessage(const wire::ClientMessage& msg) {
  switch (msg.opcode) {
    case Opcode::kText:
      if (kind_ == Kind::kMulti) {
        HandleCommand(msg.payload);
      } else if (msg.payload.find("\"ping\"") != std::string_view::npos) {
        SendText(wire::PongMessage());  // prototype clients may ping too
      }
      return !closing_;
    case Opcode::kBinary:
      host_.stats().bad_frames.Add();
      Close(wire::kCloseUnsupportedData, "binary frames are not supported");
      return false;
    case Opcode::kPing:
      SendFrame(MakeFrame(Opcode::kPong, msg.payload));
      return true;
    case Opcode::kPong:
      return true;
    case Opcode::kClose: {
      uint16_t code = wire::kCloseNormal;
      if (msg.payload.size() >= 2) {
        code = static_cast<uint16_t>((static_cast<uint8_t>(msg.payload[0]) << 8) | static_cast<uint8_t>(msg.payload[1]));
      }
      // Echo a valid code; codes that must not appear on the wire become 1000.
      if (code < 1000 || code == 1004 || code == 1005 || code == 1006 || code == 1015 || (code > 1015 && code < 3000) ||
          code >= 5000) {
        code = wire::kCloseNormal;
      }
      Close(code, "");
      return false;
    }
    default:
      return true;
  }
}

void WsSession::HandleCommand(std::string_view text) {
  auto& stats = host_.stats();
  stats.commands.Add();
  auto [cmd, err] = wire::ParseClientCommand(text);
  if (!cmd) {
    stats.bad_commands.Add();
    SendText(wire::RenderError(err.id, wire::kErrBadRequest, err.message));
    return;
  }
  switch (cmd->type) {
    case ClientCommand::Type::kPing:
      SendText(wire::PongMessage());
      return;
    case ClientCommand::Type::kAuth:
      // Authentication modes arrive with the auth issue; with none, any token is accepted.
      return;
    case ClientCommand::Type::kSubscribe:
    case ClientCommand::Type::kUnsubscribe:
      break;
  }
  auto channel = host_.channels().Find(cmd->channel);
  if (!channel) {
    stats.bad_commands.Add();
    SendText(wire::RenderError(cmd->id, wire::kErrUnknownChannel, "unknown channel \"" + cmd->channel.substr(0, 64) + "\""));
    return;
  }
  routing::SubscriptionKey key{*channel, cmd->filter.organization_id, cmd->filter.property_id.value_or("")};
  auto it = std::find(subscriptions_.begin(), subscriptions_.end(), key);
  if (cmd->type == ClientCommand::Type::kUnsubscribe) {
    if (it == subscriptions_.end()) {
      stats.bad_commands.Add();
      SendText(wire::RenderError(cmd->id, wire::kErrBadRequest, "not subscribed to that channel and filter"));
      return;
    }
    subscriptions_.erase(it);
    host_.Unsubscribe(this, key);
    SendText(wire::RenderUnsubscribed(cmd->id, cmd->channel));
    return;
  }
  // Resume from offsets ("since") is not available yet: say so honestly.
  const bool recovered = cmd->since.empty();
  auto ack = MakeFrame(Opcode::kText, wire::RenderSubscribed(cmd->id, cmd->channel, recovered, 0));
  if (it != subscriptions_.end()) {  // idempotent
    SendFrame(std::move(ack));
    return;
  }
  if (subscriptions_.size() >= host_.options().max_subscriptions) {
    stats.bad_commands.Add();
    SendText(wire::RenderError(cmd->id, wire::kErrLimitExceeded,
                            "at most " + std::to_string(host_.options().max_subscriptions) + " subscriptions per connection"));
    return;
  }
  subscriptions_.push_back(key);
  host_.Subscribe(shared_from_this(), key, std::move(ack));
}

void WsSession::Deliver(const SharedFrame& frame) {
  if (closing_ || terminated_) return;
  host_.stats().deliveries.Add();
  Enqueue(frame, false);
}

void WsSession::SendText(std::string_view json) { SendFrame(MakeFrame(Opcode::kText, json)); }

void WsSession::SendFrame(SharedFrame frame) {
  if (closing_ || terminated_) return;
  Enqueue(std::move(frame), false);
}

void WsSession::Enqueue(SharedFrame frame, bool bypass_cap) {
  RTE_DCHECK_THREAD(thread_);
  const size_t size = frame->size();
  if (!bypass_cap && queued_bytes_ + size > host_.options().send_queue_bytes) {
    host_.stats().slow_consumer_closes.Add();
    spdlog::info("session: send queue over {} bytes; closing slow client", host_.options().send_queue_bytes);
    Close(wire::kCloseTryAgainLater, "slow consumer: send queue full");
    return;
  }
  queued_bytes_ += size;
  host_.stats().bytes_queued.Add(size);
  frames_.push_back(std::move(frame));
  DoWrite();
}

void WsSession::DoWrite() {
  if (in_flight_ > 0 || head_ == frames_.size() || terminated_) return;
  write_bufs_.clear();
  size_t bytes = 0;
  size_t i = head_;
  for (; i < frames_.size() && write_bufs_.size() < kMaxFramesPerWrite && bytes < kMaxBytesPerWrite; ++i) {
    write_bufs_.emplace_back(frames_[i]->data(), frames_[i]->size());
    bytes += frames_[i]->size();
  }
  in_flight_ = i - head_;
  write_started_ = Clock::now();
  host_.stats().writes.Add();
  asio::async_write(socket_, std::span<const asio::const_buffer>(write_bufs_),
                    [self = shared_from_this(), n = in_flight_](const boost::system::error_code& ec, size_t) {
                      self->OnWrite(ec, n);
                    });
}

void WsSession::OnWrite(const boost::system::error_code& ec, size_t frames) {
  RTE_DCHECK_THREAD(thread_);
  for (size_t k = 0; k < frames; ++k) {
    queued_bytes_ -= frames_[head_]->size();
    frames_[head_++].reset();
  }
  in_flight_ = 0;
  if (head_ == frames_.size()) {
    frames_.clear();
    head_ = 0;
    if (frames_.capacity() > 64) frames_.shrink_to_fit();
  } else if (head_ > 1024 && head_ * 2 > frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  if (terminated_) return;
  if (ec) {
    Terminate();
    return;
  }
  if (closing_ && head_ == frames_.size()) {
    // The close frame is out: half-close and wait for the client's EOF.
    close_sent_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    DoWaitReadable();
    return;
  }
  DoWrite();
}

void WsSession::Close(uint16_t code, std::string_view reason) {
  RTE_DCHECK_THREAD(thread_);
  if (closing_ || terminated_) return;
  closing_ = true;
  close_deadline_ = Clock::now() + host_.options().close_grace;
  // Drop what is queued but not being written; the close frame goes next.
  for (size_t i = head_ + in_flight_; i < frames_.size(); ++i) queued_bytes_ -= frames_[i]->size();
  frames_.resize(head_ + in_flight_);
  Enqueue(std::make_shared<const std::string>(wire::EncodeCloseFrame(code, reason)), true);
}

void WsSession::Terminate() {
  if (terminated_) return;
  terminated_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  for (const auto& key : subscriptions_) host_.Unsubscribe(this, key);
  subscriptions_.clear();
  host_.stats().connections_closed.Add();
  host_.stats().connections.Add(-1);
  host_.OnSessionClosed(this);  // may drop the worker's reference: keep last
}

void WsSession::Tick(Clock::time_point now) {
  RTE_DCHECK_THREAD(thread_);
  if (terminated_) return;
  const auto& opt = host_.options();
  if (closing_) {
    if (now >= close_deadline_) Terminate();
    return;
  }
  if (in_flight_ > 0 && now - write_started_ > opt.write_timeout) {
    host_.stats().write_timeouts.Add();
    spdlog::info("session: a write took over {}s; dropping the client", opt.write_timeout.count());
    Terminate();
    return;
  }
  if (now - last_received_ > opt.idle_timeout) {
    host_.stats().idle_closes.Add();
    Close(wire::kCloseGoingAway, "idle timeout");
    return;
  }
  if (now >= next_ping_) {
    next_ping_ = now + opt.ping_interval;
    SendFrame(PingTextFrame());
    SendFrame(PingControlFrame());
  }
}

}  // namespace rte::session
