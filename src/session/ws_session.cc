#include "session/ws_session.h"

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <span>

#include "auth/authenticator.h"

namespace rte::session {
namespace asio = boost::asio;
using wire::ClientCommand;
using wire::Opcode;

namespace {

constexpr size_t kMaxFramesPerWrite = 256;
constexpr size_t kMaxBytesPerWrite = 512 * 1024;

const SharedFrame& PingTextFrame() {
  static const SharedFrame kFrame = MakeFrame(Opcode::kText, wire::PingMessage());
  return kFrame;
}
const SharedFrame& PingControlFrame() {
  static const SharedFrame kFrame = MakeFrame(Opcode::kPing, "");
  return kFrame;
}

}  // namespace

SharedFrame MakeFrame(Opcode op, std::string_view payload) {
  return std::make_shared<const std::string>(wire::EncodeFrame(op, payload));
}

WsSession::WsSession(Transport transport, SessionHost& host, Kind kind, Clock::time_point now, SessionAuth auth)
    : transport_(std::move(transport)),
      socket_(transport_.lowest()),
      host_(host),
      kind_(kind),
      parser_(host.options().max_message_bytes),
      principal_(std::move(auth.principal)),
      user_slot_(std::move(auth.user_slot)),
      ip_slot_(std::move(auth.ip_slot)),
      auth_generation_(host.authenticator().generation()),
      auth_deadline_(now + host.options().auth_timeout),
      command_tokens_(host.options().command_burst),
      command_refill_(now),
      last_received_(now),
      next_ping_(now + host.options().ping_interval) {
  thread_.Bind();
  host_.stats().connections_opened.Add();
  host_.stats().connections.Add(1);
  host_.stats().connections_by_endpoint[static_cast<size_t>(endpoint())].Add(1);
}

void WsSession::AddQueued(int64_t delta) {
  queued_bytes_ = static_cast<size_t>(static_cast<int64_t>(queued_bytes_) + delta);
  if (!terminated_) host_.stats().queued_bytes.Add(delta);
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
  if (kind_ == Kind::kMulti && !closing_) AdmitKnownPrincipal();
  if (transport_.tls) {
    // Bytes that came with the handshake may sit in the TLS layer already,
    // where socket readiness can't see them: read once before waiting.
    reading_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->OnReadable({}); });
    return;
  }
  DoWaitReadable();
}

void WsSession::OpenPrototype(PrototypeRequest request) {
  RTE_DCHECK_THREAD(thread_);
  if (terminated_ || closing_) return;
  const size_t max_id = host_.options().max_id_length;
  if (request.user_id.size() <= max_id) query_user_id_ = request.user_id;
  // As the prototype did: the upgrade succeeds, a bad request closes with 1008.
  if (!host_.channels().Find(request.channel)) {
    host_.stats().rejected_upgrades.Add();
    Close(wire::kClosePolicyViolation, "unknown channel");
    return;
  }
  if (request.organization_id.empty()) {
    host_.stats().rejected_upgrades.Add();
    Close(wire::kClosePolicyViolation, "organization_id is required");
    return;
  }
  if (!wire::IsValidIdentifier(request.organization_id, max_id) ||
      (!request.property_id.empty() && !wire::IsValidIdentifier(request.property_id, max_id)) ||
      (!request.user_id.empty() && !wire::IsValidIdentifier(request.user_id, max_id))) {
    host_.stats().rejected_upgrades.Add();
    Close(wire::kClosePolicyViolation, "organization_id, property_id and user_id must be 1-" + std::to_string(max_id) +
                                           " characters of A-Z a-z 0-9 . _ : @ -");
    return;
  }
  if (!request.since.empty() && !wire::ParseSinceList(request.since)) {
    host_.stats().rejected_upgrades.Add();
    Close(wire::kClosePolicyViolation, "since must be PARTITION:OFFSET[,PARTITION:OFFSET...]");
    return;
  }
  if (!request.since_time.empty() && (!wire::ParseSinceTime(request.since_time) || !request.since.empty())) {
    host_.stats().rejected_upgrades.Add();
    Close(wire::kClosePolicyViolation, "since_time must be ms since the epoch, and not given with since");
    return;
  }
  prototype_ = std::move(request);
  if (principal_) SubscribePrototype();  // else once an auth message brings credentials
}

