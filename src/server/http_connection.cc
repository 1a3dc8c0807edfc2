#include "server/http_connection.h"

#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "server/http_api.h"
#include "server/worker.h"
#include "session/ws_session.h"
#include "wire/protocol.h"
#include "wire/ws_frame.h"

namespace rte::server {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

using wire::ExtractCredentials;
using wire::OriginAllowed;
using wire::ParseUpgradeTarget;
using wire::StatusForParseError;

namespace {
constexpr size_t kMaxLingerBytes = 256 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);
}  // namespace

HttpConnection::HttpConnection(asio::ip::tcp::socket socket, Worker& worker, HttpApi& api,
                               session::ConnectionLimits::Slot ip_slot, bool over_ip_limit, asio::ssl::context* tls)
    : socket_(std::move(socket)),
      deadline_(socket_.get_executor()),
      worker_(worker),
      api_(api),
      ip_slot_(std::move(ip_slot)),
      over_ip_limit_(over_ip_limit) {
  if (tls) tls_ = std::make_unique<TlsStream>(std::move(socket_), *tls);
}

void HttpConnection::Start() {
  ArmDeadline(worker_.http_options().handshake_timeout);
  if (!tls_) {
    DoRead();
    return;
  }
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](const boost::system::error_code& ec) { self->OnHandshake(ec); });
}

void HttpConnection::ArmDeadline(std::chrono::steady_clock::duration timeout) {
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->timed_out_ = true;
    boost::system::error_code ignored;
    (self->tls_ ? self->tls_->next_layer() : self->socket_).close(ignored);  // fails the pending operation
  });
}

void HttpConnection::OnHandshake(const boost::system::error_code& ec) {
  if (ec) {
    if (timed_out_) {
      worker_.stats().handshake_timeouts.Add();
    } else {
      worker_.stats().tls_handshake_errors.Add();
      if (worker_.bad_request_log().Allow()) {
        spdlog::info("tls: handshake failed: {} ({} similar lines suppressed)", ec.message(),
                     worker_.bad_request_log().suppressed());
      }
    }
    return;  // the socket closes with the last reference
  }
  DoRead();
}

void HttpConnection::DoRead() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(worker_.http_options().max_header_bytes));
  parser_->body_limit(worker_.http_options().max_body_bytes);
  // The deadline covers the whole request (a slow-loris trickle included); it
  // is set when the connection opens and again after each answered request.
  auto on_read = [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnRead(ec, n); };
  if (tls_) {
    http::async_read(*tls_, buffer_, *parser_, std::move(on_read));
  } else {
    http::async_read(socket_, buffer_, *parser_, std::move(on_read));
  }
}

void HttpConnection::OnRead(const boost::system::error_code& ec, size_t) {
  auto& stats = worker_.stats();
  if (timed_out_) {
    stats.handshake_timeouts.Add();
    return;  // the deadline closed the socket
  }
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::ssl::error::stream_truncated) {
    return;  // the client went away; the socket closes with the last reference
  }
  stats.http_requests.Add();
  if (ec) {
    // Unparsable or oversized: one short answer, then close. The half-parsed
    // request is never reused (its keep-alive would re-read the same bytes).
    stats.http_bad_requests.Add();
    if (worker_.bad_request_log().Allow()) {
      spdlog::info("http: bad request from a client: {} ({} similar lines suppressed)", ec.message(),
                   worker_.bad_request_log().suppressed());
    }
    http::status status = StatusForParseError(ec);
    Respond(status, "text/plain", std::string(http::obsolete_reason(status)) + "\n", /*close=*/true);
    return;
  }
  if (over_ip_limit_) {
    worker_.stats().Rejected(metrics::Rejection::kIpLimit);
    Refuse(http::status::too_many_requests, "too many connections from this address (MAX_CONNECTIONS_PER_IP)\n");
    return;
  }
  Serve();
}

