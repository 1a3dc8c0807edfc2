// Transport: the byte stream of one connection after the upgrade: a plain
// TCP socket, or TLS over one (TLS_CERT_FILE). Handed from the HTTP phase to
// the WsSession, which owns it from then on.
// Thread: the owning worker's thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <optional>

namespace rte::session {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

struct Transport {
  std::optional<boost::asio::ip::tcp::socket> socket;  // plain
  std::unique_ptr<TlsStream> tls;                      // or TLS

  boost::asio::ip::tcp::socket& lowest() { return tls ? tls->next_layer() : *socket; }
};

}  // namespace rte::session
