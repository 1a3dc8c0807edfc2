#include "server/tls.h"

#include <openssl/ssl.h>

namespace rte::server {
namespace ssl = boost::asio::ssl;

Result<std::unique_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (ec) return MakeError(Errc::kInvalidArgument, "TLS options: " + ec.message());
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return MakeError(Errc::kInvalidArgument, "TLS_CERT_FILE=" + cert_file + ": " + ec.message());
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return MakeError(Errc::kInvalidArgument, "TLS_KEY_FILE=" + key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return MakeError(Errc::kInvalidArgument, "TLS_KEY_FILE does not match the certificate in TLS_CERT_FILE");
  }
  return ctx;
}

}  // namespace rte::server