void HttpConnection::Serve() {
  auto& req = parser_->get();
  if (beast::iequals(req[http::field::upgrade], "websocket")) {
    Upgrade();
    return;
  }
  auto url = boost::urls::parse_origin_form(req.target());
  std::string path = url ? std::string(url->path()) : std::string();
  const bool post_route = path == "/api/admin/disconnect";
  if (post_route ? req.method() != http::verb::post
                 : req.method() != http::verb::get && req.method() != http::verb::head) {
    Respond(http::status::method_not_allowed, "text/plain", "method not allowed\n");
    return;
  }
  if (path == "/" || path == "/index.html") {
    std::string page = api_.IndexHtml();
    if (page.empty()) {
      Respond(http::status::not_found, "text/plain", "no test page built in\n");
    } else {
      Respond(http::status::ok, "text/html; charset=utf-8", std::move(page));
    }
  } else if (path == "/healthz") {
    Respond(http::status::ok, "text/plain", "ok\n");
  } else if (path == "/readyz") {
    bool ready = false;
    std::string text = api_.Readiness(&ready);
    Respond(ready ? http::status::ok : http::status::service_unavailable, "text/plain", std::move(text));
  } else if (path == "/metrics") {
    Respond(http::status::ok, "text/plain; version=0.0.4", api_.MetricsText());
  } else if (path == "/api/stats") {
    Respond(http::status::ok, "application/json", api_.StatsJson());
  } else if (path == "/api/channels") {
    Respond(http::status::ok, "application/json", api_.ChannelsJson());
  } else if (path == "/client.js") {
    if (api_.ClientJs().empty()) {
      Respond(http::status::not_found, "text/plain", "no client built in\n");
    } else {
      Respond(http::status::ok, "text/javascript; charset=utf-8", std::string(api_.ClientJs()));
    }
  } else if (path == "/admin" || path.rfind("/api/admin/", 0) == 0) {
    std::map<std::string, std::string> params;
    if (url) {
      for (const auto& p : url->params()) params.emplace(p.key, p.value);
    }
    ServeAdmin(path, std::move(params));
  } else if (path == "/ws" || path.rfind("/getEvents/", 0) == 0) {
    Respond(http::status::upgrade_required, "text/plain", "this endpoint speaks WebSocket\n");
  } else {
    Respond(http::status::not_found, "text/plain", "not found\n");
  }
}

bool HttpConnection::Authenticate(const UpgradeTarget& target, const Credentials& credentials,
                                  std::shared_ptr<const auth::Principal>* principal) {
  auth::Authenticator& authenticator = worker_.authenticator();
  auto& stats = worker_.stats();
  switch (authenticator.mode()) {
    case config::AuthMode::kUnset:
    case config::AuthMode::kNone:
      *principal = auth::Principal::Anyone();
      return true;
    case config::AuthMode::kAllowlist: {
      if (target.user_id.empty()) {
        stats.AuthFailure("missing_credentials");
        stats.Rejected(metrics::Rejection::kUnauthorized);
        Refuse(http::status::unauthorized, "unauthorized: user_id is required (AUTH_MODE=allowlist)\n");
        return false;
      }
      if (!wire::IsValidIdentifier(target.user_id, worker_.session_options().max_id_length)) {
        stats.AuthFailure("malformed");
        stats.Rejected(metrics::Rejection::kUnauthorized);
        Refuse(http::status::bad_request, "user_id is not a valid identifier\n");
        return false;
      }
      auto result = authenticator.ForUser(target.user_id);
      *principal = result.principal;
      return true;
    }
    case config::AuthMode::kJwt:
      break;
  }
  if (credentials.token.empty()) return true;  // a first {"type":"auth"} must follow
  auto result = authenticator.VerifyToken(credentials.token, std::chrono::system_clock::now());
  if (result.principal) {
    *principal = std::move(result.principal);
    return true;
  }
  if (result.retry_after_refresh && !key_refresh_tried_) {
    // A key id we don't know yet: fetch the key set once (rate-limited), then
    // try again on this worker.
    key_refresh_tried_ = true;
    worker_.authenticator().RequestKeyRefresh(
        [self = shared_from_this(), ex = deadline_.get_executor()] { asio::post(ex, [self] { self->Upgrade(); }); });
    return false;
  }
  stats.AuthFailure(result.reason);
  stats.Rejected(metrics::Rejection::kUnauthorized);
  if (worker_.auth_log().Allow()) {
    spdlog::info("auth: token refused: {} ({} similar lines suppressed)", result.message,
                 worker_.auth_log().suppressed());
  }
  Refuse(http::status::unauthorized, "unauthorized: " + result.message + "\n");
  return false;
}