void WsSession::SubscribePrototype() {
  const PrototypeRequest& req = *prototype_;
  if (!req.user_id.empty() && !principal_->user_id.empty() && req.user_id != principal_->user_id) {
    AuthFailure("wrong_user", "user_id does not match the token");
    Close(wire::kClosePolicyViolation, "forbidden: user_id does not match the token");
    return;
  }
  if (!principal_->Allows(req.organization_id, req.property_id)) {
    AuthFailure("forbidden", "organization or property outside the entitlement");
    Close(wire::kClosePolicyViolation, "forbidden: organization_id or property_id not allowed");
    return;
  }
  if (!Admitted(req.organization_id)) return;  // again after OnAdmission
  auto channel = host_.channels().Find(req.channel);
  routing::SubscriptionKey key{*channel, req.organization_id, req.property_id};
  ingest::ReplayRequest from{key.channel, key.tenant, key.property, {}, -1};
  if (!req.since.empty()) from.since = *wire::ParseSinceList(req.since);
  if (!req.since_time.empty()) from.since_time_ms = *wire::ParseSinceTime(req.since_time);
  const bool resume = !from.since.empty() || from.since_time_ms >= 0;
  prototype_.reset();
  subscriptions_.push_back(key);
  host_.Subscribe(shared_from_this(), key, nullptr);
  if (resume) StartReplay(key, std::move(from), /*ack=*/false, "");
}

void WsSession::StartReplay(const routing::SubscriptionKey& key, ingest::ReplayRequest from, bool ack,
                            std::string ack_id) {
  Replaying r;
  r.key = key;
  r.ack_id = std::move(ack_id);
  r.ack = ack;
  replaying_.push_back(std::move(r));
  host_.Replay(shared_from_this(), key, std::move(from));
}

void WsSession::FinishReplay(const routing::SubscriptionKey& key, ingest::ReplayResult result) {
  RTE_DCHECK_THREAD(thread_);
  auto find = [&] {
    return std::find_if(replaying_.begin(), replaying_.end(), [&](const Replaying& r) { return r.key == key; });
  };
  auto it = find();
  if (it == replaying_.end() || it->replayed || closing_ || terminated_) return;  // unsubscribed or closed meanwhile
  if (it->ack) {
    SendText(wire::RenderSubscribed(it->ack_id, host_.channels().Get(key.channel).name, result.recovered,
                                    static_cast<int64_t>(result.events.size())));
    // (Writing it may have pumped other resumes: find ours again.)
    it = find();
    if (it == replaying_.end() || closing_ || terminated_) return;
  }
  it->replayed = true;
  it->replay.assign(std::make_move_iterator(result.events.begin()), std::make_move_iterator(result.events.end()));
  it->next = std::move(result.next);
  PumpReplays();
  DoWrite();
}

size_t WsSession::MaxHeldBytes() const {
  return std::max<size_t>(4 * host_.options().send_queue_bytes, size_t{1} << 20);
}

void WsSession::PumpReplays() {
  const size_t room = host_.options().send_queue_bytes / 2;
  for (auto it = replaying_.begin(); it != replaying_.end();) {
    Replaying& r = *it;
    if (!r.replayed) {
      ++it;
      continue;
    }
    // Replayed events first, then the live ones held meanwhile, minus those
    // the replay read too (the overlap at the seam).
    while (!r.replay.empty() && (queued_bytes_ < room || head_ == frames_.size())) {
      routing::EventPtr ev = std::move(r.replay.front());
      r.replay.pop_front();
      const routing::Event* raw = ev.get();
      host_.stats().Delivered(raw->channel);
      if (!Enqueue(SharedFrame(std::move(ev), &raw->frame), false, /*defer=*/true, raw)) return;  // closed
    }
    while (r.replay.empty() && !r.held.empty() && (queued_bytes_ < room || head_ == frames_.size())) {
      Queued q = std::move(r.held.front());
      r.held.pop_front();
      r.held_bytes -= q.frame->size();
      auto next = std::find_if(r.next.begin(), r.next.end(), [&](const auto& pn) { return pn.first == q.event->partition; });
      if (next != r.next.end() && q.event->offset < next->second) continue;
      if (!Enqueue(std::move(q.frame), false, /*defer=*/true, q.event)) return;  // closed
    }
    if (r.replay.empty() && r.held.empty()) {
      it = replaying_.erase(it);  // from now on its events go straight to the queue
    } else {
      ++it;
    }
  }
}

