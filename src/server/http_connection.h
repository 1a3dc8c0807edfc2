// HttpConnection: the HTTP phase of a connection. Serves the small HTTP API
// (/, /healthz, /readyz, /metrics, /api/stats, /api/channels) with
// keep-alive, and upgrades /ws and /getEvents/{channel} to a WsSession.
// Owner: itself (shared_ptr held by its pending operation).
// Thread: the accepting worker's thread only.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>

namespace rte::server {

class Worker;
class HttpApi;

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(boost::asio::ip::tcp::socket socket, Worker& worker, HttpApi& api);
  void Start();

 private:
  void DoRead();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  void Upgrade();
  void Respond(boost::beast::http::status status, std::string content_type, std::string body);
  void OnWrite(const boost::system::error_code& ec, bool keep_alive);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> response_;
  Worker& worker_;
  HttpApi& api_;
};

// Parses a request target for the WebSocket endpoints. Pure.
struct UpgradeTarget {
  enum class Kind { kNone, kMulti, kPrototype };
  Kind kind = Kind::kNone;
  std::string channel;          // prototype: from the path
  std::string organization_id;  // prototype: query
  std::string user_id;
  std::string property_id;
  std::string token;
};
UpgradeTarget ParseUpgradeTarget(std::string_view target);

}  // namespace rte::server