void HttpConnection::Upgrade() {
  auto& req = parser_->get();
  auto& stats = worker_.stats();
  const auto key = req[http::field::sec_websocket_key];
  if (req.method() != http::verb::get || key.empty() || req[http::field::sec_websocket_version] != "13") {
    stats.rejected_upgrades.Add();
    Refuse(http::status::bad_request, "bad WebSocket upgrade request\n");
    return;
  }
  if (!OriginAllowed(req[http::field::origin], worker_.http_options().allowed_origins)) {
    stats.Rejected(metrics::Rejection::kOrigin);
    Refuse(http::status::forbidden, "origin not allowed (ALLOWED_ORIGINS)\n");
    return;
  }
  UpgradeTarget target = ParseUpgradeTarget(req.target());
  if (target.kind == UpgradeTarget::Kind::kNone) {
    stats.rejected_upgrades.Add();
    Refuse(http::status::not_found, "no WebSocket endpoint here; use /ws or /getEvents/{channel}\n");
    return;
  }
  const Credentials credentials = ExtractCredentials(req, target);
  std::shared_ptr<const auth::Principal> principal;
  if (!Authenticate(target, credentials, &principal)) return;

  session::ConnectionLimits::Slot user_slot;
  if (principal) {
    bool allowed = true;
    user_slot = worker_.limits().AcquireUser(principal->user_id, &allowed);
    if (!allowed) {
      stats.Rejected(metrics::Rejection::kUserLimit);
      Refuse(http::status::too_many_requests, "too many connections for this user (MAX_CONNECTIONS_PER_USER)\n");
      return;
    }
  }

  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nServer: realtime-events\r\n"
      "Sec-WebSocket-Accept: " +
      wire::ComputeAcceptKey(key) + "\r\n";
  if (credentials.source == Credentials::Source::kSubprotocol) response += "Sec-WebSocket-Protocol: bearer\r\n";
  response += "\r\n";
  deadline_.cancel();
  auto leftover = buffer_.data();
  std::string already(static_cast<const char*>(leftover.data()), leftover.size());
  session::SessionAuth session_auth;
  session_auth.principal = std::move(principal);
  session_auth.user_slot = std::move(user_slot);
  session_auth.ip_slot = std::move(ip_slot_);
  std::string remote;
  {
    boost::system::error_code ec;
    const auto ep = (tls_ ? tls_->next_layer() : socket_).remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  session::Transport transport;
  if (tls_) {
    transport.tls = std::move(tls_);
  } else {
    transport.socket = std::move(socket_);
  }
  auto session = std::make_shared<session::WsSession>(
      std::move(transport), worker_,
      target.kind == UpgradeTarget::Kind::kMulti ? session::WsSession::Kind::kMulti
                                                 : session::WsSession::Kind::kPrototype,
      session::Clock::now(), std::move(session_auth));
  session->set_remote(std::move(remote));
  worker_.AddSession(session);
  session->Start(std::move(response), already);
  if (target.kind == UpgradeTarget::Kind::kPrototype) {
    session->OpenPrototype({target.channel, target.organization_id, target.property_id, target.user_id, target.since,
                            target.since_time});
  }
}

void HttpConnection::ServeAdmin(std::string_view path, std::map<std::string, std::string> params) {
  auto& req = parser_->get();
  const bool authorized = api_.AdminAuthorized(req[http::field::authorization]);
  if (path == "/admin") {
    // The page itself holds no data: without the token it is still sent (with
    // 401) so that it can ask for the token and call the JSON API with it.
    std::string page(api_.AdminHtml());
    if (page.empty()) {
      Respond(http::status::not_found, "text/plain", "no admin page built in\n");
      return;
    }
    Respond(authorized ? http::status::ok : http::status::unauthorized, "text/html; charset=utf-8", std::move(page));
    return;
  }
  if (!authorized) {
    worker_.stats().admin_refusals.Add();
    Respond(http::status::unauthorized, "application/json",
            api_.AdminEnabled() ? R"({"error":"unauthorized","message":"send Authorization: Bearer <ADMIN_TOKEN>"})"
                                : R"({"error":"unauthorized","message":"the admin API is off: set ADMIN_TOKEN"})");
    return;
  }
  if (path == "/api/admin/summary") {
    Respond(http::status::ok, "application/json", api_.AdminSummaryJson());
  } else if (path == "/api/admin/clients") {
    auto q = ParseClientQuery(params);
    if (!q) {
      Respond(http::status::bad_request, "application/json",
              R"({"error":"bad_request","message":")" + q.error().message + "\"}");
      return;
    }
    // Every worker lists its own sessions on its own thread; the answer is
    // written back here, on this connection's worker.
    auto executor = socket_executor();
    api_.AdminClients(*q, [self = shared_from_this(), executor](std::string json) {
      asio::post(executor, [self, json = std::move(json)]() mutable {
        self->Respond(http::status::ok, "application/json", std::move(json));
      });
    });
  } else if (path == "/api/admin/nodes" || path == "/api/admin/presence" || path == "/api/admin/connections" ||
             path == "/api/admin/disconnect") {
    auto executor = socket_executor();
    api_.AdminCluster(path.substr(std::string_view("/api/admin/").size()), std::move(params),
                      [self = shared_from_this(), executor](int status, std::string json) {
                        asio::post(executor, [self, status, json = std::move(json)]() mutable {
                          self->Respond(static_cast<http::status>(status), "application/json", std::move(json));
                        });
                      });
  } else {
    Respond(http::status::not_found, "application/json", R"({"error":"not_found","message":"no such admin route"})");
  }
}