void WsSession::AuthFailure(std::string_view reason, std::string_view message) {
  host_.stats().AuthFailure(reason);
  if (host_.auth_log().Allow()) {
    spdlog::info("auth: {} ({}; {} similar lines suppressed)", message, reason, host_.auth_log().suppressed());
  }
}

bool WsSession::TakeCommandToken(std::string_view id) {
  const auto& opt = host_.options();
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - command_refill_).count();
  command_refill_ = now;
  command_tokens_ = std::min(opt.command_burst, command_tokens_ + elapsed * opt.command_rate);
  if (command_tokens_ >= 1) {
    command_tokens_ -= 1;
    return true;
  }
  host_.stats().rate_limited_commands.Add();
  if (++rate_violations_ > static_cast<uint64_t>(opt.command_burst)) {
    Close(wire::kClosePolicyViolation, "command rate exceeded");
  } else {
    SendText(wire::RenderError(id, wire::kErrLimitExceeded, "too many commands; slow down (COMMAND_RATE)"));
  }
  return false;
}

void WsSession::HandleAuth(const wire::ClientCommand& cmd, bool after_key_refresh) {
  auth::Authenticator& authenticator = host_.authenticator();
  if (authenticator.mode() != config::AuthMode::kJwt) {
    // No tokens in this mode: say who the connection is and carry on.
    if (principal_) {
      SendText(wire::RenderAuthenticated(cmd.id, principal_->user_id, -1));
    } else {
      SendText(wire::RenderError(cmd.id, wire::kErrBadRequest, "this gateway does not use tokens"));
    }
    return;
  }
  auto result = authenticator.VerifyToken(cmd.token, std::chrono::system_clock::now());
  if (!result.principal && result.retry_after_refresh && !after_key_refresh) {
    // Unknown key id: refresh the key set (rate-limited), then try once more.
    std::weak_ptr<WsSession> weak = weak_from_this();
    auto ex = socket_.get_executor();
    host_.authenticator().RequestKeyRefresh([weak, ex, cmd] {
      asio::post(ex, [weak, cmd] {
        if (auto self = weak.lock(); self && !self->terminated_) self->HandleAuth(cmd, true);
      });
    });
    return;
  }
  if (!result.principal) {
    AuthFailure(result.reason, "token refused: " + result.message);
    SendText(wire::RenderError(cmd.id, wire::kErrUnauthorized, result.message));
    if (!principal_) {
      host_.stats().Rejected(metrics::Rejection::kUnauthorized);
      Close(wire::kClosePolicyViolation, "unauthorized");
    }
    return;
  }
  if (principal_ && principal_->user_id != result.principal->user_id) {
    AuthFailure("wrong_user", "a refreshed token is for another user");
    SendText(wire::RenderError(cmd.id, wire::kErrUnauthorized, "the token is for another user"));
    return;
  }
  if (!principal_) {
    bool allowed = true;
    user_slot_ = host_.limits().AcquireUser(result.principal->user_id, &allowed);
    if (!allowed) {
      host_.stats().Rejected(metrics::Rejection::kUserLimit);
      SendText(wire::RenderError(cmd.id, wire::kErrLimitExceeded, "too many connections for this user"));
      Close(wire::kCloseTryAgainLater, "too many connections for this user");
      return;
    }
  }
  const int64_t expires_ms =
      result.principal->expires_at
          ? std::chrono::duration_cast<std::chrono::milliseconds>(result.principal->expires_at->time_since_epoch()).count()
          : -1;
  SendText(wire::RenderAuthenticated(cmd.id, result.principal->user_id, expires_ms));
  SetPrincipal(std::move(result.principal));
}

