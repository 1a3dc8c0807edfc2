// HttpConnection: the HTTP phase of a connection. Serves the small HTTP API
// (/, /healthz, /readyz, /metrics, /api/stats, /api/channels) with
// keep-alive, and upgrades /ws and /getEvents/{channel} to a WsSession once
// the request passed the Origin allowlist, authentication and the per-user
// connection limit (docs/security.md). A request that does not parse, or is
// over a size cap, gets one short answer with `Connection: close`, and the
// connection is closed; the whole request (and the TLS handshake, with
// TLS_CERT_FILE) must arrive within HANDSHAKE_TIMEOUT.
// Owner: itself (shared_ptr held by its pending operation).
// Thread: the accepting worker's thread only (a key refresh for an unknown
// JWT kid completes elsewhere and posts back to it).
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <map>
#include <memory>
#include <optional>

#include "auth/principal.h"
#include "server/tls.h"
#include "wire/upgrade_request.h"
#include "session/connection_limits.h"

namespace rte::server {

using wire::Credentials;
using wire::UpgradeTarget;

class Worker;
class HttpApi;

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  // `ip_slot` holds this address's place under MAX_CONNECTIONS_PER_IP;
  // `over_ip_limit`: none was free, so the request is answered with 429.
  // `tls`: the listener speaks TLS (https://, wss://) with this context.
  HttpConnection(boost::asio::ip::tcp::socket socket, Worker& worker, HttpApi& api,
                 session::ConnectionLimits::Slot ip_slot, bool over_ip_limit, boost::asio::ssl::context* tls);
  void Start();

 private:
  // Closes the socket when `timeout` passes (slow-loris, stalled handshake).
  void ArmDeadline(std::chrono::steady_clock::duration timeout);
  void OnHandshake(const boost::system::error_code& ec);
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  void Serve();
  void Upgrade();
  // /admin and /api/admin/... (ADMIN_TOKEN).
  // `params`: the decoded query parameters.
  void ServeAdmin(std::string_view path, std::map<std::string, std::string> params);
  boost::asio::any_io_executor socket_executor() { return tls_ ? tls_->get_executor() : socket_.get_executor(); }
  // Authenticates the upgrade request; false when it answered already.
  bool Authenticate(const UpgradeTarget& target, const Credentials& credentials,
                    std::shared_ptr<const auth::Principal>* principal);
  void Respond(boost::beast::http::status status, std::string content_type, std::string body,
               bool close = false);
  // Refuses the request: counts it, answers `status` and closes.
  void Refuse(boost::beast::http::status status, std::string body);
  void OnWrite(const boost::system::error_code& ec, bool keep_alive);
  // Half-closes, then reads and discards what the client still sends (bounded
  // in bytes and time) so the answer is not lost to a reset.
  void LingerClose();
  void DoLinger();

  boost::asio::ip::tcp::socket socket_;  // plain; moved into tls_ with TLS
  std::unique_ptr<TlsStream> tls_;
  boost::asio::steady_timer deadline_;
  bool timed_out_ = false;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> response_;
  Worker& worker_;
  HttpApi& api_;
  session::ConnectionLimits::Slot ip_slot_;
  bool over_ip_limit_;
  bool key_refresh_tried_ = false;
  size_t lingered_bytes_ = 0;
};

}  // namespace rte::server