void HttpConnection::Refuse(http::status status, std::string body) {
  Respond(status, "text/plain", std::move(body), /*close=*/true);
}

void HttpConnection::Respond(http::status status, std::string content_type, std::string body, bool close) {
  auto& req = parser_->get();
  response_ = std::make_shared<http::response<http::string_body>>(status, 11);
  response_->set(http::field::server, "realtime-events");
  response_->set(http::field::content_type, content_type);
  response_->set(http::field::cache_control, "no-store");
  if (status == http::status::unauthorized) response_->set(http::field::www_authenticate, "Bearer");
  response_->keep_alive(!close && req.keep_alive());
  if (req.method() != http::verb::head) response_->body() = std::move(body);
  response_->prepare_payload();
  auto on_write = [self = shared_from_this(), keep = response_->keep_alive()](const boost::system::error_code& ec,
                                                                               size_t) { self->OnWrite(ec, keep); };
  if (tls_) {
    http::async_write(*tls_, *response_, std::move(on_write));
  } else {
    http::async_write(socket_, *response_, std::move(on_write));
  }
}

void HttpConnection::OnWrite(const boost::system::error_code& ec, bool keep_alive) {
  if (ec) return;
  if (!keep_alive) {
    LingerClose();
    return;
  }
  ArmDeadline(worker_.http_options().handshake_timeout);
  DoRead();
}

void HttpConnection::LingerClose() {
  boost::system::error_code ignored;
  (tls_ ? tls_->next_layer() : socket_).shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  buffer_.clear();
  ArmDeadline(kLingerTime);
  DoLinger();
}

void HttpConnection::DoLinger() {
  // Raw bytes, TLS or not: they are discarded unread.
  auto& socket = tls_ ? tls_->next_layer() : socket_;
  socket.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                                  size_t n) {
    self->lingered_bytes_ += n;
    if (ec || self->lingered_bytes_ > kMaxLingerBytes) return;  // the socket closes with the last reference
    self->DoLinger();
  });
}

}  // namespace rte::server