bool WsSession::Admitted(std::string_view organization) {
  if (admission_ == AdmissionState::kAdmitted) return true;
  if (admission_ == AdmissionState::kPending) return false;
  admission_ = AdmissionState::kPending;
  AdmissionRequest request;
  request.user_id = user_id();
  if (principal_ && !principal_->any_organization && !principal_->organizations.empty()) {
    request.organizations = principal_->organizations;
  } else if (!organization.empty()) {
    request.organizations.emplace_back(organization);
  }
  if (host_.RequestAdmission(shared_from_this(), std::move(request))) return false;
  admission_ = AdmissionState::kAdmitted;
  return true;
}

void WsSession::OnAdmission(AdmissionVerdict verdict, std::string_view detail) {
  RTE_DCHECK_THREAD(thread_);
  if (terminated_ || closing_) return;
  if (verdict != AdmissionVerdict::kAdmitted) {
    host_.stats().Rejected(verdict == AdmissionVerdict::kOverUserLimit ? metrics::Rejection::kUserLimit
                                                                       : metrics::Rejection::kOrganizationLimit);
    const std::string why = std::string(detail.substr(0, 100));
    if (kind_ == Kind::kMulti) {
      std::string id;
      if (!held_commands_.empty()) {
        auto [cmd, err] = wire::ParseClientCommand(held_commands_.front());
        id = cmd ? cmd->id : err.id;
      }
      SendText(wire::RenderError(id, wire::kErrLimitExceeded, why));
    }
    held_commands_.clear();
    Close(wire::kClosePolicyViolation, why);
    return;
  }
  admission_ = AdmissionState::kAdmitted;
  counted_in_cluster_ = true;
  if (prototype_) SubscribePrototype();
  std::vector<std::string> held;
  held.swap(held_commands_);
  for (const std::string& text : held) {
    if (terminated_ || closing_) break;
    HandleCommand(text);
  }
}

void WsSession::Disconnect() {
  if (terminated_ || closing_) return;
  Close(wire::kClosePolicyViolation, "disconnected by an administrator");
}

void WsSession::SetPrincipal(std::shared_ptr<const auth::Principal> principal) {
  const bool first = !principal_;
  principal_ = std::move(principal);
  auth_generation_ = host_.authenticator().generation();
  if (first) {
    if (prototype_) SubscribePrototype();
    if (kind_ == Kind::kMulti) AdmitKnownPrincipal();
    return;
  }
  Reauthorize();
}

void WsSession::AdmitKnownPrincipal() {
  // A user, or the organizations of a token or allowlist: count the
  // connection now, whether or not it ever subscribes. (Anonymous
  // AUTH_MODE none connections are counted at their first subscribe, against
  // its organization.)
  if (principal_ && (!principal_->user_id.empty() || !principal_->any_organization)) Admitted("");
}

void WsSession::Reauthorize() {
  if (!principal_) return;
  for (size_t i = 0; i < subscriptions_.size();) {
    const routing::SubscriptionKey key = subscriptions_[i];
    if (principal_->Allows(key.tenant, key.property)) {
      ++i;
      continue;
    }
    AuthFailure("forbidden", "a subscription is no longer allowed");
    subscriptions_.erase(subscriptions_.begin() + static_cast<std::ptrdiff_t>(i));
    host_.Unsubscribe(this, key);
    if (kind_ == Kind::kPrototype) {
      Close(wire::kClosePolicyViolation, "forbidden: organization_id no longer allowed");
      return;
    }
    SendText(wire::RenderError("", wire::kErrForbidden,
                               "subscription to " + host_.channels().Get(key.channel).name +
                                   " is no longer allowed; unsubscribed"));
  }
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
  const ReadOutcome outcome = ReadAvailable();
  if (outcome == ReadOutcome::kEnded) return;
  if (outcome == ReadOutcome::kBudgetSpent && transport_.tls) {
    // The budget ran out with TLS: decrypted or undecrypted bytes may sit in
    // the TLS layer where readiness can't see them, so read again soon.
    reading_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->OnReadable({}); });
    return;
  }
  DoWaitReadable();
}

