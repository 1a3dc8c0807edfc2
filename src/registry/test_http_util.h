// Test helpers shared by the registry tests (header-only, tests only): a tiny
// synchronous HTTP client independent of HttpClient, and WaitUntil, which
// polls a condition until it holds or a deadline passes.
// Thread: free functions; each call uses its own socket.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "registry/http_client.h"

namespace rte::registry::testing {

struct RawResponse {
  unsigned status = 0;  // 0: transport error
  std::string body;
  std::string www_authenticate;
  std::string error;
};

inline RawResponse RawRequest(uint16_t port, boost::beast::http::verb method,
                              const std::string& target, const std::string& body = "",
                              const std::string& user_info = "") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  RawResponse out;
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(10));
  stream.socket().connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/vnd.schemaregistry.v1+json");
  if (!user_info.empty()) req.set(http::field::authorization, BasicAuthValue(user_info));
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.status = res.result_int();
  out.body = res.body();
  out.www_authenticate = std::string(res[http::field::www_authenticate]);
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return out;
}

// Polls `condition` every few milliseconds; true as soon as it holds, false
// if `timeout` passes first. For waiting on other threads, never for timing.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace rte::registry::testing
