#include "server/http_connection.h"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "server/http_api.h"
#include "server/worker.h"
#include "session/ws_session.h"
#include "wire/ws_frame.h"

namespace rte::server {
namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

namespace {
constexpr auto kHttpTimeout = std::chrono::seconds(30);
constexpr size_t kMaxHeaderBytes = 8 * 1024;
constexpr size_t kMaxBodyBytes = 16 * 1024;
}  // namespace

UpgradeTarget ParseUpgradeTarget(std::string_view target) {
  UpgradeTarget t;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return t;
  std::string path = url->path();
  if (path == "/ws" || path == "/ws/") {
    t.kind = UpgradeTarget::Kind::kMulti;
  } else if (path.rfind("/getEvents/", 0) == 0) {
    t.kind = UpgradeTarget::Kind::kPrototype;
    t.channel = path.substr(11);
    if (!t.channel.empty() && t.channel.back() == '/') t.channel.pop_back();
  } else {
    return t;
  }
  for (auto param : url->params()) {
    if (!param.has_value) continue;
    if (param.key == "organization_id") t.organization_id = param.value;
    else if (param.key == "user_id") t.user_id = param.value;
    else if (param.key == "property_id") t.property_id = param.value;
    else if (param.key == "token") t.token = param.value;
  }
  return t;
}

HttpConnection::HttpConnection(asio::ip::tcp::socket socket, Worker& worker, HttpApi& api)
    : stream_(std::move(socket)), worker_(worker), api_(api) {}

void HttpConnection::Start() { DoRead(); }

void HttpConnection::DoRead() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  stream_.expires_after(kHttpTimeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnRead(ec, n); });
}

void HttpConnection::OnRead(const boost::system::error_code& ec, size_t) {
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == beast::error::timeout) {
    boost::system::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    return;
  }
  if (ec) {
    if (ec != asio::error::connection_reset && ec != asio::error::eof) {
      worker_.stats().http_requests.Add();
      Respond(http::status::bad_request, "text/plain", "bad request: " + ec.message() + "\n");
    }
    return;
  }
  worker_.stats().http_requests.Add();
  auto& req = parser_->get();
  if (beast::iequals(req[http::field::upgrade], "websocket")) {
    Upgrade();
    return;
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Respond(http::status::method_not_allowed, "text/plain", "method not allowed\n");
    return;
  }
  auto url = boost::urls::parse_origin_form(req.target());
  std::string path = url ? std::string(url->path()) : std::string();
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
    bool ready = api_.Ready();
    Respond(ready ? http::status::ok : http::status::service_unavailable, "text/plain",
            ready ? "ready\n" : "not ready: Kafka partitions not assigned yet\n");
  } else if (path == "/metrics") {
    Respond(http::status::ok, "text/plain; version=0.0.4", api_.MetricsText());
  } else if (path == "/api/stats") {
    Respond(http::status::ok, "application/json", api_.StatsJson());
  } else if (path == "/api/channels") {
    Respond(http::status::ok, "application/json", api_.ChannelsJson());
  } else if (path == "/ws" || path.rfind("/getEvents/", 0) == 0) {
    Respond(http::status::upgrade_required, "text/plain", "this endpoint speaks WebSocket\n");
  } else {
    Respond(http::status::not_found, "text/plain", "not found\n");
  }
}

void HttpConnection::Respond(http::status status, std::string content_type, std::string body) {
  auto& req = parser_->get();
  response_ = std::make_shared<http::response<http::string_body>>(status, req.version());
  response_->set(http::field::server, "realtime-events");
  response_->set(http::field::content_type, content_type);
  response_->set(http::field::cache_control, "no-store");
  response_->keep_alive(req.keep_alive());
  if (req.method() != http::verb::head) response_->body() = std::move(body);
  response_->prepare_payload();
  http::async_write(stream_, *response_,
                    [self = shared_from_this(), keep = response_->keep_alive()](const boost::system::error_code& ec,
                                                                                 size_t) { self->OnWrite(ec, keep); });
}

void HttpConnection::OnWrite(const boost::system::error_code& ec, bool keep_alive) {
  if (ec) return;
  if (!keep_alive) {
    boost::system::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    return;
  }
  DoRead();
}

void HttpConnection::Upgrade() {
  auto& req = parser_->get();
  const auto key = req[http::field::sec_websocket_key];
  if (req.method() != http::verb::get || key.empty() || req[http::field::sec_websocket_version] != "13") {
    worker_.stats().rejected_upgrades.Add();
    Respond(http::status::bad_request, "text/plain", "bad WebSocket upgrade request\n");
    return;
  }
  UpgradeTarget target = ParseUpgradeTarget(req.target());
  if (target.kind == UpgradeTarget::Kind::kNone) {
    worker_.stats().rejected_upgrades.Add();
    Respond(http::status::not_found, "text/plain", "no WebSocket endpoint here; use /ws or /getEvents/{channel}\n");
    return;
  }
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nServer: realtime-events\r\n"
      "Sec-WebSocket-Accept: " +
      wire::ComputeAcceptKey(key) + "\r\n\r\n";
  stream_.expires_never();
  auto leftover = buffer_.data();
  std::string already(static_cast<const char*>(leftover.data()), leftover.size());
  auto session = std::make_shared<session::WsSession>(
      stream_.release_socket(), worker_,
      target.kind == UpgradeTarget::Kind::kMulti ? session::WsSession::Kind::kMulti
                                                 : session::WsSession::Kind::kPrototype,
      session::Clock::now());
  worker_.AddSession(session);
  session->Start(std::move(response), already);
  if (target.kind == UpgradeTarget::Kind::kPrototype) {
    // As the prototype did: accept, then close with 1008 on a bad request.
    auto channel = worker_.channels().Find(target.channel);
    if (!channel) {
      worker_.stats().rejected_upgrades.Add();
      session->Close(wire::kClosePolicyViolation, "unknown channel");
      return;
    }
    if (target.organization_id.empty()) {
      worker_.stats().rejected_upgrades.Add();
      session->Close(wire::kClosePolicyViolation, "organization_id is required");
      return;
    }
    session->SubscribeOnOpen({*channel, target.organization_id, target.property_id}, target.user_id);
  }
}

}  // namespace rte::server