WsSession::ReadOutcome WsSession::ReadAvailable() {
  std::span<char> buf = host_.read_buffer();
  // Drain what is there (bounded per wake-up so one client can't starve
  // others). Plain sockets stop at a short read; TLS reads until the socket
  // would block, since a short read may be one record of several buffered.
  for (int round = 0; round < 4; ++round) {
    boost::system::error_code rec;
    size_t n = transport_.tls ? transport_.tls->read_some(asio::buffer(buf.data(), buf.size()), rec)
                              : socket_.read_some(asio::buffer(buf.data(), buf.size()), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) return ReadOutcome::kDrained;
    if (rec) {  // EOF, reset, or a TLS error
      Terminate();
      return ReadOutcome::kEnded;
    }
    last_received_ = Clock::now();
    if (close_sent_ || closing_) {
      // Closing: everything but the client's close frame is discarded; once
      // both close frames have crossed, the connection ends (RFC 6455 7.1.1).
      auto verdict = parser_.Feed(std::string_view(buf.data(), n), [this](const wire::ClientMessage& m) {
        if (m.opcode == Opcode::kClose) close_received_ = true;
        return !close_received_;
      });
      if (!verdict.ok() || (close_received_ && close_sent_)) {
        Terminate();
        return ReadOutcome::kEnded;
      }
      continue;
    }
    auto verdict = parser_.Feed(std::string_view(buf.data(), n),
                                [this](const wire::ClientMessage& m) { return OnMessage(m); });
    if (!verdict.ok()) {
      host_.stats().bad_frames.Add();
      spdlog::debug("session: closing with {}: {}", verdict.close_code, verdict.reason);
      Close(verdict.close_code, verdict.reason);
    }
    if (terminated_) return ReadOutcome::kEnded;
    if (!transport_.tls && n < buf.size()) return ReadOutcome::kDrained;
  }
  return ReadOutcome::kBudgetSpent;
}

