// Server-side TLS for wss:// and https:// (TLS_CERT_FILE, TLS_KEY_FILE).
// Thread: the context is built on the main thread before workers start and
// only read afterwards (OpenSSL's SSL_CTX is safe to share for SSL_new).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <string>

#include "base/result.h"
#include "session/transport.h"

namespace rte::server {

using session::TlsStream;

// TLS 1.2+ with the certificate chain and private key (PEM files). No
// session tickets and no renegotiation: after the handshake the only TLS
// records are application data, so a session's single writer stays single.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                                       const std::string& key_file);

}  // namespace rte::server
