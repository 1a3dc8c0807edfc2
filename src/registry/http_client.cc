#include "registry/http_client.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

#include "base/base64.h"

namespace rte::registry {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::string BasicAuthValue(std::string_view user_info) {
  return "Basic " + Base64Encode(user_info);
}

struct HttpClient::Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool connected = false;

  beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void Close() {
    connected = false;
    if (!plain && !tls) return;
    boost::system::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
  }
};

Result<std::unique_ptr<HttpClient>> HttpClient::Create(asio::io_context& ioc,
                                                       HttpClientOptions options) {
  std::unique_ptr<asio::ssl::context> ssl;
  if (options.url.tls) {
    try {
      ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      ssl->set_default_verify_paths();
      if (!options.ca_file.empty()) ssl->load_verify_file(options.ca_file);
      ssl->set_verify_mode(asio::ssl::verify_peer);
    } catch (const boost::system::system_error& e) {
      return MakeError(Errc::kInvalidArgument,
                       fmt::format("cannot set up TLS for the schema registry{}: {}",
                                   options.ca_file.empty() ? "" : " (CA file " + options.ca_file + ")",
                                   e.code().message()));
    }
  }
  return std::unique_ptr<HttpClient>(new HttpClient(ioc, std::move(options), std::move(ssl)));
}

HttpClient::HttpClient(asio::io_context& ioc, HttpClientOptions options,
                       std::unique_ptr<asio::ssl::context> ssl)
    : ioc_(ioc), options_(std::move(options)), ssl_(std::move(ssl)) {
  const bool ipv6 = options_.url.host.find(':') != std::string::npos;
  const std::string host = ipv6 ? "[" + options_.url.host + "]" : options_.url.host;
  const uint16_t default_port = options_.url.tls ? 443 : 80;
  host_header_ = options_.url.port == default_port
                     ? host
                     : fmt::format("{}:{}", host, options_.url.port);
  if (!options_.user_info.empty()) authorization_ = BasicAuthValue(options_.user_info);
  if (options_.max_connections == 0) options_.max_connections = 1;
}

HttpClient::~HttpClient() = default;

void HttpClient::Shutdown() {
  shutdown_ = true;
  for (auto& c : idle_) c->Close();
  idle_.clear();
  for (Connection* c : busy_) c->Close();
  for (asio::steady_timer* t : waiters_) t->cancel();
  waiters_.clear();
}

asio::awaitable<std::unique_ptr<HttpClient::Connection>> HttpClient::Acquire(
    Clock::time_point deadline) {
  for (;;) {
    if (shutdown_) co_return nullptr;
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      busy_.push_back(c.get());
      co_return c;
    }
    if (busy_.size() < options_.max_connections) {
      auto c = std::make_unique<Connection>();
      busy_.push_back(c.get());
      co_return c;
    }
    if (Clock::now() >= deadline) co_return nullptr;
    asio::steady_timer wait(ioc_, deadline);
    waiters_.push_back(&wait);
    co_await wait.async_wait(kTuple);
    std::erase(waiters_, &wait);
  }
}

void HttpClient::Release(std::unique_ptr<Connection> conn, bool reusable) {
  std::erase(busy_, conn.get());
  if (reusable && !shutdown_ && conn->connected) {
    idle_.push_back(std::move(conn));
  } else {
    conn->Close();
  }
  if (!waiters_.empty()) {
    waiters_.front()->cancel();
    waiters_.pop_front();
  }
}