bool WsSession::OnMessage(const wire::ClientMessage& msg) {
  switch (msg.opcode) {
    case Opcode::kText:
      HandleCommand(msg.payload);
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
      close_received_ = true;
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
  if (!TakeCommandToken(cmd ? cmd->id : err.id)) return;
  if (kind_ == Kind::kPrototype) {
    // The prototype's clients send pings (and, with AUTH_MODE=jwt, may send
    // their token); anything else is ignored as the prototype did.
    if (!cmd) {
      if (text.find("ping") != std::string_view::npos) SendText(wire::PongMessage());  // e.g. a bare "ping"
      return;
    }
    if (cmd->type == ClientCommand::Type::kPing) SendText(wire::PongMessage());
    if (cmd->type == ClientCommand::Type::kAuth) HandleAuth(*cmd, false);
    return;
  }
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
      HandleAuth(*cmd, false);
      return;
    case ClientCommand::Type::kSubscribe:
    case ClientCommand::Type::kUnsubscribe:
      break;
  }
  if (!principal_) {
    stats.bad_commands.Add();
    SendText(wire::RenderError(cmd->id, wire::kErrUnauthorized, "send {\"type\":\"auth\",\"token\":...} first"));
    return;
  }
  if (admission_ != AdmissionState::kAdmitted) {
    // Subscriptions wait until the connection is counted under the
    // cluster-wide limits (at most MAX_SUBSCRIPTIONS of them held).
    if (held_commands_.size() >= host_.options().max_subscriptions) {
      stats.bad_commands.Add();
      SendText(wire::RenderError(cmd->id, wire::kErrLimitExceeded, "too many commands before the connection was admitted"));
      return;
    }
    held_commands_.emplace_back(text);
    if (!Admitted(cmd->filter.organization_id)) return;
    held_commands_.pop_back();  // admitted at once (no cluster): go on
  }
  const size_t max_id = host_.options().max_id_length;
  if (!wire::IsValidIdentifier(cmd->filter.organization_id, max_id) ||
      (cmd->filter.property_id && !wire::IsValidIdentifier(*cmd->filter.property_id, max_id))) {
    stats.bad_commands.Add();
    SendText(wire::RenderError(cmd->id, wire::kErrBadRequest,
                               "organization_id and property_id must be 1-" + std::to_string(max_id) +
                                   " characters of A-Z a-z 0-9 . _ : @ -"));
    return;
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
    std::erase_if(replaying_, [&](const Replaying& r) { return r.key == key; });
    host_.Unsubscribe(this, key);
    SendText(wire::RenderUnsubscribed(cmd->id, cmd->channel));
    return;
  }
  if (!principal_->Allows(key.tenant, key.property)) {
    stats.bad_commands.Add();
    AuthFailure("forbidden", "subscribe outside the entitlement");
    SendText(wire::RenderError(cmd->id, wire::kErrForbidden,
                               key.property.empty() && !principal_->any_property
                                   ? "this connection may only subscribe to its properties: give property_id"
                                   : "organization_id or property_id not allowed for this connection"));
    return;
  }
  const bool resume = !cmd->since.empty() || cmd->since_time_ms >= 0;
  if (it != subscriptions_.end()) {  // idempotent: it already flows, nothing is replayed
    SendText(wire::RenderSubscribed(cmd->id, cmd->channel, !resume, 0));
    return;
  }
  if (subscriptions_.size() >= host_.options().max_subscriptions) {
    stats.bad_commands.Add();
    SendText(wire::RenderError(cmd->id, wire::kErrLimitExceeded,
                            "at most " + std::to_string(host_.options().max_subscriptions) + " subscriptions per connection"));
    return;
  }
  subscriptions_.push_back(key);
  if (!resume) {
    host_.Subscribe(shared_from_this(), key, MakeFrame(Opcode::kText, wire::RenderSubscribed(cmd->id, cmd->channel, true, 0)));
    return;
  }
  // Resume: the acknowledgement waits for the replay (it says what was replayed).
  host_.Subscribe(shared_from_this(), key, nullptr);
  StartReplay(key, ingest::ReplayRequest{key.channel, key.tenant, key.property, cmd->since, cmd->since_time_ms}, true,
              cmd->id);
}

bool WsSession::Deliver(const SharedFrame& frame, const routing::Event* event, bool property_key) {
  if (closing_ || terminated_) return false;
  host_.stats().Delivered(event->channel);
  if (!replaying_.empty()) {
    for (Replaying& r : replaying_) {
      if (r.key.channel != event->channel || r.key.tenant != event->tenant ||
          (property_key ? r.key.property != event->property : !r.key.property.empty())) {
        continue;
      }
      // Held until the replay is done and through; bounded (records the
      // ingest thread was still catching up on count here too).
      r.held_bytes += frame->size();
      r.held.push_back(Queued{frame, event});
      if (r.held_bytes > MaxHeldBytes()) {
        host_.stats().slow_consumer_closes.Add();
        Close(wire::kCloseTryAgainLater, "slow consumer: too many events while resuming");
      }
      return false;
    }
  }
  if (!Enqueue(frame, false, /*defer=*/true, event) || flush_pending_) return false;
  flush_pending_ = true;
  return true;
}

void WsSession::Flush() {
  RTE_DCHECK_THREAD(thread_);
  flush_pending_ = false;
  DoWrite();
}

void WsSession::SendText(std::string_view json) { SendFrame(MakeFrame(Opcode::kText, json)); }

void WsSession::SendFrame(SharedFrame frame) {
  if (closing_ || terminated_) return;
  Enqueue(std::move(frame), false);
}

