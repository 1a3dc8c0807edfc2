// HttpClient: a small keep-alive HTTP/1.1 GET client for one registry (plain
// TCP or TLS), built on Boost.Beast coroutines. Holds up to max_connections
// connections and reuses them; a request that fails on a reused connection
// (the server closed it while idle) is retried once on a fresh one.
// TLS: system CAs (set_default_verify_paths) plus an optional CA file, SNI and
// host name verification.
// Owner: SchemaRegistryClient. Thread: every method runs on the thread of the
// io_context given at construction (coroutines spawned there); no locking.
// Errors come back as Result, never as exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/result.h"
#include "registry/registry_url.h"

namespace rte::registry {

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

struct HttpClientOptions {
  RegistryUrl url;
  std::string user_info;  // "key:secret" -> Authorization: Basic ...; empty = none
  std::string accept = "application/vnd.schemaregistry.v1+json";
  std::chrono::milliseconds timeout{10'000};  // whole request, connect included
  size_t max_body_bytes = 4u << 20;
  size_t max_connections = 2;
  std::string ca_file;  // optional extra CA bundle (PEM)
};

class HttpClient {
 public:
  // Fails if the TLS context cannot be set up (bad CA file).
  static Result<std::unique_ptr<HttpClient>> Create(boost::asio::io_context& ioc,
                                                    HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET base_path + target. Transport problems (resolve, connect, TLS, timeout,
  // reset, oversized response) -> kUnavailable with a message naming them; any
  // HTTP status is a successful HttpResponse.
  boost::asio::awaitable<Result<HttpResponse>> Get(std::string target);

  // Closes every connection and fails all waiting and later requests.
  void Shutdown();

  uint64_t connections_opened() const { return connections_opened_; }

 private:
  struct Connection;
  HttpClient(boost::asio::io_context& ioc, HttpClientOptions options,
             std::unique_ptr<boost::asio::ssl::context> ssl);

  boost::asio::awaitable<std::unique_ptr<Connection>> Acquire(
      std::chrono::steady_clock::time_point deadline);
  void Release(std::unique_ptr<Connection> conn, bool reusable);
  boost::asio::awaitable<Status> Connect(Connection& conn,
                                         std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<Result<HttpResponse>> Exchange(
      Connection& conn, const std::string& target,
      std::chrono::steady_clock::time_point deadline, bool& keep_alive);

  boost::asio::io_context& ioc_;
  HttpClientOptions options_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  std::string host_header_;
  std::string authorization_;  // full header value, never logged
  std::vector<std::unique_ptr<Connection>> idle_;
  std::vector<Connection*> busy_;  // connections lent out; closed on Shutdown
  std::deque<boost::asio::steady_timer*> waiters_;
  bool shutdown_ = false;
  uint64_t connections_opened_ = 0;
};

// Base64 of "key:secret" for an Authorization: Basic header.
std::string BasicAuthValue(std::string_view user_info);

}  // namespace rte::registry