asio::awaitable<Status> HttpClient::Connect(Connection& conn, Clock::time_point deadline) {
  const RegistryUrl& url = options_.url;
  auto resolver = std::make_shared<tcp::resolver>(ioc_);
  asio::steady_timer guard(ioc_, deadline);
  guard.async_wait([resolver](boost::system::error_code ec) {
    if (!ec) resolver->cancel();
  });
  auto [rec, endpoints] =
      co_await resolver->async_resolve(url.host, std::to_string(url.port), kTuple);
  guard.cancel();
  if (shutdown_) co_return MakeError(Errc::kUnavailable, "schema registry client is shutting down");
  if (rec) {
    co_return MakeError(Errc::kUnavailable,
                        fmt::format("cannot resolve {}: {}", url.host,
                                    rec == asio::error::operation_aborted ? "timed out"
                                                                          : rec.message()));
  }
  conn.plain.reset();
  conn.tls.reset();
  conn.buffer.clear();
  if (ssl_) {
    conn.tls.emplace(ioc_, *ssl_);
  } else {
    conn.plain.emplace(ioc_);
  }
  conn.Tcp().expires_at(deadline);
  auto [cec, ep] = co_await conn.Tcp().async_connect(endpoints, kTuple);
  if (cec) {
    co_return MakeError(Errc::kUnavailable,
                        fmt::format("cannot connect to {}: {}", url.Redacted(),
                                    cec == beast::error::timeout
                                        ? fmt::format("timed out after {} ms",
                                                      options_.timeout.count())
                                        : cec.message()));
  }
  if (ssl_) {
    if (!IsIpLiteral(url.host) &&
        !SSL_set_tlsext_host_name(conn.tls->native_handle(), url.host.c_str())) {
      co_return MakeError(Errc::kUnavailable, "cannot set TLS SNI host name");
    }
    conn.tls->set_verify_mode(asio::ssl::verify_peer);
    conn.tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
    auto [hec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) {
      co_return MakeError(Errc::kUnavailable,
                          fmt::format("TLS handshake with {} failed: {}", url.Redacted(),
                                      hec == beast::error::timeout
                                          ? fmt::format("timed out after {} ms",
                                                        options_.timeout.count())
                                          : hec.message()));
    }
  }
  conn.connected = true;
  ++connections_opened_;
  co_return Status();
}

namespace {

template <class Stream>
asio::awaitable<boost::system::error_code> WriteRead(Stream& stream, beast::flat_buffer& buffer,
                                                     http::request<http::empty_body>& req,
                                                     http::response_parser<http::string_body>& parser) {
  auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
  if (wec) co_return wec;
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
  co_return rec;
}

}  // namespace

asio::awaitable<Result<HttpResponse>> HttpClient::Exchange(Connection& conn,
                                                           const std::string& target,
                                                           Clock::time_point deadline,
                                                           bool& keep_alive) {
  http::request<http::empty_body> req{http::verb::get, options_.url.base_path + target, 11};
  req.set(http::field::host, host_header_);
  req.set(http::field::user_agent, "realtime-events");
  req.set(http::field::accept, options_.accept);
  if (!authorization_.empty()) req.set(http::field::authorization, authorization_);
  req.keep_alive(true);

  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_body_bytes);
  conn.Tcp().expires_at(deadline);
  boost::system::error_code ec;
  if (conn.tls) {
    ec = co_await WriteRead(*conn.tls, conn.buffer, req, parser);
  } else {
    ec = co_await WriteRead(*conn.plain, conn.buffer, req, parser);
  }
  if (ec) {
    std::string why;
    if (ec == beast::error::timeout) {
      why = fmt::format("timed out after {} ms", options_.timeout.count());
    } else if (ec == http::error::body_limit) {
      why = fmt::format("response larger than {} bytes", options_.max_body_bytes);
    } else {
      why = ec.message();
    }
    co_return MakeError(Errc::kUnavailable, fmt::format("GET {} from {}: {}", target,
                                                        options_.url.Redacted(), why));
  }
  auto res = parser.release();
  keep_alive = res.keep_alive();
  co_return HttpResponse{res.result_int(), std::move(res.body())};
}

asio::awaitable<Result<HttpResponse>> HttpClient::Get(std::string target) {
  const auto deadline = Clock::now() + options_.timeout;
  std::unique_ptr<Connection> conn = co_await Acquire(deadline);
  if (!conn) {
    co_return MakeError(Errc::kUnavailable,
                        shutdown_ ? std::string("schema registry client is shutting down")
                                  : fmt::format("GET {}: timed out after {} ms waiting for a "
                                                "connection to {}",
                                                target, options_.timeout.count(),
                                                options_.url.Redacted()));
  }
  for (int attempt = 0;; ++attempt) {
    const bool reused = conn->connected;
    if (!conn->connected) {
      Status st = co_await Connect(*conn, deadline);
      if (!st.ok()) {
        Release(std::move(conn), false);
        co_return st.error();
      }
    }
    bool keep_alive = false;
    Result<HttpResponse> res = co_await Exchange(*conn, target, deadline, keep_alive);
    if (!res.ok()) {
      conn->Close();
      // A kept-alive connection may have been closed by the server while idle:
      // try once more on a fresh one, within the same deadline.
      if (reused && attempt == 0 && !shutdown_ && Clock::now() < deadline) continue;
      Release(std::move(conn), false);
      co_return res;
    }
    Release(std::move(conn), keep_alive);
    co_return res;
  }
}

}  // namespace rte::registry