bool WsSession::Enqueue(SharedFrame frame, bool bypass_cap, bool defer, const routing::Event* event) {
  RTE_DCHECK_THREAD(thread_);
  const size_t size = frame->size();
  const size_t cap = host_.options().send_queue_bytes;
  if (!bypass_cap && queued_bytes_ + size > cap) {
    const bool dropped = host_.options().slow_client_drop && event && size <= cap &&
                         DropOldest(queued_bytes_ + size - cap);
    if (!dropped) {
      host_.stats().slow_consumer_closes.Add();
      spdlog::info("session: send queue over {} bytes; closing slow client", cap);
      Close(wire::kCloseTryAgainLater, "slow consumer: send queue full");
      return false;
    }
  }
  AddQueued(static_cast<int64_t>(size));
  host_.stats().bytes_queued.Add(size);
  frames_.push_back(Queued{std::move(frame), event});
  if (!defer) DoWrite();
  return true;
}

bool WsSession::DropOldest(size_t need) {
  // Only event frames that are not being written: replies, pings and the
  // close frame are never dropped, and per-partition order is kept because
  // what is dropped is always the oldest.
  size_t freed = 0;
  size_t out = head_ + in_flight_;
  size_t i = out;
  for (; i < frames_.size(); ++i) {
    Queued& q = frames_[i];
    if (freed < need && q.event) {
      DroppedRange& r = dropped_[q.event->channel][q.event->partition];
      if (r.count == 0) r.from = q.event->offset;
      r.to = q.event->offset;
      ++r.count;
      freed += q.frame->size();
      host_.stats().slow_consumer_drops.Add();
      ++events_dropped_;
      continue;
    }
    if (i != out) frames_[out] = std::move(q);
    ++out;
  }
  frames_.resize(out);
  AddQueued(-static_cast<int64_t>(freed));
  return freed >= need;
}

void WsSession::QueueGapMessages() {
  std::vector<Queued> gaps;
  for (const auto& [channel, partitions] : dropped_) {
    std::vector<wire::GapRange> ranges;
    for (const auto& [partition, r] : partitions) ranges.push_back({partition, r.from, r.to, r.count});
    gaps.push_back(Queued{MakeFrame(Opcode::kText, wire::RenderGap(host_.channels().Get(channel).name, ranges)), nullptr});
    AddQueued(static_cast<int64_t>(gaps.back().frame->size()));
    host_.stats().gaps_sent.Add();
  }
  dropped_.clear();
  frames_.insert(frames_.begin() + static_cast<std::ptrdiff_t>(head_ + in_flight_), std::make_move_iterator(gaps.begin()),
                 std::make_move_iterator(gaps.end()));
}

void WsSession::DoWrite() {
  if (in_flight_ > 0 || terminated_) return;
  if (!dropped_.empty()) QueueGapMessages();
  if (head_ == frames_.size()) return;
  write_bufs_.clear();
  size_t bytes = 0;
  size_t i = head_;
  for (; i < frames_.size() && write_bufs_.size() < kMaxFramesPerWrite && bytes < kMaxBytesPerWrite; ++i) {
    write_bufs_.emplace_back(frames_[i].frame->data(), frames_[i].frame->size());
    bytes += frames_[i].frame->size();
  }
  in_flight_ = i - head_;
  write_started_ = Clock::now();
  host_.stats().writes.Add();
  auto on_write = [self = shared_from_this(), n = in_flight_](const boost::system::error_code& ec, size_t) {
    self->OnWrite(ec, n);
  };
  if (transport_.tls) {
    // TLS encrypts one buffer per record write: copy the frames into one run
    // so a write costs a few records, not one per frame.
    tls_out_.clear();
    for (const auto& b : write_bufs_) tls_out_.append(static_cast<const char*>(b.data()), b.size());
    asio::async_write(*transport_.tls, asio::buffer(tls_out_), std::move(on_write));
    return;
  }
  // Plain TCP: try the gather write at once on the non-blocking socket. When
  // the kernel takes it all (the usual case) the write completes inline,
  // without an asynchronous operation, a handler allocation and a trip
  // through the reactor; only what it can't take yet goes asynchronous.
  boost::system::error_code ec;
  const size_t written = socket_.write_some(std::span<const asio::const_buffer>(write_bufs_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (ec) {
    // Not inline: the caller may be walking the worker's index, which
    // ending the session changes.
    asio::post(socket_.get_executor(), [on_write = std::move(on_write), ec] { on_write(ec, 0); });
    return;
  }
  if (written == bytes) {
    // Success ends the session only when it writes our answer to the
    // client's close frame, i.e. while handling that frame (read side).
    OnWrite(ec, in_flight_);
    return;
  }
  // Partial: drop what went out, then write the rest asynchronously.
  size_t skip = written;
  size_t first = 0;
  while (skip >= write_bufs_[first].size()) skip -= write_bufs_[first++].size();
  write_bufs_[first] += skip;
  asio::async_write(socket_, std::span<const asio::const_buffer>(write_bufs_).subspan(first), std::move(on_write));
}

void WsSession::OnWrite(const boost::system::error_code& ec, size_t frames) {
  RTE_DCHECK_THREAD(thread_);
  size_t written = 0;
  uint64_t events = 0;
  for (size_t k = 0; k < frames; ++k) {
    written += frames_[head_].frame->size();
    if (frames_[head_].event) ++events;
    frames_[head_++] = Queued{};
  }
  AddQueued(-static_cast<int64_t>(written));
  if (!ec) {
    host_.stats().bytes_written.Add(written);
    events_sent_ += events;
  }
  in_flight_ = 0;
  if (tls_out_.capacity() > 64 * 1024) std::string().swap(tls_out_);
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
  if (!replaying_.empty() && !closing_) PumpReplays();
  if (closing_ && head_ == frames_.size()) {
    // The close frame is out: half-close; then end once the client's close
    // frame is (or was already) here, or it closes, or the grace ends.
    close_sent_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    if (close_received_) {
      Terminate();
      return;
    }
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
  for (size_t i = head_ + in_flight_; i < frames_.size(); ++i) AddQueued(-static_cast<int64_t>(frames_[i].frame->size()));
  frames_.resize(head_ + in_flight_);
  dropped_.clear();
  replaying_.clear();
  Enqueue(std::make_shared<const std::string>(wire::EncodeCloseFrame(code, reason)), true);
}

void WsSession::CloseAfterQueued(uint16_t code, std::string_view reason, Clock::time_point deadline) {
  RTE_DCHECK_THREAD(thread_);
  if (closing_ || terminated_) return;
  closing_ = true;
  close_deadline_ = deadline;
  // Past the queue bound if need be: the close frame must follow the events.
  Enqueue(std::make_shared<const std::string>(wire::EncodeCloseFrame(code, reason)), true);
}

void WsSession::Terminate() {
  if (terminated_) return;
  terminated_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  for (const auto& key : subscriptions_) host_.Unsubscribe(this, key);
  subscriptions_.clear();
  replaying_.clear();
  user_slot_.Release();
  ip_slot_.Release();
  if (counted_in_cluster_) host_.ReleaseAdmission(this);
  host_.stats().connections_closed.Add();
  host_.stats().connections.Add(-1);
  host_.stats().connections_by_endpoint[static_cast<size_t>(endpoint())].Add(-1);
  // What is still queued will never be written: out of the gauge.
  host_.stats().queued_bytes.Add(-static_cast<int64_t>(queued_bytes_));
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
  if (!principal_ && now >= auth_deadline_) {
    AuthFailure("timeout", "no credentials within AUTH_TIMEOUT");
    host_.stats().Rejected(metrics::Rejection::kUnauthorized);
    Close(wire::kClosePolicyViolation, "authentication timeout");
    return;
  }
  if (principal_ && principal_->expires_at &&
      std::chrono::system_clock::now() > *principal_->expires_at + opt.token_leeway) {
    AuthFailure("expired", "a connection's token expired");
    Close(wire::kClosePolicyViolation, "token expired");
    return;
  }
  if (principal_ && host_.authenticator().generation() != auth_generation_) {
    // The allowlist changed: decide again what this user may see.
    auto result = host_.authenticator().ForUser(principal_->user_id);
    if (result.principal) SetPrincipal(std::move(result.principal));
    if (terminated_ || closing_) return;
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
